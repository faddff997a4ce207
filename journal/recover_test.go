package journal

import (
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRecoverInterrupted(t *testing.T) { forBackends(t, testRecoverInterrupted) }

func testRecoverInterrupted(t *testing.T) {
	ctx, j := newT(t)
	now := time.Now().UTC()
	start := func(pid int, hostname string, at time.Time) int64 {
		t.Helper()
		id, err := j.StartRun(ctx, &Run{Association: "web", Trigger: TriggerSchedule, Mode: ModeApply,
			StartedAt: at, PID: pid, Hostname: hostname})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}

	// A run of this machine whose process is gone, with one host finished
	// and one still going, and a lease.
	pid := deadPID(t)
	dead := start(pid, j.hostname, now.Add(-time.Minute))
	if err := j.StartHost(ctx, dead, "web-1", now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	done := host(dead, "web-2", StatusSuccess, now.Add(-time.Minute), step(0, StatusCompliant))
	recordT(t, j, done)
	if _, _, err := j.AcquireLeases(ctx, Holder{PID: pid, Hostname: j.hostname, RunID: dead}, "web", []string{"web-1"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	// A run of this very process: alive.
	live := start(os.Getpid(), j.hostname, now.Add(-time.Minute))
	// Runs of another machine: recent (alive as far as we know), old, and
	// old but still renewing a lease.
	recent := start(4242, "bastion-2", now.Add(-time.Hour))
	old := start(4242, "bastion-2", now.Add(-ForeignRunAge-time.Hour))
	leased := start(4243, "bastion-2", now.Add(-ForeignRunAge-time.Hour))
	if _, _, err := j.AcquireLeases(ctx, Holder{PID: 4243, Hostname: "bastion-2", RunID: leased}, "web", []string{"db-1"}, time.Hour); err != nil {
		t.Fatal(err)
	}

	ids, err := j.RecoverInterrupted(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []int64{dead, old}) {
		t.Fatalf("recovered %v, want [%d %d]", ids, dead, old)
	}

	run, hosts, err := j.Show(ctx, dead, "")
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != StatusInterrupted || run.Counts[StatusInterrupted] != 1 || run.Counts[StatusSuccess] != 1 ||
		!run.EndedAt.Equal(done.EndedAt) {
		t.Errorf("dead run = %+v", run)
	}
	if len(hosts) != 2 || hosts[0].Status != StatusInterrupted || hosts[1].Status != StatusSuccess {
		t.Errorf("dead run hosts = %+v", hosts)
	}
	for id, want := range map[int64]Status{live: StatusInProgress, recent: StatusInProgress, old: StatusInterrupted, leased: StatusInProgress} {
		r, _, err := j.Show(ctx, id, "")
		if err != nil || r.Status != want {
			t.Errorf("run %d: %s, %v; want %s", id, r.Status, err, want)
		}
	}
	// The interrupted host counts as its latest execution: not compliant,
	// and without a definition hash, so the scheduler runs it again.
	rows, _ := j.Status(ctx, StatusFilter{Host: "web-1"})
	if len(rows) != 1 || rows[0].Compliance != NonCompliant || rows[0].HostStatus != StatusInterrupted {
		t.Errorf("Status(web-1) = %+v", rows)
	}
	last, _ := j.LastRuns(ctx, "web", ModeApply)
	if lr := last["web-1"]; lr.Status != StatusInterrupted || lr.DefHash != "" || lr.RunID != dead {
		t.Errorf("LastRuns[web-1] = %+v", lr)
	}
	// Its lease is gone.
	if acq, held, _ := j.AcquireLeases(ctx, j.Self(live), "web", []string{"web-1"}, time.Hour); len(acq) != 1 || len(held) != 0 {
		t.Errorf("lease of the interrupted run: acquired %v, held %v", acq, held)
	}

	// Nothing left to do the second time.
	if ids, err := j.RecoverInterrupted(ctx); err != nil || len(ids) != 0 {
		t.Errorf("second RecoverInterrupted = %v, %v", ids, err)
	}
}

// TestRecoverOtherPIDNamespace: a run recorded on this hostname from
// another pid namespace (a container sharing the hostname) cannot be
// checked by pid, so it is judged by age like a run of another machine.
func TestRecoverOtherPIDNamespace(t *testing.T) { forBackends(t, testRecoverOtherPIDNamespace) }

func testRecoverOtherPIDNamespace(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pid namespaces are Linux")
	}
	ctx, j := newT(t)
	boot, _, _ := strings.Cut(selfNS(), "/")
	var ids []int64
	for _, age := range []time.Duration{time.Hour, ForeignRunAge + time.Hour} {
		id, err := j.StartRun(ctx, &Run{Association: "web", Trigger: TriggerSchedule, Mode: ModeApply,
			StartedAt: time.Now().Add(-age), PID: 1}) // pid 1 is alive here, and means nothing
		if err != nil {
			t.Fatal(err)
		}
		if _, err := j.w.Exec(`UPDATE runs SET proc_token = ? WHERE id = ?`, boot+"/pid:[1]/1", id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	got, err := j.RecoverInterrupted(ctx)
	if err != nil || !slices.Equal(got, ids[1:]) {
		t.Errorf("recovered %v, %v; want %v", got, err, ids[1:])
	}
}

// The steps a host recorded while it ran survive the death of the
// process: RecoverInterrupted keeps them and says how many there are;
// RecordHost, when the host ends, replaces them; progress never becomes
// a host's latest execution.
func TestRecordProgressSurvivesRecovery(t *testing.T) {
	forBackends(t, testRecordProgressSurvivesRecovery)
}

func testRecordProgressSurvivesRecovery(t *testing.T) {
	ctx, j := newT(t)
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

func TestProcState(t *testing.T) {
	self := os.Getpid()
	token := procToken(self)
	if got := procState(self, token); got != alive {
		t.Errorf("this process: %v, want alive", got)
	}
	if got := procState(deadPID(t), ""); got != dead {
		t.Errorf("exited process: %v, want dead", got)
	}
	if runtime.GOOS != "linux" {
		if token != "" {
			t.Errorf("token %q outside Linux", token)
		}
		return
	}
	boot, rest, _ := strings.Cut(token, "/")
	ns, start, _ := strings.Cut(rest, "/")
	if boot == "" || !strings.HasPrefix(ns, "pid:[") || start == "" {
		t.Fatalf("token %q, want BOOT/pid:[NS]/START", token)
	}
	for name, tc := range map[string]struct {
		token string
		want  liveness
	}{
		"pid reused":          {boot + "/" + ns + "/1", dead},
		"machine rebooted":    {"another-boot/" + ns + "/" + start, dead},
		"other pid namespace": {boot + "/pid:[1]/" + start, unknown},
	} {
		if got := procState(self, tc.token); got != tc.want {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
}
