package journal

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The steps a host recorded while it ran survive the death of the
// process: RecoverInterrupted keeps them and says how many there are;
// RecordHost, when the host ends, replaces them; progress never becomes
// a host's latest execution.
func TestRecordProgressSurvivesRecovery(t *testing.T) {
	ctx := context.Background()
	j := openT(t, tempPath(t))
	now := time.Now().UTC()
	pid := deadPID(t)
	id, err := j.StartRun(ctx, &Run{Association: "web", Trigger: TriggerManual, Mode: ModeApply, StartedAt: now, PID: pid, Hostname: j.hostname})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"web-1", "web-2", "web-3"} {
		if err := j.StartHost(ctx, id, h, now); err != nil {
			t.Fatal(err)
		}
	}
	corrected := step(0, StatusCorrected)
	corrected.Drifted = true
	if err := j.RecordProgress(HostResult{RunID: id, Host: "web-1", StartedAt: now, DefHash: "h", Steps: []StepResult{corrected, step(1, StatusCompliant)}}); err != nil {
		t.Fatal(err)
	}
	// web-2 records one step, then ends: RecordHost replaces the progress.
	if err := j.RecordProgress(HostResult{RunID: id, Host: "web-2", StartedAt: now, Steps: []StepResult{step(0, StatusCompliant)}}); err != nil {
		t.Fatal(err)
	}
	recordT(t, j, host(id, "web-2", StatusSuccess, now, step(0, StatusCompliant), step(1, StatusCompliant), step(2, StatusCompliant)))
	// A skipped step needs its reason, as in RecordHost.
	if err := j.RecordProgress(HostResult{RunID: id, Host: "web-3", Steps: []StepResult{skipped(0, "")}}); err == nil {
		t.Error("progress with a skipped step without reason accepted")
	}
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// While the run is going, progress is not the latest execution.
	if rows, _ := j.Status(ctx, StatusFilter{Host: "web-1"}); len(rows) != 0 {
		t.Errorf("progress shows in status: %+v", rows)
	}
	_, hosts, err := j.Show(ctx, id, "web-1")
	if err != nil || len(hosts) != 1 || hosts[0].Status != StatusInProgress || len(hosts[0].Steps) != 2 {
		t.Fatalf("web-1 while running: %+v %v", hosts, err)
	}

	ids, err := j.RecoverInterrupted(ctx)
	if err != nil || len(ids) != 1 {
		t.Fatalf("recover: %v %v", ids, err)
	}
	_, hosts, err = j.Show(ctx, id, "")
	if err != nil || len(hosts) != 3 {
		t.Fatalf("show: %+v %v", hosts, err)
	}
	want := map[string]struct {
		status Status
		steps  int
		err    string
	}{
		"web-1": {StatusInterrupted, 2, "driftless: the process recording this run is gone; 2 steps recorded before the process died"},
		"web-2": {StatusSuccess, 3, ""},
		"web-3": {StatusInterrupted, 0, "driftless: the process recording this run is gone"},
	}
	for _, h := range hosts {
		w := want[h.Host]
		if h.Status != w.status || len(h.Steps) != w.steps || h.Error != w.err {
			t.Errorf("%s: %s, %d steps, %q; want %s, %d, %q", h.Host, h.Status, len(h.Steps), h.Error, w.status, w.steps, w.err)
		}
		if h.DefHash != "" && h.Host != "web-2" {
			t.Errorf("%s: an interrupted execution has a definition hash %q", h.Host, h.DefHash)
		}
	}
	if hosts[0].Steps[0].Status != StatusCorrected || !hosts[0].Steps[0].Drifted {
		t.Errorf("web-1 step 1 = %+v", hosts[0].Steps[0])
	}
	rows, _ := j.Status(ctx, StatusFilter{Host: "web-1"})
	if len(rows) != 1 || rows[0].HostStatus != StatusInterrupted || rows[0].Steps != 2 || rows[0].CorrectedSteps != 1 ||
		!strings.Contains(rows[0].Error, "2 steps recorded") {
		t.Errorf("status web-1 = %+v", rows)
	}
}
