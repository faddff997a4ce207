package journal

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

// Read-only queries for the HTML report (docs/report.md).

// RowKey names one host execution: a run and a host in it.
type RowKey struct {
	RunID int64
	Host  string
}

// OutOfStateSteps returns, for each host execution named in keys, the
// steps that left the host out of state or were found out of state
// (whatever happened next), by index: what differed, for the report. A
// host execution with no such step has no entry.
func (j *Journal) OutOfStateSteps(ctx context.Context, keys []RowKey) (map[RowKey][]StepResult, error) {
	out := map[RowKey][]StepResult{}
	if len(keys) == 0 {
		return out, nil
	}
	if err := j.beforeQuery(ctx); err != nil {
		return nil, wrap("out-of-state steps", err)
	}
	tx, err := j.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, wrap("out-of-state steps", err)
	}
	defer tx.Rollback()
	for chunk := range slices.Chunk(keys, 400) {
		if err := outOfStateSteps(ctx, tx, chunk, out); err != nil {
			return nil, wrap("out-of-state steps", err)
		}
	}
	return out, nil
}

func outOfStateSteps(ctx context.Context, tx *sql.Tx, keys []RowKey, out map[RowKey][]StepResult) error {
	args := make([]any, 0, 2*len(keys)+3)
	for _, k := range keys {
		args = append(args, k.RunID, k.Host)
	}
	args = append(args, StatusCompliant, StatusCorrected, StatusSuccess)
	rows, err := tx.QueryContext(ctx, `
		SELECT h.run_id, h.host, s.idx, s.name, s.action, s.status, s.skip_reason, s.drifted, s.differ,
			s.exit_code, s.stderr, s.stderr_truncated, s.error, s.at
		FROM host_results h JOIN step_results s ON s.host_result_id = h.id
		WHERE (h.run_id, h.host) IN (VALUES `+rowList("(CAST(? AS BIGINT), ?)", len(keys))+`)
			AND (s.drifted = 1 OR s.status NOT IN (?, ?, ?))
		ORDER BY h.id, s.idx`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k    RowKey
			s    StepResult
			code sql.NullInt64
			at   int64
		)
		if err := rows.Scan(&k.RunID, &k.Host, &s.Index, &s.Name, &s.Action, &s.Status, &s.SkipReason, &s.Drifted,
			&s.Differ, &code, &s.Stderr, &s.StderrTruncated, &s.Error, &at); err != nil {
			return err
		}
		if !s.Drifted && stepCompliant(&s) {
			continue // skipped by its precondition, or another compliant skip
		}
		if code.Valid {
			c := int(code.Int64)
			s.ExitCode = &c
		}
		s.StartedAt = fromNano(at)
		out[k] = append(out[k], s)
	}
	return rows.Err()
}

// DriftCount is how many steps were found out of state on one host in one
// period of a timeline, by what was done about them.
type DriftCount struct {
	Host                        string
	Bucket                      int // the period: from since + Bucket × width
	Corrected, Detected, Failed int
}

// DriftTimeline counts the drift events (see Drift) on each host from
// since to until, in periods of width, sorted by host then period.
func (j *Journal) DriftTimeline(ctx context.Context, since, until time.Time, width time.Duration) ([]DriftCount, error) {
	if width <= 0 || !until.After(since) {
		return nil, fmt.Errorf("journal: drift timeline: %w: from %v to %v by %v", ErrInvalid, since, until, width)
	}
	if err := j.beforeQuery(ctx); err != nil {
		return nil, wrap("drift timeline", err)
	}
	from := unixNano(since)
	// drifted = 1 as a literal: the planner uses step_results_drift only
	// when it can see it.
	rows, err := j.r.QueryContext(ctx, `
		SELECT h.host, (s.at - ?) / ?, count(CASE WHEN s.status = ? THEN 1 END), count(CASE WHEN s.status = ? THEN 1 END),
			count(CASE WHEN s.status NOT IN (?, ?) THEN 1 END)
		FROM step_results s JOIN host_results h ON h.id = s.host_result_id
		WHERE s.drifted = 1 AND s.at >= ? AND s.at < ?
		GROUP BY 1, 2 ORDER BY 1, 2`,
		from, int64(width), StatusCorrected, StatusDrifted, StatusCorrected, StatusDrifted, from, unixNano(until))
	if err != nil {
		return nil, wrap("drift timeline", err)
	}
	defer rows.Close()
	out := []DriftCount{}
	for rows.Next() {
		var c DriftCount
		if err := rows.Scan(&c.Host, &c.Bucket, &c.Corrected, &c.Detected, &c.Failed); err != nil {
			return nil, wrap("drift timeline", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("drift timeline", err)
	}
	return out, nil
}

// FirstRecord is when the first run recorded started; zero when none was.
func (j *Journal) FirstRecord(ctx context.Context) (time.Time, error) {
	if err := j.beforeQuery(ctx); err != nil {
		return time.Time{}, wrap("first record", err)
	}
	var at sql.NullInt64
	if err := j.r.QueryRowContext(ctx, `SELECT MIN(started_at) FROM runs`).Scan(&at); err != nil {
		return time.Time{}, wrap("first record", err)
	}
	return fromNull(at), nil
}
