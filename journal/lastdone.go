package journal

import (
	"context"
	"database/sql"
	"errors"
)

// Unfinished reports whether a host execution with status s was cut off
// before it ended (cancelled by a signal, or its process killed): for the
// schedule it does not count as having run (docs/schedules.md).
func Unfinished(s Status) bool {
	return s == StatusCancelled || s == StatusInterrupted || s == StatusInProgress
}

// LastFinished returns the latest host execution of assoc on host in
// mode (any mode but exec when mode is empty) that was not cut off (see
// Unfinished); ok is false when there is none. Schedules count from the
// last one in the association's own mode, so that a run stopped by a
// signal or a kill is run again at the next tick with the reason it had,
// and a manual check of an apply association does not reset its clock.
func (j *Journal) LastFinished(ctx context.Context, assoc, host string, mode Mode) (lr LastRun, ok bool, err error) {
	if err := j.beforeQuery(ctx); err != nil {
		return lr, false, wrap("last finished", err)
	}
	var at int64
	err = j.r.QueryRowContext(ctx, `
		SELECT run_id, mode, started_at, status, def_hash FROM host_results
		WHERE host = ? AND association = ? AND status NOT IN `+cutOff+`
		AND (? = '' AND mode != ? OR mode = ?)
		ORDER BY run_id DESC LIMIT 1`,
		host, assoc, mode, ModeExec, mode).Scan(&lr.RunID, &lr.Mode, &at, &lr.Status, &lr.DefHash)
	if errors.Is(err, sql.ErrNoRows) {
		return LastRun{}, false, nil
	}
	if err != nil {
		return lr, false, wrap("last finished", err)
	}
	lr.StartedAt = fromNano(at)
	return lr, true, nil
}
