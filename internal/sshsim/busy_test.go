package sshsim

import (
	"testing"
	"time"
)

// Busy from sessions laid out by hand: a host with overlapping sessions
// counts once, an end at the very time of a start is no overlap, sessions
// before since are left out, and a running one runs until now.
func TestBusyCountsHosts(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	f := &Fleet{}
	for _, sessions := range [][]Session{
		// a: two sessions at once, then one that starts as they end: busy
		// from 0 to 200.
		{{Kind: "exec", Start: at(0), End: at(100)}, {Kind: "sftp", Start: at(50), End: at(150)}, {Kind: "exec", Start: at(150), End: at(200)}},
		// b: overlaps a.
		{{Kind: "exec", Start: at(20), End: at(120)}},
		// c: one before since, one that starts as b's ends.
		{{Kind: "exec", Start: at(-500), End: at(10)}, {Kind: "exec", Start: at(120), End: at(160)}},
		// d: none.
		nil,
	} {
		f.Hosts = append(f.Hosts, &Host{sessions: sessions})
	}
	b := f.Busy(at(0))
	want := Busy{Most: 2, Sessions: 5, Hosts: 3, First: at(0), Last: at(200)}
	if b != want {
		t.Errorf("Busy = %+v, want %+v", b, want)
	}

	// b's session is still running: it overlaps everything after it.
	f.Hosts[1].sessions[0].End = time.Time{}
	if b := f.Busy(at(0)); b.Most != 3 || !b.Last.After(at(200)) {
		t.Errorf("with a running session: %+v", b)
	}
	if b := f.Busy(at(1000)); b != (Busy{}) {
		t.Errorf("nothing since: %+v", b)
	}
}
