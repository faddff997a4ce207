package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"
)

// ForeignRunAge is how long a run recorded by another machine may stay
// InProgress before RecoverInterrupted takes it for dead, unless it still
// holds an unexpired lease. Its process cannot be asked whether it lives.
const ForeignRunAge = 24 * time.Hour

// RecoverInterrupted finds runs left InProgress by a process that is gone
// (kill -9, power loss) and marks them Interrupted, with their unfinished
// host executions, which keep the steps recorded before the process died
// (RecordProgress) and say how many; it frees their leases. It returns their ids, oldest
// first. A run is gone when it was recorded on this machine and its
// process no longer runs (on Linux a reused pid and a reboot are told
// apart), or, recorded on another machine (or in another pid namespace),
// when its heartbeats stopped (a tick's run renews its leases and says
// it lives until their end), or, without heartbeats, when it started
// more than ForeignRunAge ago and holds no unexpired lease. Call it when
// driftless starts (tick, daemon, apply…) and at each daemon tick; it is
// cheap when there is nothing to do.
func (j *Journal) RecoverInterrupted(ctx context.Context) ([]int64, error) {
	if err := j.beforeQuery(ctx); err != nil {
		return nil, wrap("recover", err)
	}
	type cand struct {
		id, started int64
		aliveUntil  int64 // the end of its last heartbeat's lease, 0 without one
		pid         int
		hostname    string
		token       string
	}
	// Find candidates on the read pool first: most of the time there are
	// none, and then no write lock is taken.
	var cands []cand
	rows, err := j.r.QueryContext(ctx, `
		SELECT id, pid, hostname, proc_token, started_at, alive_until FROM runs
		WHERE status = 'InProgress' ORDER BY id`)
	if err != nil {
		return nil, wrap("recover", err)
	}
	for rows.Next() {
		var c cand
		if err := rows.Scan(&c.id, &c.pid, &c.hostname, &c.token, &c.started, &c.aliveUntil); err != nil {
			rows.Close()
			return nil, wrap("recover", err)
		}
		cands = append(cands, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("recover", err)
	}
	if len(cands) == 0 {
		return nil, nil
	}

	now := time.Now()
	var gone []cand
	for _, c := range cands {
		if c.hostname == j.hostname {
			switch procState(c.pid, c.token) {
			case dead:
				gone = append(gone, c)
				continue
			case alive:
				continue
			default: // the other values need nothing here
			}
			// unknown: judge it like a run of another machine.
		}
		if c.aliveUntil != 0 { // a tick that renews its leases: dead when it stopped
			if c.aliveUntil < unixNano(now) {
				gone = append(gone, c)
			}
			continue
		}
		if c.started > unixNano(now.Add(-ForeignRunAge)) {
			continue
		}
		var live int
		err := j.r.QueryRowContext(ctx, `
			SELECT count(*) FROM leases WHERE holder_run_id = ? AND holder_hostname = ? AND expires_at > ?`,
			c.id, c.hostname, unixNano(now)).Scan(&live)
		if err != nil {
			return nil, wrap("recover", err)
		}
		if live == 0 {
			gone = append(gone, c)
		}
	}

	var ids []int64
	for _, c := range gone {
		marked := false
		err := j.inTx(ctx, func(tx *sql.Tx) error {
			// Under the write lock: the run may have been finished, or
			// recovered by another process, since we looked.
			res, err := tx.ExecContext(ctx, `
				UPDATE runs SET status = 'Interrupted',
					ended_at = (SELECT CASE WHEN max(coalesce(h.ended_at, h.started_at)) > runs.started_at
						THEN max(coalesce(h.ended_at, h.started_at)) ELSE runs.started_at END
						FROM host_results h WHERE h.run_id = ?1)
				WHERE id = ?1 AND status = 'InProgress'`, c.id)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return err
			}
			if _, err := tx.ExecContext(ctx, `
				UPDATE host_results SET status = 'Interrupted',
					error = 'driftless: the process recording this run is gone' || CASE
						WHEN steps = 1 THEN '; 1 step recorded before the process died'
						WHEN steps > 1 THEN '; ' || steps || ' steps recorded before the process died'
						ELSE '' END
				WHERE run_id = ? AND status = 'InProgress'`, c.id); err != nil {
				return err
			}
			if err := refreshLatest(ctx, tx, c.id); err != nil {
				return err
			}
			counts, err := countHosts(ctx, tx, c.id)
			if err != nil {
				return err
			}
			cj, err := json.Marshal(counts)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE runs SET counts = ? WHERE id = ?`, string(cj), c.id); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `
				DELETE FROM leases WHERE holder_run_id = ? AND holder_pid = ? AND holder_hostname = ?`,
				c.id, c.pid, c.hostname)
			marked = err == nil
			return err
		})
		if err != nil {
			return ids, wrap("recover", err)
		}
		if marked {
			ids = append(ids, c.id)
		}
	}
	return ids, nil
}
