// Package procs sizes the Go scheduler (GOMAXPROCS) to the CPU the
// process uses. driftless mostly waits on its hosts: a run of 2,000 hosts
// keeps well under one core busy, and every extra processor the scheduler
// runs costs CPU all the same (threads woken to look for work that one
// processor would have done, and the context switches of that). On the
// scale bench (bench/README.md), one processor instead of two cut
// driftless's own CPU by 6-10% at equal wall time. When a run does need
// more (the handshakes of hundreds of hosts at once on a fast network),
// the processors come back within one sample.
//
// Adapt starts with what Go chose (every CPU the process may use) and,
// every Interval, compares the CPU the process used with the processors
// it had: nearly all of them busy adds one at once; the work fitting in
// one fewer with room to spare, lowerAfter samples in a row, takes one
// away (a short run, or the handshakes a run starts with, keep them
// all). GOMAXPROCS set in the environment is the user's choice and is
// left alone.
package procs

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// Interval is how often Adapt samples the CPU the process used.
const Interval = 100 * time.Millisecond

const (
	// raiseAt: the processors were this busy (a fraction of all of them):
	// the process may want more.
	raiseAt = 0.9
	// lowerAt: the work would have kept one processor fewer at most this
	// busy: it fits in them.
	lowerAt = 0.7
	// lowerAfter: how many samples in a row the work must fit in one
	// processor fewer before it is taken away.
	lowerAfter = 3
)

// Next is the number of processors after a sample in which the process
// used `used` cores with p processors, at most most.
func Next(p, most int, used float64) int {
	switch {
	case p < most && used >= raiseAt*float64(p):
		return p + 1
	case p > 1 && used <= lowerAt*float64(p-1):
		return p - 1
	}
	return p
}

// Adapt adjusts GOMAXPROCS to the CPU the process uses until stop is
// called, which gives back Go's own choice. The most it sets is what Go
// chose at the start (the usable CPUs, or the container's CPU limit):
// while it adapts, a limit changed later is not followed. It does
// nothing when the environment sets GOMAXPROCS (to a number, as Go
// reads it), when there is one CPU, or where the process's CPU time
// cannot be read (Windows, for one).
func Adapt() (stop func()) {
	most := runtime.GOMAXPROCS(0)
	if v, ok := os.LookupEnv("GOMAXPROCS"); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return func() {}
		}
	}
	if _, ok := cpuTime(); most < 2 || !ok {
		return func() {}
	}
	t := time.NewTicker(Interval)
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		adapt(most, t.C, done, readNow, func(p int) { runtime.GOMAXPROCS(p) })
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.Stop()
			close(done)
			<-ended
			runtime.SetDefaultGOMAXPROCS() // Go's choice again, following the CPU limit as it does
		})
	}
}

// reading is the CPU time the process had used at a time.
type reading struct {
	cpu time.Duration
	at  time.Time
}

// readNow reads the process's CPU time, and the time it read it at.
func readNow() (reading, bool) {
	c, ok := cpuTime()
	return reading{c, time.Now()}, ok
}

// adapt sets the processors with set after each tick, from what read
// gives then, until done is closed or read fails.
func adapt(most int, tick <-chan time.Time, done <-chan struct{}, read func() (reading, bool), set func(int)) {
	p, low := most, 0
	last, _ := read()
	for {
		select {
		case <-done:
			return
		case <-tick:
			r, ok := read()
			if !ok {
				return
			}
			wall := r.at.Sub(last.at)
			if wall <= 0 {
				continue
			}
			used := float64(r.cpu-last.cpu) / float64(wall)
			last = r
			switch n := Next(p, most, used); {
			case n > p:
				p, low = n, 0
				set(p)
			case n < p:
				if low++; low >= lowerAfter {
					p, low = n, 0
					set(p)
				}
			default:
				low = 0
			}
		}
	}
}
