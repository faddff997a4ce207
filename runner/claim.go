package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/journal"
)

// A tick shares its due hosts with every other node on the journal
// (docs/journal.md#several-nodes): it claims them a few at a time, as it
// has room to run them (journal.Claim), renews the leases of the hosts it
// runs while they run, and releases each with its result.

const (
	// DefaultLeaseTTL is how long a tick's lease lives without a renewal:
	// a node that died leaves its hosts to the others after it.
	DefaultLeaseTTL = time.Minute
	// claimBatch is the most hosts one claim takes beyond the one a free
	// slot asks for.
	claimBatch = 8
	// claimPoll is the pause before asking again when the fleet runs
	// max_concurrency hosts, or this node has its share.
	claimPoll = 250 * time.Millisecond
)

// ErrLeasesLost: a tick could not renew its leases for a whole TTL (the
// journal unreachable), so other nodes may run its hosts: it cancelled
// them.
var ErrLeasesLost = errors.New("leases lost")

// runClaimed is Run for a tick's job (Job.Round set): the hosts it runs
// are those it claims. A run that claimed no host is not kept in the
// journal: res.Run.ID is then 0.
func (r *Runner) runClaimed(ctx context.Context, job Job, res *RunResult, hosts []*inventory.Host, mode journal.Mode, limit, tolerated int, maxErr config.Rate) (*RunResult, error) {
	a := job.Assoc
	c := r.newClaimer(a, hosts, job.Round, limit, tolerated, res.Run.ID)
	hctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go c.heartbeat(hctx, cancel)
	cerr := r.fanOutClaimed(hctx, a, mode, res, c, limit, maxErr)
	for _, n := range c.hosts { // in target order
		if h, ok := c.held[n]; ok {
			res.Held = append(res.Held, Held{Association: a.Name, Host: n, Holder: h})
		}
	}
	if cerr != nil {
		cerr = fmt.Errorf("claim: %w", cerr)
	}
	if len(res.Hosts) == 0 {
		cancel(nil)
		if err := r.opts.Journal.DiscardRun(context.WithoutCancel(ctx), res.Run.ID); err != nil {
			return res, errors.Join(cerr, fmt.Errorf("journal: %w", err))
		}
		res.Run.ID = 0
		return res, cerr
	}
	err := r.finishRun(hctx, res)
	c.flush(hctx) // what could not be released while the journal was unreachable
	return res, errors.Join(err, cerr)
}

// claimer hands a run its hosts as the journal grants them.
type claimer struct {
	j       *journal.Journal
	holder  journal.Holder
	req     journal.ClaimRequest
	byName  map[string]*inventory.Host
	hosts   []string // in target order
	offer   []string // not examined yet
	stopped bool     // the leases could not be renewed: claim no more

	mu      sync.Mutex
	granted []granted // claimed, not handed out yet
	ended   []journal.Ended
	held    map[string]journal.Holder
}

type granted struct {
	h    *inventory.Host
	skip bool // max_errors is exceeded over the fleet: record it Skipped
}

// newClaimer offers hosts of association a, due at round, for run runID.
func (r *Runner) newClaimer(a *config.Association, hosts []*inventory.Host, round time.Time, limit, tolerated int, runID int64) *claimer {
	j := r.opts.Journal
	c := &claimer{j: j, holder: j.Self(runID), byName: make(map[string]*inventory.Host, len(hosts)),
		held: map[string]journal.Holder{}}
	for _, h := range hosts {
		c.byName[h.Name] = h
		c.hosts = append(c.hosts, h.Name)
	}
	c.offer = c.hosts
	c.req = journal.ClaimRequest{Association: a.Name, Round: round.Truncate(time.Minute), DefHash: a.Hash, FleetLimit: limit,
		Tolerated: tolerated, TTL: r.leaseTTL(), Due: len(hosts), Sites: r.opts.Sites}
	return c
}

func (r *Runner) leaseTTL() time.Duration {
	if r.opts.LeaseTTL > 0 {
		return r.opts.LeaseTTL
	}
	return DefaultLeaseTTL
}

// next returns the next host to run, waiting while the fleet is full;
// ok is false once every host was offered.
func (c *claimer) next(ctx context.Context, room int) (g granted, ok bool, err error) {
	for {
		c.mu.Lock()
		if len(c.granted) > 0 {
			g, c.granted = c.granted[0], c.granted[1:]
			c.mu.Unlock()
			return g, true, nil
		}
		if len(c.offer) == 0 || c.stopped {
			c.mu.Unlock()
			return granted{}, false, nil
		}
		req := c.req
		req.Offer, req.Want, req.Ended = c.offer, min(room, claimBatch), c.ended
		c.ended = nil
		c.mu.Unlock()

		res, err := c.j.Claim(context.WithoutCancel(ctx), c.holder, req)
		c.mu.Lock()
		if err != nil {
			c.ended = append(c.ended, req.Ended...)
			if journal.Unavailable(err) {
				// As when the leases cannot be renewed: start nothing
				// more; what is left is due at the next tick.
				c.stopped = true
				c.mu.Unlock()
				slog.Warn("journal unreachable: no more hosts started this tick", "association", c.req.Association, "error", err)
				return granted{}, false, nil
			}
			c.mu.Unlock()
			return granted{}, false, err
		}
		c.offer = c.offer[res.Examined:]
		for _, n := range res.Run {
			c.granted = append(c.granted, granted{h: c.byName[n]})
		}
		for _, n := range res.Skip {
			c.granted = append(c.granted, granted{h: c.byName[n], skip: true})
		}
		for n, h := range res.Held {
			c.held[n] = h
		}
		full := res.Full
		c.mu.Unlock()
		if full {
			t := time.NewTimer(claimPoll)
			select {
			case <-ctx.Done():
				t.Stop()
				return granted{}, false, nil
			case <-t.C:
			}
		}
	}
}

