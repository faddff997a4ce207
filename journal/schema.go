package journal

import (
	"context"
	"database/sql"
	"fmt"
)

// migration moves the schema from version-1 to version. Migrations are
// applied in order, each in its own transaction together with the
// PRAGMA user_version that records it, so a journal is always exactly at
// one version. Never edit a released migration: add the next one.
type migration struct {
	version int
	stmts   []string
}

// autoVacuumVersion is the migration that asks for auto_vacuum =
// INCREMENTAL (see migrate).
const autoVacuumVersion = 3

// migrations is the schema history. The journal's version is kept in the
// database header (PRAGMA user_version).
var migrations = []migration{
	{version: 1, stmts: []string{
		// One row per run. Times are Unix nanoseconds (UTC); ended_at is NULL
		// while the run is InProgress. counts is a JSON object.
		`CREATE TABLE runs (
			id           INTEGER PRIMARY KEY,
			association  TEXT    NOT NULL,
			document     TEXT    NOT NULL,
			doc_hash     TEXT    NOT NULL,
			params_hash  TEXT    NOT NULL,
			trigger_kind TEXT    NOT NULL,
			mode         TEXT    NOT NULL,
			severity     TEXT    NOT NULL,
			command      TEXT    NOT NULL,
			started_at   INTEGER NOT NULL,
			ended_at     INTEGER,
			status       TEXT    NOT NULL,
			counts       TEXT    NOT NULL DEFAULT '{}',
			pid          INTEGER NOT NULL,
			hostname     TEXT    NOT NULL,
			proc_token   TEXT    NOT NULL DEFAULT ''
		) STRICT`,
		`CREATE INDEX runs_started ON runs (started_at)`,
		`CREATE INDEX runs_association ON runs (association, started_at)`,
		`CREATE INDEX runs_in_progress ON runs (id) WHERE status = 'InProgress'`,

		// One row per host execution. association and mode are copied from
		// the run so that the per-host indexes need no join; the step
		// summary (steps … compliant) is computed when the row is written.
		`CREATE TABLE host_results (
			id          INTEGER PRIMARY KEY,
			run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
			association TEXT    NOT NULL,
			mode        TEXT    NOT NULL,
			host        TEXT    NOT NULL,
			status      TEXT    NOT NULL,
			error       TEXT    NOT NULL DEFAULT '',
			detail      TEXT    NOT NULL DEFAULT '',
			def_hash    TEXT    NOT NULL DEFAULT '',
			started_at  INTEGER NOT NULL,
			ended_at    INTEGER,
			steps       INTEGER NOT NULL DEFAULT 0,
			drifted     INTEGER NOT NULL DEFAULT 0,
			corrected   INTEGER NOT NULL DEFAULT 0,
			failed      INTEGER NOT NULL DEFAULT 0,
			compliant   INTEGER NOT NULL DEFAULT 0,
			UNIQUE (run_id, host)
		) STRICT`,
		`CREATE INDEX host_results_host ON host_results (host, run_id)`,
		`CREATE INDEX host_results_in_progress ON host_results (run_id) WHERE status = 'InProgress'`,

		// One row per step of a host execution.
		`CREATE TABLE step_results (
			host_result_id   INTEGER NOT NULL REFERENCES host_results (id) ON DELETE CASCADE,
			idx              INTEGER NOT NULL,
			name             TEXT    NOT NULL,
			action           TEXT    NOT NULL,
			status           TEXT    NOT NULL,
			skip_reason      TEXT    NOT NULL DEFAULT '',
			drifted          INTEGER NOT NULL DEFAULT 0,
			differ           TEXT    NOT NULL DEFAULT '',
			exit_code        INTEGER,
			stdout           TEXT    NOT NULL DEFAULT '',
			stdout_truncated INTEGER NOT NULL DEFAULT 0,
			stderr           TEXT    NOT NULL DEFAULT '',
			stderr_truncated INTEGER NOT NULL DEFAULT 0,
			duration_ns      INTEGER NOT NULL DEFAULT 0,
			error            TEXT    NOT NULL DEFAULT '',
			at               INTEGER NOT NULL,
			PRIMARY KEY (host_result_id, idx)
		) STRICT`,
		`CREATE INDEX step_results_drift ON step_results (at) WHERE drifted = 1`,

		// The latest finished execution of each association on each host,
		// per mode: the source of Status and LastRuns.
		`CREATE TABLE latest (
			association    TEXT    NOT NULL,
			host           TEXT    NOT NULL,
			mode           TEXT    NOT NULL,
			host_result_id INTEGER NOT NULL REFERENCES host_results (id) ON DELETE CASCADE,
			started_at     INTEGER NOT NULL,
			PRIMARY KEY (association, host, mode)
		) STRICT, WITHOUT ROWID`,
		`CREATE INDEX latest_host_result ON latest (host_result_id)`,
		`CREATE INDEX latest_host ON latest (host)`,

		// Who is running which association on which host (docs/schedules.md#leases).
		`CREATE TABLE leases (
			association     TEXT    NOT NULL,
			host            TEXT    NOT NULL,
			holder_pid      INTEGER NOT NULL,
			holder_hostname TEXT    NOT NULL,
			holder_run_id   INTEGER NOT NULL,
			holder_token    TEXT    NOT NULL DEFAULT '',
			acquired_at     INTEGER NOT NULL,
			expires_at      INTEGER NOT NULL,
			PRIMARY KEY (association, host)
		) STRICT, WITHOUT ROWID`,
		`CREATE INDEX leases_run ON leases (holder_run_id)`,

		// When each association was first seen (docs/schedules.md,
		// apply_only_at_cron_interval).
		`CREATE TABLE associations (
			association TEXT    PRIMARY KEY,
			first_seen  INTEGER NOT NULL
		) STRICT, WITHOUT ROWID`,
	}},
	{version: 2, stmts: []string{
		// Webhook notifications that could not be delivered
		// (docs/notify.md): kept for the next run to send, dropped after
		// a day. webhook is the webhook's key (a hash of its url as
		// written and its format: no URL, no secret); body is the exact
		// request body. run_id is not a foreign key: pruning a run keeps
		// what is still owed about it. A process that is sending a row
		// claims it until claimed_until.
		`CREATE TABLE notifications (
			id            INTEGER PRIMARY KEY,
			webhook       TEXT    NOT NULL,
			run_id        INTEGER NOT NULL,
			body          BLOB    NOT NULL,
			created_at    INTEGER NOT NULL,
			attempts      INTEGER NOT NULL DEFAULT 0,
			last_error    TEXT    NOT NULL DEFAULT '',
			next_at       INTEGER NOT NULL DEFAULT 0,
			claimed_until INTEGER NOT NULL DEFAULT 0
		) STRICT`,
		`CREATE INDEX notifications_webhook ON notifications (webhook, id)`,
	}},
	// Retention (prune.go): the pages that deleting old runs frees go back
	// to the disk with PRAGMA incremental_vacuum. SQLite changes auto_vacuum
	// only on a database without tables or with a VACUUM: the pragma records
	// the wish on this connection, and migrate vacuums a journal that holds
	// no run yet (a new one: it takes milliseconds). A journal with runs
	// keeps auto_vacuum = NONE until `driftless journal prune --vacuum`.
	{version: autoVacuumVersion, stmts: []string{
		`PRAGMA auto_vacuum = INCREMENTAL`,
	}},
	// Several nodes on one journal (docs/journal.md#several-nodes): the
	// node that recorded a run, until when it said it lived
	// (alive_until, 0 for none), the round of the schedule a lease was
	// claimed for, with which definition of the association, and whether
	// its host failed, and the nodes seen.
	{version: 4, stmts: []string{
		`ALTER TABLE runs ADD COLUMN node TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE runs ADD COLUMN alive_until INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE leases ADD COLUMN holder_node TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE leases ADD COLUMN round_at INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE leases ADD COLUMN failed INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE leases ADD COLUMN def_hash TEXT NOT NULL DEFAULT ''`,
		nodesTable + ` STRICT, WITHOUT ROWID`,
	}},
}

