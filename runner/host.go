package runner

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/runner/frame"
	"github.com/driftless-dev/driftless/runner/plan"
	"github.com/driftless-dev/driftless/runner/posix"
	"github.com/driftless-dev/driftless/runner/powershell"
	"github.com/driftless-dev/driftless/transport"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/driftless-dev/driftless/journal"
)

// SkipNoCheck marks a step that has no check, in check mode: it would
// run, but check mode never changes a host. It does not make the host
// non-compliant.
const SkipNoCheck = journal.SkipNoCheck

// hostRun is one document on one host.
type hostRun struct {
	conn    transport.Conn
	scripts *scriptCache // nil: every script is built
	steps   []*plan.Step
	check   bool // check mode
	red     *plan.Redactor
	results []journal.StepResult
	os      string
	reboot  bool // a step asked for a reboot
	// rebootBy says which step asked; rebootTimeout is the longest
	// reboot_timeout of the steps that asked (0: the default).
	rebootBy      string
	rebootTimeout time.Duration
	// written is the content the apply phase will leave at a path, by
	// the steps found drifted so far (nil: removed), so that a later step
	// on the same file builds on it rather than on what the check saw.
	written map[string]*[]byte
}

// isScript reports whether s runs a script of its own (shell, powershell).
func isScript(s *plan.Step) bool {
	return s.Action == documents.ActionShell || s.Action == documents.ActionPowerShell
}

// rebootCode is the exit status with which a script asks for a reboot:
// 194 on Linux and macOS, 3010 on Windows.
func (h *hostRun) rebootCode() int {
	if transport.ShellOf(h.conn) == transport.ShellPowerShell {
		return 3010
	}
	return RebootExitCode
}

// RebootExitCode is the exit status with which a script step asks for a
// reboot (SSM's convention on Linux and macOS).
const RebootExitCode = 194

// result is the step's result record.
func (h *hostRun) result(s *plan.Step) *journal.StepResult { return &h.results[s.Idx] }

// run executes the two phases and fills h.results.
func (h *hostRun) run(ctx context.Context) error {
	h.results = make([]journal.StepResult, len(h.steps))
	h.written = map[string]*[]byte{}
	for _, s := range h.steps {
		h.results[s.Idx] = journal.StepResult{Index: s.Idx, Name: s.Name, Action: string(s.Kind)}
	}
	started := time.Now()
	shell := transport.ShellOf(h.conn)
	check, apply := builders(h.check, shell)
	first := "check"
	if !h.check {
		first = "checkRun"
	}
	check = cached(h.scripts, first+" "+string(shell), check)
	apply = cached(h.scripts, "apply "+string(shell), apply)
	frames, err := h.checkPhase(ctx, check)
	if err != nil {
		return err
	}
	per := frame.ByStep(frames)
	took := frame.Durations(frames, started)
	for _, s := range h.steps {
		h.results[s.Idx].Duration = took[s.Idx]
	}
	if f := per[-1]; len(f) > 0 && len(f[0].Fields) > 0 {
		h.os = f[0].Fields[0]
	}
	todo := h.decide(per, started)
	if len(todo) == 0 || h.check || h.reboot {
		return nil
	}
	return h.applyAll(ctx, apply, todo)
}

// decide sets the result of each step from the frames of the check
// phase, per step, and returns the steps the apply phase corrects or
// runs, in order.
func (h *hostRun) decide(per map[int][]frame.Frame, started time.Time) []plan.ApplyStep {
	var todo []plan.ApplyStep
	var stopped stop
	for _, s := range h.steps {
		r := h.result(s)
		r.StartedAt = started
		var done bool
		if done, stopped = h.precluded(s, per[s.Idx], stopped); done {
			continue
		}
		fs := per[s.Idx]
		if isScript(s) && !s.HasCheck && !h.check && hasKind(fs, frame.Run) {
			// Run by the check script: every step before it was in state.
			h.applied(plan.ApplyStep{Step: s}, fs, started)
			stopped = h.stopsAfter(s, stopped, true)
			continue
		}
		a, drifted, ok := h.evaluate(s, fs)
		if !ok {
			continue // evaluate set a final status
		}
		if drifted && !h.check && inlined(s, fs) {
			// Corrected by the check script: everything before it was in
			// state or corrected.
			r.Drifted = true
			h.applied(a, fs, started)
			stopped = h.stopsAfter(s, stopped, false)
			continue
		}
		todo = h.queue(a, drifted, todo)
	}
	return todo
}

