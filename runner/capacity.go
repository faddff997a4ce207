package runner

import (
	"context"
	"math"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/driftless-dev/driftless/internal/connkit"
)

// DefaultMaxHosts is the capacity of a tick or a daemon when --max-hosts
// is not given.
const DefaultMaxHosts = 200

// Capacity is the most hosts one driftless process runs at once, over
// every association together (tick and daemon --max-hosts): each host
// execution takes a place before it starts and gives it back when it
// ends. One Capacity is shared by every Runner of the process, so it
// holds whatever runs at the same time; each association also keeps its
// own max_concurrency. Hosts wait for a place in the order they asked.
type Capacity struct {
	sem  *semaphore.Weighted
	size int64
	used atomic.Int64 // places taken
}

// NewCapacity returns a Capacity of n hosts at once (n >= 1).
func NewCapacity(n int) *Capacity {
	return &Capacity{sem: semaphore.NewWeighted(int64(n)), size: int64(n)}
}

// free is how many places are free now, a moment's view (other runners
// take them too); a nil Capacity has room for every host.
func (c *Capacity) free() int {
	if c == nil {
		return math.MaxInt
	}
	return int(max(0, c.size-c.used.Load()))
}

// acquire waits for a place for one host, or until ctx ends (then it
// returns ctx's error and holds nothing). A nil Capacity has room for
// every host.
func (c *Capacity) acquire(ctx context.Context) error {
	if c == nil {
		return nil
	}
	if err := c.sem.Acquire(ctx, 1); err != nil {
		return err
	}
	c.used.Add(1)
	return nil
}

// release gives back the place of a host that ended.
func (c *Capacity) release() {
	if c != nil {
		c.used.Add(-1)
		c.sem.Release(1)
	}
}

// places are the places a run's hosts take to start: one of the
// association's max_concurrency (a sliding window, not waves) and one of
// the process's Capacity, taken together and given back together.
type places struct {
	slots    connkit.Slots
	capacity *Capacity
}

func (r *Runner) places(limit int) *places {
	return &places{slots: connkit.NewSlots(limit), capacity: r.opts.Capacity}
}

// take waits for a place, or until ctx ends: then it reports false and
// holds nothing (a ctx already ended takes none, even with places free).
func (p *places) take(ctx context.Context) bool {
	if ctx.Err() != nil || p.slots.Acquire(ctx, nil) != nil {
		return false
	}
	if p.capacity.acquire(ctx) != nil {
		p.slots.Release()
		return false
	}
	return true
}

// give gives back a place taken.
func (p *places) give() {
	p.slots.Release()
	p.capacity.release()
}

// room is how many hosts could start now: the place held and those free
// in the association and in the process.
func (p *places) room() int {
	return 1 + min(cap(p.slots)-len(p.slots), p.capacity.free())
}

// run runs f in g on the place taken, giving it back when f returns.
func (p *places) run(g *errgroup.Group, f func()) {
	g.Go(func() error {
		defer p.give()
		growStack()
		f()
		return nil
	})
}
