package runner

import (
	"context"

	"golang.org/x/sync/semaphore"
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
	sem *semaphore.Weighted
}

// NewCapacity returns a Capacity of n hosts at once (n >= 1).
func NewCapacity(n int) *Capacity {
	return &Capacity{sem: semaphore.NewWeighted(int64(n))}
}

// acquire waits for a place for one host, or until ctx ends (then it
// returns ctx's error and holds nothing). A nil Capacity has room for
// every host.
func (c *Capacity) acquire(ctx context.Context) error {
	if c == nil {
		return nil
	}
	return c.sem.Acquire(ctx, 1)
}

// release gives back the place of a host that ended.
func (c *Capacity) release() {
	if c != nil {
		c.sem.Release(1)
	}
}