// precluded sets the result of a step that is not evaluated: skipped
// because an earlier step stopped the document, failed before the check
// (stopped then gives the reason to stop the steps after it), or skipped
// by its precondition or platform. done says whether it did.
func (h *hostRun) precluded(s *plan.Step, fs []frame.Frame, stopped stop) (done bool, _ stop) {
	r := h.result(s)
	switch {
	case stopped.why != "" && !s.Finally:
		r.Status, r.SkipReason, r.Error = journal.StatusSkipped, stopped.reason, stopped.why
		return true, stopped
	case s.Err != nil:
		r.Status, r.Error = journal.StatusFailed, h.red.Redact(s.Err.Error())
		if s.OnFailure == "stop" {
			stopped = stop{fmt.Sprintf("step %q failed", s.Name), journal.SkipStopped}
		}
		return true, stopped
	case s.Skip != "":
		r.Status, r.SkipReason, r.Error = journal.StatusSkipped, journal.SkipPrecondition, s.Skip
		return true, stopped
	}
	if hasKind(fs, frame.Skip) {
		r.Status, r.SkipReason = journal.StatusSkipped, journal.SkipPrecondition
		r.Error = fmt.Sprintf("precondition: platform is %s, not %s", h.os, s.Platform)
		if s.Platform == "" { // a shell step on Windows, a powershell step elsewhere
			r.Error = fmt.Sprintf("the %s action does not run on %s", s.Action, h.os)
		}
		return true, stopped
	}
	return false, stopped
}

// stop says why the steps after a step are skipped (why, "" while none
// is) and with which reason: SkipStopped after a failure, SkipExited when
// the document ended early by design (SSM's onSuccess: exit and
// onFailure: successAndExit), which leaves the host compliant.
type stop struct {
	why    string
	reason string
}

// endedEarly starts why the steps after a step that ended the document
// by design are skipped.
const endedEarly = "the document ended early ("

// stopsAfter is the reason the steps after s, which the check script ran
// or corrected, do not run: s failed with on_failure stop, ended the
// document (exits: a run that succeeded with onSuccess exit), or asked
// for a reboot; stopped when none of these.
func (h *hostRun) stopsAfter(s *plan.Step, stopped stop, exits bool) stop {
	r := h.result(s)
	if r.Status.Failed() && s.OnFailure == "stop" {
		stopped = stop{fmt.Sprintf("step %q failed", s.Name), journal.SkipStopped}
	}
	if exits && s.OnSuccessEnd && r.Status == journal.StatusSuccess && (r.ExitCode == nil || *r.ExitCode == 0) {
		stopped = stop{endedEarly + "onSuccess)", journal.SkipExited}
	}
	if exits && s.OnFailure == "successAndExit" && r.Status == journal.StatusSuccess && r.ExitCode != nil && *r.ExitCode != 0 {
		stopped = stop{endedEarly + "successAndExit)", journal.SkipExited}
	}
	if h.reboot {
		stopped = stop{"the host reboots first", journal.SkipStopped}
	}
	return stopped
}

// queue sets the result of the evaluated step of a and returns todo with
// a added when the apply phase must correct or run it: drifted, or a
// script without a check (in check mode, neither runs: drifted or
// skipped). A compliant script with a check is queued for a recheck after
// an earlier correction.
func (h *hostRun) queue(a plan.ApplyStep, drifted bool, todo []plan.ApplyStep) []plan.ApplyStep {
	s, r := a.Step, h.result(a.Step)
	if drifted || (isScript(s) && !s.HasCheck) {
		r.Drifted = drifted
		if h.check {
			if drifted {
				r.Status = journal.StatusDrifted
			} else {
				r.Status, r.SkipReason = journal.StatusSkipped, SkipNoCheck
				r.Error = "no check: runs only in apply mode"
			}
			return todo
		}
		if len(todo) > 0 && isScript(s) && s.HasCheck {
			// An earlier correction may have put it in state.
			a.Recheck = true
		}
		if s.Action == documents.ActionFile || s.Action == documents.ActionLine {
			if s.Absent && s.Action == documents.ActionFile {
				h.written[s.Path] = nil
			} else {
				w := a.Write
				h.written[s.Path] = &w
			}
		}
		return append(todo, a)
	}
	r.Status = journal.StatusCompliant
	if len(todo) > 0 && isScript(s) && s.HasCheck {
		// An earlier correction may change what this check sees.
		todo = append(todo, plan.ApplyStep{Step: s, Recheck: true})
	}
	return todo
}

// applyAll runs the apply phase for todo and sets the results of its steps;
// when the script fails, they all failed (or were cancelled).
func (h *hostRun) applyAll(ctx context.Context, build func(string, []plan.ApplyStep, plan.Resume) string, todo []plan.ApplyStep) error {
	applyStarted := time.Now()
	frames, err := h.applyPhase(ctx, build, todo)
	if err != nil {
		for _, a := range todo {
			r := h.result(a.Step)
			r.Status, r.Error = journal.StatusFailed, h.red.Redact(err.Error())
			if ctx.Err() != nil {
				r.Status = journal.StatusCancelled
			}
		}
		return err
	}
	per := frame.ByStep(frames)
	took := frame.Durations(frames, applyStarted)
	for _, a := range todo {
		h.applied(a, per[a.Step.Idx], applyStarted)
		h.result(a.Step).Duration += took[a.Step.Idx]
	}
	return nil
}

