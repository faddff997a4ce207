package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"time"
	"unicode/utf8"
)

// Leases make sure two driftless processes sharing a journal never run the
// same association on the same host at once (docs/schedules.md#leases). A lease names its
// holder and expires at a time the holder pushes back with RenewLeases. A
// lease is free when it has expired, or when its holder ran on this machine
// and its process is gone (kill -9, power loss): a crashed run does not
// block the hosts it held until expiry.

// Self returns the Holder for the current process doing run runID.
func (j *Journal) Self(runID int64) Holder {
	return Holder{PID: os.Getpid(), Hostname: j.hostname, RunID: runID, Node: j.node}
}

// AcquireLeases takes, for holder, the leases of association assoc on each
// of hosts that nobody else holds, for ttl, in one transaction: of two
// processes asking at once, one sees the other's leases. It returns the
// hosts acquired (in the order given; a lease holder already has is
// renewed and counts as acquired) and, for every other host, who holds it.
// A zero PID or empty Hostname in holder means the current process.
func (j *Journal) AcquireLeases(ctx context.Context, holder Holder, assoc string, hosts []string, ttl time.Duration) (acquired []string, held map[string]Holder, err error) {
	holder = j.fill(holder)
	if assoc == "" || ttl <= 0 {
		return nil, nil, fmt.Errorf("journal: acquire leases: %w: association %q, ttl %v", ErrInvalid, assoc, ttl)
	}
	if err := j.live(); err != nil {
		return nil, nil, fmt.Errorf("journal: acquire leases: %w", err)
	}
	hosts = dedupe(hosts)
	if len(hosts) == 0 {
		return nil, map[string]Holder{}, nil
	}
	list, err := json.Marshal(hosts)
	if err != nil {
		return nil, nil, fmt.Errorf("journal: acquire leases: %w", err)
	}
	token := procToken(holder.PID)
	held = make(map[string]Holder)
	err = j.inTx(ctx, func(tx *sql.Tx) error {
		if err := j.d.lockAssociation(ctx, tx, assoc); err != nil {
			return err
		}
		now := time.Now()
		leases, err := readLeases(ctx, tx, assoc, string(list))
		if err != nil {
			return err
		}
		for host, l := range leases {
			if !j.takeable(l, holder, now) {
				held[host] = l.h
			}
		}

		acquired = acquired[:0]
		for _, host := range hosts {
			if _, ok := held[host]; !ok {
				acquired = append(acquired, host)
			}
		}
		if len(acquired) == 0 {
			return nil
		}
		if !allUTF8(acquired) {
			// JSON would change such a name: one row at a time.
			return insertLeases(ctx, tx, leaseUpsert+` VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`+leaseConflict,
				assoc, acquired, holder, token, now, ttl)
		}
		free := list
		if len(acquired) < len(hosts) {
			if free, err = json.Marshal(acquired); err != nil {
				return err
			}
		}
		// One statement for every host (WHERE true: an INSERT … SELECT
		// with an upsert clause needs one, so that ON is not read as a
		// join's).
		_, err = tx.ExecContext(ctx, leaseUpsert+` SELECT ?1, value, ?3, ?4, ?5, ?6, ?7, ?8, ?9 FROM json_each(?2) WHERE true`+leaseConflict,
			assoc, string(free), holder.PID, holder.Hostname, holder.RunID,
			token, unixNano(now), unixNano(now.Add(ttl)), holder.Node)
		return err
	})
	if err != nil {
		return nil, nil, wrap("acquire leases", err)
	}
	return acquired, held, nil
}

// leaseUpsert and leaseConflict frame the rows AcquireLeases writes: a
// lease its holder already had keeps its acquired_at.
const (
	leaseUpsert = `
		INSERT INTO leases (association, host, holder_pid, holder_hostname, holder_run_id,
			holder_token, acquired_at, expires_at, holder_node)`
	leaseConflict = `
		ON CONFLICT (association, host) DO UPDATE SET
			holder_pid = excluded.holder_pid, holder_hostname = excluded.holder_hostname,
			holder_run_id = excluded.holder_run_id, holder_token = excluded.holder_token,
			holder_node = excluded.holder_node,
			acquired_at = CASE WHEN (leases.holder_pid, leases.holder_hostname, leases.holder_run_id)
				= (excluded.holder_pid, excluded.holder_hostname, excluded.holder_run_id)
				THEN leases.acquired_at ELSE excluded.acquired_at END,
			expires_at = excluded.expires_at`
)

// insertLeases writes the lease rows of hosts one by one with query.
func insertLeases(ctx context.Context, tx *sql.Tx, query, assoc string, hosts []string, holder Holder, token string, now time.Time, ttl time.Duration) error {
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, host := range hosts {
		if _, err := st.ExecContext(ctx, assoc, host, holder.PID, holder.Hostname, holder.RunID,
			token, unixNano(now), unixNano(now.Add(ttl)), holder.Node); err != nil {
			return err
		}
	}
	return nil
}

