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

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/driftless-dev/driftless/journal"
)

// SkipNoCheck marks a step that has no check, in check mode: it would
// run, but check mode never changes a host. It does not make the host
// non-compliant.
const SkipNoCheck = journal.SkipNoCheck

// hostRun is one document on one host.
type hostRun struct {
	conn    Conn
	scripts *scriptCache // nil: every script is built
	steps   []*step
	check   bool // check mode
	red     *redactor
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
func isScript(s *step) bool { return s.action == "shell" || s.action == "powershell" }

// rebootCode is the exit status with which a script asks for a reboot:
// 194 on Linux and macOS, 3010 on Windows.
func (h *hostRun) rebootCode() int {
	if shellOf(h.conn) == ShellPowerShell {
		return 3010
	}
	return RebootExitCode
}

// RebootExitCode is the exit status with which a script step asks for a
// reboot (SSM's convention on Linux and macOS).
const RebootExitCode = 194

// result is the step's result record.
func (h *hostRun) result(s *step) *journal.StepResult { return &h.results[s.idx] }

// run executes the two phases and fills h.results.
func (h *hostRun) run(ctx context.Context) error {
	h.results = make([]journal.StepResult, len(h.steps))
	h.written = map[string]*[]byte{}
	for _, s := range h.steps {
		h.results[s.idx] = journal.StepResult{Index: s.idx, Name: s.name, Action: s.kind}
	}
	started := time.Now()
	check, apply := cached(h.scripts, "check", checkScript), cached(h.scripts, "apply", applyScript)
	if !h.check {
		check = cached(h.scripts, "checkRun", checkRunScript)
	}
	if shellOf(h.conn) == ShellPowerShell {
		check = cached(h.scripts, "checkPS", func(m string, steps []*step, _ scriptState) string { return checkScriptPS(m, steps) })
		apply = cached(h.scripts, "applyPS", func(m string, todo []applyStep, _ scriptState) string { return applyScriptPS(m, todo) })
	}
	frames, err := h.checkPhase(ctx, check)
	if err != nil {
		return err
	}
	per := byStep(frames)
	took := durations(frames, started)
	for _, s := range h.steps {
		h.results[s.idx].Duration = took[s.idx]
	}
	if f := per[-1]; len(f) > 0 && len(f[0].fields) > 0 {
		h.os = f[0].fields[0]
	}
	var todo []applyStep
	stopped := ""
	for _, s := range h.steps {
		r := h.result(s)
		r.StartedAt = started
		switch {
		case stopped != "" && !s.finally:
			r.Status, r.SkipReason = journal.StatusSkipped, journal.SkipStopped
			r.Error = stopped
			continue
		case s.err != nil:
			r.Status, r.Error = journal.StatusFailed, h.red.redact(s.err.Error())
			if s.onFailure == "stop" {
				stopped = fmt.Sprintf("step %q failed", s.name)
			}
			continue
		case s.skip != "":
			r.Status, r.SkipReason, r.Error = journal.StatusSkipped, journal.SkipPrecondition, s.skip
			continue
		}
		fs := per[s.idx]
		if hasKind(fs, "skip") {
			r.Status, r.SkipReason = journal.StatusSkipped, journal.SkipPrecondition
			r.Error = fmt.Sprintf("precondition: platform is %s, not %s", h.os, s.platform)
			if s.platform == "" { // a shell step on Windows, a powershell step elsewhere
				r.Error = fmt.Sprintf("the %s action does not run on %s", s.action, h.os)
			}
			continue
		}
		if isScript(s) && !s.hasCheck && !h.check && hasKind(fs, "run") {
			// Run by the check script: every step before it was in state.
			h.applied(applyStep{s: s}, fs, started)
			if st := r.Status; (st == journal.StatusFailed || st == journal.StatusTimedOut) && s.onFailure == "stop" {
				stopped = fmt.Sprintf("step %q failed", s.name)
			}
			if s.onSuccessEnd && r.Status == journal.StatusSuccess {
				stopped = "onSuccess: exit"
			}
			if h.reboot {
				stopped = "the host reboots first"
			}
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
			if st := r.Status; (st == journal.StatusFailed || st == journal.StatusTimedOut) && s.onFailure == "stop" {
				stopped = fmt.Sprintf("step %q failed", s.name)
			}
			if h.reboot {
				stopped = "the host reboots first"
			}
			continue
		}
		if drifted || (isScript(s) && !s.hasCheck) {
			r.Drifted = drifted
			if h.check {
				if drifted {
					r.Status = journal.StatusDrifted
				} else {
					r.Status, r.SkipReason = journal.StatusSkipped, SkipNoCheck
					r.Error = "no check: runs only in apply mode"
				}
				continue
			}
			if len(todo) > 0 && isScript(s) && s.hasCheck {
				// An earlier correction may have put it in state.
				a.recheck = true
			}
			if s.action == "file" || s.action == "line" {
				if s.absent && s.action == "file" {
					h.written[s.path] = nil
				} else {
					w := a.write
					h.written[s.path] = &w
				}
			}
			todo = append(todo, a)
			continue
		}
		r.Status = journal.StatusCompliant
		if len(todo) > 0 && isScript(s) && s.hasCheck {
			// An earlier correction may change what this check sees.
			todo = append(todo, applyStep{s: s, recheck: true})
		}
	}
	if len(todo) == 0 || h.check || h.reboot {
		return nil
	}
	applyStarted := time.Now()
	frames, err = h.applyPhase(ctx, apply, todo)
	if err != nil {
		for _, a := range todo {
			r := h.result(a.s)
			r.Status, r.Error = journal.StatusFailed, h.red.redact(err.Error())
			if ctx.Err() != nil {
				r.Status = journal.StatusCancelled
			}
		}
		return err
	}
	per = byStep(frames)
	took = durations(frames, applyStarted)
	for _, a := range todo {
		h.applied(a, per[a.s.idx], applyStarted)
		h.result(a.s).Duration += took[a.s.idx]
	}
	return nil
}

// timedOut says which command of which step ran past the step's
// timeout: the runner then ended the script.
type timedOut struct {
	step int
	tag  string // check, recheck, verify, run
}

// checkPhase runs the check script; when a step's command runs past its
// timeout, the step's result is a timeout (exit 124, as GNU timeout) and
// the steps after it are checked by a new script.
func (h *hostRun) checkPhase(ctx context.Context, build func(string, []*step, scriptState) string) ([]frame, error) {
	return resumable(ctx, h, h.steps, func(s *step) int { return s.idx }, build,
		func(timedOut, *step, scriptState) ([]frame, scriptState) {
			return nil, scriptState{unclean: true}
		})
}

// applyPhase runs the apply script, and resumes it after a step that ran
// past its timeout as the script would have gone on after that step
// failed (its on_failure).
func (h *hostRun) applyPhase(ctx context.Context, build func(string, []applyStep, scriptState) string, todo []applyStep) ([]frame, error) {
	return resumable(ctx, h, todo, func(a applyStep) int { return a.s.idx }, build,
		func(to timedOut, a applyStep, st scriptState) ([]frame, scriptState) {
			var extra []frame
			if to.tag == "recheck" {
				// The check that would decide whether to run timed out:
				// the step failed as if its run had.
				extra = append(extra, frame{step: to.step, kind: "run", fields: []string{"124"}, at: time.Now()})
			}
			stop := st.stop
			if stop == "" {
				switch a.s.onFailure {
				case "continue":
				case "successAndExit":
					stop = "successAndExit"
				default:
					stop = "failed"
				}
			}
			return extra, scriptState{stop: stop}
		})
}

// resumable runs the script that build makes of items and, each time a
// step runs past its timeout (the runner then ended the script), a new
// one from the item after it, in the state next gives (plus the frames it
// adds). The new script first sends what the timed-out run had printed
// (its output files) and removes the killed script's files: it runs even
// when no item is left, if there is something to send or remove.
func resumable[T any](ctx context.Context, h *hostRun, items []T, idx func(T) int, build func(string, []T, scriptState) string,
	next func(timedOut, T, scriptState) ([]frame, scriptState)) ([]frame, error) {
	var all []frame
	rest, st := items, scriptState{salvage: -1}
	for {
		marker := newMarker()
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
		nst.cleanup, nst.salvage = tmpDir(frames), -1
		if to.tag == "run" && nst.cleanup != "" {
			nst.salvage = to.step
		}
		rest, st = rest[i+1:], nst
		if len(rest) == 0 && st.cleanup == "" {
			return all, nil
		}
	}
}

// tmpDir is the temporary directory a script reported, if any.
func tmpDir(frames []frame) string {
	for _, f := range frames {
		if f.step == -1 && f.kind == "tmp" {
			return strings.Join(f.fields, " ")
		}
	}
	return ""
}

// script runs one script and returns its frames. A step's command that
// runs past the step's timeout ends the script (the transport kills it on
// the host, and all it started): to then names it, and the frames end
// with that command's result, exit status 124.
func (h *hostRun) script(ctx context.Context, marker, script string) (frames []frame, to *timedOut, err error) {
	sctx, cancelCause := context.WithCancelCause(ctx)
	cancel := func() { cancelCause(nil) }
	defer cancel()
	var (
		timer *time.Timer
		fired atomic.Pointer[timedOut]
	)
	fw, ew := newFrameWriter(marker), newFrameWriter(marker)
	var stderr bytes.Buffer
	ew.loose = &limitedBuffer{b: &stderr, n: 64 << 10}
	// Frames arrive in order from one goroutine: the frame before a
	// command arms its step's timeout, the next one disarms it.
	var ended atomic.Pointer[frame]
	var endTimer *time.Timer
	fw.onFrame = func(f *frame) {
		if timer != nil {
			timer.Stop()
			timer = nil
		}
		if f.step == -1 && f.kind == "end" {
			// The script is done. Something it started (a daemon a check
			// launched) may still hold the session's output open: the
			// session then ends here, shortly after.
			ended.Store(f)
			endTimer = time.AfterFunc(endGrace, func() { cancelCause(ErrScriptEnded) })
			return
		}
		var tag string
		switch {
		case f.kind == "sout" && len(f.fields) > 0:
			tag = f.fields[0]
		case f.kind == "start" && len(f.fields) > 0:
			tag = f.fields[0]
		}
		if tag != "" && f.step >= 0 && f.step < len(h.steps) && h.steps[f.step].timeout > 0 {
			s := h.steps[f.step] // plan numbers steps by their place
			t := &timedOut{step: f.step, tag: tag}
			timer = time.AfterFunc(s.timeout, func() {
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
	cmd := &Command{Script: stdinScript, Stdin: strings.NewReader(shellMain(script)), Stdout: fw, Stderr: ew}
	if shellOf(h.conn) == ShellPowerShell {
		cmd.Script, cmd.Stdin = psStdinScript, psStdin(script)
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
		fw.frames = append(fw.frames, frame{step: t.step, kind: t.tag, fields: []string{"124"}, at: time.Now()})
		return merge(fw.frames, ew.frames), t, nil
	}
	if err != nil {
		return merge(fw.frames, ew.frames), nil, err
	}
	if code != 0 {
		return nil, nil, fmt.Errorf("the driftless script failed with exit code %d: %s", code, h.red.redact(strings.TrimSpace(stderr.String())))
	}
	return merge(fw.frames, ew.frames), nil, nil
}

// inlined reports whether the check script corrected s (inlineFix).
func inlined(s *step, fs []frame) bool {
	switch s.action {
	case "shell":
		return s.hasCheck && hasKind(fs, "run")
	case "file", "directory", "line":
		return hasKind(fs, "applied")
	}
	return false
}

// stdinScript runs the script sent on stdin: the shell reads it from the
// pipe itself (no cat), or, where stdin is not a pipe or file that can
// be opened again, through cat.
const stdinScript = `if [ -p /dev/stdin ] || [ -f /dev/stdin ]; then . /dev/stdin; else eval "$(cat)"; fi`

// shellMain wraps a POSIX script in one function that is called once it
// is read whole: the shell parses the whole function before running any
// of it, so a script cut short in transit (a dropped connection) is a
// syntax error that runs nothing, never a truncated command; the steps
// run with stdin from /dev/null, so none can read the script.
func shellMain(script string) string {
	return "dl_main() {\n" + script + "\n}\ndl_main </dev/null\ndl_rc=$?\nprintf '\\n%s - end 0 %s\\n' \"$DLM\" $dl_rc\nexit $dl_rc\n"
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

func hasKind(fs []frame, kind string) bool { return find(fs, kind) != nil }

func find(fs []frame, kind string) *frame {
	for i := len(fs) - 1; i >= 0; i-- {
		if fs[i].kind == kind {
			return &fs[i]
		}
	}
	return nil
}

func codeOf(f *frame) int {
	if f == nil || len(f.fields) == 0 {
		return -1
	}
	n, err := strconv.Atoi(f.fields[0])
	if err != nil {
		return -1
	}
	return n
}

// output fills stdout/stderr of r from the payload frames that follow a
// frame of kind after.
func (h *hostRun) output(r *journal.StepResult, fs []frame, after string) {
	seen := false
	for _, f := range fs {
		if f.kind == after {
			seen = true
			r.Stdout, r.Stderr = "", ""
			continue
		}
		if !seen {
			continue
		}
		switch f.kind {
		case "out":
			r.Stdout = h.red.redact(withMarker(f))
		case "err":
			r.Stderr = h.red.redact(withMarker(f))
		default:
			seen = false // the payloads of another report follow
		}
	}
}

func withMarker(f frame) string {
	s := string(f.payload)
	if f.size > int64(len(f.payload)) {
		s += fmt.Sprintf("\n[driftless: output truncated, %d bytes omitted]", f.size-int64(len(f.payload)))
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

func parseStat(f *frame) stat {
	if f == nil || len(f.fields) == 0 {
		return stat{kind: -1}
	}
	st := stat{}
	st.kind, _ = strconv.Atoi(f.fields[0])
	if st.kind == 1 && len(f.fields) >= 6 {
		st.sha, st.mode, st.owner, st.group = f.fields[1], f.fields[2], unescapeField(f.fields[3]), unescapeField(f.fields[4])
		st.size, _ = strconv.ParseInt(f.fields[5], 10, 64)
	}
	return st
}

func normMode(m string) string {
	m = strings.TrimLeft(m, "0")
	if m == "" {
		return "0"
	}
	return m
}

// evaluate decides from the check frames whether s drifted, and what the
// apply phase must do. ok is false when the step's result is already
// final (e.g. the check itself failed).
func (h *hostRun) evaluate(s *step, fs []frame) (a applyStep, drifted, ok bool) {
	r := h.result(s)
	a = applyStep{s: s, mode: s.mode}
	fail := func(format string, args ...any) (applyStep, bool, bool) {
		r.Status, r.Error = journal.StatusFailed, h.red.redact(fmt.Sprintf(format, args...))
		return a, false, false
	}
	switch s.action {
	case "shell", "powershell":
		if !s.hasCheck {
			return a, false, true
		}
		f := find(fs, "check")
		if f == nil {
			return fail("the check did not report (the script stopped early)")
		}
		code := codeOf(f)
		if code == 124 {
			h.output(r, fs, "check")
			r.Status, r.Error = journal.StatusTimedOut, fmt.Sprintf("check timed out after %s", s.timeout)
			return a, false, false
		}
		if code != 0 {
			h.output(r, fs, "check")
			r.ExitCode = &code
			r.Differ = fmt.Sprintf("check exited %d", code)
			return a, true, true
		}
		return a, false, true
	case "directory", "file", "line":
		st := parseStat(find(fs, "stat"))
		if st.kind < 0 {
			return fail("the check did not report (the script stopped early)")
		}
		var diffs []string
		if s.absent && s.action != "line" {
			if st.kind != 0 {
				r.Differ = "present, should be absent"
				return a, true, true
			}
			return a, false, true
		}
		want := "directory"
		if s.action != "directory" {
			want = "regular file"
		}
		if st.kind == 2 {
			return fail("%s exists but is not a %s", s.path, want)
		}
		switch s.action {
		case "file":
			a.write = s.content
			if st.kind == 0 {
				diffs = append(diffs, "missing")
				if s.contentText {
					diffs = append(diffs, unified(s.path, "", string(s.content)))
				}
			} else if w, pending := h.written[s.path]; pending {
				// An earlier step of this apply writes this file: this
				// step, later in the document, has the last word.
				if w == nil || !bytes.Equal(*w, s.content) {
					diffs = append(diffs, "an earlier step of the document changes it")
				}
			} else if st.sha != sha(s.content) {
				if cur := find(fs, "cur"); cur != nil && s.contentText && cur.size == int64(len(cur.payload)) && len(cur.payload) <= maxDiffBytes {
					diffs = append(diffs, unified(s.path, string(cur.payload), string(s.content)))
				} else {
					diffs = append(diffs, fmt.Sprintf("content differs (%d bytes, want %d)", st.size, len(s.content)))
				}
			}
		case "line":
			var cur []byte
			w, pending := h.written[s.path]
			switch {
			case pending && w == nil:
				st.kind = 0 // an earlier step of this apply removes the file
			case pending:
				cur, st.kind = *w, 1 // edit on top of an earlier step's edit
			case codeOf(find(fs, "has")) == 1:
				return a, false, true // the host found the line in state
			default:
				if f := find(fs, "cur"); f != nil {
					if f.size > maxLineFile {
						return fail("%s is larger than %d bytes: the line action edits smaller files", s.path, maxLineFile)
					}
					cur = f.payload
				}
			}
			if s.absent && st.kind == 0 {
				break // no file, so no line
			}
			if st.kind == 0 && !s.create {
				return fail("%s does not exist (set create = true to create it)", s.path)
			}
			next, err := editLine(cur, s)
			if err != nil {
				return fail("%v", err)
			}
			if st.kind == 0 || !bytes.Equal(next, cur) {
				if st.kind == 0 {
					diffs = append(diffs, "missing")
				}
				diffs = append(diffs, unified(s.path, string(cur), string(next)))
			}
			a.write = next
			if a.mode == "" && st.kind == 1 && st.mode != "-" {
				a.mode = st.mode // keep the file's mode when rewriting it
			}
		case "directory":
			if st.kind == 0 {
				diffs = append(diffs, "missing")
			}
		}
		if st.kind == 1 {
			if s.mode != "" && st.mode != "-" && normMode(st.mode) != normMode(s.mode) {
				diffs = append(diffs, fmt.Sprintf("mode %04s -> %04s", st.mode, normMode(s.mode)))
			}
			if s.owner != "" && st.owner != s.owner {
				diffs = append(diffs, fmt.Sprintf("owner %s -> %s", st.owner, s.owner))
			}
			if s.group != "" && st.group != s.group {
				diffs = append(diffs, fmt.Sprintf("group %s -> %s", st.group, s.group))
			}
		}
		if len(diffs) > 0 {
			r.Differ = h.red.redact(strings.Join(diffs, "\n"))
			return a, true, true
		}
		return a, false, true
	case "package", "service", "patch":
		cmds, differ, drifted, err := h.evaluateSystem(s, fs)
		if err != nil {
			return fail("%v", err)
		}
		a.commands = cmds
		if drifted {
			r.Differ = h.red.redact(differ)
			if s.action == "patch" && !s.patchInstall {
				// A scan reports pending updates; it never installs.
				r.Status, r.Drifted = journal.StatusDrifted, true
				return a, false, false
			}
		}
		return a, drifted, true
	}
	return fail("unexpected action %s", s.action)
}

// applied sets the result of a step of the apply phase from its frames.
func (h *hostRun) applied(a applyStep, fs []frame, started time.Time) {
	s, r := a.s, h.result(a.s)
	r.StartedAt = started
	if f := find(fs, "skip"); f != nil {
		r.Status = journal.StatusSkipped
		reason := ""
		if len(f.fields) > 0 {
			reason = f.fields[0]
		}
		switch reason {
		case "platform":
			r.SkipReason, r.Error = journal.SkipPrecondition, "precondition: platform is "+h.os
		case "onSuccess", "successAndExit":
			r.SkipReason, r.Error = journal.SkipExited, "the document ended early ("+reason+")"
		default:
			r.SkipReason, r.Error = journal.SkipStopped, "an earlier step failed"
		}
		return
	}
	switch s.action {
	case "shell", "powershell":
		if a.recheck {
			if f := find(fs, "recheck"); f != nil && codeOf(f) == 0 {
				r.Status = journal.StatusCompliant
				return
			}
			if !r.Drifted {
				r.Drifted = true
				r.Differ = "check failed after an earlier step was corrected"
			}
		}
		run := find(fs, "run")
		if run == nil {
			r.Status, r.Error = journal.StatusFailed, "the step did not report (the script stopped early)"
			return
		}
		code := codeOf(run)
		r.ExitCode = &code
		h.output(r, fs, "run")
		switch {
		case code == 124:
			r.Status, r.Error = journal.StatusTimedOut, fmt.Sprintf("timed out after %s", s.timeout)
		case code == h.rebootCode():
			// As the SSM agent: reboot, then run the document again.
			h.reboot, h.rebootBy = true, fmt.Sprintf("step %q exited %d", s.name, code)
			r.Status, r.Error = journal.StatusSuccess, fmt.Sprintf("asked for a reboot (exit %d)", code)
		case code != 0:
			r.Status, r.Error = journal.StatusFailed, fmt.Sprintf("exited %d", code)
			if s.onFailure == "successAndExit" {
				r.Status = journal.StatusSuccess
				r.Error += " (onFailure: successAndExit)"
			}
		case s.hasCheck:
			if v := find(fs, "verify"); v != nil && codeOf(v) == 124 {
				r.Status, r.Error = journal.StatusTimedOut, fmt.Sprintf("run succeeded but its check timed out after %s", s.timeout)
				return
			} else if v != nil && codeOf(v) != 0 {
				r.Status = journal.StatusFailed
				r.Error = fmt.Sprintf("run succeeded but the check still fails (exit %d)", codeOf(v))
				vr := journal.StepResult{}
				h.output(&vr, fs, "verify")
				if vr.Stderr != "" {
					r.Stderr = strings.TrimRight(r.Stderr, "\n") + "\n[check]\n" + vr.Stderr
				}
				return
			}
			r.Status = journal.StatusCorrected
		default:
			r.Status = journal.StatusSuccess
		}
	case "package", "service", "patch":
		run := find(fs, "run")
		if run == nil {
			r.Status, r.Error = journal.StatusFailed, "the step did not report (the script stopped early)"
			return
		}
		code := codeOf(run)
		r.ExitCode = &code
		h.output(r, fs, "run")
		if find(fs, "reboot") != nil {
			h.reboot, h.rebootBy = true, fmt.Sprintf("step %q: the OS needs a reboot after patching", s.name)
			if s.rebootTimeout > h.rebootTimeout {
				h.rebootTimeout = s.rebootTimeout
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
	default:
		ok := codeOf(find(fs, "applied")) == 1
		h.output(r, fs, "applied")
		after := parseStat(find(fs, "after"))
		switch {
		case !ok:
			r.Status = journal.StatusFailed
			r.Error = "could not correct: " + firstLine(r.Stderr)
		case s.absent && s.action != "line" && after.kind != 0:
			r.Status, r.Error = journal.StatusFailed, "still present after removal"
		case (!s.absent || s.action == "line") && after.kind != 1:
			r.Status, r.Error = journal.StatusFailed, "missing after it was written"
		case s.action == "file" && after.sha != sha(a.write):
			r.Status, r.Error = journal.StatusFailed, "content differs after it was written"
		case s.action == "line" && !s.absent && after.sha != "-" && after.sha != sha(a.write):
			r.Status, r.Error = journal.StatusFailed, "content differs after the line was written"
		default:
			r.Status = journal.StatusCorrected
		}
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
func editLine(cur []byte, s *step) ([]byte, error) {
	var re *regexp.Regexp
	if s.lineRe != "" {
		var err error
		if re, err = regexp.Compile(s.lineRe); err != nil {
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
		return l == s.line
	}
	if s.absent {
		out := lines[:0:0]
		for _, l := range lines {
			if !matches(l) && !(re != nil && s.line != "" && l == s.line) {
				out = append(out, l)
			}
		}
		return joinLines(out, trailingNL, nl), nil
	}
	for _, l := range lines {
		if l == s.line {
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
		if lines[last] == s.line {
			return cur, nil
		}
		out := append([]string{}, lines...)
		out[last] = s.line
		return joinLines(out, trailingNL, nl), nil
	}
	return joinLines(append(append([]string{}, lines...), s.line), true, nl), nil
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
