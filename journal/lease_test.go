package journal

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestLeasesCompete has two Journals on one file (two processes, as far as
// SQLite is concerned) with four runs each competing for the same hosts:
// every host must end up with exactly one holder, and every loser must be
// told who holds it.
func TestLeasesCompete(t *testing.T) { forBackends(t, testLeasesCompete) }

func testLeasesCompete(t *testing.T) {
	ctx := context.Background()
	path := tempTarget(t)
	js := []*Journal{openT(t, path), openT(t, path)}
	hosts := make([]string, 100)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("web-%03d", i)
	}

	type result struct {
		holder   Holder
		acquired []string
		held     map[string]Holder
	}
	results := make([]result, 8)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range results {
		j := js[i%2]
		holder := j.Self(int64(i + 1))
		mine := slices.Clone(hosts)
		rand.Shuffle(len(mine), func(a, b int) { mine[a], mine[b] = mine[b], mine[a] })
		mine = mine[:70] // overlapping subsets
		wg.Go(func() {
			<-start
			acq, held, err := j.AcquireLeases(ctx, holder, "web", mine, time.Minute)
			if err != nil {
				t.Error(err)
			}
			if len(acq)+len(held) != len(mine) {
				t.Errorf("%v: %d acquired + %d held != %d asked", holder, len(acq), len(held), len(mine))
			}
			results[i] = result{holder, acq, held}
		})
	}
	close(start)
	wg.Wait()

	owner := make(map[string]Holder)
	for _, r := range results {
		for _, h := range r.acquired {
			if prev, ok := owner[h]; ok {
				t.Fatalf("%s acquired by both %v and %v", h, prev, r.holder)
			}
			owner[h] = r.holder
		}
	}
	for _, r := range results {
		for h, by := range r.held {
			if owner[h] != by {
				t.Errorf("%v told %s is held by %v, but %v has it", r.holder, h, by, owner[h])
			}
		}
	}
	var n int
	if err := js[0].r.QueryRow(`SELECT count(*) FROM leases WHERE association = 'web'`).Scan(&n); err != nil || n != len(owner) {
		t.Errorf("%d lease rows, want %d (%v)", n, len(owner), err)
	}

	// A winner releases; a loser may then take the host.
	var winner result
	for _, r := range results {
		if len(r.acquired) > 0 {
			winner = r
			break
		}
	}
	h := winner.acquired[0]
	other := js[1].Self(99)
	if acq, held, _ := js[1].AcquireLeases(ctx, other, "web", []string{h}, time.Minute); len(acq) != 0 || held[h] != winner.holder {
		t.Fatalf("before release: acquired %v, held %v", acq, held)
	}
	if err := js[0].ReleaseLeases(ctx, winner.holder, "web", []string{h}); err != nil {
		t.Fatal(err)
	}
	if acq, _, _ := js[1].AcquireLeases(ctx, other, "web", []string{h}, time.Minute); !slices.Equal(acq, []string{h}) {
		t.Errorf("after release: acquired %v, want [%s]", acq, h)
	}
	// Another association is independent.
	if acq, _, _ := js[1].AcquireLeases(ctx, other, "db", hosts, time.Minute); len(acq) != len(hosts) {
		t.Errorf("other association: acquired %d, want %d", len(acq), len(hosts))
	}
}

func TestLeaseTakeover(t *testing.T) { forBackends(t, testLeaseTakeover) }

