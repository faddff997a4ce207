package journal

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Migrate copies a SQLite journal into a PostgreSQL one
// (docs/journal.md#moving-to-postgresql): the runs that ended, with their
// host executions, steps and undelivered notifications, the latest
// results and when each association was first seen. Leases and nodes are
// live state and stay behind.
//
// Runs get new ids in the target, which may already hold other nodes'
// runs (several bastions' journals may be merged into one database). What
// was copied is recorded there (imported_runs), each run under its
// origin: the process that recorded it (hostname, pid and its token), its
// start, association and id. So a second Migrate, from this file or a
// copy of it, copies only what is new, and a journal restored from a
// backup, whose ids were used again, loses nothing.

// migrateRuns and migrateHosts bound one transaction: so many runs, or so
// many host executions (a run with more is copied alone). Memory follows
// them: outputs stream, ids are kept for one transaction. Tests lower
// them.
var migrateRuns, migrateHosts int64 = 200, 20000

const (
	// migrateGrace is how long a transaction under way may go on once
	// ctx is done: Migrate stops between transactions.
	migrateGrace = 30 * time.Second
	// planPage is how many runs the count before copying reads at once.
	planPage = 1000
)

// MigrateProgress is how far Migrate is: before the first transaction,
// then after each.
type MigrateProgress struct {
	// Runs copied so far, of Total to copy (counted before the first).
	Runs, Total int64
	// Hosts and Steps copied so far.
	Hosts, Steps int64
}

// MigrateResult is what Migrate copied and left out.
type MigrateResult struct {
	Source string // the SQLite journal, an absolute path
	Target string // the database, without its password (Redact)
	// Runs, Hosts, Steps and Notifications are the rows copied.
	Runs, Hosts, Steps, Notifications int64
	// Associations is how many associations' first_seen was recorded in
	// the target, or moved earlier (the earliest is kept).
	Associations int64
	// Already is how many runs an earlier Migrate copied.
	Already int64
	// InProgress are the runs left out because they are still running
	// (their process lives): migrate again once they ended.
	InProgress []int64
	// Orphans is how many undelivered notifications were left out: their
	// run is no longer in the source (pruned).
	Orphans int64
	// Recovered are the runs of processes that are gone, marked
	// Interrupted in the source before copying (as any command does).
	Recovered []int64
	// Transactions is how many copy transactions committed.
	Transactions int
}

// Migrate copies the SQLite journal at source into the PostgreSQL journal
// at target (a URL or keyword/value string, IsPostgres), whose schema it brings up to date first.
// progress, when not nil, is called once the runs to copy are counted,
// then after each transaction. When ctx is
// done, Migrate stops after the transaction under way: what was committed
// stays, and a later Migrate goes on from there. An error before anything
// is copied wraps ErrInvalid (bad source or target), fs.ErrNotExist (no
// source), ErrUnavailable (the target cannot be reached) or
// ErrNewerSchema.
func Migrate(ctx context.Context, source, target string, progress func(MigrateProgress)) (MigrateResult, error) {
	res := MigrateResult{Target: Redact(target)}
	src, err := openSource(ctx, source, target, &res)
	if err != nil {
		return res, err
	}
	defer src.Close()
	dst, err := Open(target) // its error names the target
	if err != nil {
		return res, err
	}
	if err := dst.Close(); err != nil {
		return res, err
	}
	conn, err := pgx.Connect(ctx, target)
	if err != nil {
		return res, wrap("migrate into "+res.Target, err)
	}
	defer conn.Close(context.Background())
	hostname, _ := os.Hostname()
	c := &copier{src: src, conn: conn, source: hostname + ":" + res.Source, res: &res, progress: progress}
	if err := c.copy(ctx); err != nil {
		return res, fmt.Errorf("journal: migrate %s into %s: %w", res.Source, res.Target, err)
	}
	return res, nil
}

// openSource opens the SQLite journal at source, after checking that it is
// a file and target a PostgreSQL database, and marks its runs of gone processes
// Interrupted.
func openSource(ctx context.Context, source, target string, res *MigrateResult) (*Journal, error) {
	if !IsPostgres(target) {
		return nil, fmt.Errorf("journal: migrate: %w: the target must be a PostgreSQL database (a postgres:// URL or a keyword/value string), not %q", ErrInvalid, Redact(target))
	}
	if IsPostgres(source) {
		return nil, fmt.Errorf("journal: migrate: %w: the source %s is a PostgreSQL journal: migrate copies a SQLite journal file", ErrInvalid, Redact(source))
	}
	abs, err := filepath.Abs(source)
	if err != nil {
		return nil, fmt.Errorf("journal: migrate: %w", err)
	}
	res.Source = abs
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("journal: migrate: no journal at %s: %w", abs, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("journal: migrate: %w: %s is not a journal file", ErrInvalid, abs)
	}
	j, err := Open(abs)
	if err != nil {
		return nil, err
	}
	if res.Recovered, err = j.RecoverInterrupted(ctx); err != nil {
		j.Close()
		return nil, err
	}
	return j, nil
}

