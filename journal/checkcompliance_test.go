package journal

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A check run cannot run a step without a check (every SSM command step):
// it records it Skipped (no-check), and the association's compliance for
// that step stays what the last apply left: an apply that failed it keeps
// the host NON_COMPLIANT through later checks, until an apply succeeds.
func TestCheckKeepsTheLastApplysFailure(t *testing.T) {
	ctx := context.Background()
	j := openT(t, tempPath(t))
	at := base
	run := func(mode Mode, hostName string, status Status, steps ...StepResult) {
		id := startRunT(t, j, "ssm", mode, at)
		recordT(t, j, host(id, hostName, status, at, steps...))
		finishT(t, j, id, status, at.Add(time.Second))
		at = at.Add(time.Minute)
	}
	compliance := func() (string, string) {
		rows, err := j.Status(ctx, StatusFilter{Association: "ssm"})
		if err != nil || len(rows) != 1 {
			t.Fatalf("status: %v %+v", err, rows)
		}
		return rows[0].Compliance, rows[0].Error
	}
	run(ModeApply, "h", StatusFailed, step(0, StatusCompliant), step(1, StatusFailed))
	run(ModeCheck, "h", StatusSuccess, step(0, StatusCompliant), skipped(1, SkipNoCheck))
	if c, e := compliance(); c != NonCompliant || !strings.Contains(e, `step "step-1" did not succeed in the last apply`) {
		t.Errorf("after a failed apply and a check: %s %q", c, e)
	}
	// A check that finds drift is non-compliant on its own.
	run(ModeCheck, "h", StatusSuccess, step(0, StatusDrifted), skipped(1, SkipNoCheck))
	if c, _ := compliance(); c != NonCompliant {
		t.Errorf("drifted check: %s", c)
	}
	run(ModeApply, "h", StatusSuccess, step(0, StatusCompliant), step(1, StatusSuccess))
	run(ModeCheck, "h", StatusSuccess, step(0, StatusCompliant), skipped(1, SkipNoCheck))
	if c, e := compliance(); c != Compliant {
		t.Errorf("after a good apply and a check: %s %q", c, e)
	}
}
