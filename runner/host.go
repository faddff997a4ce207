package runner

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
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
	for _, s := range h.steps {
		h.results[s.idx] = journal.StepResult{Index: s.idx, Name: s.name, Action: s.kind}
	}
	marker := newMarker()
	started := time.Now()
	check, apply := checkScript, applyScript
	if !h.check {
		check = checkRunScript
	}
	if shellOf(h.conn) == ShellPowerShell {
		check, apply = checkScriptPS, applyScriptPS
	}
	frames, err := h.script(ctx, marker, check(marker, h.steps))
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
			continue
		}
		a, drifted, ok := h.evaluate(s, fs)
		if !ok {
			continue // evaluate set a final status
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
			todo = append(todo, a)
			continue
		}
		r.Status = journal.StatusCompliant
		if len(todo) > 0 && isScript(s) && s.hasCheck {
			// An earlier correction may change what this check sees.
			todo = append(todo, applyStep{s: s, recheck: true})
		}
	}
	if len(todo) == 0 || h.check {
		return nil
	}
	marker = newMarker()
	applyStarted := time.Now()
	frames, err = h.script(ctx, marker, apply(marker, todo))
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

func (h *hostRun) script(ctx context.Context, marker, script string) ([]frame, error) {
	fw := newFrameWriter(marker)
	var stderr bytes.Buffer
	// The script travels on stdin, never on a command line: other users
	// of the host can read command lines (ps), and the script holds
	// parameter values and file contents. The shell reads all of it
	// before running any of it, so no step can eat the script.
	slog.Debug("script", "bytes", len(script))
	cmd := &Command{Script: stdinScript, Stdin: strings.NewReader(script), Stdout: fw, Stderr: &limitedBuffer{b: &stderr, n: 64 << 10}}
	if shellOf(h.conn) == ShellPowerShell {
		cmd.Script, cmd.Stdin = psStdinScript, psStdin(script)
	}
	code, err := h.conn.Run(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return nil, fmt.Errorf("the driftless script failed with exit code %d: %s", code, h.red.redact(strings.TrimSpace(stderr.String())))
	}
	return fw.frames, nil
}

// stdinScript runs the script sent on stdin.
const stdinScript = `eval "$(cat)"`

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
		if s.absent {
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
			} else if st.sha != sha(s.content) {
				if cur := find(fs, "cur"); cur != nil && s.contentText && cur.size == int64(len(cur.payload)) {
					diffs = append(diffs, unified(s.path, string(cur.payload), string(s.content)))
				} else {
					diffs = append(diffs, fmt.Sprintf("content differs (%d bytes, want %d)", st.size, len(s.content)))
				}
			}
		case "line":
			var cur []byte
			if f := find(fs, "cur"); f != nil {
				if f.size > int64(len(f.payload)) {
					return fail("%s is larger than %d bytes: the line action edits smaller files", s.path, maxLineFile)
				}
				cur = f.payload
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
			r.Drifted = true
			r.Differ = "check failed after an earlier step was corrected"
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
			if v := find(fs, "verify"); v != nil && codeOf(v) != 0 {
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
		case s.absent && after.kind != 0:
			r.Status, r.Error = journal.StatusFailed, "still present after removal"
		case !s.absent && after.kind != 1:
			r.Status, r.Error = journal.StatusFailed, "missing after it was written"
		case s.action == "file" && after.sha != sha(a.write):
			r.Status, r.Error = journal.StatusFailed, "content differs after it was written"
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
	trailingNL := text == "" || strings.HasSuffix(text, "\n")
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if text == "" {
		lines = nil
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
		return joinLines(out, trailingNL), nil
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
		return joinLines(out, trailingNL), nil
	}
	return joinLines(append(append([]string{}, lines...), s.line), true), nil
}

func joinLines(lines []string, trailingNL bool) []byte {
	if len(lines) == 0 {
		return nil
	}
	s := strings.Join(lines, "\n")
	if trailingNL {
		s += "\n"
	}
	return []byte(s)
}
