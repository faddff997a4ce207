package journal

import (
	"context"
	"database/sql"
	"strings"
)

// The bulk path of a batch (docs/journal.md, "How it is written"). A
// batch of a large run is mostly the StartHost rows of hosts that begin
// and the results of hosts whose rows the writer made: for those, the
// batch writes every host's row, its steps and its latest row in a few
// multi-row statements instead of three or four statements a host. On
// SQLite that saves the cost of each statement (binding, the virtual
// machine's set-up, database/sql's bookkeeping); on PostgreSQL a round
// trip each. Whatever the bulk statements do not cover (a host whose row
// another process made, step rows to replace, a run that does not exist)
// is written one record at a time, in the same transaction, as before.

// bulkSizes is how many sizes of each bulk statement there are: the
// powers of two up to 128 rows (batchMax records, and step rows 128 at a
// time). A count of rows is written as a sum of those, largest first: at
// most bulkSizes statements a count, prepared once per journal.
const bulkSizes = 8 // 1, 2, 4, … 128

type bulkKind int

const (
	bulkStart  bulkKind = iota // StartHost rows, RETURNING their ids
	bulkUpdate                 // results over rows the writer made, by id
	bulkSteps                  // step rows
	bulkLatest                 // latest rows
	bulkKinds
)

// bulkQuery is the statement of kind for n rows.
func bulkQuery(kind bulkKind, n int) string {
	switch kind {
	case bulkStart:
		return `WITH v (run_id, host, started_at) AS (VALUES ` + rowList("(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT))", n) + `)
			INSERT INTO host_results (run_id, association, mode, host, status, started_at)
			SELECT r.id, r.association, r.mode, v.host, 'InProgress', v.started_at FROM v JOIN runs r ON r.id = v.run_id WHERE true
			ON CONFLICT (run_id, host) DO NOTHING
			RETURNING id, run_id, host, association, mode`
	case bulkUpdate:
		return `WITH v (id, status, error, detail, def_hash, started_at, ended_at, steps, drifted, corrected, failed, compliant) AS (VALUES ` +
			rowList("(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), "+
				"CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))", n) + `)
			UPDATE host_results SET status = v.status, error = v.error, detail = v.detail, def_hash = v.def_hash,
				started_at = v.started_at, ended_at = v.ended_at, steps = v.steps, drifted = v.drifted,
				corrected = v.corrected, failed = v.failed, compliant = v.compliant
			FROM v WHERE host_results.id = v.id
			RETURNING host_results.id`
	case bulkSteps:
		return insertStepsQuery(n)
	default: // bulkLatest
		return `INSERT INTO latest (association, host, mode, host_result_id, started_at) VALUES ` + rowList("(?, ?, ?, ?, ?)", n) + latestNewer
	}
}

// rowList is n copies of row, comma-separated: the rows of a VALUES list.
func rowList(row string, n int) string { return strings.Repeat(row+", ", n-1) + row }

// bulkStmts are the bulk statements prepared so far: stmt[kind][b] writes
// 1<<b rows. They belong to the writer goroutine.
type bulkStmts struct {
	stmt   [bulkKinds][bulkSizes]*sql.Stmt
	failed bool  // one would not prepare: the bulk path is off
	args   []any // the scratch of a statement's arguments
}

// prepare prepares, outside any transaction, the statements of kind that
// writing at most n rows may need. It reports false if one would not.
func (s *bulkStmts) prepare(ctx context.Context, db *sql.DB, kind bulkKind, n int) bool {
	for b := 0; b < bulkSizes && 1<<b <= n; b++ {
		if s.stmt[kind][b] != nil {
			continue
		}
		st, err := db.PrepareContext(ctx, bulkQuery(kind, 1<<b))
		if err != nil {
			s.failed = true
			return false
		}
		s.stmt[kind][b] = st
	}
	return !s.failed
}

func (s *bulkStmts) close() {
	for _, byKind := range s.stmt {
		for _, st := range byKind {
			if st != nil {
				st.Close()
			}
		}
	}
}

