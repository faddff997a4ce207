package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Queries run on the read pool. Each first writes what this process has
// queued, so that it sees every RecordHost that returned before it.

// where builds a WHERE clause from the conditions that apply.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, arg any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, arg)
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

func (j *Journal) beforeQuery(ctx context.Context) error {
	if err := j.live(); err != nil {
		return err
	}
	return j.sync(ctx)
}

// Status returns the compliance of each association on each host, from its
// latest execution there (apply or check; exec runs are not associations),
// sorted by association then host. A host is COMPLIANT when that
// execution succeeded and every step is Compliant, Corrected, Success, or
// Skipped because of its precondition (or an early exit by design).
func (j *Journal) Status(ctx context.Context, f StatusFilter) ([]ComplianceRow, error) {
	if err := j.beforeQuery(ctx); err != nil {
		return nil, wrap("status", err)
	}
	var inner, outer where
	if f.Association != "" {
		inner.add("association = ?", f.Association)
	}
	if f.Host != "" {
		inner.add("host = ?", f.Host)
	}
	if f.Severity != "" {
		outer.add("r.severity = ?", f.Severity)
	}
	// latest has a row per mode; the newest of them wins.
	q := `
		SELECT l.association, l.host, r.severity, h.run_id, h.mode, h.status, h.error, h.started_at,
			h.compliant, h.steps, h.drifted, h.corrected, h.failed, h.id
		FROM (
			SELECT association, host, host_result_id, row_number() OVER (
				PARTITION BY association, host ORDER BY started_at DESC, host_result_id DESC) AS rn
			FROM latest` + inner.String() + `
		) l
		JOIN host_results h ON h.id = l.host_result_id
		JOIN runs r ON r.id = h.run_id
		WHERE l.rn = 1` + strings.Replace(outer.String(), " WHERE ", " AND ", 1) + `
		ORDER BY l.association, l.host`
	rows, err := j.r.QueryContext(ctx, q, append(inner.args, outer.args...)...)
	if err != nil {
		return nil, wrap("status", err)
	}
	defer rows.Close()
	out := []ComplianceRow{}
	var checks []int // rows of compliant check runs, with their host_results id
	var checkIDs []int64
	for rows.Next() {
		var (
			c         ComplianceRow
			at        int64
			compliant bool
			id        int64
		)
		if err := rows.Scan(&c.Association, &c.Host, &c.Severity, &c.RunID, &c.Mode, &c.HostStatus, &c.Error,
			&at, &compliant, &c.Steps, &c.DriftedSteps, &c.CorrectedSteps, &c.FailedSteps, &id); err != nil {
			return nil, wrap("status", err)
		}
		c.At = fromNano(at)
		c.Compliance = NonCompliant
		if compliant {
			c.Compliance = Compliant
			if c.Mode == ModeCheck {
				checks, checkIDs = append(checks, len(out)), append(checkIDs, id)
			}
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("status", err)
	}
	rows.Close()
	for i, row := range checks {
		c := &out[row]
		step, run, err := j.uncheckedFailure(ctx, c.Association, c.Host, checkIDs[i])
		if err != nil {
			return nil, wrap("status", err)
		}
		if step != "" {
			c.Compliance = NonCompliant
			if c.Error == "" {
				c.Error = fmt.Sprintf("step %q did not succeed in the last apply (run %d), and a check cannot run it", step, run)
			}
		}
	}
	return out, nil
}

// uncheckedFailure is, for the check run hostResult of assoc on host, the
// first step it skipped for having no check (SSM command steps, scripts
// without a check) that was not compliant in the latest apply there, and
// that apply's run: a check cannot tell the state of such a step, so its
// compliance is the one the last apply left (SPEC §7). "" when there is
// none.
func (j *Journal) uncheckedFailure(ctx context.Context, assoc, host string, hostResult int64) (step string, run int64, err error) {
	err = j.r.QueryRowContext(ctx, `
		SELECT c.name, h.run_id
		FROM step_results c
		JOIN latest la ON la.association = ? AND la.host = ? AND la.mode = ?
		JOIN host_results h ON h.id = la.host_result_id
		JOIN step_results a ON a.host_result_id = la.host_result_id AND a.idx = c.idx AND a.name = c.name
		WHERE c.host_result_id = ? AND c.status = ? AND c.skip_reason = ?
			AND a.status NOT IN (?, ?, ?)
			AND NOT (a.status = ? AND a.skip_reason IN (?, ?, ?, ?, ?))
		ORDER BY c.idx LIMIT 1`,
		assoc, host, ModeApply, hostResult, StatusSkipped, SkipNoCheck,
		StatusCompliant, StatusCorrected, StatusSuccess, // stepCompliant's, with compliantSkips below
		StatusSkipped, SkipPrecondition, SkipExited, SkipNoCheck, SkipNotNotified, SkipWouldRun).Scan(&step, &run)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, nil
	}
	return step, run, err
}

