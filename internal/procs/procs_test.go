package procs

import (
	"os"
	"runtime"
	"slices"
	"testing"
	"time"
)

func TestNext(t *testing.T) {
	for _, c := range []struct {
		p, most int
		used    float64
		want    int
	}{
		{2, 2, 1.9, 2},  // all busy, none more to have
		{2, 2, 0.5, 1},  // fits in one, with room
		{2, 2, 0.8, 2},  // one would be over 70% busy
		{1, 2, 0.95, 2}, // the one is nearly always busy
		{1, 2, 0.5, 1},
		{1, 1, 1.0, 1},
		{2, 4, 1.85, 3},
		{3, 4, 1.3, 2},
		{3, 4, 1.5, 3},
		{4, 4, 0, 3}, // one step at a time
	} {
		if got := Next(c.p, c.most, c.used); got != c.want {
			t.Errorf("Next(%d, %d, %.2f) = %d, want %d", c.p, c.most, c.used, got, c.want)
		}
	}
}

// adapt follows what the process uses, one processor at a time, between
// one and the most: up after one busy sample, down after lowerAfter
// quiet ones in a row; it stops when reading the CPU time fails.
func TestAdaptFollowsTheCPU(t *testing.T) {
	start := time.Unix(1e9, 0)
	used := []float64{
		0.2, 0.2, 0.2, // 4 -> 3
		0.2, 0.2, 0.2, // 3 -> 2
		0.2, 0.2, 0.9, // two quiet samples, then one that needs the 2
		0.2, 0.2, 0.2, // 2 -> 1
		0.95, 1.9, 2.8, // up at once: 2, 3, 4
		3.9, 2.5, // all 4 busy; 2.5 would not fit in 3 at 70%
		1.5, 1.5, 2.5, 1.5, 1.5, 1.5, // 4 -> 3 only after three in a row
	}
	// What read gives at its n-th call: the start, then the CPU used so
	// far after each sample; after the last, it fails.
	rs := []reading{{0, start}}
	for k, u := range used {
		rs = append(rs, reading{rs[k].cpu + time.Duration(u*float64(Interval)), start.Add(time.Duration(k+1) * Interval)})
	}
	calls := 0
	read := func() (reading, bool) {
		calls++
		if calls > len(rs) {
			return reading{}, false
		}
		return rs[calls-1], true
	}
	var sets []int
	tick := make(chan time.Time)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		adapt(4, tick, make(chan struct{}), read, func(p int) { sets = append(sets, p) })
	}()
	for k := 0; k <= len(used); k++ {
		select {
		case tick <- time.Time{}:
		case <-ended:
			t.Fatalf("adapt returned at sample %d", k)
		}
	}
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("adapt did not return when the CPU time could not be read")
	}
	if want := []int{3, 2, 1, 2, 3, 4, 3}; !slices.Equal(sets, want) {
		t.Errorf("GOMAXPROCS set to %v, want %v", sets, want)
	}
}

// An idle process comes down to one processor within a few samples, and
// stop gives back what Go chose.
func TestAdaptIdleProcess(t *testing.T) {
	if v, set := os.LookupEnv("GOMAXPROCS"); set && v != "" {
		t.Skip("GOMAXPROCS is set in the environment: Adapt leaves it alone")
	}
	// Go's own choice, whatever go test -cpu set; the test's is put back.
	orig := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(orig) })
	runtime.SetDefaultGOMAXPROCS()
	most := runtime.GOMAXPROCS(0)
	if most < 2 {
		t.Skip("one CPU: there is nothing to adapt")
	}
	stop := Adapt()
	defer stop() // a second stop does nothing
	// lowerAfter samples per processor taken away; generous, for a
	// machine busy with other tests.
	const patience = 10 * time.Second
	deadline := time.Now().Add(patience)
	for runtime.GOMAXPROCS(0) != 1 {
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("GOMAXPROCS = %d after %v idle, want 1", runtime.GOMAXPROCS(0), patience)
		}
		time.Sleep(Interval / 2)
	}
	stop()
	if got := runtime.GOMAXPROCS(0); got != most {
		t.Errorf("after stop GOMAXPROCS = %d, want %d", got, most)
	}
}

func TestAdaptLeavesTheEnvironmentsChoice(t *testing.T) {
	t.Setenv("GOMAXPROCS", "2") // Go reads a number; an empty value it ignores, and so does Adapt
	before := runtime.GOMAXPROCS(0)
	stop := Adapt()
	time.Sleep(5 * Interval)
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Errorf("GOMAXPROCS in the environment: GOMAXPROCS(0) = %d, want it left at %d", got, before)
	}
	stop()
}