// copier copies one source journal into one target database.
type copier struct {
	src      *Journal
	conn     *pgx.Conn
	source   string // for people: hostname:path
	res      *MigrateResult
	total    int64
	progress func(MigrateProgress)
}

// srcRun is a run of the source, as stored.
type srcRun struct {
	id                                                  int64
	assoc, doc, docHash, paramsHash, trigger, mode, sev string
	command, status, counts, hostname, token, node      string
	started, pid, aliveUntil                            int64
	ended                                               sql.NullInt64
	hosts                                               int64 // its host executions
}

// origin names the run whatever journal file holds it.
func (r *srcRun) origin() string {
	return runOrigin(r.hostname, r.pid, r.token, r.started, r.assoc, r.id)
}

func runOrigin(hostname string, pid int64, token string, started int64, assoc string, id int64) string {
	h := sha256.New()
	for _, s := range []string{hostname, strconv.FormatInt(pid, 10), token, strconv.FormatInt(started, 10), assoc, strconv.FormatInt(id, 10)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (c *copier) copy(ctx context.Context) error {
	if err := c.plan(ctx); err != nil {
		return fmt.Errorf("count the runs to copy: %w", err)
	}
	if err := c.associations(ctx); err != nil {
		return fmt.Errorf("associations: %w", err)
	}
	if c.progress != nil && c.total > 0 {
		c.progress(MigrateProgress{Total: c.total})
	}
	for cursor := int64(0); ; {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		next, err := c.batch(ctx, cursor)
		if err != nil {
			return err
		}
		if next == cursor {
			break
		}
		cursor = next
	}
	return c.orphans(ctx)
}

// plan counts the runs to copy: those that ended and were not copied
// before.
func (c *copier) plan(ctx context.Context) error {
	for cursor := int64(0); ; {
		var origins []string
		last := cursor
		err := eachRow(c.src.r.QueryContext(ctx, `
			SELECT id, association, started_at, pid, hostname, proc_token, status FROM runs
			WHERE id > ? ORDER BY id LIMIT ?`, cursor, planPage))(func(rows *sql.Rows) error {
			var r srcRun
			if err := rows.Scan(&last, &r.assoc, &r.started, &r.pid, &r.hostname, &r.token, &r.status); err != nil {
				return err
			}
			if r.status != string(StatusInProgress) {
				r.id = last
				origins = append(origins, r.origin())
			}
			return nil
		})
		if err != nil || last == cursor {
			return err
		}
		cursor = last
		var done int64
		if err := c.conn.QueryRow(ctx, `SELECT count(*) FROM imported_runs WHERE origin = ANY($1)`, origins).Scan(&done); err != nil {
			return err
		}
		c.total += int64(len(origins)) - done
	}
}

// eachRow runs f on each row of a query's result, and closes it.
func eachRow(rows *sql.Rows, err error) func(f func(*sql.Rows) error) error {
	return func(f func(*sql.Rows) error) error {
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := f(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
}

// associations records when each association was first seen, keeping
// the earliest of the source's and the target's.
func (c *copier) associations(ctx context.Context) error {
	tx, err := c.conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	err = eachRow(c.src.r.QueryContext(ctx, `SELECT association, first_seen FROM associations`))(func(rows *sql.Rows) error {
		var (
			assoc string
			at    int64
		)
		if err := rows.Scan(&assoc, &at); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO associations (association, first_seen) VALUES ($1, $2)
			ON CONFLICT (association) DO UPDATE SET first_seen = excluded.first_seen
			WHERE excluded.first_seen < associations.first_seen`, pgText(assoc), at)
		c.res.Associations += tag.RowsAffected()
		return err
	})
	if err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// orphans counts the undelivered notifications whose run is no longer in
// the source: they stay behind.
func (c *copier) orphans(ctx context.Context) error {
	return c.src.r.QueryRowContext(ctx, `
		SELECT count(*) FROM notifications n WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = n.run_id)`).
		Scan(&c.res.Orphans)
}

// batch copies, in one transaction, the runs after cursor that fit in it
// (migrateRuns, migrateHosts), and returns the id of the last run it
// looked at: cursor when there is none left.
func (c *copier) batch(ctx context.Context, cursor int64) (int64, error) {
	// The transaction under way finishes after a signal, unless it takes
	// longer than migrateGrace more.
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	defer context.AfterFunc(ctx, func() { time.AfterFunc(migrateGrace, cancel) })()

	// One read transaction: the runs, their hosts and steps as of one
	// moment, whatever is written to the source meanwhile.
	rtx, err := c.src.r.BeginTx(bctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return cursor, fmt.Errorf("read: %w", err)
	}
	defer rtx.Rollback()
	page, err := readRuns(bctx, rtx, cursor)
	if err != nil || len(page) == 0 {
		return cursor, err
	}
	tx, err := c.conn.Begin(bctx)
	if err != nil {
		return cursor, err
	}
	defer tx.Rollback(context.Background())
	// Two migrations into one database take turns.
	if _, err := tx.Exec(bctx, `SELECT pg_advisory_xact_lock(hashtext('driftless journal migrate'))`); err != nil {
		return cursor, err
	}
	b, err := c.pick(bctx, tx, cursor, page)
	if err != nil {
		return cursor, err
	}
	if err := c.write(bctx, rtx, tx, b); err != nil {
		return cursor, err
	}
	if err := tx.Commit(bctx); err != nil {
		return cursor, err
	}
	c.res.Runs, c.res.Hosts, c.res.Steps = c.res.Runs+int64(len(b.runs)), c.res.Hosts+b.hosts, c.res.Steps+b.steps
	c.res.Notifications += b.notes
	c.res.Already += b.already
	c.res.InProgress = append(c.res.InProgress, b.inProgress...)
	c.res.Transactions++
	if c.progress != nil {
		c.progress(MigrateProgress{Runs: c.res.Runs, Total: max(c.total, c.res.Runs), Hosts: c.res.Hosts, Steps: c.res.Steps})
	}
	return b.last, nil
}

// readRuns reads up to migrateRuns runs after cursor, with the number of
// host executions of each.
func readRuns(ctx context.Context, rtx *sql.Tx, cursor int64) ([]srcRun, error) {
	var page []srcRun
	err := eachRow(rtx.QueryContext(ctx, `
		SELECT id, association, document, doc_hash, params_hash, trigger_kind, mode, severity, command,
			started_at, ended_at, status, counts, pid, hostname, proc_token, node, alive_until,
			(SELECT count(*) FROM host_results h WHERE h.run_id = runs.id)
		FROM runs WHERE id > ? ORDER BY id LIMIT ?`, cursor, migrateRuns))(func(rows *sql.Rows) error {
		var r srcRun
		if err := rows.Scan(&r.id, &r.assoc, &r.doc, &r.docHash, &r.paramsHash, &r.trigger, &r.mode, &r.sev, &r.command,
			&r.started, &r.ended, &r.status, &r.counts, &r.pid, &r.hostname, &r.token, &r.node, &r.aliveUntil, &r.hosts); err != nil {
			return err
		}
		page = append(page, r)
		return nil
	})
	return page, err
}

// migrateBatch is what one transaction copies.
type migrateBatch struct {
	// first and last bound the ids of the runs looked at: (first, last].
	first, last int64
	runs        []srcRun
	inProgress  []int64
	already     int64
	// runIDs maps the copied runs' ids in the source to theirs in the
	// target; hostIDs the same for their host executions.
	runIDs, hostIDs     map[int64]int64
	hosts, steps, notes int64
}

// pick chooses the runs of page to copy: not in progress, not copied
// before, as many as fit in the transaction.
func (c *copier) pick(ctx context.Context, tx pgx.Tx, cursor int64, page []srcRun) (*migrateBatch, error) {
	origins := make([]string, len(page))
	for i := range page {
		origins[i] = page[i].origin()
	}
	rows, _ := tx.Query(ctx, `SELECT origin FROM imported_runs WHERE origin = ANY($1)`, origins)
	done, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	b := &migrateBatch{first: cursor, runIDs: map[int64]int64{}, hostIDs: map[int64]int64{}}
	var hosts int64
	for i, r := range page {
		switch {
		case r.status == string(StatusInProgress):
			b.inProgress = append(b.inProgress, r.id)
		case slices.Contains(done, origins[i]):
			b.already++
		case len(b.runs) > 0 && hosts+r.hosts > migrateHosts:
			return b, nil
		default:
			b.runs = append(b.runs, r)
			hosts += r.hosts
		}
		b.last = r.id
	}
	return b, nil
}

// write copies the batch's runs, host executions, steps, latest results
// and notifications, and records the runs as copied.
func (c *copier) write(ctx context.Context, rtx *sql.Tx, tx pgx.Tx, b *migrateBatch) error {
	if len(b.runs) == 0 {
		return nil
	}
	steps := []struct {
		what string
		f    func(context.Context, *sql.Tx, pgx.Tx, *migrateBatch) error
	}{
		{"runs", c.copyRuns},
		{"host executions", copyHosts},
		{"steps", copySteps},
		{"latest results", upsertLatest},
		{"notifications", copyNotifications},
		{"record the copied runs", c.recordImported},
	}
	for _, s := range steps {
		if err := s.f(ctx, rtx, tx, b); err != nil {
			return fmt.Errorf("runs %d to %d: %s: %w", b.runs[0].id, b.runs[len(b.runs)-1].id, s.what, err)
		}
	}
	return nil
}

// newIDs takes n ids from the sequence of table's id column, in order: a
// node recording runs meanwhile takes others.
func newIDs(ctx context.Context, tx pgx.Tx, table string, n int64) ([]int64, error) {
	rows, _ := tx.Query(ctx, `SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)`, table, n)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	slices.Sort(ids)
	return ids, err
}

// nullable is n for COPY: nil for NULL.
func nullable(n sql.NullInt64) any {
	if !n.Valid {
		return nil
	}
	return n.Int64
}

func (c *copier) copyRuns(ctx context.Context, _ *sql.Tx, tx pgx.Tx, b *migrateBatch) error {
	ids, err := newIDs(ctx, tx, "runs", int64(len(b.runs)))
	if err != nil {
		return err
	}
	i := 0
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"runs"}, []string{"id", "association", "document", "doc_hash", "params_hash",
		"trigger_kind", "mode", "severity", "command", "started_at", "ended_at", "status", "counts", "pid", "hostname",
		"proc_token", "node", "alive_until"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(b.runs) {
				return nil, nil
			}
			r := &b.runs[i]
			b.runIDs[r.id] = ids[i]
			i++
			return []any{ids[i-1], pgText(r.assoc), pgText(r.doc), pgText(r.docHash), pgText(r.paramsHash), pgText(r.trigger),
				pgText(r.mode), pgText(r.sev), pgText(r.command), r.started, nullable(r.ended), pgText(r.status), pgText(r.counts),
				r.pid, pgText(r.hostname), pgText(r.token), pgText(r.node), r.aliveUntil}, nil
		}))
	return err
}

// copyHosts copies the host executions of the batch's runs, in the order
// of their ids, so that their new ids keep it.
func copyHosts(ctx context.Context, rtx *sql.Tx, tx pgx.Tx, b *migrateBatch) error {
	var n int64
	for _, r := range b.runs {
		n += r.hosts
	}
	ids, err := newIDs(ctx, tx, "host_results", n)
	if err != nil {
		return err
	}
	rows, err := rtx.QueryContext(ctx, `
		SELECT id, run_id, association, mode, host, status, error, detail, def_hash, started_at, ended_at,
			steps, drifted, corrected, failed, compliant
		FROM host_results WHERE run_id > ? AND run_id <= ? ORDER BY id`, b.first, b.last)
	if err != nil {
		return err
	}
	defer rows.Close()
	b.hosts, err = tx.CopyFrom(ctx, pgx.Identifier{"host_results"}, []string{"id", "run_id", "association", "mode", "host",
		"status", "error", "detail", "def_hash", "started_at", "ended_at", "steps", "drifted", "corrected", "failed", "compliant"},
		pgx.CopyFromFunc(func() ([]any, error) {
			for rows.Next() {
				var (
					id, run, started, steps, drifted, corrected, failed, compliant int64
					assoc, mode, host, status, errText, detail, defHash            string
					ended                                                          sql.NullInt64
				)
				if err := rows.Scan(&id, &run, &assoc, &mode, &host, &status, &errText, &detail, &defHash, &started, &ended,
					&steps, &drifted, &corrected, &failed, &compliant); err != nil {
					return nil, err
				}
				newRun, ok := b.runIDs[run]
				if !ok {
					continue // a run left out
				}
				if len(b.hostIDs) == len(ids) {
					return nil, errors.New("more host executions than counted")
				}
				newID := ids[len(b.hostIDs)]
				b.hostIDs[id] = newID
				return []any{newID, newRun, pgText(assoc), pgText(mode), pgText(host), pgText(status), pgText(errText),
					pgText(detail), pgText(defHash), started, nullable(ended), steps, drifted, corrected, failed, compliant}, nil
			}
			return nil, rows.Err()
		}))
	return err
}

// copySteps copies the steps of the batch's host executions, outputs
// streamed from one to the other.
func copySteps(ctx context.Context, rtx *sql.Tx, tx pgx.Tx, b *migrateBatch) error {
	rows, err := rtx.QueryContext(ctx, `
		SELECT s.host_result_id, s.idx, s.name, s.action, s.status, s.skip_reason, s.drifted, s.differ, s.exit_code,
			s.stdout, s.stdout_truncated, s.stderr, s.stderr_truncated, s.duration_ns, s.error, s.at
		FROM step_results s JOIN host_results h ON h.id = s.host_result_id
		WHERE h.run_id > ? AND h.run_id <= ?`, b.first, b.last)
	if err != nil {
		return err
	}
	defer rows.Close()
	b.steps, err = tx.CopyFrom(ctx, pgx.Identifier{"step_results"}, []string{"host_result_id", "idx", "name", "action",
		"status", "skip_reason", "drifted", "differ", "exit_code", "stdout", "stdout_truncated", "stderr", "stderr_truncated",
		"duration_ns", "error", "at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			for rows.Next() {
				var (
					host, idx, drifted, outCut, errCut, dur, at              int64
					name, action, status, skip, differ, stdout, stderr, text string
					code                                                     sql.NullInt64
				)
				if err := rows.Scan(&host, &idx, &name, &action, &status, &skip, &drifted, &differ, &code,
					&stdout, &outCut, &stderr, &errCut, &dur, &text, &at); err != nil {
					return nil, err
				}
				newHost, ok := b.hostIDs[host]
				if !ok {
					continue // of a run left out
				}
				return []any{newHost, idx, pgText(name), pgText(action), pgText(status), pgText(skip), drifted, pgText(differ),
					nullable(code), pgText(stdout), outCut, pgText(stderr), errCut, dur, pgText(text), at}, nil
			}
			return nil, rows.Err()
		}))
	return err
}

// upsertLatest makes the batch's finished host executions the latest of
// their association × host × mode where they are newer, by the rule
// RecordHost and FinishRun follow (write.go): the later start wins, then
// the larger id.
func upsertLatest(ctx context.Context, _ *sql.Tx, tx pgx.Tx, b *migrateBatch) error {
	ids := make([]int64, 0, len(b.runIDs))
	for _, id := range b.runIDs {
		ids = append(ids, id)
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO latest (association, host, mode, host_result_id, started_at)
		SELECT DISTINCT ON (association, host, mode) association, host, mode, id, started_at
		FROM host_results WHERE run_id = ANY($1) AND mode <> 'exec' AND status <> 'InProgress'
		ORDER BY association, host, mode, started_at DESC, id DESC
		ON CONFLICT (association, host, mode) DO UPDATE
			SET host_result_id = excluded.host_result_id, started_at = excluded.started_at
			WHERE (excluded.started_at, excluded.host_result_id) > (latest.started_at, latest.host_result_id)`, ids)
	return err
}

// copyNotifications copies the undelivered notifications of the batch's
// runs, unclaimed. Their bodies are sent as they are: they name the run
// by its id in the source.
func copyNotifications(ctx context.Context, rtx *sql.Tx, tx pgx.Tx, b *migrateBatch) error {
	return eachRow(rtx.QueryContext(ctx, `
		SELECT webhook, run_id, body, created_at, attempts, last_error, next_at FROM notifications
		WHERE run_id > ? AND run_id <= ? ORDER BY id`, b.first, b.last))(func(rows *sql.Rows) error {
		var (
			hook, lastErr                  string
			run, created, attempts, nextAt int64
			body                           []byte
		)
		if err := rows.Scan(&hook, &run, &body, &created, &attempts, &lastErr, &nextAt); err != nil {
			return err
		}
		newRun, ok := b.runIDs[run]
		if !ok {
			return nil
		}
		if body == nil {
			body = []byte{}
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO notifications (webhook, run_id, body, created_at, attempts, last_error, next_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, pgText(hook), newRun, body, created, attempts, pgText(lastErr), nextAt)
		b.notes++
		return err
	})
}

// recordImported records the batch's runs as copied.
func (c *copier) recordImported(ctx context.Context, _ *sql.Tx, tx pgx.Tx, b *migrateBatch) error {
	now := unixNano(time.Now())
	i := 0
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"imported_runs"}, []string{"origin", "source", "source_run_id", "run_id", "imported_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(b.runs) {
				return nil, nil
			}
			r := &b.runs[i]
			i++
			return []any{r.origin(), pgText(c.source), r.id, b.runIDs[r.id], now}, nil
		}))
	return err
}