// LastRuns returns, per host, the latest finished execution of association
// assoc there, for the scheduler (docs/schedules.md#when-an-association-is-due). mode narrows it to apply or
// check runs ("" takes the newest of either): a scheduler that applies
// should not take a preview run with `check` for an application of a
// changed definition.
func (j *Journal) LastRuns(ctx context.Context, assoc string, mode Mode) (map[string]LastRun, error) {
	if err := j.beforeQuery(ctx); err != nil {
		return nil, wrap("last runs", err)
	}
	var w where
	w.add("l.association = ?", assoc)
	if mode != "" {
		w.add("l.mode = ?", mode)
	}
	rows, err := j.r.QueryContext(ctx, `
		SELECT l.host, h.id, h.run_id, h.mode, h.started_at, h.status, h.def_hash
		FROM latest l JOIN host_results h ON h.id = l.host_result_id`+w.String(), w.args...)
	if err != nil {
		return nil, wrap("last runs", err)
	}
	defer rows.Close()
	out := make(map[string]LastRun)
	ids := make(map[string]int64)
	for rows.Next() {
		var (
			host    string
			id, at  int64
			lr      LastRun
			defHash string
		)
		if err := rows.Scan(&host, &id, &lr.RunID, &lr.Mode, &at, &lr.Status, &defHash); err != nil {
			return nil, wrap("last runs", err)
		}
		lr.StartedAt, lr.DefHash = fromNano(at), defHash
		if prev, ok := out[host]; ok && (prev.StartedAt.After(lr.StartedAt) ||
			prev.StartedAt.Equal(lr.StartedAt) && ids[host] > id) {
			continue
		}
		out[host], ids[host] = lr, id
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("last runs", err)
	}
	return out, nil
}

// FirstSeen records now as the first time association assoc was seen,
// unless a time is already recorded, and returns the recorded time.
func (j *Journal) FirstSeen(ctx context.Context, assoc string, now time.Time) (time.Time, error) {
	if assoc == "" || now.IsZero() {
		return time.Time{}, fmt.Errorf("journal: first seen: %w: association %q at %v", ErrInvalid, assoc, now)
	}
	if err := j.live(); err != nil {
		return time.Time{}, wrap("first seen", err)
	}
	// Seen before is the common case: answer it without the write lock.
	var at int64
	err := j.r.QueryRowContext(ctx, `SELECT first_seen FROM associations WHERE association = ?`, assoc).Scan(&at)
	if err == nil {
		return fromNano(at), nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, wrap("first seen", err)
	}
	if j.ReadOnly() {
		return now, nil // nothing can be recorded: seen now, for this reading
	}
	err = j.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO associations (association, first_seen) VALUES (?, ?)
			ON CONFLICT (association) DO NOTHING`, assoc, unixNano(now)); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT first_seen FROM associations WHERE association = ?`, assoc).Scan(&at)
	})
	if err != nil {
		return time.Time{}, wrap("first seen", err)
	}
	return fromNano(at), nil
}

