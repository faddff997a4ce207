package eval

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/runner/frame"
	"github.com/driftless-dev/driftless/runner/plan"
	"github.com/driftless-dev/driftless/runner/powershell"
)

// Status is a step's status as its frames decide it.
type Status int

const (
	// Pending: the frames leave it to the caller (the check found the
	// step compliant, or drifted with something to apply).
	Pending Status = iota
	Compliant
	Drifted
	Corrected
	Success
	Failed
	TimedOut
)

// Host is what evaluation knows of the host and of the run so far.
type Host struct {
	// PowerShell: the host runs PowerShell scripts (Windows).
	PowerShell bool
	// Red holds the secrets kept out of diffs, output and errors.
	Red *plan.Redactor
	// Pending is the content the apply phase will leave at a path, by
	// the steps found drifted so far (nil: removed), so that a later step
	// on the same file builds on it rather than on what the check saw.
	Pending map[string]*[]byte
}

// RebootExitCode is the exit status with which a script step asks for a
// reboot on Linux and macOS (SSM's convention); RebootExitCodeWindows on
// Windows.
const (
	RebootExitCode        = 194
	RebootExitCodeWindows = 3010
)

// The exit statuses with which an SSM step stops its document (SSM's
// convention, on every platform): the step succeeded, or failed, and the
// steps after it are skipped (a finally step still runs).
const (
	ExitStopSuccess = 168
	ExitStopFailure = 169
)

// ExitKilledSSM is the exit code the SSM agent reports for a step it
// killed at its timeout (appconfig.CommandStoppedPreemptivelyExitCode in
// amazon-ssm-agent agent/appconfig/constants_unix.go: 137, 128 + SIGKILL;
// constants_windows.go: -1); driftless reports 124 for its own steps.
func ExitKilledSSM(windows bool) int {
	if windows {
		return -1
	}
	return 137
}

// RebootCode is the exit status with which a script asks for a reboot
// on h.
func (h Host) RebootCode() int {
	if h.PowerShell {
		return RebootExitCodeWindows
	}
	return RebootExitCode
}

// Output is what a command printed, redacted and with a note when it
// was truncated.
type Output struct {
	Stdout, Stderr string
}

// Verdict is what the check frames say of a step.
type Verdict struct {
	// Apply is what the apply phase writes or runs for the step.
	Apply plan.ApplyStep
	// Status is Pending, or the step's final status (Failed, TimedOut, or
	// Drifted for a patch scan that finds updates and installs none).
	Status Status
	// Drifted: the step is out of state.
	Drifted bool
	// Differ is how it differs (diffs, "check exited 1").
	Differ string
	// Error says why the step failed or timed out.
	Error string
	// ExitCode is the check's exit status, when it says the step drifted.
	ExitCode *int
	// Out is the check's output, when it is the step's (nil: none).
	Out *Output
}

// Check decides from the check frames fs of step s whether it drifted,
// and what the apply phase must do.
func Check(s *plan.Step, fs []frame.Frame, h Host) Verdict {
	v := Verdict{Apply: plan.ApplyStep{Step: s, Mode: s.Mode}}
	switch s.Action {
	case documents.ActionShell, documents.ActionPowerShell:
		return checkScript(v, fs, h)
	case documents.ActionDirectory, documents.ActionFile, documents.ActionLine:
		return checkPath(v, fs, h)
	case documents.ActionPackage, documents.ActionService, documents.ActionPatch:
		return checkSystem(v, fs, h)
	default: // the other values need nothing here
	}
	return failed(v, h, "unexpected action %s", s.Action)
}

// failed makes v a failure with the message format and args make.
func failed(v Verdict, h Host, format string, args ...any) Verdict {
	v.Status, v.Error = Failed, h.Red.Redact(fmt.Sprintf(format, args...))
	return v
}

// stoppedEarly is the error of a step whose check did not report.
const stoppedEarly = "the check did not report (the script stopped early)"

// checkScript evaluates a shell or powershell step from its check's
// exit status: drifted when the check exited non-zero.
func checkScript(v Verdict, fs []frame.Frame, h Host) Verdict {
	s := v.Apply.Step
	if !s.HasCheck {
		return v
	}
	f := frame.Last(fs, frame.Check)
	if f == nil {
		return failed(v, h, stoppedEarly)
	}
	code := frame.Code(f)
	switch {
	case code == 124:
		v.Out = output(fs, frame.Check, h.Red)
		v.Status, v.Error = TimedOut, fmt.Sprintf("check timed out after %s", s.Timeout)
	case code != 0:
		v.Out = output(fs, frame.Check, h.Red)
		v.ExitCode = &code
		v.Drifted, v.Differ = true, fmt.Sprintf("check exited %d", code)
	}
	return v
}