// end releases host at the next claim, or now when nothing is left to
// claim.
func (c *claimer) end(ctx context.Context, host string, failed bool) {
	c.mu.Lock()
	c.ended = append(c.ended, journal.Ended{Host: host, Failed: failed})
	last := len(c.offer) == 0 || c.stopped
	c.mu.Unlock()
	if last {
		c.flush(ctx)
	}
}

// flush releases the hosts that ended.
func (c *claimer) flush(ctx context.Context) {
	c.mu.Lock()
	ended := c.ended
	c.ended = nil
	c.mu.Unlock()
	if err := c.j.Release(context.WithoutCancel(ctx), c.holder, c.req.Association, ended); err != nil {
		// Kept for a later claim or flush (runClaimed's last, once the
		// run is recorded): a lease left held would keep the host from
		// the next rounds until it expired.
		slog.Debug("release leases", "association", c.req.Association, "error", err)
		c.mu.Lock()
		c.ended = append(ended, c.ended...)
		c.mu.Unlock()
	}
}

// fanOutClaimed is fanOut for a tick's hosts: each host is run only once
// this node has claimed it. The hosts another node claimed are left out
// of res.
func (r *Runner) fanOutClaimed(ctx context.Context, a *config.Association, mode journal.Mode, res *RunResult, c *claimer, limit int, maxErr config.Rate) error {
	// out is this loop's alone: the hosts' goroutines only fill in the
	// results it points to.
	var (
		g   errgroup.Group
		out = map[string]*journal.HostResult{}
	)
	ps := r.places(limit)
	skipped := fmt.Sprintf("not started: more hosts failed than max_errors = %s tolerates, over every node", maxErr)
	var claimErr error
	for ps.take(ctx) {
		// Claim no more than this host and the places free for others,
		// in the association and in the process: a host claimed and
		// waiting here counts in max_concurrency, on every node.
		gr, ok, err := c.next(ctx, ps.room())
		if !ok {
			ps.give()
			claimErr = err
			break
		}
		hr := &journal.HostResult{RunID: res.Run.ID, Host: gr.h.Name, DefHash: a.Hash}
		out[gr.h.Name] = hr
		if gr.skip {
			r.finishHost(ctx, a.Name, hr, journal.StatusSkipped, skipped)
			c.end(ctx, gr.h.Name, false)
			r.done(gr.h)
			ps.give()
			continue
		}
		ps.run(&g, func() {
			r.runHost(ctx, a, mode, gr.h, hr)
			c.end(ctx, gr.h.Name, hr.Status.Failed())
		})
	}
	g.Wait()
	r.collect(ctx, a.Name, res, c, out)
	return claimErr
}

// collect puts the hosts this node claimed into res, in target order;
// those it claimed and could not start (cancelled) are recorded
// Cancelled. Every host it did not run ends here for the runner (done).
func (r *Runner) collect(ctx context.Context, assoc string, res *RunResult, c *claimer, out map[string]*journal.HostResult) {
	for _, gr := range c.granted {
		r.done(gr.h)
		hr := &journal.HostResult{RunID: res.Run.ID, Host: gr.h.Name}
		r.finishHost(ctx, assoc, hr, journal.StatusCancelled, notStarted(ctx))
		out[gr.h.Name] = hr
		c.ended = append(c.ended, journal.Ended{Host: gr.h.Name})
	}
	c.granted = nil
	if len(c.ended) > 0 {
		c.flush(ctx)
	}
	res.Hosts = res.Hosts[:0]
	for _, n := range c.hosts {
		if hr, ok := out[n]; ok {
			res.Hosts = append(res.Hosts, *hr)
		} else {
			r.done(c.byName[n]) // another node's, or held: not ours to run
		}
	}
}

// heartbeat renews the leases of the hosts c's run holds every third of
// their TTL, and says the run is alive. When a renewal fails, no more
// host is claimed; when none succeeded for a whole TTL, another node may
// take the hosts over, and cancel is called. It returns when ctx is done.
func (c *claimer) heartbeat(ctx context.Context, cancel context.CancelCauseFunc) {
	ttl := c.req.TTL
	last := time.Now()
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, err := c.j.RenewLeases(ctx, c.holder, c.req.Association, nil, ttl)
		if err == nil {
			last = time.Now()
			continue
		}
		c.mu.Lock()
		c.stopped = true
		c.mu.Unlock()
		slog.Debug("renew leases", "association", c.req.Association, "error", err)
		if time.Since(last) >= ttl {
			cancel(fmt.Errorf("%w: the leases could not be renewed for %v: %w", ErrLeasesLost, ttl, err))
			return
		}
	}
}
