package runner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/runner/eval"
	"github.com/driftless-dev/driftless/runner/frame"
	"github.com/driftless-dev/driftless/runner/plan"
	"github.com/driftless-dev/driftless/runner/posix"
	"github.com/driftless-dev/driftless/runner/powershell"
	"github.com/driftless-dev/driftless/transport"

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
	// guard names the association and host (posix.GuardKey): a script
	// ends an older one of the same guard still running on the host.
	guard   string
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
	// rebootStep is the step that asked for the reboot (-1: none did).
	rebootStep int
	// from is the first step this run runs: an SSM step that asked for a
	// reboot is run again after it, and the document goes on from there,
	// as the SSM agent does; the steps before keep their results from
	// prior.
	from  int
	prior []journal.StepResult
	// written is the content the apply phase will leave at a path, by
	// the steps found drifted so far (nil: removed), so that a later step
	// on the same file builds on it rather than on what the check saw.
	written map[string]*[]byte

	// mu guards results, written and live while the host runs: the
	// progress record reads them (progress.go).
	mu   sync.Mutex
	live liveState
	prog *progress // nil: nothing recorded while the host runs

	handlerState // handlers.go
}

// guardKey is the guard of association assoc on host host.
func guardKey(assoc, host string) string { return posix.GuardKey(assoc, host) }

// isScript reports whether s runs a script of its own (shell, powershell).
func isScript(s *plan.Step) bool {
	return s.Action == documents.ActionShell || s.Action == documents.ActionPowerShell
}

// RebootExitCode is the exit status with which a script step asks for a
// reboot (SSM's convention on Linux and macOS).
const RebootExitCode = eval.RebootExitCode

// todo is the steps this run runs: from h.from on, up to the handlers
// (which run after, handlers.go); h.only when set.
func (h *hostRun) todo() []*plan.Step {
	if h.only != nil {
		return h.only
	}
	return h.steps[h.from:firstHandler(h.steps)]
}

// resumeAt is where the run after a reboot starts: at the SSM step that
// asked for it (the agent runs it again and goes on), else at the start
// (a native document is run again whole: its checks find what is done).
func (h *hostRun) resumeAt() int {
	if i := h.rebootStep; i >= 0 && h.steps[i].SSM {
		return i
	}
	return 0
}

// result is the step's result record.
func (h *hostRun) result(s *plan.Step) *journal.StepResult { return &h.results[s.Idx] }

// run executes the two phases and fills h.results.
func (h *hostRun) run(ctx context.Context) error {
	started := time.Now()
	h.mu.Lock()
	h.results = fresh(h.steps)
	copy(h.results[:h.from], h.prior)
	h.rebootStep = -1
	h.written = map[string]*[]byte{}
	h.live = liveState{phase: phaseCheck, started: started}
	h.mu.Unlock()
	shell := transport.ShellOf(h.conn)
	check, apply := builders(h.check, shell)
	first := "check"
	if !h.check {
		first = "checkRun"
	}
	frames, err := h.checkPhase(ctx, cached(h.scripts, first+" "+string(shell), check))
	h.mu.Lock()
	if err != nil {
		if ctx.Err() != nil {
			// The steps that ended keep what they did.
			h.cancelled(ctx, h.steps, frames, h.checkEnded(frames, false, started))
		}
		h.mu.Unlock()
		return err
	}
	per := frame.ByStep(frames)
	took := frame.Durations(frames, started)
	for _, s := range h.todo() {
		h.results[s.Idx].Duration = took[s.Idx]
	}
	if f := per[-1]; len(f) > 0 && len(f[0].Fields) > 0 {
		h.os = f[0].Fields[0]
	}
	todo := h.decide(per, started, len(h.steps))
	done := len(todo) == 0 || h.check || h.reboot
	if !done {
		h.live = liveState{phase: phaseApply, started: time.Now(), todo: todo}
	}
	h.mu.Unlock()
	if done {
		return nil
	}
	// The check script may have changed the host (corrections, steps
	// without a check): recorded while the apply phase runs.
	h.prog.stepEnded(true)
	return h.applyAll(ctx, cached(h.scripts, "apply "+string(shell), apply), todo)
}

