package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Retention (docs/journal.md#retention): Prune deletes the runs that ended
// before a cutoff, in short transactions, so that another driftless writing
// the same journal meanwhile waits milliseconds, not the whole prune.

const (
	// pruneRows is how many rows (host executions and their steps) one
	// prune transaction deletes at most: a few milliseconds of work. It
	// deletes them pruneChunk at a time, and stops after pruneTime even
	// short of pruneRows (a slow disk, a busy machine).
	pruneRows  = 4000
	pruneChunk = 500
	pruneTime  = 20 * time.Millisecond
	// pruneRuns is how many runs one prune transaction looks at at most.
	pruneRuns = 200
	// vacuumPages is how many free pages one incremental vacuum
	// transaction gives back at most (2 MiB at the default page size).
	vacuumPages = 500
	// prunePauseMin is the least time Prune leaves the journal to others
	// between two of its transactions; it leaves at least as long as the
	// transaction took, so that it never holds the write lock more than
	// half the time.
	prunePauseMin = 10 * time.Millisecond
)

// cutOff lists the host statuses of executions that were cut off before
// they ended (see Unfinished), in SQL.
const cutOff = `('Cancelled', 'Interrupted', 'InProgress')`

// keptHost is true for a host execution h of an ended run that Prune
// keeps: the latest result of its association × host × mode (Status and
// the scheduler read it), its association × host × mode's newest
// execution that was not cut off (schedules count from it: LastFinished),
// and one still InProgress.
const keptHost = `(h.status = 'InProgress'
	OR EXISTS (SELECT 1 FROM latest l WHERE l.host_result_id = h.id)
	OR (h.mode != 'exec' AND h.status NOT IN ` + cutOff + ` AND NOT EXISTS (
		SELECT 1 FROM host_results n
		WHERE n.host = h.host AND n.association = h.association AND n.mode = h.mode
			AND n.run_id > h.run_id AND n.status NOT IN ` + cutOff + `)))`

// oldRun is true for a run r that ended before ?1 (Unix nanoseconds). A
// run ends after it starts, so the start index narrows the search.
const oldRun = `r.started_at < ?1 AND r.ended_at < ?1 AND r.status != 'InProgress'`

// PruneOptions says what Prune deletes.
type PruneOptions struct {
	// Before: the runs that ended before it are deleted. Required.
	Before time.Time
	// DryRun counts what would be deleted, and deletes nothing.
	DryRun bool
}

// PruneResult is what Prune deleted (with DryRun: what it would delete).
type PruneResult struct {
	Runs  int64 // runs deleted, with all their host executions
	Hosts int64 // host executions deleted
	Steps int64 // step results deleted
	// KeptRuns and KeptHosts are the runs that ended before the cutoff and
	// stay for KeptHosts host executions of theirs that are still needed:
	// a latest result, or the last one a schedule counts from.
	KeptRuns, KeptHosts int64
	// Transactions is how many write transactions the deletion took.
	Transactions int
	// Space, after the deletion (and the incremental vacuum, if the
	// journal has it).
	Space Space
	// BytesFreed is how much smaller the database became: what the
	// incremental vacuum gave back to the disk (0 when it grew: another
	// process wrote more meanwhile).
	BytesFreed int64
}

// Space is how the database file uses its pages.
type Space struct {
	PageSize  int64
	Pages     int64 // the database's size in pages (page_count)
	FreePages int64 // pages inside it that hold nothing (freelist_count)
	// AutoVacuum is none, full or incremental: whether free pages go back
	// to the disk (full: at each commit; incremental: when Prune asks).
	AutoVacuum string
}

// Bytes is the database's size.
func (s Space) Bytes() int64 { return s.Pages * s.PageSize }

// FreeBytes is the size of its free pages: what a VACUUM would give back.
func (s Space) FreeBytes() int64 { return s.FreePages * s.PageSize }

// Prune deletes the runs that ended before o.Before, with their host
// executions and steps, except the host executions still needed (the
// latest result of each association × host × mode, the last execution
// that was not cut off of each, which schedules count from) and the runs
// they belong to; runs in progress are never touched. It deletes in
// transactions of at most a few thousand rows, pausing between them, so
// that other writers wait milliseconds. Then, if the journal has
// auto_vacuum = INCREMENTAL, it gives the freed pages back to the disk,
// also in steps. When ctx is done it stops between two transactions and
// returns what it did with ctx's error. The counts are read on the read
// pool, which never holds up a writer.
func (j *Journal) Prune(ctx context.Context, o PruneOptions) (PruneResult, error) {
	var res PruneResult
	if o.Before.IsZero() {
		return res, fmt.Errorf("journal: prune: %w: no cutoff", ErrInvalid)
	}
	if err := j.live(); err != nil {
		return res, wrap("prune", err)
	}
	if j.w == nil {
		return res, wrap("prune", ErrReadOnly)
	}
	before := unixNano(o.Before)
	if o.DryRun {
		err := j.pruneCount(ctx, before, &res)
		if err == nil {
			res.Space, err = j.d.space(ctx, j.w)
		}
		return res, wrap("prune", err)
	}
	start, err := j.d.space(ctx, j.w)
	if err != nil {
		return res, wrap("prune", err)
	}
	err = j.pruneAll(ctx, before, &res)
	if err == nil {
		err = j.d.afterPrune(ctx, j, start)
	}
	if err == nil {
		err = j.keptCount(ctx, before, &res)
	}
	if err != nil {
		return res, wrap("prune", err)
	}
	res.Space, err = j.d.space(ctx, j.w)
	// Others may have written meanwhile: what they added is not ours to
	// count, and the journal may even have grown.
	res.BytesFreed = max(start.Bytes()-res.Space.Bytes(), 0)
	return res, wrap("prune", err)
}

// pruneCursor is where the next prune transaction starts: after the run
// that started at started with id id, in (started_at, id) order. Runs
// after last (the newest when Prune began) are left for the next Prune,
// so that one ends whatever others write meanwhile.
type pruneCursor struct{ started, id, last int64 }

// pruneAll deletes in transactions until nothing is left to delete.
func (j *Journal) pruneAll(ctx context.Context, before int64, res *PruneResult) error {
	cur := pruneCursor{started: -1 << 63}
	if err := j.w.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM runs`).Scan(&cur.last); err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		began := time.Now()
		var batch PruneResult
		var done bool
		err := j.inTx(ctx, func(tx *sql.Tx) error {
			batch = PruneResult{}
			var err error
			done, err = pruneBatch(ctx, tx, before, &cur, &batch)
			return err
		})
		if err != nil {
			return err
		}
		res.Runs += batch.Runs
		res.Hosts += batch.Hosts
		res.Steps += batch.Steps
		res.Transactions++
		if done {
			return nil
		}
		if err := pause(ctx, began); err != nil {
			return err
		}
	}
}

// pause waits as long as the transaction that began at began took, and
// at least prunePauseMin: the write lock is free for others meanwhile.
func pause(ctx context.Context, began time.Time) error {
	t := time.NewTimer(max(time.Since(began), prunePauseMin))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pruneBatch deletes up to pruneRows rows of the old runs after *cur, in
// (started_at, id) order, for about pruneTime, and moves *cur past the
// runs it finished with: those it deleted and those it keeps. done is true
// when no old run is left after *cur.
func pruneBatch(ctx context.Context, tx *sql.Tx, before int64, cur *pruneCursor, res *PruneResult) (done bool, err error) {
	deadline := time.Now().Add(pruneTime)
	runs, err := oldRuns(ctx, tx, before, *cur)
	if err != nil || len(runs) == 0 {
		return true, err
	}
	budget := int64(pruneRows)
	full := func() bool { return budget <= 0 || time.Now().After(deadline) }
	for _, run := range runs {
		for {
			chunk := min(budget, pruneChunk)
			taken := chunk
			ids, more, err := doomedHosts(ctx, tx, run.id, &chunk)
			if err != nil {
				return false, err
			}
			budget -= taken - chunk
			if err := deleteHosts(ctx, tx, ids, res); err != nil {
				return false, err
			}
			if !more {
				break
			}
			if full() {
				return false, nil // the next transaction goes on with this run
			}
		}
		r, err := tx.ExecContext(ctx, `
			DELETE FROM runs WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM host_results WHERE run_id = ?1)`, run.id)
		if err != nil {
			return false, err
		}
		res.Runs += rowsAffected(r)
		cur.started, cur.id = run.started, run.id
		if full() {
			return false, nil
		}
	}
	return len(runs) < pruneRuns, nil
}

// oldRuns returns up to pruneRuns runs that ended before before, after
// cur.
func oldRuns(ctx context.Context, tx *sql.Tx, before int64, cur pruneCursor) ([]pruneCursor, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT r.started_at, r.id FROM runs r
		WHERE `+oldRun+` AND (r.started_at, r.id) > (?2, ?3) AND r.id <= ?4
		ORDER BY r.started_at, r.id LIMIT ?5`, before, cur.started, cur.id, cur.last, pruneRuns)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var runs []pruneCursor
	for rows.Next() {
		var c pruneCursor
		if err := rows.Scan(&c.started, &c.id); err != nil {
			return nil, err
		}
		runs = append(runs, c)
	}
	return runs, rows.Err()
}