const runCols = `id, association, document, doc_hash, params_hash, trigger_kind, mode, severity, command,
	started_at, ended_at, status, counts, pid, hostname, node`

func scanRun(s interface{ Scan(...any) error }) (*Run, error) {
	var (
		r       Run
		started int64
		ended   sql.NullInt64
		counts  string
	)
	if err := s.Scan(&r.ID, &r.Association, &r.Document, &r.DocHash, &r.ParamsHash, &r.Trigger, &r.Mode,
		&r.Severity, &r.Command, &started, &ended, &r.Status, &counts, &r.PID, &r.Hostname, &r.Node); err != nil {
		return nil, err
	}
	r.StartedAt, r.EndedAt = fromNano(started), fromNull(ended)
	if err := json.Unmarshal([]byte(counts), &r.Counts); err != nil {
		return nil, fmt.Errorf("run %d: counts: %w", r.ID, err)
	}
	if r.Counts == nil {
		r.Counts = map[Status]int{}
	}
	return &r, nil
}

// liveCounts counts the hosts of a run still InProgress from what was
// recorded so far.
func liveCounts(ctx context.Context, q queryer, r *Run) error {
	if r.Status != StatusInProgress {
		return nil
	}
	c, err := countHosts(ctx, q, r.ID)
	if err != nil {
		return err
	}
	r.Counts = c
	return nil
}