// nodesTable has a row per driftless process that takes part in a
// schedule (tick, daemon): its node name, when it was last seen and the
// sites it runs (a JSON array, [] for every site).
const nodesTable = `CREATE TABLE nodes (
			node     TEXT    PRIMARY KEY,
			hostname TEXT    NOT NULL,
			pid      INTEGER NOT NULL,
			sites    TEXT    NOT NULL DEFAULT '[]',
			seen_at  INTEGER NOT NULL
		)`

// errNewerSchema says a journal at version have is newer than the want
// this build knows.
func errNewerSchema(have, want int) error {
	return fmt.Errorf("%w: the journal is at schema version %d, this driftless knows up to %d", ErrNewerSchema, have, want)
}

// schemaVersion is the version this build writes.
func schemaVersion(ms []migration) int { return ms[len(ms)-1].version }

// migrate brings the journal on db (the writer pool) to the last version of
// ms. It reads the version first without a write lock, so that opening an
// up-to-date journal never waits for another process's write.
func migrate(ctx context.Context, db *sql.DB, ms []migration) error {
	want := schemaVersion(ms)
	var have int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have > want {
		return errNewerSchema(have, want)
	}
	vacuum := false
	for _, m := range ms {
		if m.version <= have {
			continue
		}
		applied, err := applyMigration(ctx, db, m)
		if err != nil {
			return err
		}
		vacuum = vacuum || m.version == autoVacuumVersion && applied == m.version
		have = applied
	}
	if vacuum {
		return vacuumIfEmpty(ctx, db)
	}
	return nil
}