// builders returns the builders of a host's first script (the check
// script; in apply mode it also corrects what it can) and of its apply
// script, for check mode or not, in the host's shell.
func builders(check bool, shell transport.Shell) (func(string, []*plan.Step, plan.Resume) string, func(string, []plan.ApplyStep, plan.Resume) string) {
	first, apply := posix.CheckScript, posix.ApplyScript
	if !check {
		first = posix.CheckRunScript
	}
	if shell == transport.ShellPowerShell {
		first = func(m string, steps []*plan.Step, _ plan.Resume) string { return powershell.CheckScript(m, steps) }
		apply = func(m string, todo []plan.ApplyStep, _ plan.Resume) string { return powershell.ApplyScript(m, todo) }
	}
	return first, apply
}

// timedOut says which command of which step ran past the step's
// timeout: the runner then ended the script.
type timedOut struct {
	step int
	tag  frame.Kind // check, recheck, verify, run
}

// checkPhase runs the check script; when a step's command runs past its
// timeout, the step's result is a timeout (exit 124, as GNU timeout) and
// the steps after it are checked by a new script.
func (h *hostRun) checkPhase(ctx context.Context, build func(string, []*plan.Step, plan.Resume) string) ([]frame.Frame, error) {
	return resumable(ctx, h, h.steps, func(s *plan.Step) int { return s.Idx }, build,
		func(timedOut, *plan.Step, plan.Resume) ([]frame.Frame, plan.Resume) {
			return nil, plan.Resume{Unclean: true}
		})
}

// applyPhase runs the apply script, and resumes it after a step that ran
// past its timeout as the script would have gone on after that step
// failed (its on_failure).
func (h *hostRun) applyPhase(ctx context.Context, build func(string, []plan.ApplyStep, plan.Resume) string, todo []plan.ApplyStep) ([]frame.Frame, error) {
	return resumable(ctx, h, todo, func(a plan.ApplyStep) int { return a.Step.Idx }, build,
		func(to timedOut, a plan.ApplyStep, st plan.Resume) ([]frame.Frame, plan.Resume) {
			var extra []frame.Frame
			if to.tag == "recheck" {
				// The check that would decide whether to run timed out:
				// the step failed as if its run had.
				extra = append(extra, frame.Frame{Step: to.step, Kind: frame.Run, Fields: []string{"124"}, At: time.Now()})
			}
			stop := st.Stop
			if stop == "" {
				switch a.Step.OnFailure {
				case "continue":
				case "successAndExit":
					stop = "successAndExit"
				default:
					stop = "failed"
				}
			}
			return extra, plan.Resume{Stop: stop}
		})
}

// resumable runs the script that build makes of items and, each time a
// step runs past its timeout (the runner then ended the script), a new
// one from the item after it, in the state next gives (plus the frames it
// adds). The new script first sends what the timed-out run had printed
// (its output files) and removes the killed script's files: it runs even
// when no item is left, if there is something to send or remove.
func resumable[T any](ctx context.Context, h *hostRun, items []T, idx func(T) int, build func(string, []T, plan.Resume) string,
	next func(timedOut, T, plan.Resume) ([]frame.Frame, plan.Resume)) ([]frame.Frame, error) {
	var all []frame.Frame
	rest, st := items, plan.Resume{Salvage: -1}
	for {
		marker := frame.NewMarker()
		frames, to, err := h.script(ctx, marker, build(marker, rest, st))
		all = append(all, frames...)
		if err != nil || to == nil {
			return all, err
		}
		i := slices.IndexFunc(rest, func(x T) bool { return idx(x) == to.step })
		if i < 0 {
			return all, fmt.Errorf("step %d timed out but is not in the script", to.step)
		}
		extra, nst := next(*to, rest[i], st)
		all = append(all, extra...)
		nst.Cleanup, nst.Salvage = tmpDir(frames), -1
		if to.tag == "run" && nst.Cleanup != "" {
			nst.Salvage = to.step
		}
		rest, st = rest[i+1:], nst
		if len(rest) == 0 && st.Cleanup == "" {
			return all, nil
		}
	}
}

// tmpDir is the temporary directory a script reported, if any.
func tmpDir(frames []frame.Frame) string {
	for _, f := range frames {
		if f.Step == -1 && f.Kind == frame.Tmp {
			return strings.Join(f.Fields, " ")
		}
	}
	return ""
}

