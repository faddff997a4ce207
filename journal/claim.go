package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"
)

// Claims spread a tick's due hosts over every node (driftless process) that
// shares the journal (docs/journal.md#several-nodes). Each node offers the
// hosts it found due, a few at a time, as it has room to run them; one
// transaction per claim, serialised per association (SQLite's write lock;
// an advisory lock on PostgreSQL), sees every node's leases and:
//
//   - takes a host only if nobody claimed it for this round (the tick's
//     instant) or a later one, and nobody holds it: each due execution
//     runs once;
//   - takes no more than the association's max_concurrency minus the
//     hosts running on every node (live leases), and none once this node
//     has its share of the round and hosts still running: work spreads;
//   - once more hosts failed in the round, on every node, than max_errors
//     tolerates, hands the hosts it takes back to be recorded Skipped.
//
// The hosts a node finished are released in its next claim (or Release),
// with whether they failed.

// ClaimRequest is one claim of a node for association Association.
type ClaimRequest struct {
	Association string
	// Round is the instant of the tick the hosts are due at: a host
	// claimed for it, or a later one, with the same definition (DefHash,
	// the association's content hash), is not claimed again.
	Round   time.Time
	DefHash string
	// Offer is the next due hosts this node has not offered yet, in
	// order; the claim examines them from the first and stops when it
	// has taken Want.
	Offer []string
	// Want is the most hosts to take now (this node's free room).
	Want int
	// FleetLimit is the association's max_concurrency over every node (0:
	// none); Tolerated the failures max_errors tolerates (< 0: any).
	FleetLimit, Tolerated int
	// Share is how many hosts of the round this node takes while it
	// still runs some: the round's hosts divided among the nodes that
	// run them. 0 is no limit.
	Share int
	// Due, when not 0, has the claim work Share out itself, at each
	// claim: Due (the round's due hosts) divided by the nodes seen in the
	// last two TTLs that run Sites (every site when empty) — so that
	// nodes that started together share even their first round.
	Due   int
	Sites []string
	// TTL is the leases' time to live; the holder renews them
	// (RenewLeases) while the hosts run.
	TTL time.Duration
	// Ended are hosts of the holder that ended since its last claim: their
	// leases are released, their failures counted.
	Ended []Ended
}

// Ended is a host a holder has finished with.
type Ended struct {
	Host   string
	Failed bool
}

// ClaimResult is what a claim took.
type ClaimResult struct {
	// Run are the hosts taken, to run; Skip the hosts taken to be
	// recorded Skipped because max_errors is exceeded.
	Run, Skip []string
	// Examined is how many hosts of the offer the claim looked at: the
	// others are to be offered again. Of those examined and not taken,
	// Held are held by another holder (a run of an earlier round still
	// going), the others were claimed for this round by another node.
	Examined int
	Held     map[string]Holder
	// Running and Failed are the association's hosts running on every
	// node and those that failed in the round, before the claim.
	Running, Failed int
	// Full says the claim took nothing because the fleet runs
	// FleetLimit hosts or this node has its share: ask again when a host
	// ended.
	Full bool
}

// Claim takes hosts for holder as req says (see above).
func (j *Journal) Claim(ctx context.Context, holder Holder, req ClaimRequest) (ClaimResult, error) {
	holder = j.fill(holder)
	var res ClaimResult
	if req.Association == "" || req.TTL <= 0 || req.Round.IsZero() {
		return res, fmt.Errorf("journal: claim: %w: association %q, ttl %v, round %v", ErrInvalid, req.Association, req.TTL, req.Round)
	}
	if err := j.live(); err != nil {
		return res, fmt.Errorf("journal: claim: %w", err)
	}
	err := j.inTx(ctx, func(tx *sql.Tx) error {
		res = ClaimResult{}
		if err := j.d.lockAssociation(ctx, tx, req.Association); err != nil {
			return err
		}
		if err := endLeases(ctx, tx, holder, req.Association, req.Ended); err != nil {
			return err
		}
		return j.claimTx(ctx, tx, holder, req, &res)
	})
	if err != nil {
		return ClaimResult{}, wrap("claim", j.unreachable(err))
	}
	return res, nil
}