// checkPath evaluates a directory, file or line step from the stat of
// its path (and the file's content): drifted when the path's kind,
// content, mode, owner or group is not the one wanted.
func checkPath(v Verdict, fs []frame.Frame, h Host) Verdict {
	s := v.Apply.Step
	st := parseStat(frame.Last(fs, frame.Stat))
	if st.kind < 0 {
		return failed(v, h, stoppedEarly)
	}
	if s.Absent && s.Action != documents.ActionLine {
		if st.kind != 0 {
			v.Drifted, v.Differ = true, "present, should be absent"
		}
		return v
	}
	want := "directory"
	if s.Action != documents.ActionDirectory {
		want = "regular file"
	}
	if st.kind == 2 {
		return failed(v, h, "%s exists but is not a %s", s.Path, want)
	}
	var diffs []string
	switch s.Action {
	case documents.ActionFile:
		v.Apply.Write = s.Content
		diffs = fileDiffs(s, st, fs, h.Pending, h.Red)
		if v.Apply.Mode == "" && st.kind == 1 && st.mode != "-" {
			v.Apply.Mode = st.mode // no mode declared: the file keeps its own
		}
	case documents.ActionLine:
		var inState bool
		var err error
		diffs, inState, err = lineDiffs(&v.Apply, &st, fs, h.Pending, h.Red)
		if err != nil {
			return failed(v, h, "%v", err)
		}
		if inState {
			return v
		}
	case documents.ActionDirectory:
		if st.kind != 1 {
			diffs = append(diffs, missingOrLink(st))
		}
	default: // the other values need nothing here
	}
	if st.kind == 1 {
		diffs = append(diffs, attrDiffs(s, st)...)
	}
	if len(diffs) > 0 {
		v.Drifted, v.Differ = true, h.Red.Redact(strings.Join(diffs, "\n"))
	}
	return v
}

// checkSystem evaluates a package, service or patch step: the commands
// that would correct it, and whether it drifted. A patch scan that finds
// pending updates is final: drifted, with nothing to apply.
func checkSystem(v Verdict, fs []frame.Frame, h Host) Verdict {
	s := v.Apply.Step
	cmds, differ, drifted, err := evaluateSystem(s, fs, h.PowerShell)
	if err != nil {
		return failed(v, h, "%v", err)
	}
	v.Apply.Commands = cmds
	if drifted {
		v.Drifted, v.Differ = true, h.Red.Redact(differ)
		if s.Action == documents.ActionPatch && !s.PatchInstall {
			// A scan reports pending updates; it never installs.
			v.Status = Drifted
		}
	}
	return v
}

// CorrectedByCheck reports whether the check script (in apply mode)
// already corrected s, so that its frames hold the correction's result
// too.
func CorrectedByCheck(s *plan.Step, fs []frame.Frame) bool {
	switch s.Action {
	case documents.ActionShell:
		return s.HasCheck && frame.Last(fs, frame.Run) != nil
	case documents.ActionFile, documents.ActionDirectory, documents.ActionLine:
		return frame.Last(fs, frame.Applied) != nil
	default: // the other values need nothing here
	}
	return false
}

// output is the output in the payload frames that follow the last frame
// of kind after (nil: there is no such frame), redacted by red.
func output(fs []frame.Frame, after frame.Kind, red *plan.Redactor) *Output {
	var o *Output
	seen := false
	for _, f := range fs {
		if f.Kind == after {
			seen, o = true, &Output{}
			continue
		}
		if !seen {
			continue
		}
		switch f.Kind {
		case "out":
			o.Stdout = red.Redact(withMarker(f))
		case "err":
			o.Stderr = red.Redact(withMarker(f))
		default:
			seen = false // the payloads of another report follow
		}
	}
	return o
}

func withMarker(f frame.Frame) string {
	s := string(f.Payload)
	if f.Size > int64(len(f.Payload)) {
		s += fmt.Sprintf("\n[driftless: output truncated, %d bytes omitted]", f.Size-int64(len(f.Payload)))
	}
	return s
}

// kindLink is the kind of a path that is a symlink, in a stat frame of a
// step that does not follow it.
const kindLink = 3

// stat is what a stat frame says about a path.
type stat struct {
	kind               int // 0 missing, 1 as expected, 2 something else, 3 a symlink (kindLink)
	sha                string
	mode, owner, group string
	size               int64
}

func parseStat(f *frame.Frame) stat {
	if f == nil || len(f.Fields) == 0 {
		return stat{kind: -1}
	}
	st := stat{}
	st.kind, _ = strconv.Atoi(f.Fields[0])
	if st.kind == 1 && len(f.Fields) >= 6 {
		st.sha, st.mode, st.owner, st.group = f.Fields[1], f.Fields[2], powershell.UnescapeField(f.Fields[3]), powershell.UnescapeField(f.Fields[4])
		st.size, _ = strconv.ParseInt(f.Fields[5], 10, 64)
	}
	return st
}