// History returns runs, newest first. A Host filter selects the runs that
// touched that host.
func (j *Journal) History(ctx context.Context, f HistoryFilter) ([]Run, error) {
	if err := j.beforeQuery(ctx); err != nil {
		return nil, wrap("history", err)
	}
	var w where
	if f.Association != "" {
		w.add("association = ?", f.Association)
	}
	if f.Host != "" {
		w.add("id IN (SELECT run_id FROM host_results WHERE host = ?)", f.Host)
	}
	q := `SELECT ` + runCols + ` FROM runs` + w.String() + ` ORDER BY started_at DESC, id DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	tx, err := j.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, wrap("history", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, wrap("history", err)
	}
	out := []Run{}
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			rows.Close()
			return nil, wrap("history", err)
		}
		out = append(out, *r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("history", err)
	}
	for i := range out {
		if err := liveCounts(ctx, tx, &out[i]); err != nil {
			return nil, wrap("history", err)
		}
	}
	return out, nil
}

// Show returns run runID in full: the run, and each host execution (only
// host's if host is not empty) with its steps, outputs and diffs, hosts
// sorted by name and steps by index. It fails with ErrNotFound when there
// is no such run, or no such host in it.
func (j *Journal) Show(ctx context.Context, runID int64, host string) (*Run, []HostResult, error) {
	if err := j.beforeQuery(ctx); err != nil {
		return nil, nil, wrap("show", err)
	}
	stage := fmt.Sprintf("show run %d", runID)
	// One read transaction: run, hosts and steps from the same snapshot.
	tx, err := j.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, wrap(stage, err)
	}
	defer tx.Rollback()

	run, err := scanRun(tx.QueryRowContext(ctx, `SELECT `+runCols+` FROM runs WHERE id = ?`, runID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("journal: %s: %w", stage, ErrNotFound)
	}
	if err != nil {
		return nil, nil, wrap(stage, err)
	}
	if err := liveCounts(ctx, tx, run); err != nil {
		return nil, nil, wrap(stage, err)
	}

	var w where
	w.add("h.run_id = ?", runID)
	if host != "" {
		w.add("h.host = ?", host)
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT h.id, h.host, h.status, h.error, h.detail, h.def_hash, h.started_at, h.ended_at
		FROM host_results h`+w.String()+` ORDER BY h.host`, w.args...)
	if err != nil {
		return nil, nil, wrap(stage, err)
	}
	hosts := []HostResult{}
	index := make(map[int64]int)
	for rows.Next() {
		var (
			id, started int64
			ended       sql.NullInt64
			h           = HostResult{RunID: runID}
		)
		if err := rows.Scan(&id, &h.Host, &h.Status, &h.Error, &h.Detail, &h.DefHash, &started, &ended); err != nil {
			rows.Close()
			return nil, nil, wrap(stage, err)
		}
		h.StartedAt, h.EndedAt = fromNano(started), fromNull(ended)
		index[id] = len(hosts)
		hosts = append(hosts, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, wrap(stage, err)
	}
	if host != "" && len(hosts) == 0 {
		return nil, nil, fmt.Errorf("journal: %s: host %s: %w", stage, host, ErrNotFound)
	}

	rows, err = tx.QueryContext(ctx, `
		SELECT s.host_result_id, s.idx, s.name, s.action, s.status, s.skip_reason, s.drifted, s.differ,
			s.exit_code, s.stdout, s.stdout_truncated, s.stderr, s.stderr_truncated, s.duration_ns, s.error, s.at
		FROM step_results s JOIN host_results h ON h.id = s.host_result_id`+w.String()+`
		ORDER BY s.host_result_id, s.idx`, w.args...)
	if err != nil {
		return nil, nil, wrap(stage, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			hid, dur, at int64
			code         sql.NullInt64
			s            StepResult
		)
		if err := rows.Scan(&hid, &s.Index, &s.Name, &s.Action, &s.Status, &s.SkipReason, &s.Drifted, &s.Differ,
			&code, &s.Stdout, &s.StdoutTruncated, &s.Stderr, &s.StderrTruncated, &dur, &s.Error, &at); err != nil {
			return nil, nil, wrap(stage, err)
		}
		if code.Valid {
			c := int(code.Int64)
			s.ExitCode = &c
		}
		s.Duration, s.StartedAt = time.Duration(dur), fromNano(at)
		if i, ok := index[hid]; ok {
			hosts[i].Steps = append(hosts[i].Steps, s)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, wrap(stage, err)
	}
	return run, hosts, nil
}

// Drift returns the drift events since f.Since, newest first: every step
// found out of state, with what differed and what was done about it.
func (j *Journal) Drift(ctx context.Context, f DriftFilter) ([]DriftEvent, error) {
	if err := j.beforeQuery(ctx); err != nil {
		return nil, wrap("drift", err)
	}
	// A literal, not a parameter: the planner uses the partial index
	// step_results_drift only when it can see drifted = 1.
	w := where{conds: []string{"s.drifted = 1"}}
	if !f.Since.IsZero() {
		w.add("s.at >= ?", unixNano(f.Since))
	}
	if f.Association != "" {
		w.add("h.association = ?", f.Association)
	}
	if f.Host != "" {
		w.add("h.host = ?", f.Host)
	}
	rows, err := j.r.QueryContext(ctx, `
		SELECT h.run_id, h.association, h.mode, h.host, s.idx, s.name, s.action, s.at, s.differ, s.status, s.error
		FROM step_results s JOIN host_results h ON h.id = s.host_result_id`+w.String()+`
		ORDER BY s.at DESC, h.id DESC, s.idx`, w.args...)
	if err != nil {
		return nil, wrap("drift", err)
	}
	defer rows.Close()
	out := []DriftEvent{}
	for rows.Next() {
		var (
			e  DriftEvent
			at int64
		)
		if err := rows.Scan(&e.RunID, &e.Association, &e.Mode, &e.Host, &e.StepIndex, &e.Step, &e.Action,
			&at, &e.Differ, &e.Status, &e.Error); err != nil {
			return nil, wrap("drift", err)
		}
		e.At, e.Outcome = fromNano(at), driftOutcome(e.Status)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("drift", err)
	}
	return out, nil
}
