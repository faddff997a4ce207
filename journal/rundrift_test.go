package journal

import (
	"context"
	"testing"
	"time"
)

// RunDrifts counts, per run, the hosts where a step was found out of
// state and those where one was corrected; a run without drift is 0, 0.
func TestRunDrifts(t *testing.T) { forBackends(t, testRunDrifts) }

func testRunDrifts(t *testing.T) {
	j := openT(t, tempTarget(t))
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	check := startRunT(t, j, "web", ModeCheck, at)
	recordT(t, j, host(check, "web-1", StatusSuccess, at, step(0, StatusCompliant), step(1, StatusDrifted)))
	recordT(t, j, host(check, "web-2", StatusSuccess, at, step(0, StatusCompliant), step(1, StatusCompliant)))
	finishT(t, j, check, StatusSuccess, at)
	apply := startRunT(t, j, "web", ModeApply, at.Add(time.Minute))
	recordT(t, j, host(apply, "web-1", StatusSuccess, at, step(0, StatusCorrected), step(1, StatusCorrected)))
	failed := step(0, StatusFailed)
	failed.Drifted = true
	recordT(t, j, host(apply, "web-2", StatusFailed, at, failed))
	recordT(t, j, host(apply, "web-3", StatusSuccess, at, step(0, StatusCompliant)))
	finishT(t, j, apply, StatusFailed, at.Add(time.Minute))
	clean := startRunT(t, j, "web", ModeCheck, at.Add(2*time.Minute))
	recordT(t, j, host(clean, "web-1", StatusSuccess, at, step(0, StatusCompliant)))
	finishT(t, j, clean, StatusSuccess, at.Add(2*time.Minute))

	got, err := j.RunDrifts(context.Background(), []int64{check, apply, clean, 999})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]RunDrift{check: {Drifted: 1}, apply: {Drifted: 2, Corrected: 1}, clean: {}}
	if len(got) != len(want) {
		t.Errorf("RunDrifts = %v, want %v", got, want)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("run %d: %+v, want %+v", id, got[id], w)
		}
	}
	if got, err := j.RunDrifts(context.Background(), nil); err != nil || len(got) != 0 {
		t.Errorf("RunDrifts(nil) = %v, %v", got, err)
	}
}