func allUTF8(ss []string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// RenewLeases pushes back to now+ttl the expiry of holder's leases of
// assoc on hosts (every lease holder has on assoc if hosts is empty). It
// returns the hosts whose lease holder no longer has: it expired and
// another process took it over. A long run renews well before ttl passes.
func (j *Journal) RenewLeases(ctx context.Context, holder Holder, assoc string, hosts []string, ttl time.Duration) (lost []string, err error) {
	holder = j.fill(holder)
	if assoc == "" || ttl <= 0 {
		return nil, fmt.Errorf("journal: renew leases: %w: association %q, ttl %v", ErrInvalid, assoc, ttl)
	}
	if err := j.live(); err != nil {
		return nil, fmt.Errorf("journal: renew leases: %w", err)
	}
	hosts = dedupe(hosts)
	err = j.inTx(ctx, func(tx *sql.Tx) error {
		if err := j.d.lockAssociation(ctx, tx, assoc); err != nil {
			return err
		}
		expires := unixNano(time.Now().Add(ttl))
		if holder.RunID != 0 { // the run lives (RecoverInterrupted)
			if _, err := tx.ExecContext(ctx, `UPDATE runs SET alive_until = ? WHERE id = ?`, expires, holder.RunID); err != nil {
				return err
			}
		}
		if len(hosts) == 0 { // every lease still held: not those released (0)
			_, err := tx.ExecContext(ctx, `
				UPDATE leases SET expires_at = ?
				WHERE association = ? AND holder_pid = ? AND holder_hostname = ? AND holder_run_id = ? AND expires_at != 0`,
				expires, assoc, holder.PID, holder.Hostname, holder.RunID)
			return err
		}
		st, err := tx.PrepareContext(ctx, `
			UPDATE leases SET expires_at = ?
			WHERE association = ? AND host = ? AND holder_pid = ? AND holder_hostname = ? AND holder_run_id = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		lost = lost[:0]
		for _, host := range hosts {
			res, err := st.ExecContext(ctx, expires, assoc, host, holder.PID, holder.Hostname, holder.RunID)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				lost = append(lost, host)
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap("renew leases", err)
	}
	return lost, nil
}

// ReleaseLeases gives up holder's leases of assoc on hosts (every lease
// holder has on assoc if hosts is empty). Leases that another holder has
// meanwhile taken over are left alone, so releasing what one asked for is
// always safe.
func (j *Journal) ReleaseLeases(ctx context.Context, holder Holder, assoc string, hosts []string) error {
	holder = j.fill(holder)
	if err := j.live(); err != nil {
		return fmt.Errorf("journal: release leases: %w", err)
	}
	hosts = dedupe(hosts)
	err := j.inTx(ctx, func(tx *sql.Tx) error {
		if err := j.d.lockAssociation(ctx, tx, assoc); err != nil {
			return err
		}
		if len(hosts) == 0 {
			_, err := tx.ExecContext(ctx, `
				DELETE FROM leases
				WHERE association = ? AND holder_pid = ? AND holder_hostname = ? AND holder_run_id = ?`,
				assoc, holder.PID, holder.Hostname, holder.RunID)
			return err
		}
		list, err := json.Marshal(hosts)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
			DELETE FROM leases
			WHERE association = ? AND host IN (SELECT value FROM json_each(?))
				AND holder_pid = ? AND holder_hostname = ? AND holder_run_id = ?`,
			assoc, string(list), holder.PID, holder.Hostname, holder.RunID)
		return err
	})
	return wrap("release leases", err)
}

// leaseRow is a lease as the journal holds it.
type leaseRow struct {
	h       Holder
	token   string
	expires int64
	roundAt int64  // the round it was claimed for (claims), 0 otherwise
	defHash string // the association's definition it was claimed with
}

// readLeases reads assoc's leases of the hosts in list (a JSON array), by
// host.
func readLeases(ctx context.Context, tx *sql.Tx, assoc, list string) (map[string]leaseRow, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT host, holder_pid, holder_hostname, holder_run_id, holder_node, holder_token, expires_at, round_at, def_hash
		FROM leases WHERE association = ? AND host IN (SELECT value FROM json_each(?))`, assoc, list)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]leaseRow)
	for rows.Next() {
		var host string
		var l leaseRow
		if err := rows.Scan(&host, &l.h.PID, &l.h.Hostname, &l.h.RunID, &l.h.Node, &l.token, &l.expires, &l.roundAt, &l.defHash); err != nil {
			return nil, err
		}
		out[host] = l
	}
	return out, rows.Err()
}

// takeable reports whether holder may take lease l: it holds it already,
// or l is free.
func (j *Journal) takeable(l leaseRow, holder Holder, now time.Time) bool {
	return l.h.same(holder) || j.leaseFree(l.h, l.token, l.expires, now)
}

// leaseFree reports whether a lease held by h may be taken over.
func (j *Journal) leaseFree(h Holder, token string, expires int64, now time.Time) bool {
	if expires <= unixNano(now) {
		return true
	}
	return h.Hostname == j.hostname && procState(h.PID, token) == dead
}

func (j *Journal) fill(h Holder) Holder {
	if h.PID == 0 {
		h.PID = os.Getpid()
	}
	if h.Node == "" && (h.Hostname == "" || h.Hostname == j.hostname) {
		h.Node = j.node
	} else if h.Node == "" {
		h.Node = h.Hostname // another machine's default
	}
	if h.Hostname == "" {
		h.Hostname = j.hostname
	}
	return h
}

// dedupe drops empty and repeated names, keeping the first order.
func dedupe(hosts []string) []string {
	seen := make(map[string]bool, len(hosts))
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		out = append(out, h)
	}
	return out
}
