package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// The write path. StartRun writes synchronously (the caller needs the id).
// StartHost and RecordHost only queue their record; one background
// goroutine (writeLoop) commits queued records in batches, one transaction
// per batch (group commit). FinishRun and Flush go through the same queue,
// so they are ordered after every record queued before them.

type opKind int

const (
	opStartHost opKind = iota
	opRecordHost
	opFlush
	opFinish
)

type op struct {
	kind   opKind
	host   *HostResult // opStartHost, opRecordHost
	weight int64       // bytes held against Journal.budget
	finish finishReq   // opFinish
	done   chan error  // opFlush, opFinish; buffered
	// rowByRow writes the steps one statement each: the pass after a
	// batch failed, so that an error names its step on PostgreSQL too,
	// where a failed statement aborts the transaction.
	rowByRow bool
}

type finishReq struct {
	runID  int64
	status Status
	counts map[Status]int
	ended  time.Time
}

// StartRun records the start of run r (Status InProgress) and returns its
// id, which it also stores in r.ID. A zero r.PID or empty r.Hostname is
// filled in with the current process; an empty r.Severity is stored as
// UNSPECIFIED. r.StartedAt is required.
func (j *Journal) StartRun(ctx context.Context, r *Run) (int64, error) {
	if err := j.live(); err != nil {
		return 0, fmt.Errorf("journal: start run: %w", err)
	}
	if r == nil {
		return 0, fmt.Errorf("journal: start run: %w: nil run", ErrInvalid)
	}
	if err := validateRun(r); err != nil {
		return 0, fmt.Errorf("journal: start run: %w", err)
	}
	if r.Status != "" && r.Status != StatusInProgress {
		return 0, fmt.Errorf("journal: start run: %w: a run starts InProgress, not %s", ErrInvalid, r.Status)
	}
	if r.Severity == "" {
		r.Severity = SeverityUnspecified
	}
	if r.PID == 0 {
		r.PID = os.Getpid()
	}
	if r.Hostname == "" {
		r.Hostname = j.hostname
	}
	if r.Node == "" {
		r.Node = j.node
	}
	r.Status = StatusInProgress
	if j.w == nil {
		return 0, fmt.Errorf("journal: start run: %w", ErrReadOnly)
	}
	var id int64
	err := j.w.QueryRowContext(ctx, `
		INSERT INTO runs (association, document, doc_hash, params_hash, trigger_kind, mode,
			severity, command, started_at, status, pid, hostname, proc_token, node)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING id`,
		r.Association, r.Document, r.DocHash, r.ParamsHash, r.Trigger, r.Mode,
		r.Severity, r.Command, unixNano(r.StartedAt), StatusInProgress, r.PID, r.Hostname, procToken(r.PID), r.Node,
	).Scan(&id)
	if err != nil {
		return 0, wrap("start run", err)
	}
	r.ID = id
	return id, nil
}

// StartHost records that the execution of run runID on host began, so that
// a crash leaves it marked Interrupted rather than missing. Calling it is
// optional. It is queued like RecordHost; a later RecordHost for the same
// host replaces it.
func (j *Journal) StartHost(ctx context.Context, runID int64, host string, started time.Time) error {
	if runID <= 0 || host == "" {
		return fmt.Errorf("journal: start host: %w: run %d, host %q", ErrInvalid, runID, host)
	}
	if started.IsZero() {
		started = time.Now()
	}
	h := &HostResult{RunID: runID, Host: host, Status: StatusInProgress, StartedAt: started}
	if err := j.enqueue(ctx, op{kind: opStartHost, host: h}); err != nil {
		return fmt.Errorf("journal: start host %s: %w", host, err)
	}
	return nil
}

