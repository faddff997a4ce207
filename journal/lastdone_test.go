package journal

import (
	"testing"
	"time"
)

// LastFinished in one mode passes over the other mode's executions and
// over those that were cut off; with no mode it takes any but exec.
func TestLastFinishedByMode(t *testing.T) { forBackends(t, testLastFinishedByMode) }

func testLastFinishedByMode(t *testing.T) {
	ctx, j := newT(t)
	base := time.Date(2026, 12, 1, 22, 5, 0, 0, time.UTC)
	run := func(mode Mode, status Status, at time.Duration) int64 {
		id := startRunT(t, j, "web", mode, base.Add(at))
		recordT(t, j, host(id, "h", status, base.Add(at), step(0, StatusCompliant)))
		finishT(t, j, id, status, base.Add(at+time.Second))
		return id
	}
	apply := run(ModeApply, StatusSuccess, 0)
	check := run(ModeCheck, StatusSuccess, time.Minute)
	run(ModeApply, StatusCancelled, 2*time.Minute)
	for _, c := range []struct {
		mode Mode
		want int64
	}{{ModeApply, apply}, {ModeCheck, check}, {"", check}} {
		lr, ok, err := j.LastFinished(ctx, "web", "h", c.mode)
		if err != nil || !ok || lr.RunID != c.want {
			t.Errorf("LastFinished(%q) = %+v, %v, %v; want run %d", c.mode, lr, ok, err, c.want)
		}
	}
	if _, ok, err := j.LastFinished(ctx, "web", "h", ModeExec); ok || err != nil {
		t.Errorf("LastFinished(exec) found one (%v)", err)
	}
}