// script runs one script and returns its frames. A step's command that
// runs past the step's timeout ends the script (the transport kills it on
// the host, and all it started): to then names it, and the frames end
// with that command's result, exit status 124.
func (h *hostRun) script(ctx context.Context, marker, script string) (frames []frame.Frame, to *timedOut, err error) {
	sctx, cancelCause := context.WithCancelCause(ctx)
	cancel := func() { cancelCause(nil) }
	defer cancel()
	var (
		timer *time.Timer
		fired atomic.Pointer[timedOut]
	)
	fw, ew := frame.NewWriter(marker), frame.NewWriter(marker)
	var stderr bytes.Buffer
	ew.Loose = &limitedBuffer{b: &stderr, n: 64 << 10}
	// Frames arrive in order from one goroutine: the frame before a
	// command arms its step's timeout, the next one disarms it.
	var ended atomic.Pointer[frame.Frame]
	var endTimer *time.Timer
	fw.OnFrame = func(f *frame.Frame) {
		if timer != nil {
			timer.Stop()
			timer = nil
		}
		if f.Step == -1 && f.Kind == frame.End {
			// The script is done. Something it started (a daemon a check
			// launched) may still hold the session's output open: the
			// session then ends here, shortly after.
			ended.Store(f)
			endTimer = time.AfterFunc(endGrace, func() { cancelCause(transport.ErrScriptEnded) })
			return
		}
		var tag frame.Kind
		switch {
		case f.Kind == frame.SOut && len(f.Fields) > 0:
			tag = frame.Kind(f.Fields[0])
		case f.Kind == frame.Start && len(f.Fields) > 0:
			tag = frame.Kind(f.Fields[0])
		}
		if tag != "" && f.Step >= 0 && f.Step < len(h.steps) && h.steps[f.Step].Timeout > 0 {
			s := h.steps[f.Step] // plan numbers steps by their place
			t := &timedOut{step: f.Step, tag: tag}
			timer = time.AfterFunc(s.Timeout, func() {
				fired.Store(t)
				cancel()
			})
		}
	}
	// The script travels on stdin, never on a command line: other users
	// of the host can read command lines (ps), and the script holds
	// parameter values and file contents. The shell reads all of it
	// before running any of it, so no step can eat the script.
	slog.Debug("script", "bytes", len(script))
	cmd := &transport.Command{Script: posix.StdinScript, Stdin: strings.NewReader(posix.Main(script)), Stdout: fw, Stderr: ew}
	if transport.ShellOf(h.conn) == transport.ShellPowerShell {
		cmd.Script, cmd.Stdin = powershell.StdinScript, powershell.Stdin(script)
	}
	code, err := h.conn.Run(sctx, cmd)
	if timer != nil {
		timer.Stop()
	}
	if endTimer != nil {
		endTimer.Stop()
	}
	fw.Close()
	ew.Close()
	if end := ended.Load(); end != nil && err != nil && ctx.Err() == nil && fired.Load() == nil {
		// Ended by the grace after the script's last frame: its own
		// status is in that frame.
		err, code = nil, codeOf(end)
	}
	if t := fired.Load(); t != nil && ctx.Err() == nil {
		// Ours: the step's timeout, not the run's.
		fw.Frames = append(fw.Frames, frame.Frame{Step: t.step, Kind: t.tag, Fields: []string{"124"}, At: time.Now()})
		return frame.Merge(fw.Frames, ew.Frames), t, nil
	}
	if err != nil {
		return frame.Merge(fw.Frames, ew.Frames), nil, err
	}
	if code != 0 {
		return nil, nil, fmt.Errorf("the driftless script failed with exit code %d: %s", code, h.red.Redact(strings.TrimSpace(stderr.String())))
	}
	return frame.Merge(fw.Frames, ew.Frames), nil, nil
}

// inlined reports whether the check script corrected s (inlineFix).
func inlined(s *plan.Step, fs []frame.Frame) bool {
	switch s.Action {
	case documents.ActionShell:
		return s.HasCheck && hasKind(fs, frame.Run)
	case documents.ActionFile, documents.ActionDirectory, documents.ActionLine:
		return hasKind(fs, frame.Applied)
	default: // the other values need nothing here
	}
	return false
}

// endGrace is how long the session may stay open after the script's
// last frame, for its output to drain.
const endGrace = 2 * time.Second

type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func hasKind(fs []frame.Frame, kind frame.Kind) bool { return find(fs, kind) != nil }

func find(fs []frame.Frame, kind frame.Kind) *frame.Frame {
	for i := len(fs) - 1; i >= 0; i-- {
		if fs[i].Kind == kind {
			return &fs[i]
		}
	}
	return nil
}