// RecordHost queues the result of one host execution and its steps. It
// returns once the record is queued, not written: the background writer
// commits it within a short interval, and FinishRun, Flush and Close wait
// for it. When the queue is full (a slow disk), RecordHost blocks until
// there is room or ctx is done. A write that fails is reported by
// FinishRun for that run (or by Close).
//
// Stdout, Stderr and Differ are cut to MaxOutput bytes each (see
// TruncateOutput).
// The journal stores what it is given: redacting secrets (docs/journal.md#output-retention) is the
// caller's job, before RecordHost.
//
// To record a host that was cancelled, pass a context that is not
// (context.WithoutCancel): RecordHost gives up when ctx is done only if it
// has to wait for room.
func (j *Journal) RecordHost(ctx context.Context, h HostResult) error {
	if err := validateHost(&h); err != nil {
		return fmt.Errorf("journal: record host: %w", err)
	}
	weight := ownSteps(&h)
	if err := j.enqueue(ctx, op{kind: opRecordHost, host: &h, weight: weight}); err != nil {
		return fmt.Errorf("journal: record host %s: %w", h.Host, err)
	}
	return nil
}

// FinishRun writes everything queued, then records the end of run id with
// status (Success, Failed, TimedOut, Cancelled or Interrupted) and the
// number of hosts per host status (nil: count them from what was
// recorded). Hosts started (StartHost) but never recorded get a final
// status: the run's if it was Cancelled, TimedOut or Interrupted, else
// Failed. It returns the errors of any queued write of this run that
// failed, joined, and ErrNotFound if there is no such run.
//
// A cancelled run must still be recorded as Cancelled: pass a context that
// is not cancelled (context.WithoutCancel).
func (j *Journal) FinishRun(ctx context.Context, id int64, status Status, counts map[Status]int, ended time.Time) error {
	if id <= 0 {
		return fmt.Errorf("journal: finish run: %w: run id %d", ErrInvalid, id)
	}
	if !runFinalStatuses[status] {
		return fmt.Errorf("journal: finish run %d: %w: status %q", id, ErrInvalid, status)
	}
	if ended.IsZero() {
		ended = time.Now()
	}
	if counts != nil {
		counts = clone(counts)
	}
	done := make(chan error, 1)
	o := op{kind: opFinish, finish: finishReq{runID: id, status: status, counts: counts, ended: ended}, done: done}
	if err := j.enqueue(ctx, o); err != nil {
		return fmt.Errorf("journal: finish run %d: %w", id, err)
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("journal: finish run %d: %w", id, ctx.Err())
	}
}

// ownSteps copies h's steps, so that the caller may reuse its slice, and
// cuts their outputs now, so that the queue holds at most MaxOutput per
// stream (a diff of a huge file too). It returns the record's weight in
// the queue's byte budget.
func ownSteps(h *HostResult) int64 {
	steps := make([]StepResult, len(h.Steps))
	var weight int64
	for i, s := range h.Steps {
		s.Stdout, s.StdoutTruncated = TruncateOutput(s.Stdout)
		s.Stderr, s.StderrTruncated = TruncateOutput(s.Stderr)
		s.Differ, _ = TruncateOutput(s.Differ)
		if s.ExitCode != nil {
			code := *s.ExitCode
			s.ExitCode = &code
		}
		weight += int64(len(s.Stdout) + len(s.Stderr) + len(s.Differ) + len(s.Error) + 256)
		steps[i] = s
	}
	h.Steps = steps
	return weight + int64(len(h.Error)+len(h.Detail)+256)
}

// Flush waits until everything queued before it is written.
func (j *Journal) Flush(ctx context.Context) error {
	done := make(chan error, 1)
	if err := j.enqueue(ctx, op{kind: opFlush, done: done}); err != nil {
		return fmt.Errorf("journal: flush: %w", err)
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("journal: flush: %w", ctx.Err())
	}
}

// sync flushes if anything is queued, so that a query sees every record
// queued before it by this process.
func (j *Journal) sync(ctx context.Context) error {
	if j.pending.Load() == 0 {
		return nil
	}
	return j.Flush(ctx)
}

// enqueue hands o to the writer. It tries without waiting first, so that
// a record still goes through when ctx is already cancelled but there is
// room; it waits (for room in the queue and within the byte budget) only
// while ctx lasts.
func (j *Journal) enqueue(ctx context.Context, o op) error {
	// The read lock keeps Close from stopping the writer while we send;
	// the writer keeps draining, so a blocked send always ends.
	j.mu.RLock()
	defer j.mu.RUnlock()
	if j.closed {
		return ErrClosed
	}
	if j.w == nil {
		return ErrReadOnly
	}
	o.weight = min(o.weight, queueBytes) // a huge record may go alone
	if o.weight > 0 && !j.budget.TryAcquire(o.weight) {
		if err := j.budget.Acquire(ctx, o.weight); err != nil {
			return err
		}
	}
	j.pending.Add(1)
	select {
	case j.queue <- o:
		return nil
	default:
	}
	select {
	case j.queue <- o:
		return nil
	case <-ctx.Done():
		j.pending.Add(-1)
		j.budget.Release(o.weight)
		return ctx.Err()
	}
}

