package journal

import (
	"testing"
	"time"
)

// A host written in several batches (StartHost, a progress record, its
// result) ends as one row with its result's steps only, its StartHost
// start, and is the latest of its association; hosts whose records share
// a batch, and a batch that failed and was written again record by record,
// end the same way.
func TestHostRecordsAcrossBatches(t *testing.T) { forBackends(t, testHostRecordsAcrossBatches) }

func testHostRecordsAcrossBatches(t *testing.T) {
	ctx, j := newT(t)
	refuseBadSteps(t, j)
	id := startRunT(t, j, "web", ModeApply, base)
	flush := func() {
		t.Helper()
		if err := j.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	start := func(name string) {
		t.Helper()
		if err := j.StartHost(ctx, id, name, base); err != nil {
			t.Fatal(err)
		}
	}
	progress := func(name string, steps ...StepResult) {
		t.Helper()
		if err := j.RecordProgress(HostResult{RunID: id, Host: name, StartedAt: base, Steps: steps}); err != nil {
			t.Fatal(err)
		}
	}
	result := func(name string, steps ...StepResult) {
		t.Helper()
		h := host(id, name, StatusSuccess, time.Time{}, steps...)
		h.EndedAt = base.Add(time.Minute)
		recordT(t, j, h)
	}
	// web-1: three batches. web-2: StartHost, progress and result in one.
	// web-3: its StartHost in a batch that fails (a bad step of web-bad's),
	// which is then written record by record.
	start("web-1")
	flush()
	progress("web-1", step(0, StatusCompliant), step(1, StatusCompliant))
	flush()
	result("web-1", step(0, StatusCompliant), step(1, StatusCorrected), step(2, StatusCompliant))
	start("web-2")
	progress("web-2", step(0, StatusCompliant))
	result("web-2", step(0, StatusCompliant), step(1, StatusCompliant))
	flush()
	start("web-3")
	bad := host(id, "web-bad", StatusSuccess, base, step(0, StatusCompliant))
	bad.Steps[0].Name = "bad"
	recordT(t, j, bad)
	flush()
	progress("web-3", step(0, StatusCompliant), step(1, StatusCompliant))
	flush()
	result("web-3", step(0, StatusCompliant))
	if err := j.FinishRun(ctx, id, StatusSuccess, nil, base.Add(time.Hour)); err == nil {
		t.Error("FinishRun: no error for web-bad's bad step")
	}

	_, hosts, err := j.Show(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		status Status
		steps  int
	}{"web-1": {StatusSuccess, 3}, "web-2": {StatusSuccess, 2}, "web-3": {StatusSuccess, 1}}
	for _, h := range hosts {
		w, ok := want[h.Host]
		if !ok {
			// web-bad: never written; FinishRun found no row of it.
			t.Errorf("host %s recorded (%s)", h.Host, h.Status)
			continue
		}
		delete(want, h.Host)
		if h.Status != w.status || len(h.Steps) != w.steps || !h.StartedAt.Equal(base) || !h.EndedAt.Equal(base.Add(time.Minute)) {
			t.Errorf("%s: %s, %d steps, %v-%v; want %s, %d steps, from the StartHost's start", h.Host, h.Status, len(h.Steps), h.StartedAt, h.EndedAt, w.status, w.steps)
		}
	}
	for name := range want {
		t.Errorf("%s not recorded", name)
	}
	rows, err := j.Status(ctx, StatusFilter{Association: "web"})
	if err != nil {
		t.Fatal(err)
	}
	latest := map[string]ComplianceRow{}
	for _, r := range rows {
		latest[r.Host] = r
	}
	if r := latest["web-1"]; r.RunID != id || r.Steps != 3 || r.CorrectedSteps != 1 || r.HostStatus != StatusSuccess {
		t.Errorf("status of web-1: %+v", r)
	}
	if r := latest["web-3"]; r.RunID != id || r.Steps != 1 {
		t.Errorf("status of web-3: %+v", r)
	}
	if len(j.rows.hosts) != 0 || len(j.rows.runs) != 0 {
		t.Errorf("the writer still remembers %d hosts and %d runs after FinishRun", len(j.rows.hosts), len(j.rows.runs))
	}
}

// A record that replaces others of its host in one batch takes their
// start when it has none.
func TestSuperseded(t *testing.T) {
	at := base.Add(time.Second)
	ops := []op{
		{kind: opStartHost, host: &HostResult{RunID: 1, Host: "a", StartedAt: at}},
		{kind: opStartHost, host: &HostResult{RunID: 1, Host: "b", StartedAt: at}},
		{kind: opRecordHost, host: &HostResult{RunID: 1, Host: "a", Status: StatusInProgress}},
		{kind: opRecordHost, host: &HostResult{RunID: 2, Host: "a", Status: StatusSuccess}},
		{kind: opRecordHost, host: &HostResult{RunID: 1, Host: "a", Status: StatusSuccess, StartedAt: base}},
		{kind: opFlush},
	}
	skip, _ := superseded(ops)
	want := []bool{true, false, true, false, false, false}
	for i := range want {
		if skip[i] != want[i] {
			t.Fatalf("superseded = %v, want %v", skip, want)
		}
	}
	if !ops[2].host.StartedAt.Equal(at) || !ops[4].host.StartedAt.Equal(base) {
		t.Errorf("starts %v, %v: want the StartHost's, then the record's own", ops[2].host.StartedAt, ops[4].host.StartedAt)
	}
}