// vacuumIfEmpty turns auto_vacuum = INCREMENTAL on for a journal that
// holds no run (VACUUM rewrites the file, which takes no time when it is
// empty). A journal with runs is left as it is: a full VACUUM locks it for
// as long as copying it takes, which is the user's call (prune --vacuum).
func vacuumIfEmpty(ctx context.Context, db *sql.DB) error {
	var runs int
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM runs)`).Scan(&runs); err != nil {
		return fmt.Errorf("migrate to version %d: %w", autoVacuumVersion, err)
	}
	if runs > 0 {
		return nil
	}
	if err := turnOnIncrementalVacuum(ctx, db); err != nil {
		return fmt.Errorf("migrate to version %d: %w", autoVacuumVersion, err)
	}
	return nil
}

// turnOnIncrementalVacuum sets auto_vacuum = INCREMENTAL and rewrites the
// journal (VACUUM) so that it takes effect, on one connection: the pragma
// holds for the connection that runs it. VACUUM writes the whole database
// into the WAL: a TRUNCATE checkpoint then copies it back and empties the
// -wal file, which would otherwise keep that size (journal_size_limit
// only trims it beyond 64 MiB).
func turnOnIncrementalVacuum(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, q := range []string{`PRAGMA auto_vacuum = INCREMENTAL`, `VACUUM`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// applyMigration applies m unless another process already did. It returns
// the version the journal is at afterwards.
func applyMigration(ctx context.Context, db *sql.DB, m migration) (int, error) {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the writer pool's _txlock
	if err != nil {
		return 0, fmt.Errorf("migrate to version %d: %w", m.version, err)
	}
	defer tx.Rollback()
	// Read again under the write lock: another process may have migrated
	// since we looked.
	var have int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&have); err != nil {
		return 0, fmt.Errorf("migrate to version %d: %w", m.version, err)
	}
	if have >= m.version {
		return have, nil
	}
	if have != m.version-1 {
		return 0, fmt.Errorf("migrate to version %d: the journal is at version %d", m.version, have)
	}
	for _, s := range m.stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return 0, fmt.Errorf("migrate to version %d: %w", m.version, err)
		}
	}
	// PRAGMA takes no parameters; the version is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, m.version)); err != nil {
		return 0, fmt.Errorf("migrate to version %d: %w", m.version, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("migrate to version %d: %w", m.version, err)
	}
	return m.version, nil
}
