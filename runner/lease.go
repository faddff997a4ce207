package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/journal"
)

// leasePoll is the pause between two attempts at a lease another process
// holds.
const leasePoll = 250 * time.Millisecond

// leaseTTL is how long a lease is taken for: past it another process
// may take the host over even if the holder still runs (docs/schedules.md#leases).
func leaseTTL(a *config.Association) time.Duration {
	if a.Timeout > 0 {
		return 2 * a.Timeout
	}
	return 2 * time.Hour
}

// runLeases are the leases a manual apply or check holds on the hosts of
// its run: every host is asked for in one transaction when the run
// starts; a host another process holds is waited for, on its own, for
// up to Options.LeaseWait (docs/safety.md#one-run-per-association-and-host).
type runLeases struct {
	j      *journal.Journal
	holder journal.Holder
	assoc  string
	ttl    time.Duration
	wait   time.Duration
	held   map[string]journal.Holder // hosts someone else held at the start
}

// takeLeases asks for the leases of every host of res. Without a journal
// there is nothing to share and nothing to take.
func (r *Runner) takeLeases(ctx context.Context, a *config.Association, res *RunResult, hosts []string) (*runLeases, error) {
	j := r.opts.Journal
	if j == nil {
		return nil, nil
	}
	l := &runLeases{j: j, holder: j.Self(res.Run.ID), assoc: a.Name, ttl: leaseTTL(a), wait: r.opts.LeaseWait}
	_, held, err := j.AcquireLeases(context.WithoutCancel(ctx), l.holder, a.Name, hosts, l.ttl)
	if err != nil {
		return nil, fmt.Errorf("lease: %w", err)
	}
	l.held = held
	return l, nil
}

// await waits until the lease of host is this run's, for up to the lease
// wait. It returns "" once it holds it, or why the host is skipped.
func (l *runLeases) await(ctx context.Context, host string) string {
	if l == nil {
		return ""
	}
	holder, ok := l.held[host]
	if !ok {
		return ""
	}
	deadline := time.Now().Add(l.wait)
	for {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Sprintf("not started: held by pid %d on %s, run %d", holder.PID, holder.Hostname, holder.RunID)
		}
		t := time.NewTimer(min(leasePoll, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		acquired, held, err := l.j.AcquireLeases(context.WithoutCancel(ctx), l.holder, l.assoc, []string{host}, l.ttl)
		if err != nil {
			return fmt.Sprintf("not started: lease: %v", err)
		}
		if len(acquired) == 1 {
			return ""
		}
		if h, ok := held[host]; ok {
			holder = h
		}
	}
}

// release gives back every lease the run holds: the holder names the
// run, so no list of hosts is needed (a delete by holder, where a list
// of thousands of hosts would be parsed and matched first).
func (l *runLeases) release(ctx context.Context) error {
	if l == nil {
		return nil
	}
	if err := l.j.ReleaseLeases(context.WithoutCancel(ctx), l.holder, l.assoc, nil); err != nil {
		return fmt.Errorf("release leases: %w", err)
	}
	return nil
}
