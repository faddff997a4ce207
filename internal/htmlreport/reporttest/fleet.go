// Package reporttest records a fleet's history in a journal through the
// journal API, for the tests of the HTML report: many hosts and days in
// seconds, with the drift, corrections and failures a fleet has.
package reporttest

import (
	"context"
	"fmt"
	"time"

	"github.com/driftless-dev/driftless/journal"
)

// Association is one association of a Fleet.
type Association struct {
	Name, Severity string
	Mode           journal.Mode
}

// Fleet is the history Record writes.
type Fleet struct {
	Hosts int // named web-0001 … (db- for every tenth)
	Days  int // one run per association per day, the last at End
	End   time.Time
	// Associations default to web-baseline (HIGH, apply), ssh-hardening
	// (CRITICAL, check) and disk-report (LOW, apply).
	Associations []Association
	// Every DriftEvery-th host (default 7) drifts in some runs; every
	// FailEvery-th (default 23) fails a step in its last run.
	DriftEvery, FailEvery int
}

// Host is the name of host i.
func Host(i int) string {
	if i%10 == 9 {
		return fmt.Sprintf("db-%04d", i+1)
	}
	return fmt.Sprintf("web-%04d", i+1)
}

// Record writes f into j and waits until all of it is written.
func Record(ctx context.Context, j *journal.Journal, f Fleet) error {
	if f.DriftEvery == 0 {
		f.DriftEvery = 7
	}
	if f.FailEvery == 0 {
		f.FailEvery = 23
	}
	if f.Associations == nil {
		f.Associations = []Association{
			{"web-baseline", journal.SeverityHigh, journal.ModeApply},
			{"ssh-hardening", journal.SeverityCritical, journal.ModeCheck},
			{"disk-report", journal.SeverityLow, journal.ModeApply},
		}
	}
	for day := f.Days - 1; day >= 0; day-- {
		for ai, a := range f.Associations {
			at := f.End.Add(-time.Duration(day)*24*time.Hour - time.Duration(ai)*time.Minute)
			r := &journal.Run{Association: a.Name, Document: a.Name, DocHash: "doc", ParamsHash: "params",
				Trigger: journal.TriggerSchedule, Mode: a.Mode, Severity: a.Severity, StartedAt: at}
			id, err := j.StartRun(ctx, r)
			if err != nil {
				return fmt.Errorf("record fleet: %w", err)
			}
			status := journal.StatusSuccess
			for i := range f.Hosts {
				h := hostResult(f, a, id, i, day, ai, at)
				if h.Status != journal.StatusSuccess {
					status = journal.StatusFailed
				}
				if err := j.RecordHost(ctx, h); err != nil {
					return fmt.Errorf("record fleet: %w", err)
				}
			}
			if err := j.FinishRun(ctx, id, status, nil, at.Add(time.Minute)); err != nil {
				return fmt.Errorf("record fleet: %w", err)
			}
		}
	}
	return nil
}

func hostResult(f Fleet, a Association, run int64, i, day, ai int, at time.Time) journal.HostResult {
	name := Host(i)
	h := journal.HostResult{RunID: run, Host: name, Status: journal.StatusSuccess, DefHash: "def",
		StartedAt: at, EndedAt: at.Add(2 * time.Second)}
	for s, step := range []string{"packages", "config", "service"} {
		h.Steps = append(h.Steps, journal.StepResult{Index: s, Name: step, Action: "file", Status: journal.StatusCompliant,
			Duration: 40 * time.Millisecond, StartedAt: at})
	}
	// Some hosts drift now and then; a change rolled out by hand 9 days
	// ago made many drift at once.
	drifts := i%f.DriftEvery == ai && (day+i)%3 == 0 || day == 9 && i%5 == ai
	switch {
	case i%f.FailEvery == 1 && day == 0:
		st := &h.Steps[2]
		code := 1
		st.Status, st.Drifted, st.ExitCode = journal.StatusFailed, true, &code
		st.Differ = "service nginx: inactive (want active)"
		st.Error = "exit status 1"
		st.Stderr = "Job for nginx.service failed because the control process exited with error code.\nSee \"systemctl status nginx.service\" for details.\n"
		h.Status, h.Error = journal.StatusFailed, "step \"service\" failed"
	case drifts:
		st := &h.Steps[1]
		st.Drifted = true
		st.Status = journal.StatusCorrected
		if a.Mode == journal.ModeCheck {
			st.Status = journal.StatusDrifted
		}
		st.Differ = fmt.Sprintf("--- /etc/app/app.conf\n+++ /etc/app/app.conf (declared)\n@@ -1,3 +1,3 @@\n [server]\n-workers = %d\n+workers = 4\n listen = 0.0.0.0:8080\n", 8+i%57)
	}
	return h
}

// Hostile is text that would run script or load something if it became
// markup anywhere in the report.
const Hostile = `</script><script>alert(1);window.pwned=1</script><img src=x onerror="window.pwned=2">'"><svg onload=window.pwned=3>&amp;` + "\u2028"

// RecordHostile records one failed check at at whose association, host,
// step and everything the step recorded are Hostile.
func RecordHostile(ctx context.Context, j *journal.Journal, at time.Time) error {
	id, err := j.StartRun(ctx, &journal.Run{Association: Hostile, Document: "d", Trigger: journal.TriggerManual,
		Mode: journal.ModeCheck, Severity: journal.SeverityHigh, StartedAt: at})
	if err != nil {
		return fmt.Errorf("record hostile: %w", err)
	}
	h := journal.HostResult{RunID: id, Host: Hostile, Status: journal.StatusFailed, Error: Hostile, StartedAt: at,
		Steps: []journal.StepResult{{Index: 0, Name: Hostile, Action: Hostile, Status: journal.StatusFailed, Drifted: true,
			Differ: Hostile, Error: Hostile, Stderr: Hostile, StartedAt: at}}}
	if err := j.RecordHost(ctx, h); err != nil {
		return fmt.Errorf("record hostile: %w", err)
	}
	if err := j.FinishRun(ctx, id, journal.StatusFailed, nil, at); err != nil {
		return fmt.Errorf("record hostile: %w", err)
	}
	return nil
}