// each calls f for consecutive chunks of n rows, each of a size that has
// a statement (a power of two), largest first, with that statement.
func (s *bulkStmts) each(kind bulkKind, n int, f func(st *sql.Stmt, off, size int) error) error {
	off := 0
	for b := bulkSizes - 1; b >= 0; b-- {
		for size := 1 << b; n-off >= size; off += size {
			if err := f(s.stmt[kind][b], off, size); err != nil {
				return err
			}
		}
	}
	return nil
}

// bulkPlan is how a batch is written: the StartHost records and the
// results over known rows in bulk, the rest one by one (batch indexes,
// in batch order).
type bulkPlan struct {
	starts, rest []int
	updates      []known
}

// oneByOne is what of batch p writes record by record, for the
// statements those need: all of it without a plan.
func (p *bulkPlan) oneByOne(batch []op) []op {
	if p == nil {
		return batch
	}
	ops := make([]op, len(p.rest))
	for n, i := range p.rest {
		ops[n] = batch[i]
	}
	return ops
}

// known is a result over a row the writer made: its record, and the row
// and run it remembers (the row's start as the result sets it).
type known struct {
	i   int
	k   hostKey
	row hostRow
	run runInfo
}

// planBulk plans batch (skip: the records superseded in it), preparing
// the statements it needs. It returns nil when the batch is better
// written one record at a time: a host with two records left in it
// (twice, from superseded), fewer than two records to write in bulk, or
// bulk statements that would not prepare.
func (j *Journal) planBulk(ctx context.Context, batch []op, skip []bool, twice bool) *bulkPlan {
	if twice || j.bulk.failed {
		return nil
	}
	p := &bulkPlan{}
	steps := 0
	for i, o := range batch {
		if skip != nil && skip[i] {
			continue
		}
		if o.kind == opStartHost {
			p.starts = append(p.starts, i)
			continue
		}
		k := hostKey{o.host.RunID, o.host.Host}
		if row, run, ok := j.rows.lookup(k); ok && !row.steps {
			if !o.host.StartedAt.IsZero() {
				row.startedNano = unixNano(o.host.StartedAt)
			}
			p.updates = append(p.updates, known{i, k, row, run})
			steps += len(o.host.Steps)
		} else {
			p.rest = append(p.rest, i)
		}
	}
	if len(p.starts)+len(p.updates) < 2 {
		return nil
	}
	ok := j.bulk.prepare(ctx, j.w, bulkStart, len(p.starts)) &&
		j.bulk.prepare(ctx, j.w, bulkUpdate, len(p.updates)) &&
		j.bulk.prepare(ctx, j.w, bulkSteps, steps) &&
		j.bulk.prepare(ctx, j.w, bulkLatest, len(p.updates))
	if !ok {
		return nil
	}
	return p
}

// writeBulk writes batch in tx as p plans it. A StartHost that inserted
// nothing (the row exists, or the run does not) and a result whose row
// is gone are written one by one after the bulk statements, as the rest.
func (j *Journal) writeBulk(ctx context.Context, tx *sql.Tx, batch []op, p *bulkPlan) error {
	rest, err := j.bulkStarts(ctx, tx, batch, p.starts)
	if err != nil {
		return err
	}
	more, err := j.bulkResults(ctx, tx, batch, p.updates)
	if err != nil {
		return err
	}
	rest = append(append(rest, more...), p.rest...)
	for _, i := range rest {
		if err := j.writeHost(ctx, tx, batch[i]); err != nil {
			return err
		}
	}
	return nil
}