// doomedHosts returns the ids of run's host executions that Prune deletes,
// as many as *budget rows allow (a host execution is one row and one per
// step; the first is taken whatever its size), taking them from *budget.
// more is true when some were left for lack of budget. *budget must be
// positive.
func doomedHosts(ctx context.Context, tx *sql.Tx, run int64, budget *int64) (ids []int64, more bool, err error) {
	// Each host taken costs a row at least, so at most *budget are taken:
	// one more row tells whether there are more.
	rows, err := tx.QueryContext(ctx, `
		SELECT h.id, h.steps FROM host_results h
		WHERE h.run_id = ? AND NOT `+keptHost+`
		ORDER BY h.id LIMIT ?`, run, *budget+1)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, steps int64
		if err := rows.Scan(&id, &steps); err != nil {
			return nil, false, err
		}
		if len(ids) > 0 && 1+steps > *budget {
			return ids, true, nil
		}
		ids = append(ids, id)
		*budget -= 1 + steps
	}
	return ids, false, rows.Err()
}

// deleteHosts deletes the host executions ids and their steps.
func deleteHosts(ctx context.Context, tx *sql.Tx, ids []int64, res *PruneResult) error {
	if len(ids) == 0 {
		return nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	r, err := tx.ExecContext(ctx, `DELETE FROM step_results WHERE host_result_id IN (SELECT CAST(value AS BIGINT) FROM json_each(?))`, string(list))
	if err != nil {
		return err
	}
	res.Steps += rowsAffected(r)
	r, err = tx.ExecContext(ctx, `DELETE FROM host_results WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each(?))`, string(list))
	if err != nil {
		return err
	}
	res.Hosts += rowsAffected(r)
	return nil
}

// pruneCount counts what Prune would delete.
func (j *Journal) pruneCount(ctx context.Context, before int64, res *PruneResult) error {
	err := j.r.QueryRowContext(ctx, `
		SELECT count(*), coalesce(sum((SELECT count(*) FROM step_results s WHERE s.host_result_id = h.id)), 0)
		FROM runs r JOIN host_results h ON h.run_id = r.id
		WHERE `+oldRun+` AND NOT `+keptHost, before).Scan(&res.Hosts, &res.Steps)
	if err != nil {
		return err
	}
	err = j.r.QueryRowContext(ctx, `
		SELECT count(*) FROM runs r
		WHERE `+oldRun+` AND NOT EXISTS (SELECT 1 FROM host_results h WHERE h.run_id = r.id AND `+keptHost+`)`,
		before).Scan(&res.Runs)
	if err != nil {
		return err
	}
	return j.keptCount(ctx, before, res)
}

// keptCount counts the old runs that stay, and their host executions.
func (j *Journal) keptCount(ctx context.Context, before int64, res *PruneResult) error {
	return j.r.QueryRowContext(ctx, `
		SELECT count(DISTINCT r.id), count(*) FROM runs r JOIN host_results h ON h.run_id = r.id
		WHERE `+oldRun+` AND `+keptHost, before).Scan(&res.KeptRuns, &res.KeptHosts)
}

// incrementalVacuum gives the free pages back to the disk, vacuumPages at
// a time, pausing between transactions like pruneAll.
func (j *Journal) incrementalVacuum(ctx context.Context) error {
	for {
		began := time.Now()
		var left int64
		err := j.inTx(ctx, func(tx *sql.Tx) error {
			// The pragma returns a row per page it frees; reading them
			// all lets it run to its limit.
			rows, err := tx.QueryContext(ctx, fmt.Sprintf(`PRAGMA incremental_vacuum(%d)`, vacuumPages))
			if err != nil {
				return err
			}
			for rows.Next() {
			}
			if err := errors.Join(rows.Err(), rows.Close()); err != nil {
				return err
			}
			return tx.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&left)
		})
		if err != nil || left == 0 {
			return err
		}
		if err := pause(ctx, began); err != nil {
			return err
		}
	}
}

// Vacuum rewrites the whole journal (VACUUM), which gives every free page
// back to the disk, and turns auto_vacuum = INCREMENTAL on for a journal
// created before driftless had it. It holds the journal's write lock for
// as long as copying it takes (and needs as much free space again, in
// the temporary directory): other writers wait up to their busy timeout,
// and fail after it. It returns the space before and after.
func (j *Journal) Vacuum(ctx context.Context) (before, after Space, err error) {
	if err := j.live(); err != nil {
		return before, after, wrap("vacuum", err)
	}
	if j.w == nil {
		return before, after, wrap("vacuum", ErrReadOnly)
	}
	if before, err = j.d.space(ctx, j.w); err != nil {
		return before, after, wrap("vacuum", err)
	}
	if err := j.Flush(ctx); err != nil {
		return before, after, err
	}
	if err := j.d.vacuum(ctx, j.w); err != nil {
		return before, after, wrap("vacuum", err)
	}
	after, err = j.d.space(ctx, j.w)
	return before, after, wrap("vacuum", err)
}
