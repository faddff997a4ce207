package runner

import (
	"context"
	"fmt"
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

// Tick runs whatever is due at now, sharing it with the other nodes on
// the journal: it claims each association × host before running it
// (claim.go), so that two processes never run the same association on
// the same host at once, and each due host runs once in the minute.
func (r *Runner) Tick(ctx context.Context, now time.Time) (*TickResult, error) {
	j := r.opts.Journal
	if j == nil {
		return nil, fmt.Errorf("tick: a journal is needed")
	}
	res := &TickResult{}
	// Say this node is alive, so that the others share the work with it.
	if err := j.SeeNode(context.WithoutCancel(ctx), r.opts.Sites); err != nil {
		return res, fmt.Errorf("tick: %w", err)
	}
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
			rr, err := r.Run(ctx, Job{Assoc: d.Assoc, Hosts: hosts, Trigger: journal.Trigger(reason), Round: now})
			if rr != nil {
				res.Held = append(res.Held, rr.Held...)
				if rr.Run.ID == 0 { // every host was another node's
					rr = nil
				}
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