// Release releases the leases of hosts holder ended, counting their
// failures in the round they were claimed for.
func (j *Journal) Release(ctx context.Context, holder Holder, assoc string, ended []Ended) error {
	holder = j.fill(holder)
	if err := j.live(); err != nil {
		return fmt.Errorf("journal: release: %w", err)
	}
	if len(ended) == 0 {
		return nil
	}
	err := j.inTx(ctx, func(tx *sql.Tx) error {
		if err := j.d.lockAssociation(ctx, tx, assoc); err != nil {
			return err
		}
		return endLeases(ctx, tx, holder, assoc, ended)
	})
	return wrap("release", j.unreachable(err))
}

// endLeases makes holder's leases of the ended hosts free (expired now),
// keeping the round they were claimed for and whether the host failed, in
// one statement.
func endLeases(ctx context.Context, tx *sql.Tx, holder Holder, assoc string, ended []Ended) error {
	if len(ended) == 0 {
		return nil
	}
	all, failed := make([]string, len(ended)), []string{}
	for i, e := range ended {
		all[i] = e.Host
		if e.Failed {
			failed = append(failed, e.Host)
		}
	}
	allList, err := json.Marshal(all)
	if err != nil {
		return err
	}
	failedList, err := json.Marshal(failed)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `
		UPDATE leases SET expires_at = 0,
			failed = CASE WHEN host IN (SELECT value FROM json_each(?3)) THEN 1 ELSE 0 END
		WHERE association = ?1 AND host IN (SELECT value FROM json_each(?2))
			AND holder_pid = ?4 AND holder_hostname = ?5 AND holder_run_id = ?6`,
		assoc, string(allList), string(failedList), holder.PID, holder.Hostname, holder.RunID)
	return err
}

// claimTx is Claim's work under the association's lock.
func (j *Journal) claimTx(ctx context.Context, tx *sql.Tx, holder Holder, req ClaimRequest, res *ClaimResult) error {
	now := time.Now()
	round := unixNano(req.Round)
	// The run lives at least as long as the leases it claims: a node that
	// dies before its first heartbeat is recovered Interrupted once they
	// expire, not after ForeignRunAge (RecoverInterrupted).
	if holder.RunID != 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET alive_until = ?1 WHERE id = ?2 AND alive_until < ?1`,
			unixNano(now.Add(req.TTL)), holder.RunID); err != nil {
			return err
		}
	}
	// The nodes seen in the last two TTLs come with the counts: a node
	// that runs every site shares with all of them (share reads their
	// sites otherwise).
	var mine, mineRunning, seen int
	err := tx.QueryRowContext(ctx, `
		SELECT count(CASE WHEN expires_at > ?2 THEN 1 END),
			count(CASE WHEN round_at = ?3 AND failed = 1 THEN 1 END),
			count(CASE WHEN round_at = ?3 AND holder_node = ?4 THEN 1 END),
			count(CASE WHEN expires_at > ?2 AND holder_pid = ?5 AND holder_hostname = ?6 AND holder_run_id = ?7 THEN 1 END),
			(SELECT count(*) FROM nodes WHERE seen_at >= ?8)
		FROM leases WHERE association = ?1`,
		req.Association, unixNano(now), round, holder.Node, holder.PID, holder.Hostname, holder.RunID,
		unixNano(now.Add(-2*req.TTL))).
		Scan(&res.Running, &res.Failed, &mine, &mineRunning, &seen)
	if err != nil {
		return err
	}
	switch {
	case req.Due == 0:
	case len(req.Sites) == 0:
		req.Share = shareOf(req.Due, seen)
	default:
		if req.Share, err = j.share(ctx, tx, req, now); err != nil {
			return err
		}
	}
	want := req.Want
	if req.FleetLimit > 0 {
		want = min(want, req.FleetLimit-res.Running)
	}
	if req.Share > 0 {
		if mine < req.Share {
			want = min(want, req.Share-mine)
		} else if mineRunning > 0 {
			want = 0 // its share taken and not done: leave the rest to others
		} // its share done: help with what is left
	}
	if want <= 0 {
		res.Full = true
		return nil
	}
	skip := req.Tolerated >= 0 && res.Failed > req.Tolerated
	taken, err := j.examine(ctx, tx, holder, req, want, now, res)
	if err != nil || len(taken) == 0 {
		return err
	}
	expires := unixNano(now.Add(req.TTL))
	if skip {
		res.Skip, expires = taken, 0 // recorded at once, never held
	} else {
		res.Run = taken
	}
	list, err := json.Marshal(taken)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO leases (association, host, holder_pid, holder_hostname, holder_run_id,
			holder_token, acquired_at, expires_at, holder_node, round_at, failed, def_hash)
		SELECT ?1, value, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0, ?11 FROM json_each(?2) WHERE true`+leaseConflict+`,
			round_at = excluded.round_at, failed = 0, def_hash = excluded.def_hash`,
		req.Association, string(list), holder.PID, holder.Hostname, holder.RunID,
		procToken(holder.PID), unixNano(now), expires, holder.Node, round, req.DefHash)
	return err
}

