// Package journal is driftless's local record of what drifted, where,
// when, and what was done about it (docs/journal.md): a SQLite database (pure Go,
// modernc.org/sqlite) at .driftless/journal.db. It is the source of the
// status, history, show, drift and schedule commands, and it is where
// driftless processes sharing a machine agree on who runs what (leases).
//
// # Data flow
//
// A run goes through the journal like this:
//
//	id, _ := j.StartRun(ctx, &journal.Run{…})        // written at once: the id is needed
//	acquired, held, _ := j.AcquireLeases(ctx, j.Self(id), assoc, hosts, ttl)
//	j.StartHost(ctx, id, "web-1", start)              // optional; queued
//	j.RecordHost(ctx, journal.HostResult{…})          // queued
//	j.FinishRun(ctx, id, journal.StatusSuccess, counts, end) // flushes, then writes
//	j.ReleaseLeases(ctx, j.Self(id), assoc, acquired)
//
// StartHost and RecordHost do not write: they put the record on a bounded
// queue (at most 256 records and 64 MiB of output; beyond that they block,
// so a slow disk slows the run down instead of growing memory) and return.
// One goroutine per Journal drains the queue and commits records in
// batches, one transaction per batch (group commit): when 128 are waiting,
// 50ms after the first of a batch arrived, or when FinishRun, Flush or
// Close asks. Writes that fail are reported by FinishRun for their run. A
// query first flushes what its own process has queued, so it sees every
// record that RecordHost accepted before it.
//
// The journal stores what it is given. Redacting secrets (secret
// parameters, *_env values; docs/journal.md) happens upstream, in the runner,
// before RecordHost; the journal only cuts stdout and stderr to MaxOutput
// bytes each, with a marker saying how much was left out.
//
// # Concurrency and durability
//
// The database is in WAL mode: readers never wait for the writer, and a
// killed process (kill -9, power loss) never leaves it unreadable. Commits
// use synchronous=NORMAL: a power loss can lose the last transactions, never
// corrupt the file. A Journal has a writer pool of one connection, whose
// transactions are BEGIN IMMEDIATE, and a read pool; several processes (two
// `driftless tick` from cron that overlap) serialise their writes through
// SQLite's lock and a busy timeout of 10s, after which an operation fails
// with ErrBusy. Every run records its process (pid, hostname, and on Linux
// the boot id, pid namespace and process start time, so that a reused pid
// or a reboot is not mistaken for it); RecoverInterrupted marks the runs of
// processes that are gone as Interrupted (runs of other machines: after
// ForeignRunAge). Leases (AcquireLeases) keep two processes from running
// the same association on the same host at once. Machines that share a
// journal must have distinct hostnames.
//
// Call Close before the process exits: it writes what is still queued. A
// cancelled run is recorded with a context that is not cancelled
// (context.WithoutCancel), or its records may not be queued.
//
// # Schema
//
// The schema version is PRAGMA user_version; Open applies the missing
// migrations in order, each in one transaction, and refuses a journal from
// a newer driftless (ErrNewerSchema). Times are Unix nanoseconds, UTC.
//
//	runs          one row per run: association, document, doc_hash,
//	              params_hash, trigger_kind, mode, severity, command,
//	              started_at, ended_at (NULL while InProgress), status,
//	              counts (JSON: host status -> n), pid, hostname, proc_token
//	host_results  one row per run × host: status, error, detail, def_hash,
//	              started_at, ended_at, and a step summary computed on
//	              write (steps, drifted, corrected, failed, compliant);
//	              association and mode are copied from the run
//	step_results  one row per host execution × step: status, skip_reason,
//	              drifted, differ, exit_code, stdout/stderr (<= MaxOutput)
//	              with their truncated flags, duration_ns, error, at
//	latest        (association, host, mode) -> the newest finished
//	              host_results row: what Status and LastRuns read, kept up
//	              to date on every write
//	leases        (association, host) -> holder pid, hostname, run id,
//	              process token, expires_at
//	associations  association -> first_seen (docs/schedules.md)
//	notifications webhook notifications not yet delivered
//	              (docs/notify.md): webhook key, run_id, body,
//	              created_at, attempts, last_error, next_at, claimed_until
//
// Deleting a run deletes its host and step rows (foreign keys, ON DELETE
// CASCADE). Prune (prune.go) deletes old runs in short transactions and,
// since schema version 3 (auto_vacuum = INCREMENTAL), gives the pages back
// to the disk. The indexes make every query of this package a range scan:
// history by start time or association, runs of a host, drift events by
// time (a partial index over drifted steps), runs and hosts InProgress
// (partial indexes).
package journal