func testLeaseTakeover(t *testing.T) {
	ctx, j := newT(t)
	me := j.Self(1)
	acquire := func(h Holder, hosts []string, ttl time.Duration) ([]string, map[string]Holder) {
		t.Helper()
		acq, held, err := j.AcquireLeases(ctx, h, "web", hosts, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return acq, held
	}

	// A holder on this machine whose process is gone: taken over at once,
	// however long its lease.
	dead := Holder{PID: deadPID(t), Hostname: j.hostname, RunID: 7}
	if acq, _ := acquire(dead, []string{"a"}, time.Hour); !slices.Equal(acq, []string{"a"}) {
		t.Fatalf("dead holder could not even acquire: %v", acq)
	}
	if acq, held := acquire(me, []string{"a"}, time.Hour); !slices.Equal(acq, []string{"a"}) || len(held) != 0 {
		t.Errorf("dead holder: acquired %v, held %v; want a taken over", acq, held)
	}

	// A live holder on another machine: held until it expires.
	remote := Holder{PID: 4242, Hostname: "bastion-2", RunID: 8, Node: "bastion-2"}
	acquire(remote, []string{"b"}, time.Hour)
	if acq, held := acquire(me, []string{"b"}, time.Hour); len(acq) != 0 || held["b"] != remote {
		t.Errorf("remote holder: acquired %v, held %v", acq, held)
	}
	acquire(remote, []string{"c"}, time.Millisecond)
	time.Sleep(10 * time.Millisecond)
	if acq, held := acquire(me, []string{"c", "b"}, time.Hour); !slices.Equal(acq, []string{"c"}) || held["b"] != remote {
		t.Errorf("expired remote lease: acquired %v, held %v", acq, held)
	}

	// The same process, another run: held (a daemon runs several at once).
	if acq, held := acquire(j.Self(2), []string{"a"}, time.Hour); len(acq) != 0 || held["a"] != me {
		t.Errorf("other run of this process: acquired %v, held %v", acq, held)
	}
	// The holder itself: acquiring again is a renewal.
	if acq, _ := acquire(me, []string{"a", "a", "c"}, time.Hour); !slices.Equal(acq, []string{"a", "c"}) {
		t.Errorf("re-acquire: %v", acq)
	}

	// Renew, and find out what was lost.
	slow := Holder{PID: 4242, Hostname: "bastion-2", RunID: 9, Node: "bastion-2"}
	acquire(slow, []string{"d", "e"}, time.Millisecond)
	time.Sleep(10 * time.Millisecond)
	acquire(me, []string{"d"}, time.Hour) // d expired: taken over
	lost, err := j.RenewLeases(ctx, slow, "web", []string{"d", "e"}, time.Hour)
	if err != nil || !slices.Equal(lost, []string{"d"}) {
		t.Errorf("RenewLeases: lost %v, %v; want [d]", lost, err)
	}
	if acq, held := acquire(me, []string{"e"}, time.Hour); len(acq) != 0 || held["e"] != slow {
		t.Errorf("renewed lease: acquired %v, held %v", acq, held)
	}
	// Releasing what one no longer holds leaves the new holder's lease.
	if err := j.ReleaseLeases(ctx, slow, "web", []string{"d", "e"}); err != nil {
		t.Fatal(err)
	}
	if _, held := acquire(j.Self(3), []string{"d", "e"}, time.Hour); held["d"] != me || len(held) != 1 {
		t.Errorf("after release by the old holder: held %v, want d by %v", held, me)
	}
	// Releasing everything a holder has on an association.
	if err := j.ReleaseLeases(ctx, me, "web", nil); err != nil {
		t.Fatal(err)
	}
	var n int
	j.r.QueryRow(`SELECT count(*) FROM leases WHERE holder_run_id = 1`).Scan(&n)
	if n != 0 {
		t.Errorf("%d leases left after releasing all", n)
	}
}

// A lease is stored under the host's name byte for byte, whether the rows
// go in one statement (names JSON keeps) or one by one (one it would not).
func TestAcquireLeasesStoresNames(t *testing.T) { forBackends(t, testAcquireLeasesStoresNames) }

func testAcquireLeasesStoresNames(t *testing.T) {
	ctx, j := newT(t)
	for _, hosts := range [][]string{{"web-1", `we"b<2>`, "wéb-3"}, {"bad-\xff", "web-4"}} {
		acq, held, err := j.AcquireLeases(ctx, j.Self(1), "web", hosts, time.Minute)
		if err != nil || len(held) != 0 || !slices.Equal(acq, hosts) {
			t.Fatalf("AcquireLeases(%q) = %q, %v, %v", hosts, acq, held, err)
		}
		for _, h := range hosts {
			var n int
			if err := j.w.QueryRow(`SELECT count(*) FROM leases WHERE association = 'web' AND host = ? AND holder_run_id = 1`, h).Scan(&n); err != nil || n != 1 {
				t.Errorf("lease of %q: %d rows, %v", h, n, err)
			}
		}
	}
}