func codeOf(f *frame.Frame) int {
	if f == nil || len(f.Fields) == 0 {
		return -1
	}
	n, err := strconv.Atoi(f.Fields[0])
	if err != nil {
		return -1
	}
	return n
}

// output fills stdout/stderr of r from the payload frames that follow a
// frame of kind after.
func (h *hostRun) output(r *journal.StepResult, fs []frame.Frame, after frame.Kind) {
	seen := false
	for _, f := range fs {
		if f.Kind == after {
			seen = true
			r.Stdout, r.Stderr = "", ""
			continue
		}
		if !seen {
			continue
		}
		switch f.Kind {
		case "out":
			r.Stdout = h.red.Redact(withMarker(f))
		case "err":
			r.Stderr = h.red.Redact(withMarker(f))
		default:
			seen = false // the payloads of another report follow
		}
	}
}

func withMarker(f frame.Frame) string {
	s := string(f.Payload)
	if f.Size > int64(len(f.Payload)) {
		s += fmt.Sprintf("\n[driftless: output truncated, %d bytes omitted]", f.Size-int64(len(f.Payload)))
	}
	return s
}

// stat is what a stat frame says about a path.
type stat struct {
	kind               int // 0 missing, 1 as expected, 2 something else
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

// evaluate decides from the check frames whether s drifted, and what the
// apply phase must do. ok is false when the step's result is already
// final (e.g. the check itself failed).
func (h *hostRun) evaluate(s *plan.Step, fs []frame.Frame) (a plan.ApplyStep, drifted, ok bool) {
	a = plan.ApplyStep{Step: s, Mode: s.Mode}
	switch s.Action {
	case documents.ActionShell, documents.ActionPowerShell:
		return h.evaluateScript(a, fs)
	case documents.ActionDirectory, documents.ActionFile, documents.ActionLine:
		return h.evaluatePath(a, fs)
	case documents.ActionPackage, documents.ActionService, documents.ActionPatch:
		return h.evaluateSystemStep(a, fs)
	default: // the other values need nothing here
	}
	return h.evalFailed(a, "unexpected action %s", s.Action)
}

// evalFailed makes the step of a a failure with the message format and
// args make, for evaluate to return.
func (h *hostRun) evalFailed(a plan.ApplyStep, format string, args ...any) (plan.ApplyStep, bool, bool) {
	r := h.result(a.Step)
	r.Status, r.Error = journal.StatusFailed, h.red.Redact(fmt.Sprintf(format, args...))
	return a, false, false
}

// evaluateScript evaluates a shell or powershell step from its check's
// exit status: drifted when the check exited non-zero.
func (h *hostRun) evaluateScript(a plan.ApplyStep, fs []frame.Frame) (plan.ApplyStep, bool, bool) {
	s, r := a.Step, h.result(a.Step)
	if !s.HasCheck {
		return a, false, true
	}
	f := find(fs, frame.Check)
	if f == nil {
		return h.evalFailed(a, "the check did not report (the script stopped early)")
	}
	code := codeOf(f)
	if code == 124 {
		h.output(r, fs, frame.Check)
		r.Status, r.Error = journal.StatusTimedOut, fmt.Sprintf("check timed out after %s", s.Timeout)
		return a, false, false
	}
	if code != 0 {
		h.output(r, fs, frame.Check)
		r.ExitCode = &code
		r.Differ = fmt.Sprintf("check exited %d", code)
		return a, true, true
	}
	return a, false, true
}

// evaluatePath evaluates a directory, file or line step from the stat
// of its path (and the file's content): drifted when the path's kind,
// content, mode, owner or group is not the one wanted.
func (h *hostRun) evaluatePath(a plan.ApplyStep, fs []frame.Frame) (plan.ApplyStep, bool, bool) {
	s, r := a.Step, h.result(a.Step)
	st := parseStat(find(fs, frame.Stat))
	if st.kind < 0 {
		return h.evalFailed(a, "the check did not report (the script stopped early)")
	}
	var diffs []string
	if s.Absent && s.Action != documents.ActionLine {
		if st.kind != 0 {
			r.Differ = "present, should be absent"
			return a, true, true
		}
		return a, false, true
	}
	want := "directory"
	if s.Action != documents.ActionDirectory {
		want = "regular file"
	}
	if st.kind == 2 {
		return h.evalFailed(a, "%s exists but is not a %s", s.Path, want)
	}
	switch s.Action {
	case documents.ActionFile:
		a.Write = s.Content
		diffs = h.fileDiffs(s, st, fs)
		if a.Mode == "" && st.kind == 1 && st.mode != "-" {
			a.Mode = st.mode // no mode declared: the file keeps its own
		}
	case documents.ActionLine:
		var inState bool
		var err error
		diffs, inState, err = h.lineDiffs(&a, &st, fs)
		if err != nil {
			return h.evalFailed(a, "%v", err)
		}
		if inState {
			return a, false, true
		}
	case documents.ActionDirectory:
		if st.kind == 0 {
			diffs = append(diffs, "missing")
		}
	default: // the other values need nothing here
	}
	if st.kind == 1 {
		diffs = append(diffs, attrDiffs(s, st)...)
	}
	if len(diffs) > 0 {
		r.Differ = h.red.Redact(strings.Join(diffs, "\n"))
		return a, true, true
	}
	return a, false, true
}

// fileDiffs is how the file of step s, as st and the check frames fs
// describe it, differs from the content wanted (nothing: in state).
func (h *hostRun) fileDiffs(s *plan.Step, st stat, fs []frame.Frame) []string {
	var diffs []string
	if st.kind == 0 {
		diffs = append(diffs, "missing")
		if s.ContentText {
			diffs = append(diffs, unified(s.Path, "", string(s.Content)))
		}
	} else if w, pending := h.written[s.Path]; pending {
		// An earlier step of this apply writes this file: this
		// step, later in the document, has the last word.
		if w == nil || !bytes.Equal(*w, s.Content) {
			diffs = append(diffs, "an earlier step of the document changes it")
		}
	} else if st.sha != plan.SHA256Hex(s.Content) {
		if cur := find(fs, frame.Cur); cur != nil && s.ContentText && cur.Size == int64(len(cur.Payload)) && len(cur.Payload) <= plan.MaxDiffBytes {
			diffs = append(diffs, unified(s.Path, string(cur.Payload), string(s.Content)))
		} else {
			diffs = append(diffs, fmt.Sprintf("content differs (%d bytes, want %d)", st.size, len(s.Content)))
		}
	}
	return diffs
}

// lineDiffs is how the file of the line step of a differs from the file
// with the line edited in (nothing: in state), and sets what a writes
// and the mode it keeps. It builds on an earlier step's pending write of
// the file, which it records in st's kind. inState is true when the host
// found the line in state.
func (h *hostRun) lineDiffs(a *plan.ApplyStep, st *stat, fs []frame.Frame) (diffs []string, inState bool, err error) {
	s := a.Step
	var cur []byte
	w, pending := h.written[s.Path]
	switch {
	case pending && w == nil:
		st.kind = 0 // an earlier step of this apply removes the file
	case pending:
		cur, st.kind = *w, 1 // edit on top of an earlier step's edit
	case codeOf(find(fs, frame.Has)) == 1:
		return nil, true, nil // the host found the line in state
	default:
		if f := find(fs, frame.Cur); f != nil {
			if f.Size > frame.MaxFile {
				return nil, false, fmt.Errorf("%s is larger than %d bytes: the line action edits smaller files", s.Path, frame.MaxFile)
			}
			cur = f.Payload
		}
	}
	if s.Absent && st.kind == 0 {
		return nil, false, nil // no file, so no line
	}
	if st.kind == 0 && !s.Create {
		return nil, false, fmt.Errorf("%s does not exist (set create = true to create it)", s.Path)
	}
	next, err := editLine(cur, s)
	if err != nil {
		return nil, false, err
	}
	if st.kind == 0 || !bytes.Equal(next, cur) {
		if st.kind == 0 {
			diffs = append(diffs, "missing")
		}
		diffs = append(diffs, unified(s.Path, string(cur), string(next)))
	}
	a.Write = next
	if a.Mode == "" && st.kind == 1 && st.mode != "-" {
		a.Mode = st.mode // keep the file's mode when rewriting it
	}
	return diffs, false, nil
}

// attrDiffs is how the mode, owner and group of the path of s, as st
// says, differ from those s wants.
func attrDiffs(s *plan.Step, st stat) []string {
	var diffs []string
	if s.Mode != "" && st.mode != "-" && plan.NormMode(st.mode) != plan.NormMode(s.Mode) {
		diffs = append(diffs, fmt.Sprintf("mode %04s -> %04s", st.mode, plan.NormMode(s.Mode)))
	}
	if s.Owner != "" && st.owner != s.Owner {
		diffs = append(diffs, fmt.Sprintf("owner %s -> %s", st.owner, s.Owner))
	}
	if s.Group != "" && st.group != s.Group {
		diffs = append(diffs, fmt.Sprintf("group %s -> %s", st.group, s.Group))
	}
	return diffs
}

// evaluateSystemStep evaluates a package, service or patch step: the
// commands that would correct it, and whether it drifted. A patch scan
// that finds pending updates is final: drifted, with nothing to apply.
func (h *hostRun) evaluateSystemStep(a plan.ApplyStep, fs []frame.Frame) (plan.ApplyStep, bool, bool) {
	s, r := a.Step, h.result(a.Step)
	cmds, differ, drifted, err := h.evaluateSystem(s, fs)
	if err != nil {
		return h.evalFailed(a, "%v", err)
	}
	a.Commands = cmds
	if drifted {
		r.Differ = h.red.Redact(differ)
		if s.Action == documents.ActionPatch && !s.PatchInstall {
			// A scan reports pending updates; it never installs.
			r.Status, r.Drifted = journal.StatusDrifted, true
			return a, false, false
		}
	}
	return a, drifted, true
}

// applied sets the result of a step of the apply phase from its frames.
func (h *hostRun) applied(a plan.ApplyStep, fs []frame.Frame, started time.Time) {
	r := h.result(a.Step)
	r.StartedAt = started
	if f := find(fs, frame.Skip); f != nil {
		h.appliedSkip(r, f)
		return
	}
	switch a.Step.Action {
	case documents.ActionShell, documents.ActionPowerShell:
		h.appliedScript(a, fs)
	case documents.ActionPackage, documents.ActionService, documents.ActionPatch:
		h.appliedSystem(a, fs)
	default:
		h.appliedPath(a, fs)
	}
}

// appliedSkip sets the result r of a step the apply script skipped, from
// the reason its skip frame f gives.
func (h *hostRun) appliedSkip(r *journal.StepResult, f *frame.Frame) {
	r.Status = journal.StatusSkipped
	reason := ""
	if len(f.Fields) > 0 {
		reason = f.Fields[0]
	}
	switch reason {
	case "platform":
		r.SkipReason, r.Error = journal.SkipPrecondition, "precondition: platform is "+h.os
	case "onSuccess", "successAndExit":
		r.SkipReason, r.Error = journal.SkipExited, endedEarly+reason+")"
	default:
		r.SkipReason, r.Error = journal.SkipStopped, "an earlier step failed"
	}
}

// appliedScript sets the result of a shell or powershell step from its
// recheck, its run's exit status and the check run after it (verify).
func (h *hostRun) appliedScript(a plan.ApplyStep, fs []frame.Frame) {
	s, r := a.Step, h.result(a.Step)
	if a.Recheck {
		if f := find(fs, frame.Recheck); f != nil && codeOf(f) == 0 {
			r.Status = journal.StatusCompliant
			return
		}
		if !r.Drifted {
			r.Drifted = true
			r.Differ = "check failed after an earlier step was corrected"
		}
	}
	run := find(fs, frame.Run)
	if run == nil {
		r.Status, r.Error = journal.StatusFailed, "the step did not report (the script stopped early)"
		return
	}
	code := codeOf(run)
	r.ExitCode = &code
	h.output(r, fs, frame.Run)
	switch {
	case code == 124:
		r.Status, r.Error = journal.StatusTimedOut, fmt.Sprintf("timed out after %s", s.Timeout)
	case code == h.rebootCode():
		// As the SSM agent: reboot, then run the document again.
		h.reboot, h.rebootBy = true, fmt.Sprintf("step %q exited %d", s.Name, code)
		r.Status, r.Error = journal.StatusSuccess, fmt.Sprintf("asked for a reboot (exit %d)", code)
	case code != 0:
		r.Status, r.Error = journal.StatusFailed, fmt.Sprintf("exited %d", code)
		if s.OnFailure == "successAndExit" {
			r.Status = journal.StatusSuccess
			r.Error += " (onFailure: successAndExit)"
		}
	case s.HasCheck:
		h.verified(s, fs)
	default:
		r.Status = journal.StatusSuccess
	}
}

// verified sets the result of a script step with a check whose run
// succeeded, from the check run after it: corrected when it passes.
func (h *hostRun) verified(s *plan.Step, fs []frame.Frame) {
	r := h.result(s)
	if v := find(fs, frame.Verify); v != nil && codeOf(v) == 124 {
		r.Status, r.Error = journal.StatusTimedOut, fmt.Sprintf("run succeeded but its check timed out after %s", s.Timeout)
		return
	} else if v != nil && codeOf(v) != 0 {
		r.Status = journal.StatusFailed
		r.Error = fmt.Sprintf("run succeeded but the check still fails (exit %d)", codeOf(v))
		vr := journal.StepResult{}
		h.output(&vr, fs, frame.Verify)
		if vr.Stderr != "" {
			r.Stderr = strings.TrimRight(r.Stderr, "\n") + "\n[check]\n" + vr.Stderr
		}
		return
	}
	r.Status = journal.StatusCorrected
}

// appliedSystem sets the result of a package, service or patch step from
// its commands' exit status and the state they left, and records a
// reboot the OS needs after patching.
func (h *hostRun) appliedSystem(a plan.ApplyStep, fs []frame.Frame) {
	s, r := a.Step, h.result(a.Step)
	run := find(fs, frame.Run)
	if run == nil {
		r.Status, r.Error = journal.StatusFailed, "the step did not report (the script stopped early)"
		return
	}
	code := codeOf(run)
	r.ExitCode = &code
	h.output(r, fs, frame.Run)
	if find(fs, frame.Reboot) != nil {
		h.reboot, h.rebootBy = true, fmt.Sprintf("step %q: the OS needs a reboot after patching", s.Name)
		if s.RebootTimeout > h.rebootTimeout {
			h.rebootTimeout = s.RebootTimeout
		}
	}
	switch err := verifySystem(s, fs); {
	case code != 0:
		r.Status, r.Error = journal.StatusFailed, fmt.Sprintf("exited %d: %s", code, firstLine(lastLines(r.Stderr)))
	case err != nil:
		r.Status, r.Error = journal.StatusFailed, err.Error()
	default:
		r.Status = journal.StatusCorrected
	}
}

// appliedPath sets the result of a directory, file or line step from
// whether the correction reported success and the stat of the path after
// it.
func (h *hostRun) appliedPath(a plan.ApplyStep, fs []frame.Frame) {
	s, r := a.Step, h.result(a.Step)
	ok := codeOf(find(fs, frame.Applied)) == 1
	h.output(r, fs, frame.Applied)
	after := parseStat(find(fs, frame.After))
	switch {
	case !ok:
		r.Status = journal.StatusFailed
		r.Error = "could not correct: " + firstLine(r.Stderr)
	case s.Absent && s.Action != documents.ActionLine && after.kind != 0:
		r.Status, r.Error = journal.StatusFailed, "still present after removal"
	case (!s.Absent || s.Action == documents.ActionLine) && after.kind != 1:
		r.Status, r.Error = journal.StatusFailed, "missing after it was written"
	case s.Action == documents.ActionFile && !s.Absent && after.sha != plan.SHA256Hex(a.Write):
		r.Status, r.Error = journal.StatusFailed, "content differs after it was written"
	case s.Action == documents.ActionLine && !s.Absent && after.sha != "-" && after.sha != plan.SHA256Hex(a.Write):
		r.Status, r.Error = journal.StatusFailed, "content differs after the line was written"
	default:
		r.Status = journal.StatusCorrected
	}
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

// unified is a unified diff of a text file's old and new content.
func unified(path, old, new string) string {
	return udiff.Unified(path+" (on host)", path+" (wanted)", old, new)
}

// editLine returns the content of a file after the line step: the last
// line matching regexp (or equal to line) replaced by line, or line
// appended; with state = "absent", matching lines removed.
func editLine(cur []byte, s *plan.Step) ([]byte, error) {
	var re *regexp.Regexp
	if s.LineRe != "" {
		var err error
		if re, err = regexp.Compile(s.LineRe); err != nil {
			return nil, fmt.Errorf("regexp: %w", err)
		}
	}
	text := string(cur)
	// A file whose first line ends in CRLF (Windows) keeps CRLF: lines
	// are compared without their CR, and written back with it.
	nl := "\n"
	if i := strings.IndexByte(text, '\n'); i > 0 && text[i-1] == '\r' {
		nl = "\r\n"
	}
	trailingNL := text == "" || strings.HasSuffix(text, "\n")
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if text == "" {
		lines = nil
	}
	if nl == "\r\n" {
		for i := range lines {
			lines[i] = strings.TrimSuffix(lines[i], "\r")
		}
	}
	matches := func(l string) bool {
		if re != nil {
			return re.MatchString(l)
		}
		return l == s.Line
	}
	if s.Absent {
		out := lines[:0:0]
		for _, l := range lines {
			if !matches(l) && !(re != nil && s.Line != "" && l == s.Line) {
				out = append(out, l)
			}
		}
		return joinLines(out, trailingNL, nl), nil
	}
	for _, l := range lines {
		if l == s.Line {
			if re == nil {
				return cur, nil
			}
		}
	}
	last := -1
	for i, l := range lines {
		if matches(l) {
			last = i
		}
	}
	if last >= 0 {
		if lines[last] == s.Line {
			return cur, nil
		}
		out := append([]string{}, lines...)
		out[last] = s.Line
		return joinLines(out, trailingNL, nl), nil
	}
	return joinLines(append(append([]string{}, lines...), s.Line), true, nl), nil
}

func joinLines(lines []string, trailingNL bool, nl string) []byte {
	if len(lines) == 0 {
		return nil
	}
	s := strings.Join(lines, nl)
	if trailingNL {
		s += nl
	}
	return []byte(s)
}
