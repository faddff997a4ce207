package runner

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/schedule"
)

// Held is a host that another driftless process is running for an
// association: this tick left it alone.
type Held struct {
	Association string
	Host        string
	Holder      journal.Holder
}

// TickResult is what one tick did.
type TickResult struct {
	Runs []*RunResult
	Held []Held
}

// Due is an association's state on its hosts, for tick and schedule.
type Due struct {
	Assoc     *config.Association
	Hosts     map[schedule.Reason][]*inventory.Host // due now, by reason
	LastStart time.Time                             // latest start on any host, in the association's mode
	LastRun   int64
	LastState journal.Status // host status of that latest execution
	Next      time.Time
}

// Plan works out, for each association, which hosts are due at now and
// why (docs/schedules.md), and when it next fires. It records when driftless first
// saw each association.
func Plan(ctx context.Context, cfg *config.Config, j *journal.Journal, now time.Time) ([]Due, error) {
	var out []Due
	for _, a := range cfg.Associations {
		d, err := planOne(ctx, a, j, now)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func planOne(ctx context.Context, a *config.Association, j *journal.Journal, now time.Time) (Due, error) {
	{
		// A --now ahead of the clock (schedule --now, tick --force) must
		// not record a first sighting in the future.
		first, err := j.FirstSeen(ctx, a.Name, earliest(now, time.Now()))
		if err != nil {
			return Due{}, err
		}
		// Only runs in the association's own mode count: a manual check
		// of an apply association does not reset its clock.
		mode := journal.Mode(a.Mode)
		last, err := j.LastRuns(ctx, a.Name, mode)
		if err != nil {
			return Due{}, err
		}
		d := Due{Assoc: a, Hosts: map[schedule.Reason][]*inventory.Host{}}
		in := schedule.Input{CronOnly: a.ApplyOnlyAtCron, Hash: a.Hash, FirstSeen: first, Now: now}
		if a.Sched != nil {
			in.Schedule = a.Sched
		}
		for _, h := range a.Hosts {
			lr, ran := last[h.Name]
			if ran && lr.StartedAt.After(d.LastStart) {
				d.LastStart, d.LastRun, d.LastState = lr.StartedAt, lr.RunID, lr.Status
			}
			// A run cut off by a signal or a kill does not count: the
			// schedule counts from the last one that ended.
			if ran && journal.Unfinished(lr.Status) {
				if lr, ran, err = j.LastFinished(ctx, a.Name, h.Name, mode); err != nil {
					return Due{}, err
				}
			}
			hs := schedule.HostState{Ran: ran, LastStart: lr.StartedAt, LastHash: lr.DefHash}
			if reason, due := schedule.Due(in, hs); due {
				d.Hosts[reason] = append(d.Hosts[reason], h)
			}
			if next := schedule.NextFire(in, hs); !next.IsZero() && (d.Next.IsZero() || next.Before(d.Next)) {
				d.Next = next
			}
		}
		return d, nil
	}
}

// earliest is the earlier of a and b.
func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// stillDue keeps the hosts that are still due now that the leases are
// held: another process may have run them between the plan and the
// lease.
func stillDue(ctx context.Context, a *config.Association, j *journal.Journal, now time.Time, names []string) ([]string, error) {
	d, err := planOne(ctx, a, j, now)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, hosts := range d.Hosts {
		for _, h := range hosts {
			if slices.Contains(names, h.Name) {
				out = append(out, h.Name)
			}
		}
	}
	return out, nil
}

// Tick runs whatever is due at now, holding a lease in the journal on each
// association × host it runs, so that two processes never run the same
// association on the same host at once.
func (r *Runner) Tick(ctx context.Context, now time.Time) (*TickResult, error) {
	j := r.opts.Journal
	if j == nil {
		return nil, fmt.Errorf("tick: a journal is needed")
	}
	res := &TickResult{}
	holder := j.Self(0)
	var plans []Due
	for _, a := range r.opts.Config.Associations {
		d, err := planOne(ctx, a, j, now)
		if err != nil {
			return res, fmt.Errorf("tick: %w", err)
		}
		plans = append(plans, d)
		for _, hosts := range d.Hosts {
			r.Expect(hosts)
		}
	}
	for _, d := range plans {
		for _, reason := range []schedule.Reason{schedule.ReasonChange, schedule.ReasonNewTarget, schedule.ReasonSchedule} {
			hosts := d.Hosts[reason]
			if len(hosts) == 0 || ctx.Err() != nil {
				continue
			}
			names := make([]string, len(hosts))
			for i, h := range hosts {
				names[i] = h.Name
			}
			acquired, held, err := j.AcquireLeases(context.WithoutCancel(ctx), holder, d.Assoc.Name, names, leaseTTL(d.Assoc))
			if err != nil {
				return res, fmt.Errorf("tick: lease: %w", err)
			}
			for _, n := range names {
				if h, ok := held[n]; ok {
					res.Held = append(res.Held, Held{Association: d.Assoc.Name, Host: n, Holder: h})
				}
			}
			if len(acquired) > 0 {
				due, err := stillDue(ctx, d.Assoc, j, now, acquired)
				if err != nil {
					return res, fmt.Errorf("tick: %w", err)
				}
				var done []string
				for _, n := range acquired {
					if !slices.Contains(due, n) {
						done = append(done, n)
					}
				}
				if len(done) > 0 {
					j.ReleaseLeases(context.WithoutCancel(ctx), holder, d.Assoc.Name, done)
				}
				acquired = due
			}
			if len(acquired) == 0 {
				continue
			}
			run := slices.DeleteFunc(slices.Clone(hosts), func(h *inventory.Host) bool { return !slices.Contains(acquired, h.Name) })
			rr, err := r.Run(ctx, Job{Assoc: d.Assoc, Hosts: run, Trigger: journal.Trigger(reason), Leased: true})
			if rerr := j.ReleaseLeases(context.WithoutCancel(ctx), holder, d.Assoc.Name, acquired); rerr != nil && err == nil {
				err = fmt.Errorf("tick: release leases: %w", rerr)
			}
			if rr != nil {
				res.Runs = append(res.Runs, rr)
			}
			if err != nil {
				return res, err
			}
		}
	}
	return res, nil
}
