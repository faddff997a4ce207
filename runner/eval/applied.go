package eval

import (
	"fmt"
	"strings"
	"time"

	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/runner/frame"
	"github.com/driftless-dev/driftless/runner/plan"
)

// Result is what the frames of an apply say of a step.
type Result struct {
	// Status is Compliant (a recheck passed), Corrected, Success, Failed
	// or TimedOut.
	Status Status
	// Error says why the step failed, or what its success means
	// ("asked for a reboot (exit 194)").
	Error string
	// Drifted, when not "", is how the step differs: its recheck failed
	// after an earlier step was corrected.
	Drifted string
	// ExitCode is the exit status of the step's run (nil: none ran).
	ExitCode *int
	// Out is the run's output (nil: it did not report).
	Out *Output
	// Reboot, when not "", says why the host must reboot before the
	// document runs on; RebootTimeout is the step's reboot_timeout, when
	// it was the OS that asked.
	Reboot        string
	RebootTimeout time.Duration
}

// Applied is the result of the apply step a from the frames fs of its
// correction, run or recheck (in the apply script, or in the check script
// when it corrected the step). A step the script skipped (a skip frame)
// is the caller's.
func Applied(a plan.ApplyStep, fs []frame.Frame, h Host) Result {
	switch a.Step.Action {
	case documents.ActionShell, documents.ActionPowerShell:
		return appliedScript(a, fs, h)
	case documents.ActionPackage, documents.ActionService, documents.ActionPatch:
		return appliedSystem(a, fs, h)
	default:
		return appliedPath(a, fs, h)
	}
}

// stoppedEarlyRun is the error of a step whose run did not report.
const stoppedEarlyRun = "the step did not report (the script stopped early)"

// appliedScript is the result of a shell or powershell step from its
// recheck, its run's exit status and the check run after it (verify).
func appliedScript(a plan.ApplyStep, fs []frame.Frame, h Host) Result {
	s := a.Step
	var r Result
	if a.Recheck {
		if f := frame.Last(fs, frame.Recheck); f != nil && frame.Code(f) == 0 {
			return Result{Status: Compliant}
		}
		r.Drifted = "check failed after an earlier step was corrected"
	}
	run := frame.Last(fs, frame.Run)
	if run == nil {
		r.Status, r.Error = Failed, stoppedEarlyRun
		return r
	}
	code := frame.Code(run)
	r.ExitCode = &code
	r.Out = output(fs, frame.Run, h.Red)
	if len(run.Fields) > 1 && run.Fields[1] == frame.PwshMissing {
		// As the agent, which cannot start pwsh: Failed, exit code 1.
		r.Status, r.Error = Failed, "pwsh not found"
		return r
	}
	switch {
	case code == 124:
		r.Status, r.Error = TimedOut, fmt.Sprintf("timed out after %s", s.Timeout)
		if s.SSM {
			// As the agent reports a command it killed at its timeout.
			killed := ExitKilledSSM(h.PowerShell)
			r.ExitCode = &killed
		}
	case code == h.RebootCode():
		// As the SSM agent: reboot, then run the document again.
		r.Reboot = fmt.Sprintf("step %q exited %d", s.Name, code)
		r.Status, r.Error = Success, fmt.Sprintf("asked for a reboot (exit %d)", code)
	case s.SSM && code == ExitStopSuccess:
		r.Status, r.Error = Success, fmt.Sprintf("exited %d: the document stops here, successfully", code)
	case s.SSM && code == ExitStopFailure:
		r.Status, r.Error = Failed, fmt.Sprintf("exited %d: the document stops here, failed", code)
	case code != 0:
		r.Status, r.Error = Failed, fmt.Sprintf("exited %d", code)
		if s.OnFailure == "successAndExit" {
			r.Status = Success
			r.Error += " (onFailure: successAndExit)"
			if s.SSM {
				// As the agent, which reports the step's exit code as 168.
				stop := ExitStopSuccess
				r.ExitCode = &stop
			}
		}
	case s.HasCheck:
		verified(&r, s, fs, h)
	default:
		r.Status = Success
	}
	return r
}

// verified sets the result r of a script step with a check whose run
// succeeded, from the check run after it: corrected when it passes.
func verified(r *Result, s *plan.Step, fs []frame.Frame, h Host) {
	if v := frame.Last(fs, frame.Verify); v != nil && frame.Code(v) == 124 {
		r.Status, r.Error = TimedOut, fmt.Sprintf("run succeeded but its check timed out after %s", s.Timeout)
		return
	} else if v != nil && frame.Code(v) != 0 {
		r.Status = Failed
		r.Error = fmt.Sprintf("run succeeded but the check still fails (exit %d)", frame.Code(v))
		if vo := output(fs, frame.Verify, h.Red); vo != nil && vo.Stderr != "" {
			r.Out.Stderr = strings.TrimRight(r.Out.Stderr, "\n") + "\n[check]\n" + vo.Stderr
		}
		return
	}
	r.Status = Corrected
}

// appliedSystem is the result of a package, service or patch step from
// its commands' exit status and the state they left, with a reboot the
// OS needs after patching.
func appliedSystem(a plan.ApplyStep, fs []frame.Frame, h Host) Result {
	s := a.Step
	run := frame.Last(fs, frame.Run)
	if run == nil {
		return Result{Status: Failed, Error: stoppedEarlyRun}
	}
	code := frame.Code(run)
	r := Result{ExitCode: &code, Out: output(fs, frame.Run, h.Red)}
	if frame.Last(fs, frame.Reboot) != nil {
		r.Reboot = fmt.Sprintf("step %q: the OS needs a reboot after patching", s.Name)
		r.RebootTimeout = s.RebootTimeout
	}
	switch err := verifySystem(s, fs); {
	case code != 0:
		r.Status, r.Error = Failed, fmt.Sprintf("exited %d: %s", code, firstLine(lastLines(r.Out.Stderr)))
	case err != nil:
		r.Status, r.Error = Failed, err.Error()
	default:
		r.Status = Corrected
	}
	return r
}

// appliedPath is the result of a directory, file or line step from
// whether the correction reported success and the stat of the path after
// it.
func appliedPath(a plan.ApplyStep, fs []frame.Frame, h Host) Result {
	s := a.Step
	applied := frame.Last(fs, frame.Applied)
	ok := frame.Code(applied) == 1
	r := Result{Out: output(fs, frame.Applied, h.Red)}
	after := parseStat(frame.Last(fs, frame.After))
	switch {
	case applied == nil:
		r.Status, r.Error = Failed, stoppedEarlyRun
	case !ok:
		stderr := ""
		if r.Out != nil {
			stderr = r.Out.Stderr
		}
		reason := firstLine(stderr)
		if reason == "" {
			reason = fmt.Sprintf("%s was not written, and the host gave no reason", s.Path)
		}
		r.Status, r.Error = Failed, "could not correct: "+reason
	case s.Absent && s.Action != documents.ActionLine && after.kind != 0:
		r.Status, r.Error = Failed, "still present after removal"
	case (!s.Absent || s.Action == documents.ActionLine) && after.kind != 1:
		r.Status, r.Error = Failed, "missing after it was written"
	case s.Action == documents.ActionFile && !s.Absent && after.sha != a.WriteSHA():
		r.Status, r.Error = Failed, "content differs after it was written"
	case s.Action == documents.ActionLine && !s.Absent && after.sha != "-" && after.sha != plan.SHA256Hex(a.Write):
		r.Status, r.Error = Failed, "content differs after the line was written"
	default:
		r.Status = Corrected
	}
	return r
}

// lastLines keeps the end of a command's error output, where the reason
// usually is.
func lastLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