// examine reads the leases of the offered hosts, in order, until want
// are free, and returns those.
func (j *Journal) examine(ctx context.Context, tx *sql.Tx, holder Holder, req ClaimRequest, want int, now time.Time, res *ClaimResult) ([]string, error) {
	// Offers come a window at a time: read the window's leases at once.
	window := req.Offer[:min(len(req.Offer), max(4*want, 32))]
	list, err := json.Marshal(window)
	if err != nil {
		return nil, err
	}
	leases, err := readLeases(ctx, tx, req.Association, string(list))
	if err != nil {
		return nil, err
	}
	var taken []string
	round := unixNano(req.Round)
	for _, host := range window {
		if len(taken) == want {
			break
		}
		res.Examined++
		l, ok := leases[host]
		switch {
		case !ok:
			taken = append(taken, host)
		case l.roundAt >= round && l.defHash == req.DefHash:
			// Claimed for this round already, by us or another node.
		case j.takeable(l, holder, now):
			taken = append(taken, host)
		default:
			if res.Held == nil {
				res.Held = map[string]Holder{}
			}
			res.Held[host] = l.h
		}
	}
	return taken, nil
}

// SeeNode records that this process's node is alive and runs sites
// (every site when empty): the nodes a claim shares a round with.
func (j *Journal) SeeNode(ctx context.Context, sites []string) error {
	if err := j.live(); err != nil {
		return fmt.Errorf("journal: see node: %w", err)
	}
	if sites == nil {
		sites = []string{}
	}
	list, err := json.Marshal(sites)
	if err != nil {
		return fmt.Errorf("journal: see node: %w", err)
	}
	err = j.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO nodes (node, hostname, pid, sites, seen_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (node) DO UPDATE SET hostname = excluded.hostname, pid = excluded.pid,
				sites = excluded.sites, seen_at = excluded.seen_at`,
			j.node, j.hostname, os.Getpid(), string(list), unixNano(time.Now()))
		return err
	})
	return wrap("see node", err)
}

// DiscardRun deletes run id if no host execution was recorded in it: a
// tick's run that claimed no host (every one was another node's) leaves
// no trace.
func (j *Journal) DiscardRun(ctx context.Context, id int64) error {
	if err := j.Flush(ctx); err != nil {
		return err
	}
	err := j.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			DELETE FROM runs WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM host_results WHERE run_id = ?1)`, id)
		return err
	})
	return wrap(fmt.Sprintf("discard run %d", id), err)
}

// share is req.Due divided among the nodes seen in the last two TTLs that
// run the same hosts (their sites meet req.Sites, or they run every
// site), for a node that runs some sites; 0 (no limit) when this node is
// alone. A node wrong about the others only runs more or fewer hosts:
// each still runs once.
func (j *Journal) share(ctx context.Context, tx *sql.Tx, req ClaimRequest, now time.Time) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT sites FROM nodes WHERE seen_at >= ?`, unixNano(now.Add(-2*req.TTL)))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	sharing := 0
	for rows.Next() {
		var list string
		var sites []string
		if err := rows.Scan(&list); err != nil {
			return 0, err
		}
		if err := json.Unmarshal([]byte(list), &sites); err != nil {
			return 0, err
		}
		if len(sites) == 0 || slices.ContainsFunc(sites, func(s string) bool { return slices.Contains(req.Sites, s) }) {
			sharing++
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	return shareOf(req.Due, sharing), nil
}

// shareOf is due hosts divided among sharing nodes, rounded up; 0 (no
// limit) for a node alone.
func shareOf(due, sharing int) int {
	if sharing < 2 {
		return 0
	}
	return (due + sharing - 1) / sharing
}
