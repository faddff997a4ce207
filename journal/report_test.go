package journal

import (
	"context"
	"testing"
	"time"
)

// OutOfStateSteps gives, for the host executions asked for, the steps
// found out of state or not compliant, and nothing for the others.
func TestOutOfStateSteps(t *testing.T) { forBackends(t, testOutOfStateSteps) }

func testOutOfStateSteps(t *testing.T) {
	j := openT(t, tempTarget(t))
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	run := startRunT(t, j, "web", ModeApply, at)
	failed := step(2, StatusFailed)
	failed.Error, failed.Stderr = "exit status 1", "permission denied"
	recordT(t, j, host(run, "web-1", StatusFailed, at, step(0, StatusCompliant), step(1, StatusCorrected), failed,
		skipped(3, SkipPrecondition), skipped(4, SkipStopped)))
	recordT(t, j, host(run, "web-2", StatusSuccess, at, step(0, StatusCompliant)))
	finishT(t, j, run, StatusFailed, at)

	got, err := j.OutOfStateSteps(context.Background(), []RowKey{{run, "web-1"}, {run, "web-2"}, {run + 1, "web-1"}})
	if err != nil {
		t.Fatal(err)
	}
	steps := got[RowKey{run, "web-1"}]
	var idx []int
	for _, s := range steps {
		idx = append(idx, s.Index)
	}
	if len(got) != 1 || len(idx) != 3 || idx[0] != 1 || idx[1] != 2 || idx[2] != 4 {
		t.Fatalf("OutOfStateSteps = %+v, want steps 1, 2, 4 of web-1", got)
	}
	if steps[0].Differ != "mode 0644 -> 0600 (step 1)" || steps[1].Stderr != "permission denied" || steps[1].Error != "exit status 1" ||
		steps[2].SkipReason != SkipStopped {
		t.Errorf("steps = %+v", steps)
	}
}

// DriftTimeline counts drift events per host and period, by outcome,
// within the window only.
func TestDriftTimeline(t *testing.T) { forBackends(t, testDriftTimeline) }

func testDriftTimeline(t *testing.T) {
	j := openT(t, tempTarget(t))
	day := 24 * time.Hour
	since := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i, d := range []time.Duration{-day, 0, day + time.Hour, day + 2*time.Hour, 3 * day} {
		at := since.Add(d)
		run := startRunT(t, j, "web", ModeApply, at)
		st := StatusCorrected
		if i == 3 {
			st = StatusDrifted
		}
		recordT(t, j, host(run, "web-1", StatusSuccess, at, step(0, st), step(1, StatusCompliant)))
		recordT(t, j, host(run, "web-2", StatusSuccess, at, step(0, StatusCompliant)))
		finishT(t, j, run, StatusSuccess, at)
	}
	got, err := j.DriftTimeline(context.Background(), since, since.Add(3*day), day)
	if err != nil {
		t.Fatal(err)
	}
	want := []DriftCount{{Host: "web-1", Bucket: 0, Corrected: 1}, {Host: "web-1", Bucket: 1, Corrected: 1, Detected: 1}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("DriftTimeline = %+v, want %+v", got, want)
	}
	if _, err := j.DriftTimeline(context.Background(), since, since, day); err == nil {
		t.Error("an empty window: no error")
	}
	first, err := j.FirstRecord(context.Background())
	if err != nil || !first.Equal(since.Add(-day)) {
		t.Errorf("FirstRecord = %v, %v", first, err)
	}
}