// writeLoop is the single background writer.
func (j *Journal) writeLoop() {
	defer close(j.writerDone)
	errs := make(map[int64][]error) // failed writes, by run, until FinishRun
	var batch []op
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false

	flush := func() {
		if armed {
			timer.Stop()
			armed = false
		}
		if len(batch) == 0 {
			return
		}
		j.writeBatch(batch, errs)
		for _, o := range batch {
			j.budget.Release(o.weight)
		}
		j.pending.Add(-int64(len(batch)))
		clear(batch)
		batch = batch[:0]
	}
	handle := func(o op) {
		switch o.kind {
		case opStartHost, opRecordHost:
			batch = append(batch, o)
			if len(batch) >= batchMax {
				flush()
			} else if !armed {
				timer.Reset(flushInterval)
				armed = true
			}
		case opFlush:
			flush()
			j.pending.Add(-1)
			o.done <- nil
		case opFinish:
			flush()
			id := o.finish.runID
			err := j.finishRun(o.finish)
			j.rows.forgetRun(id)
			err = errors.Join(append(errs[id], err)...)
			delete(errs, id)
			j.pending.Add(-1)
			o.done <- err
		}
	}

	for {
		select {
		case o := <-j.queue:
			handle(o)
		case <-timer.C:
			armed = false
			flush()
		case <-j.stop:
			// Close holds the lock: nothing more can be queued.
			for {
				select {
				case o := <-j.queue:
					handle(o)
					continue
				default:
				}
				break
			}
			flush()
			var all []error
			for _, es := range errs {
				all = append(all, es...)
			}
			j.leftover = errors.Join(all...)
			return
		}
	}
}

// writeBatch commits batch in one transaction. If that fails, it writes
// each record in its own transaction, so that one bad record (a run id
// that does not exist) does not lose the others, and files the errors by
// run.
//
// A batch the database could not take is tried again as the dialect says
// (retrying): on SQLite, locked for the whole busy timeout, busyRetries
// times; on PostgreSQL, unreachable, for up to pgOutage. Then it is given
// up without the one-by-one pass, which would wait once per record.
func (j *Journal) writeBatch(batch []op, errs map[int64][]error) {
	ctx := context.Background()
	skip, twice := superseded(batch)
	plan := j.planBulk(ctx, batch, skip, twice)
	j.stmts.prepareSteps(ctx, j.w, plan.oneByOne(batch))
	writeAll := func() error {
		return j.hostTx(ctx, func(tx *sql.Tx) error {
			var err error
			if plan != nil {
				err = j.writeBulk(ctx, tx, batch, plan)
			} else {
				err = j.writeEach(ctx, tx, batch, skip)
			}
			if err == nil && j.batchHook != nil {
				j.batchHook()
			}
			return err
		})
	}
	err := j.retrying(writeAll)
	if err == nil {
		return
	}
	if len(batch) == 1 || j.d.unavailable(err) {
		for _, o := range batch {
			errs[o.host.RunID] = append(errs[o.host.RunID], hostWriteErr(o, err))
		}
		j.fail(hostWriteErr(batch[0], err))
		return
	}
	// One by one, every record: one that fails keeps what came before it
	// for its host (its StartHost row, say).
	for _, o := range batch {
		o.rowByRow = true
		err := j.hostTx(ctx, func(tx *sql.Tx) error { return j.writeHost(ctx, tx, o) })
		if err != nil {
			errs[o.host.RunID] = append(errs[o.host.RunID], hostWriteErr(o, err))
			j.fail(hostWriteErr(o, err))
		}
	}
}

// writeEach writes the records of batch that skip leaves, one by one.
func (j *Journal) writeEach(ctx context.Context, tx *sql.Tx, batch []op, skip []bool) error {
	for i, o := range batch {
		if skip != nil && skip[i] {
			continue
		}
		if err := j.writeHost(ctx, tx, o); err != nil {
			return err
		}
	}
	return nil
}

