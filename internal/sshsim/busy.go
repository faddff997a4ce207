package sshsim

import (
	"cmp"
	"slices"
	"time"
)

// Session is one command or subsystem a host ran, as the host recorded
// it: from the request that started it until the command had ended (its
// process reaped, its output sent), before the client was told how it
// ended. A client that counts a host as in flight from before it asks
// until it has the answer always holds the host over its sessions.
type Session struct {
	Kind  string // "exec", "shell" or "sftp"
	Start time.Time
	End   time.Time // zero while it runs
}

// began records the start of a session of kind on h and returns its
// index, for ended.
func (h *Host) began(kind string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sessions = append(h.sessions, Session{Kind: kind, Start: time.Now()})
	return len(h.sessions) - 1
}

// ended records the end of session i of h.
func (h *Host) ended(i int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sessions[i].End = time.Now()
}

// Sessions returns the sessions the host has run so far (running ones
// too, without an end), in the order they started.
func (h *Host) Sessions() []Session {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.sessions)
}

// Busy is what the hosts' sessions tell about a span of time
// (Fleet.Busy).
type Busy struct {
	// Most is the most hosts that were running a session at once (a host
	// with two sessions at once counts once).
	Most int
	// Sessions is how many sessions started; Hosts on how many hosts.
	Sessions, Hosts int
	// First is when the first session started, Last when the last one
	// ended (zero when there was none).
	First, Last time.Time
}

// Busy reads the sessions the hosts started at since or later; one still
// running counts as running until now.
func (f *Fleet) Busy(since time.Time) Busy {
	type event struct {
		at    time.Time
		delta int
	}
	var events []event
	var b Busy
	now := time.Now()
	for _, h := range f.Hosts {
		var spans []Session
		for _, s := range h.Sessions() {
			if s.Start.Before(since) {
				continue
			}
			if s.End.IsZero() {
				s.End = now
			}
			spans = append(spans, s)
		}
		if len(spans) == 0 {
			continue
		}
		b.Sessions += len(spans)
		b.Hosts++
		// The host is busy while any of its sessions runs: merge them.
		slices.SortFunc(spans, func(x, y Session) int { return x.Start.Compare(y.Start) })
		start, end := spans[0].Start, spans[0].End
		for _, s := range spans[1:] {
			if s.Start.After(end) {
				events = append(events, event{start, 1}, event{end, -1})
				start = s.Start
			}
			if s.End.After(end) {
				end = s.End
			}
		}
		events = append(events, event{start, 1}, event{end, -1})
	}
	// An end and a start at the same time did not overlap.
	slices.SortFunc(events, func(x, y event) int {
		if c := x.at.Compare(y.at); c != 0 {
			return c
		}
		return cmp.Compare(x.delta, y.delta)
	})
	n := 0
	for _, e := range events {
		n += e.delta
		b.Most = max(b.Most, n)
	}
	if len(events) > 0 {
		b.First, b.Last = events[0].at, events[len(events)-1].at
	}
	return b
}