// decide sets the result of each step before step limit from the
// frames of the check phase, per step, and returns the steps the apply
// phase corrects or runs, in order.
func (h *hostRun) decide(per map[int][]frame.Frame, started time.Time, limit int) []plan.ApplyStep {
	var todo []plan.ApplyStep
	var stopped stop
	for _, s := range h.todo() {
		if s.Idx >= limit {
			break
		}
		r := h.result(s)
		r.StartedAt = started
		var done bool
		if done, stopped = h.precluded(s, per[s.Idx], stopped); done {
			continue
		}
		fs := per[s.Idx]
		if isScript(s) && !s.HasCheck && !h.check && frame.Last(fs, frame.Run) != nil {
			// Run by the check script: every step before it was in state.
			h.applied(plan.ApplyStep{Step: s}, fs, started)
			stopped = h.stopsAfter(s, stopped, true)
			continue
		}
		a, drifted, ok := h.evaluate(s, fs)
		if !ok {
			continue // evaluate set a final status
		}
		if drifted && !h.check && eval.CorrectedByCheck(s, fs) {
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
	if frame.Last(fs, frame.Skip) != nil {
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
	if s.SSM && r.ExitCode != nil {
		switch *r.ExitCode {
		case eval.ExitStopSuccess:
			stopped = stop{endedEarly + "exit 168)", journal.SkipExited}
		case eval.ExitStopFailure:
			stopped = stop{fmt.Sprintf("step %q exited 169 (stop the document, failed)", s.Name), journal.SkipStopped}
		}
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
				w := plan.PendingWrite(a)
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
func (h *hostRun) applyAll(ctx context.Context, build func(string, []plan.ApplyStep, plan.Resume) hostScript, todo []plan.ApplyStep) error {
	applyStarted := time.Now()
	h.mu.Lock()
	h.live = liveState{phase: phaseApply, started: applyStarted, todo: todo}
	h.mu.Unlock()
	frames, err := h.applyPhase(ctx, build, todo)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil && ctx.Err() != nil {
		// The steps that ended keep what they did.
		items := make([]*plan.Step, len(todo))
		for i, a := range todo {
			items[i] = a.Step
		}
		h.cancelled(ctx, items, frames, h.applyEnded(todo, frames, false, applyStarted))
		return err
	}
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
func (h *hostRun) checkPhase(ctx context.Context, build func(string, []*plan.Step, plan.Resume) hostScript) ([]frame.Frame, error) {
	return resumable(ctx, h, h.todo(), func(s *plan.Step) int { return s.Idx }, build,
		func(timedOut, *plan.Step, plan.Resume) ([]frame.Frame, plan.Resume) {
			return nil, plan.Resume{Unclean: true}
		})
}

// applyPhase runs the apply script, and resumes it after a step that ran
// past its timeout as the script would have gone on after that step
// failed (its on_failure).
func (h *hostRun) applyPhase(ctx context.Context, build func(string, []plan.ApplyStep, plan.Resume) hostScript, todo []plan.ApplyStep) ([]frame.Frame, error) {
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
func resumable[T any](ctx context.Context, h *hostRun, items []T, idx func(T) int, build func(string, []T, plan.Resume) hostScript,
	next func(timedOut, T, plan.Resume) ([]frame.Frame, plan.Resume)) ([]frame.Frame, error) {
	var all []frame.Frame
	rest, st := items, plan.Resume{Salvage: -1}
	h.mu.Lock()
	h.live.done = nil
	h.mu.Unlock()
	for {
		marker := frame.NewMarker()
		frames, to, err := h.script(ctx, marker, build(marker, rest, st))
		if all == nil {
			all = frames // the first script's: no copy
		} else {
			all = append(all, frames...)
		}
		h.mu.Lock()
		h.live.done, h.live.fw, h.live.ew = all, nil, nil
		h.mu.Unlock()
		if err != nil || to == nil {
			return all, err
		}
		i := slices.IndexFunc(rest, func(x T) bool { return idx(x) == to.step })
		if i < 0 {
			return all, fmt.Errorf("step %d timed out but is not in the script", to.step)
		}
		extra, nst := next(*to, rest[i], st)
		all = append(all, extra...)
		h.mu.Lock()
		h.live.done = all
		h.mu.Unlock()
		nst.Cleanup, nst.Salvage = tmpDir(frames), -1
		if to.tag == "run" && nst.Cleanup != "" {
			nst.Salvage = to.step
		}
		rest, st = rest[i+1:], nst
		// A guarded script that follows ends what the killed command
		// started that left its process group (setsid).
		if len(rest) == 0 && st.Cleanup == "" && h.guard == "" {
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
func (h *hostRun) script(ctx context.Context, marker string, script hostScript) (frames []frame.Frame, to *timedOut, err error) {
	sctx, cancelCause := context.WithCancelCause(ctx)
	defer cancelCause(nil)
	fw, ew := frame.NewWriter(marker), frame.NewWriter(marker)
	var stderr bytes.Buffer
	ew.Loose = &limitedBuffer{b: &stderr, n: 64 << 10}
	w := &scriptWatch{h: h, cancel: cancelCause, last: -1}
	fw.OnFrame = w.onFrame
	code, err := h.conn.Run(sctx, h.command(script, fw, ew))
	w.stop()
	h.mu.Lock()
	fw.Close()
	ew.Close()
	h.mu.Unlock()
	if end := w.ended.Load(); end != nil && err != nil && ctx.Err() == nil && w.fired.Load() == nil {
		// Ended by the grace after the script's last frame: its own
		// status is in that frame.
		err, code = nil, frame.Code(end)
	}
	if t := w.fired.Load(); t != nil && ctx.Err() == nil {
		// Ours: the step's timeout, not the run's.
		h.mu.Lock()
		fw.Frames = append(fw.Frames, frame.Frame{Step: t.step, Kind: t.tag, Fields: []string{"124"}, At: time.Now()})
		h.mu.Unlock()
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

// command is how script runs on the host, its frames going to fw and ew.
// The script travels on stdin, never on a command line: other users of
// the host can read command lines (ps), and the script holds parameter
// values and file contents. The shell reads all of it before running
// any of it, so no step can eat the script.
func (h *hostRun) command(script hostScript, fw, ew *frame.Writer) *transport.Command {
	if debugOn() {
		slog.Debug("script", "bytes", script.Len())
	}
	h.mu.Lock()
	h.live.fw, h.live.ew = fw, ew
	h.mu.Unlock()
	// Large file content is streamed into it as it is sent (from its
	// source, read for this host), not built into the script.
	open := func(step int) (io.ReadCloser, error) { return h.steps[step].OpenContent() }
	cmd := &transport.Command{Stdout: lockedWriter{&h.mu, fw}, Stderr: lockedWriter{&h.mu, ew}}
	if transport.ShellOf(h.conn) == transport.ShellPowerShell {
		cmd.Script, cmd.Stdin = powershell.StdinScript, powershell.StdinStreamed(script.String(), open)
	} else {
		cmd.Script, cmd.Stdin = posix.StdinScript, posix.StdinJoined(h.guard, script.pieces, script.marker, open)
	}
	return cmd
}

// scriptWatch follows the frames of one script as they arrive, from one
// goroutine and in order: the frame before a command arms its step's
// timeout and the next one disarms it; a step that ends is told to the
// progress record; after the script's last frame the session is given
// endGrace to end.
type scriptWatch struct {
	h        *hostRun
	cancel   context.CancelCauseFunc
	timer    *time.Timer // the running step's timeout
	fired    atomic.Pointer[timedOut]
	ended    atomic.Pointer[frame.Frame]
	endTimer *time.Timer
	// The step of the last frame, and whether it may have changed the
	// host (it ran a command or wrote a path).
	last    int
	changed bool
}

func (w *scriptWatch) onFrame(f *frame.Frame) {
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	if f.Step >= 0 && f.Step != w.last {
		if w.last >= 0 {
			w.h.prog.stepEnded(w.changed) // a step ended: recorded soon
		}
		w.last, w.changed = f.Step, false
	}
	if f.Step >= 0 && (f.Kind == frame.Run || f.Kind == frame.Applied) {
		w.changed = true
	}
	if f.Step == -1 && f.Kind == frame.End {
		w.scriptEnded(f)
		return
	}
	var tag frame.Kind
	switch {
	case f.Kind == frame.SOut && len(f.Fields) > 0:
		tag = frame.Kind(f.Fields[0])
	case f.Kind == frame.Start && len(f.Fields) > 0:
		tag = frame.Kind(f.Fields[0])
	}
	if tag != "" && f.Step >= 0 && f.Step < len(w.h.steps) && w.h.steps[f.Step].Timeout > 0 {
		s := w.h.steps[f.Step] // plan numbers steps by their place
		t := &timedOut{step: f.Step, tag: tag}
		w.timer = time.AfterFunc(s.Timeout, func() {
			w.fired.Store(t)
			w.cancel(nil)
		})
	}
}

// scriptEnded handles the script's last frame.
func (w *scriptWatch) scriptEnded(f *frame.Frame) {
	if w.last >= 0 {
		w.h.prog.stepEnded(w.changed)
	}
	// The host ends soon: what only checked is recorded then, at no
	// cost; a change is recorded in any case.
	w.h.prog.idle()
	// The script is done. Something it started (a daemon a check
	// launched) may still hold the session's output open: the session
	// then ends here, shortly after.
	end := *f // f is the frame writer's, for this call only
	w.ended.Store(&end)
	w.endTimer = time.AfterFunc(endGrace, func() { w.cancel(transport.ErrScriptEnded) })
}

// stop disarms the timers once the script's session has ended.
func (w *scriptWatch) stop() {
	if w.timer != nil {
		w.timer.Stop()
	}
	if w.endTimer != nil {
		w.endTimer.Stop()
	}
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

// evalHost is what evaluation knows of the host and of the run so far.
func (h *hostRun) evalHost() eval.Host {
	return eval.Host{PowerShell: transport.ShellOf(h.conn) == transport.ShellPowerShell, Red: h.red, Pending: h.written}
}

// evaluate decides from the check frames whether s drifted, and what the
// apply phase must do (package eval), and records what it found in the
// step's result. ok is false when the step's result is already final
// (e.g. the check itself failed).
func (h *hostRun) evaluate(s *plan.Step, fs []frame.Frame) (a plan.ApplyStep, drifted, ok bool) {
	v := eval.Check(s, fs, h.evalHost())
	r := h.result(s)
	if v.Differ != "" {
		r.Differ = v.Differ
	}
	if v.Error != "" {
		r.Error = v.Error
	}
	if v.ExitCode != nil {
		r.ExitCode = v.ExitCode
	}
	if v.Out != nil {
		r.Stdout, r.Stderr = v.Out.Stdout, v.Out.Stderr
	}
	if v.Status != eval.Pending {
		r.Status, r.Drifted = status(v.Status), v.Drifted
		return v.Apply, false, false
	}
	return v.Apply, v.Drifted, true
}

// applied sets the result of a step of the apply phase from its frames.
func (h *hostRun) applied(a plan.ApplyStep, fs []frame.Frame, started time.Time) {
	r := h.result(a.Step)
	r.StartedAt = started
	if f := frame.Last(fs, frame.Skip); f != nil {
		h.appliedSkip(r, f)
		return
	}
	res := eval.Applied(a, fs, h.evalHost())
	r.Status = status(res.Status)
	if res.Error != "" {
		r.Error = res.Error
	}
	if res.Drifted != "" && !r.Drifted {
		r.Drifted, r.Differ = true, res.Drifted
	}
	if res.ExitCode != nil {
		r.ExitCode = res.ExitCode
	}
	if res.Out != nil {
		r.Stdout, r.Stderr = res.Out.Stdout, res.Out.Stderr
	}
	if res.Reboot != "" {
		h.reboot, h.rebootBy, h.rebootStep = true, res.Reboot, a.Step.Idx
		h.rebootTimeout = max(h.rebootTimeout, res.RebootTimeout)
	}
}

// status is the journal's status for an evaluation's.
func status(s eval.Status) journal.Status {
	switch s {
	case eval.Compliant:
		return journal.StatusCompliant
	case eval.Drifted:
		return journal.StatusDrifted
	case eval.Corrected:
		return journal.StatusCorrected
	case eval.Success:
		return journal.StatusSuccess
	case eval.Failed:
		return journal.StatusFailed
	case eval.TimedOut:
		return journal.StatusTimedOut
	case eval.Pending:
	}
	return ""
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
	case "exit168":
		r.SkipReason, r.Error = journal.SkipExited, endedEarly+"exit 168)"
	case "exit169":
		r.SkipReason, r.Error = journal.SkipStopped, "an earlier step exited 169 (stop the document, failed)"
	case "reboot":
		r.SkipReason, r.Error = journal.SkipStopped, "the host reboots first"
	default:
		r.SkipReason, r.Error = journal.SkipStopped, "an earlier step failed"
	}
}