func hostWriteErr(o op, err error) error {
	stage := "record host " + o.host.Host
	if o.kind == opStartHost {
		stage = "start host " + o.host.Host
	}
	return wrap(stage, err)
}

// retrying calls write until it succeeds or the dialect gives its error
// up: a batch that found the journal locked for the whole busy timeout
// (SQLite), or the database unreachable (PostgreSQL restarting), is
// written again; meanwhile RecordHost queues, up to its bounds.
func (j *Journal) retrying(write func() error) error {
	began := time.Now()
	err := write()
	for try := 0; err != nil; try++ {
		wait, ok := j.d.retry(err, try, time.Since(began))
		if !ok {
			return err
		}
		time.Sleep(wait)
		err = write()
	}
	return nil
}

// inTx runs f in a write transaction (BEGIN IMMEDIATE on SQLite).
func (j *Journal) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	if j.w == nil {
		return ErrReadOnly
	}
	tx, err := j.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// hostTx is inTx for the writer goroutine's host records: what the
// transaction staged in j.rows is kept if it commits, dropped if not.
func (j *Journal) hostTx(ctx context.Context, f func(*sql.Tx) error) error {
	err := j.inTx(ctx, f)
	if err != nil {
		j.rows.rollback()
		return err
	}
	j.rows.commit()
	return nil
}

// writeHost writes one queued host record.
func (j *Journal) writeHost(ctx context.Context, tx *sql.Tx, o op) error {
	h := o.host
	k := hostKey{h.RunID, h.Host}
	if o.kind == opStartHost {
		return j.startHostRow(ctx, tx, k, unixNano(h.StartedAt))
	}
	sum := summarize(h)
	row, run, known := j.rows.lookup(k)
	if known {
		startedNano := row.startedNano
		if !h.StartedAt.IsZero() {
			startedNano = unixNano(h.StartedAt)
		}
		res, err := tx.StmtContext(ctx, j.stmts.updateHost).ExecContext(ctx,
			h.Status, h.Error, h.Detail, h.DefHash, startedNano, nullTime(h.EndedAt),
			sum.steps, sum.drifted, sum.corrected, sum.failed, sum.compliant, row.id)
		if err != nil {
			return err
		}
		known = rowsAffected(res) == 1
		row.startedNano = startedNano
	}
	if !known { // no StartHost of ours before: insert or update by run and host
		var err error
		if row, run, err = j.upsertHostRow(ctx, tx, h, sum); err != nil {
			return err
		}
	} else if row.steps {
		if _, err := tx.StmtContext(ctx, j.stmts.deleteSteps).ExecContext(ctx, row.id); err != nil {
			return err
		}
	}
	if err := j.insertSteps(ctx, tx, row.id, row.startedNano, h.Steps, o.rowByRow); err != nil {
		return err
	}
	j.rows.recorded(k, row, run, h)
	if !run.takesLatest(h) {
		return nil
	}
	_, err := tx.StmtContext(ctx, j.stmts.upsertLatest).ExecContext(ctx, run.assoc, h.Host, run.mode, row.id, row.startedNano)
	return err
}