// bulkStarts inserts the StartHost rows of batch[idx] and returns the
// indexes of those it did not insert.
func (j *Journal) bulkStarts(ctx context.Context, tx *sql.Tx, batch []op, idx []int) ([]int, error) {
	type started struct {
		row hostRow
		run runInfo
	}
	made := make(map[hostKey]started, len(idx))
	err := j.bulk.each(bulkStart, len(idx), func(st *sql.Stmt, off, size int) error {
		args := j.bulk.args[:0]
		for _, i := range idx[off : off+size] {
			h := batch[i].host
			args = append(args, h.RunID, h.Host, unixNano(h.StartedAt))
		}
		j.bulk.args = args
		return eachRow(tx.StmtContext(ctx, st).QueryContext(ctx, args...))(func(rs *sql.Rows) error {
			var (
				k hostKey
				s started
			)
			if err := rs.Scan(&s.row.id, &k.run, &k.host, &s.run.assoc, &s.run.mode); err != nil {
				return err
			}
			made[k] = s
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	var rest []int
	for _, i := range idx {
		h := batch[i].host
		k := hostKey{h.RunID, h.Host}
		s, ok := made[k]
		if !ok {
			rest = append(rest, i)
			continue
		}
		s.row.startedNano = unixNano(h.StartedAt)
		j.rows.keep(k, &s.row, s.run)
	}
	return rest, nil
}

// bulkResults writes the results of batch over the rows the writer made
// for them (us), with their steps and latest rows, and returns the
// indexes of those whose row was not there any more.
func (j *Journal) bulkResults(ctx context.Context, tx *sql.Tx, batch []op, us []known) ([]int, error) {
	updated := make(map[int64]bool, len(us))
	err := j.bulk.each(bulkUpdate, len(us), func(st *sql.Stmt, off, size int) error {
		args := j.bulk.args[:0]
		for _, u := range us[off : off+size] {
			h := batch[u.i].host
			sum := summarize(h)
			args = append(args, u.row.id, h.Status, h.Error, h.Detail, h.DefHash, u.row.startedNano, nullTime(h.EndedAt),
				sum.steps, sum.drifted, sum.corrected, sum.failed, sum.compliant)
		}
		j.bulk.args = args
		return eachRow(tx.StmtContext(ctx, st).QueryContext(ctx, args...))(func(rs *sql.Rows) error {
			var id int64
			if err := rs.Scan(&id); err != nil {
				return err
			}
			updated[id] = true
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	var rest []int
	done := us[:0:0]
	for _, u := range us {
		if updated[u.row.id] {
			done = append(done, u)
		} else {
			rest = append(rest, u.i)
		}
	}
	if err := j.bulkStepRows(ctx, tx, batch, done); err != nil {
		return nil, err
	}
	return rest, j.bulkLatestRows(ctx, tx, batch, done)
}

// bulkStepRows inserts the step rows of the results us and stages what
// the writer remembers of each host.
func (j *Journal) bulkStepRows(ctx context.Context, tx *sql.Tx, batch []op, us []known) error {
	type stepAt struct{ u, step int }
	var all []stepAt
	for u := range us {
		for s := range batch[us[u].i].host.Steps {
			all = append(all, stepAt{u, s})
		}
	}
	err := j.bulk.each(bulkSteps, len(all), func(st *sql.Stmt, off, size int) error {
		args := j.bulk.args[:0]
		for _, a := range all[off : off+size] {
			u := &us[a.u]
			args = appendStepArgs(args, u.row.id, u.row.startedNano, &batch[u.i].host.Steps[a.step])
		}
		j.bulk.args = args
		_, err := tx.StmtContext(ctx, st).ExecContext(ctx, args...)
		return err
	})
	if err != nil {
		return err
	}
	for _, u := range us {
		j.rows.recorded(u.k, u.row, u.run, batch[u.i].host)
	}
	return nil
}

// bulkLatestRows makes the finished results us the latest of
// their association × host × mode where they are newer. Two results of
// one association × host × mode in a batch (two runs) leave the newer.
func (j *Journal) bulkLatestRows(ctx context.Context, tx *sql.Tx, batch []op, us []known) error {
	type latestKey struct {
		assoc, host string
		mode        Mode
	}
	type latestRow struct {
		id, started int64
	}
	newest := make(map[latestKey]latestRow, len(us))
	var order []latestKey
	for _, u := range us {
		if !u.run.takesLatest(batch[u.i].host) {
			continue
		}
		k, r := latestKey{u.run.assoc, u.k.host, u.run.mode}, latestRow{u.row.id, u.row.startedNano}
		old, ok := newest[k]
		if !ok {
			order = append(order, k)
		}
		if !ok || r.started > old.started || r.started == old.started && r.id > old.id {
			newest[k] = r
		}
	}
	return j.bulk.each(bulkLatest, len(order), func(st *sql.Stmt, off, size int) error {
		args := j.bulk.args[:0]
		for _, k := range order[off : off+size] {
			r := newest[k]
			args = append(args, k.assoc, k.host, k.mode, r.id, r.started)
		}
		j.bulk.args = args
		_, err := tx.StmtContext(ctx, st).ExecContext(ctx, args...)
		return err
	})
}