// startHostRow writes a StartHost record: the host's row, InProgress.
func (j *Journal) startHostRow(ctx context.Context, tx *sql.Tx, k hostKey, startedNano int64) error {
	var (
		row = hostRow{startedNano: startedNano}
		run runInfo
	)
	err := tx.StmtContext(ctx, j.stmts.startHost).QueryRowContext(ctx, k.run, k.host, startedNano).Scan(&row.id, &run.assoc, &run.mode)
	if errors.Is(err, sql.ErrNoRows) {
		// Nothing inserted: the host already has a row, or the run does
		// not exist.
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM runs WHERE id = ?`, k.run).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: run %d", ErrNotFound, k.run)
		}
		return err
	}
	if err != nil {
		return err
	}
	j.rows.keep(k, &row, run)
	return nil
}

// upsertHostRow writes a host's record as a new row, or over the row of
// a StartHost or progress record the writer does not remember (another
// process's, or from before a failed batch), whose step rows it deletes.
func (j *Journal) upsertHostRow(ctx context.Context, tx *sql.Tx, h *HostResult, sum hostSummary) (hostRow, runInfo, error) {
	// When the caller gave no start time (a host skipped before it
	// started), date the execution by its end, or by now.
	fallback := h.EndedAt
	if fallback.IsZero() {
		fallback = time.Now()
	}
	var (
		row hostRow
		run runInfo
	)
	err := tx.StmtContext(ctx, j.stmts.recordHost).QueryRowContext(ctx,
		h.RunID, h.Host, h.Status, h.Error, h.Detail, h.DefHash,
		nullTime(h.StartedAt), unixNano(fallback), nullTime(h.EndedAt),
		sum.steps, sum.drifted, sum.corrected, sum.failed, sum.compliant,
	).Scan(&row.id, &run.assoc, &run.mode, &row.startedNano)
	if errors.Is(err, sql.ErrNoRows) {
		return row, run, fmt.Errorf("%w: run %d", ErrNotFound, h.RunID)
	}
	if err != nil {
		return row, run, err
	}
	if _, err := tx.StmtContext(ctx, j.stmts.deleteSteps).ExecContext(ctx, row.id); err != nil {
		return row, run, err
	}
	return row, run, nil
}

// hostSummary is what host_results keeps of a host's steps.
type hostSummary struct{ steps, drifted, corrected, failed, compliant int }

func summarize(h *HostResult) hostSummary {
	sum := hostSummary{steps: len(h.Steps), compliant: 1}
	if h.Status != StatusSuccess {
		sum.compliant = 0
	}
	for i := range h.Steps {
		s := &h.Steps[i]
		if s.Drifted {
			sum.drifted++
		}
		if s.Status == StatusCorrected {
			sum.corrected++
		}
		if s.Status.Failed() {
			sum.failed++
		}
		if !stepCompliant(s) {
			sum.compliant = 0
		}
	}
	return sum
}

// rowsAffected is res's count of rows, -1 if the driver cannot tell.
func rowsAffected(res sql.Result) int64 {
	n, err := res.RowsAffected()
	if err != nil {
		return -1
	}
	return n
}

// insertSteps writes the step rows of host execution hostID, up to
// stepsPerInsert rows per INSERT. When a multi-row INSERT fails on one of
// its rows (a constraint), SQLite undoes that statement alone, and its
// rows are written again one at a time, so that the error names the step
// as it always has.
func (j *Journal) insertSteps(ctx context.Context, tx *sql.Tx, hostID, startedNano int64, steps []StepResult, rowByRow bool) error {
	args := make([]any, 0, min(len(steps), stepsPerInsert)*stepColumns)
	for len(steps) > 0 {
		n := min(len(steps), stepsPerInsert)
		chunk := steps[:n]
		steps = steps[n:]
		if st := j.stmts.insertSteps[n]; st != nil && !rowByRow {
			args = args[:0]
			for i := range chunk {
				args = appendStepArgs(args, hostID, startedNano, &chunk[i])
			}
			_, err := tx.StmtContext(ctx, st).ExecContext(ctx, args...)
			if err == nil {
				continue
			}
			if !j.d.statementOnly(err) {
				return fmt.Errorf("step %d %q: %w", chunk[0].Index, chunk[0].Name, err)
			}
		}
		ins := tx.StmtContext(ctx, j.stmts.insertStep)
		for i := range chunk {
			s := &chunk[i]
			if _, err := ins.ExecContext(ctx, appendStepArgs(args[:0], hostID, startedNano, s)...); err != nil {
				return fmt.Errorf("step %d %q: %w", s.Index, s.Name, err)
			}
		}
	}
	return nil
}

// appendStepArgs appends the stepColumns values of one step_results row.
func appendStepArgs(args []any, hostID, startedNano int64, s *StepResult) []any {
	at := startedNano
	if !s.StartedAt.IsZero() {
		at = unixNano(s.StartedAt)
	}
	var code sql.NullInt64
	if s.ExitCode != nil {
		code = sql.NullInt64{Int64: int64(*s.ExitCode), Valid: true}
	}
	return append(args, hostID, s.Index, s.Name, s.Action, s.Status, s.SkipReason,
		s.Drifted, s.Differ, code, s.Stdout, s.StdoutTruncated, s.Stderr, s.StderrTruncated,
		int64(s.Duration), s.Error, at)
}

// finishRun is FinishRun's write, on the writer goroutine.
func (j *Journal) finishRun(f finishReq) error {
	ctx := context.Background()
	hostStatus, hostErr := f.status, ""
	switch f.status {
	case StatusCancelled, StatusTimedOut, StatusInterrupted:
	default:
		hostStatus, hostErr = StatusFailed, "driftless: the run ended without a result for this host"
	}
	err := j.retrying(func() error { return j.finishTx(ctx, f, hostStatus, hostErr) })
	return wrap(fmt.Sprintf("finish run %d", f.runID), err)
}

// finishTx is finishRun's transaction.
func (j *Journal) finishTx(ctx context.Context, f finishReq, hostStatus Status, hostErr string) error {
	return j.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			UPDATE host_results SET status = ?, error = CASE WHEN error = '' THEN ? ELSE error END,
				ended_at = coalesce(ended_at, ?)
			WHERE run_id = ? AND status = 'InProgress'`,
			hostStatus, hostErr, unixNano(f.ended), f.runID)
		if err != nil {
			return err
		}
		if err := refreshLatest(ctx, tx, f.runID); err != nil {
			return err
		}
		counts := f.counts
		if counts == nil {
			if counts, err = countHosts(ctx, tx, f.runID); err != nil {
				return err
			}
		}
		cj, err := json.Marshal(counts)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, ended_at = ?, counts = ? WHERE id = ?`,
			f.status, unixNano(f.ended), string(cj), f.runID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return fmt.Errorf("%w: run %d", ErrNotFound, f.runID)
		}
		return nil
	})
}

// refreshLatest makes the finished host executions of a run the latest
// ones of their association × host × mode, where they are newer. A row
// that already names the execution (RecordHost put it there) is left
// alone rather than rewritten with the same values: the comparison is >,
// where RecordHost's is >=, and the two differ only there.
func refreshLatest(ctx context.Context, tx *sql.Tx, runID int64) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO latest (association, host, mode, host_result_id, started_at)
		SELECT association, host, mode, id, started_at FROM host_results
		WHERE run_id = ? AND mode != 'exec' AND status != 'InProgress'
		ON CONFLICT (association, host, mode) DO UPDATE
			SET host_result_id = excluded.host_result_id, started_at = excluded.started_at
			WHERE (excluded.started_at, excluded.host_result_id) > (latest.started_at, latest.host_result_id)`,
		runID)
	return err
}

// queryer is what *sql.DB, *sql.Tx and *sql.Conn have in common.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// countHosts counts a run's host executions by status.
func countHosts(ctx context.Context, q queryer, runID int64) (map[Status]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT status, count(*) FROM host_results WHERE run_id = ? GROUP BY status`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := make(map[Status]int)
	for rows.Next() {
		var s Status
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		counts[s] = n
	}
	return counts, rows.Err()
}

func clone(m map[Status]int) map[Status]int {
	c := make(map[Status]int, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// writeStmts are prepared once on the writer connection and bound to each
// transaction with Tx.StmtContext.
type writeStmts struct {
	startHost, recordHost, updateHost, deleteSteps, insertStep, upsertLatest *sql.Stmt
	// insertSteps[n] inserts n step rows at once (2 ≤ n ≤ stepsPerInsert),
	// prepared when first needed (prepareSteps); insertStepsFailed[n] once
	// that failed. Both belong to the writer goroutine.
	insertSteps       [stepsPerInsert + 1]*sql.Stmt
	insertStepsFailed [stepsPerInsert + 1]bool
}

// A host's step rows are written stepsPerInsert at a time: one statement
// instead of one per step. stepColumns is the number of values in a row.
const (
	stepsPerInsert = 16
	stepColumns    = 16
)

const insertStepsSQL = `
			INSERT INTO step_results (host_result_id, idx, name, action, status, skip_reason, drifted,
				differ, exit_code, stdout, stdout_truncated, stderr, stderr_truncated, duration_ns, error, at)
			VALUES `

// insertStepsQuery is the INSERT of n step rows.
func insertStepsQuery(n int) string {
	return insertStepsSQL + rowList("("+strings.Repeat("?, ", stepColumns-1)+"?)", n)
}

// latestNewer is the tail of the upserts of latest rows: a result
// replaces the latest of its association × host × mode if it is not
// older (RecordHost; refreshLatest says > instead).
const latestNewer = `
			ON CONFLICT (association, host, mode) DO UPDATE
				SET host_result_id = excluded.host_result_id, started_at = excluded.started_at
				WHERE (excluded.started_at, excluded.host_result_id) >= (latest.started_at, latest.host_result_id)`

func (s *writeStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&s.startHost, `
			INSERT INTO host_results (run_id, association, mode, host, status, started_at)
			SELECT id, association, mode, ?2, 'InProgress', CAST(?3 AS BIGINT) FROM runs WHERE id = ?1
			ON CONFLICT (run_id, host) DO NOTHING
			RETURNING id, association, mode`},
		// A row the writer made (rows.go), by its id.
		{&s.updateHost, `
			UPDATE host_results SET status = ?1, error = ?2, detail = ?3, def_hash = ?4, started_at = ?5,
				ended_at = ?6, steps = ?7, drifted = ?8, corrected = ?9, failed = ?10, compliant = ?11
			WHERE id = ?12`},
		// ?7 is the start the caller gave (NULL if none): a new row falls
		// back to ?8, an existing one (from StartHost) keeps its own.
		{&s.recordHost, `
			INSERT INTO host_results (run_id, association, mode, host, status, error, detail, def_hash,
				started_at, ended_at, steps, drifted, corrected, failed, compliant)
			SELECT id, association, mode, ?2, ?3, ?4, ?5, ?6, coalesce(CAST(?7 AS BIGINT), ?8), CAST(?9 AS BIGINT),
				CAST(?10 AS BIGINT), CAST(?11 AS BIGINT), CAST(?12 AS BIGINT), CAST(?13 AS BIGINT), CAST(?14 AS BIGINT)
			FROM runs WHERE id = ?1
			ON CONFLICT (run_id, host) DO UPDATE SET
				status = excluded.status, error = excluded.error, detail = excluded.detail,
				def_hash = excluded.def_hash, started_at = coalesce(CAST(?7 AS BIGINT), host_results.started_at),
				ended_at = excluded.ended_at, steps = excluded.steps, drifted = excluded.drifted,
				corrected = excluded.corrected, failed = excluded.failed, compliant = excluded.compliant
			RETURNING id, association, mode, started_at`},
		{&s.deleteSteps, `DELETE FROM step_results WHERE host_result_id = ?`},
		{&s.insertStep, insertStepsQuery(1)},
		{&s.upsertLatest, `
			INSERT INTO latest (association, host, mode, host_result_id, started_at)
			VALUES (?1, ?2, ?3, ?4, ?5)` + latestNewer},
	} {
		st, err := db.PrepareContext(ctx, p.query)
		if err != nil {
			return err
		}
		*p.dst = st
	}
	return nil
}

// prepareSteps prepares the multi-row step INSERTs that batch needs and
// that are not yet, on the writer goroutine and outside a transaction (the
// writer pool has one connection). One that fails to prepare is left
// nil: its rows are then written one at a time.
func (s *writeStmts) prepareSteps(ctx context.Context, db *sql.DB, batch []op) {
	for _, o := range batch {
		if o.kind != opRecordHost {
			continue
		}
		n := len(o.host.Steps)
		if n > stepsPerInsert {
			s.prepareStepsN(ctx, db, stepsPerInsert)
			n %= stepsPerInsert
		}
		s.prepareStepsN(ctx, db, n)
	}
}

func (s *writeStmts) prepareStepsN(ctx context.Context, db *sql.DB, n int) {
	if n < 2 || s.insertSteps[n] != nil || s.insertStepsFailed[n] {
		return
	}
	st, err := db.PrepareContext(ctx, insertStepsQuery(n))
	if err != nil {
		s.insertStepsFailed[n] = true
		return
	}
	s.insertSteps[n] = st
}

func (s *writeStmts) close() {
	for _, st := range append([]*sql.Stmt{s.startHost, s.recordHost, s.updateHost, s.deleteSteps, s.insertStep, s.upsertLatest}, s.insertSteps[:]...) {
		if st != nil {
			st.Close()
		}
	}
}
