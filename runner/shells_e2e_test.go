package runner_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/internal/configtest"
	"github.com/driftless-dev/driftless/internal/shelltest"
	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner"
	"github.com/driftless-dev/driftless/transport"
)

// shellConn runs the runner's scripts on this machine under one shell
// (argv, then the script, as local runs /bin/sh -c), with HOME and TMPDIR
// of its own and a UTF-8 locale, in a process group that is killed as a
// whole when the context ends.
type shellConn struct {
	argv      []string
	home, tmp string
}

var _ transport.Conn = (*shellConn)(nil)

func (c *shellConn) Run(ctx context.Context, cmd *transport.Command) (int, error) {
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	x := exec.Command(c.argv[0], append(c.argv[1:], cmd.Script)...)
	var env []string
	for _, kv := range os.Environ() {
		// Nothing of this machine's shell start-up files.
		if k, _, _ := strings.Cut(kv, "="); k != "ENV" && k != "BASH_ENV" && k != "ZDOTDIR" {
			env = append(env, kv)
		}
	}
	x.Env = append(env, "HOME="+c.home, "TMPDIR="+c.tmp, "LC_ALL=C.UTF-8")
	x.Stdin, x.Stdout, x.Stderr = cmd.Stdin, cmd.Stdout, cmd.Stderr
	x.WaitDelay = 2 * time.Second
	x.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := x.Start(); err != nil {
		return -1, err
	}
	waited := make(chan error, 1)
	go func() { waited <- x.Wait() }()
	var err error
	select {
	case err = <-waited:
	case <-ctx.Done():
		_ = syscall.Kill(-x.Process.Pid, syscall.SIGKILL)
		<-waited
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return -1, fmt.Errorf("%s: %w: %w", c.argv[0], transport.ErrTimeout, ctx.Err())
		}
		return -1, fmt.Errorf("%s: %w", c.argv[0], ctx.Err())
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return exit.ExitCode(), nil
	}
	return 0, err
}

func (c *shellConn) Close() error { return nil }

// shellHost is one shell's host: a home directory, a private TMPDIR and
// the config whose associations run on it.
type shellHost struct {
	sh   shelltest.Shell
	conn *shellConn
	cfg  *config.Config
}

func newShellHost(t *testing.T, sh shelltest.Shell, files map[string]string) *shellHost {
	t.Helper()
	shelltest.RequireShell(t, sh)
	cfg, _ := configtest.Dir(t, t.TempDir(), files)
	return &shellHost{sh: sh, cfg: cfg, conn: &shellConn{argv: sh.Argv, home: t.TempDir(), tmp: t.TempDir()}}
}

// run runs the association named assoc (in check mode when check) and
// returns the host's result.
func (h *shellHost) run(t *testing.T, assoc string, check bool) journal.HostResult {
	t.Helper()
	var a *config.Association
	for _, x := range h.cfg.Associations {
		if x.Name == assoc {
			a = x
		}
	}
	if a == nil {
		t.Fatalf("no association %s", assoc)
	}
	r := runner.New(runner.Options{Config: h.cfg, Dial: func(context.Context, *inventory.Host) (transport.Conn, error) {
		return h.conn, nil
	}})
	defer r.Close()
	res, err := r.Run(context.Background(), runner.Job{Assoc: a, Check: check})
	if err != nil {
		t.Fatal(err)
	}
	// The script's private files are gone, whatever the shell.
	if left := shelltest.Leftovers(h.conn.tmp); len(left) != 0 {
		t.Errorf("%s: left in TMPDIR: %v", h.sh.Name, left)
	}
	return res.Hosts[0]
}

// describe is everything a host result says that does not depend on the
// clock or on where the host's home is: what must be identical under
// every shell.
func (h *shellHost) describe(r journal.HostResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "host %s %q\n", r.Status, r.Error)
	for _, s := range r.Steps {
		code := "-"
		if s.ExitCode != nil {
			code = fmt.Sprint(*s.ExitCode)
		}
		fmt.Fprintf(&b, "%d %s %s %s skip=%q drifted=%v exit=%s\n\tdiffer %q\n\tstdout %q\n\tstderr %q\n\terror %q\n",
			s.Index, s.Name, s.Action, s.Status, s.SkipReason, s.Drifted, code, s.Differ, s.Stdout, s.Stderr, s.Error)
	}
	return strings.ReplaceAll(b.String(), h.conn.home, "$HOME")
}

// shellSiteDoc has a step of every action and option that runs without
// root: directories and files with modes, an owner and a group (this
// user's); content with every kind of byte sh's quoting could trip on,
// without a final newline, small enough for the shell to compare, large
// enough for sha256sum, too large for the check script, and from a
// source file with NUL bytes; absent files and directories; line steps
// (present with create, a regexp replacing a line, absent by literal and
// by regexp, a UTF-8 line, a file with a NUL byte, one with CRLF line
// ends); downloads (over HTTP with a checksum and a mode, and from a
// source); shell steps with a check, a working directory, an environment,
// attempts, NUL bytes in their output, a failure that continues;
// preconditions on the platform and on values; a nested document; and
// package checks that need no install (dpkg).
var shellSiteDoc = configtest.Doc(testDocs, "shell-site.toml")

var shellInnerDoc = configtest.Doc(testDocs, "shell-inner.toml")

// shellSleep is how long the slow steps sleep: long enough to time out,
// and a number no other test sleeps for, so that pgrep finds only ours.
const shellSleep = "37"

// sleepersIn lists the processes sleeping shellSleep whose HOME is home:
// this shell's, not those of the shells tested beside it.
func sleepersIn(home string) []string {
	out, _ := exec.Command("pgrep", "-f", "sleep "+shellSleep).Output()
	var pids []string
	for _, pid := range strings.Fields(string(out)) {
		env, err := os.ReadFile("/proc/" + pid + "/environ")
		if err == nil && slices.Contains(strings.Split(string(env), "\x00"), "HOME="+home) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// shellSlowDoc has steps that time out: a check, then a run (which stops the
// document, and started a sleep that left its process group with setsid);
// the script resumes after each.
const shellSlowDoc = `
[[steps]]
name = "slow-check"
action = "shell"
check = "echo checking; sleep ` + shellSleep + `"
run = "true"
timeout = "1s"
on_failure = "continue"

[[steps]]
name = "after-check"
action = "file"
path = "~/after-check"
content = "checked\n"

[[steps]]
name = "slow-run"
action = "shell"
run = "echo started; echo oops >&2; setsid sleep ` + shellSleep + ` </dev/null >/dev/null 2>&1 & sleep ` + shellSleep + `"
timeout = "1s"

[[steps]]
name = "never"
action = "shell"
run = "touch ~/never"
`

// shellToolScript is what the download step fetches over HTTP: the tool step
// runs it.
const shellToolScript = "#!/bin/sh\ncase $1 in\ncheck) test -f \"$HOME/tool.ran\" ;;\nrun) echo tool ran; touch \"$HOME/tool.ran\" ;;\nesac\n"

// shellBlob is a source file with bytes sh cannot hold in a variable.
const shellBlob = "bin\x00ary\xff\n"

// shellFiles is the config dir of the five-shell suite: one host, and
// the site, slow and which associations on it.
func shellFiles(t *testing.T, url string) map[string]string {
	t.Helper()
	sum := sha256.Sum256([]byte(shellToolScript))
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"inventory.toml": "[hosts.me]\ntransport = \"local\"\n",
		"associations.toml": "[associations.site]\ndocument = \"site\"\ntargets = [\"*\"]\nparameters = { url = \"" + url + "\" }\n\n" +
			"[associations.slow]\ndocument = \"slow\"\ntargets = [\"*\"]\n\n" +
			"[associations.which]\ndocument = \"which\"\ntargets = [\"*\"]\n",
		"documents/site.toml": strings.NewReplacer("@TOOLSHA@", hex.EncodeToString(sum[:]), "@USER@", u.Username, "@GROUP@", g.Name,
			"@BIG@", strings.Repeat(`big line\n`, 200), "@HUGE@", strings.Repeat(`huge line ✓\n`, 8000)).Replace(shellSiteDoc),
		"documents/inner.toml": shellInnerDoc,
		"documents/slow.toml":  shellSlowDoc,
		"documents/which.toml": "[[steps]]\nname = \"shell\"\naction = \"shell\"\nrun = \"readlink /proc/$$/exe\"\n",
		"files/blob.bin":       shellBlob,
	}
}

// siteRuns are the runs of the site document in the five-shell suite.
var siteRuns = []string{"fresh apply", "converged check", "converged apply", "drift check", "drift apply", "after drift check"}

// siteWant is the statuses of the site document's steps in siteRuns[i]:
// "dir=Corrected conf=Corrected ...".
func siteWant(i int) string {
	var (
		drifts    = []string{"Corrected", "Compliant", "Compliant", "Drifted", "Corrected", "Compliant"}
		settles   = []string{"Corrected", "Compliant", "Compliant", "Compliant", "Compliant", "Compliant"}
		holds     = []string{"Compliant", "Compliant", "Compliant", "Compliant", "Compliant", "Compliant"}
		runs      = []string{"Success", "Skipped", "Success", "Skipped", "Success", "Skipped"}
		fails     = []string{"Failed", "Skipped", "Failed", "Skipped", "Failed", "Skipped"}
		neverRuns = []string{"Skipped", "Skipped", "Skipped", "Skipped", "Skipped", "Skipped"}
	)
	steps := []struct {
		name     string
		statuses []string
	}{
		{"dir", drifts}, {"conf", drifts}, {"blob", drifts}, {"noeol", drifts}, {"small", drifts}, {"big", drifts},
		{"huge", drifts}, {"owned", drifts}, {"gone-file", drifts}, {"gone-dir", drifts}, {"profile", drifts},
		{"bump", drifts}, {"no-debug", drifts}, {"no-trace", drifts}, {"utf8-line", holds}, {"nul-line", holds},
		{"crlf-line", settles}, {"bin", settles}, {"fetch", drifts}, {"copy", settles}, {"installed", settles},
		{"tool", drifts}, {"in-dir", runs}, {"nul-out", runs}, {"flaky", runs}, {"fails", fails}, {"linux", runs},
		{"windows", neverRuns}, {"not-hello", neverRuns}, {"nested/note", drifts}, {"nested/who", drifts},
		{"has-dash", holds}, {"no-such", holds},
	}
	var s []string
	for _, st := range steps {
		s = append(s, st.name+"="+st.statuses[i])
	}
	return strings.Join(s, " ")
}

// The scripts run under dash, bash --posix, busybox ash, mksh and zsh in
// sh emulation with the same results: a fresh apply, a converged check
// and apply, drift found by a check and corrected by an apply, and step
// timeouts. Each shell must give dash's result, byte for byte (statuses,
// diffs, exit codes, output, errors), and leave the same files.
func TestScriptsUnderFiveShells(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/tool" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(shellToolScript))
	}))
	defer srv.Close()
	// Downloads are cached in the user's cache directory: a test's own.
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	shelltest.Require(t, "dpkg-query", "dpkg") // the package steps
	files := shellFiles(t, srv.URL+"/tool")
	runNames := append(append([]string{}, siteRuns...), "timeouts")
	got := map[string][]string{} // shell: a description of each run
	for _, sh := range shelltest.Shells {
		t.Run(sh.Name, func(t *testing.T) {
			h := newShellHost(t, sh, files)
			h.checkShell(t)
			seedSite(t, h.conn.home)
			for i, name := range siteRuns {
				if name == "drift check" {
					tamperSite(t, h.conn.home)
				}
				r := h.run(t, "site", strings.HasSuffix(name, "check"))
				d := h.describe(r)
				got[sh.Name] = append(got[sh.Name], d)
				if s, want := statuses(r), siteWant(i); s != want {
					t.Errorf("%s: %s:\n got %s\nwant %s\n%s", sh.Name, name, s, want, wrongSteps(r, want))
				}
				if i == 0 {
					checkFreshApply(t, h, r)
				}
			}
			checkSiteFiles(t, h.conn.home)
			got[sh.Name] = append(got[sh.Name], h.checkTimeouts(t))
		})
	}
	for _, sh := range shelltest.Shells[1:] {
		for i, d := range got[sh.Name] {
			if i < len(got["dash"]) && d != got["dash"][i] {
				t.Errorf("%s differs from dash in the %s:\n%s", sh.Name, runNames[i], lineDiff(got["dash"][i], d))
			}
		}
	}
}

// checkShell makes sure that the host's scripts run in its shell: the
// shell of a step is the shell's own program.
func (h *shellHost) checkShell(t *testing.T) {
	t.Helper()
	r := h.run(t, "which", false)
	want := shelltest.Require(t, h.sh.Argv[0], h.sh.Package)
	if real, err := filepath.EvalSymlinks(want); err == nil {
		want = real
	}
	if got := strings.TrimSpace(r.Steps[0].Stdout); got != want {
		t.Fatalf("%s: the script ran under %q, want %q", h.sh.Name, got, want)
	}
}

// checkFreshApply checks what the fresh apply's steps said, beyond their
// statuses.
func checkFreshApply(t *testing.T, h *shellHost, r journal.HostResult) {
	t.Helper()
	step := map[string]journal.StepResult{}
	for _, s := range r.Steps {
		step[s.Name] = s
	}
	if d := step["conf"].Differ; !strings.Contains(d, "+greeting = hello wörld\n+quote = 'it''s' \"x\" $HOME `date` \\n %s %%\n+\tindented ✓\n") {
		t.Errorf("%s: conf differs by %q", h.sh.Name, d)
	}
	for name, want := range map[string]string{
		"installed": "installing hello wörld\n",
		"tool":      "tool ran\n",
		// The environment and directory of the step; its unquoted
		// variable split into words.
		"in-dir": h.conn.home + "/site dir\n<a><b><c>\nit's \"q\" $HOME\napp.conf\nblob.bin\n",
		// Output is kept byte for byte, NUL bytes included.
		"nul-out": "a\x00b\n",
		// The output of the last attempt.
		"flaky": "attempt 2\n",
		"fails": "before\n",
		"linux": "on linux\n",
	} {
		if got := step[name].Stdout; got != want {
			t.Errorf("%s: %s printed %q, want %q", h.sh.Name, name, got, want)
		}
	}
	if s := step["nul-out"]; s.Stderr != "c\x00d\n" {
		t.Errorf("%s: nul-out's stderr is %q, want %q", h.sh.Name, s.Stderr, "c\x00d\n")
	}
	if s := step["fails"]; s.ExitCode == nil || *s.ExitCode != 3 || s.Error != "exited 3" || !strings.Contains(s.Stderr, "/nonexistent-dl") {
		t.Errorf("%s: fails: exit %v, error %q, stderr %q", h.sh.Name, s.ExitCode, s.Error, s.Stderr)
	}
	for name, want := range map[string]string{"windows": "precondition: platform is Linux, not Windows", "not-hello": `precondition false: "hello wörld" != "hello"`} {
		if s := step[name]; s.SkipReason != journal.SkipPrecondition || s.Error != want {
			t.Errorf("%s: %s skipped for %q (%q), want %q", h.sh.Name, name, s.SkipReason, s.Error, want)
		}
	}
	if r.Status != journal.StatusFailed {
		t.Errorf("%s: host %s, want Failed (the step fails continues)", h.sh.Name, r.Status)
	}
}

// checkSiteFiles checks the files of a host the site document converged,
// after drift was corrected.
func checkSiteFiles(t *testing.T, home string) {
	t.Helper()
	files := map[string]struct {
		content string
		mode    os.FileMode // 0: not checked
	}{
		"site dir/app.conf": {"greeting = hello wörld\nquote = 'it''s' \"x\" $HOME `date` \\n %s %%\n\tindented ✓\n", 0o640},
		"site dir/blob.bin": {shellBlob, 0},
		"noeol":             {"no end of line", 0},
		"small":             {"ab\n", 0},
		"big":               {strings.Repeat("big line\n", 200), 0},
		"huge":              {strings.Repeat("huge line ✓\n", 8000), 0},
		"owned":             {"mine\n", 0o600},
		".profile":          {"export GREETING='hello wörld'\n", 0},
		"settings.ini":      {"a = 1\nb = 3\nc = ü\n", 0},
		"nul-line":          {"x\nthe line\x00\n", 0},
		"crlf-line":         {"x\r\nthe line\r\n", 0},
		"bin/tool":          {shellToolScript, 0o755},
		"bin/blob":          {shellBlob, 0},
		"tool.ran":          {"", 0},
		"inner.txt":         {"written by the inner one\n", 0},
		"inner.who":         {"the inner one\n", 0},
		"count":             {"4\n", 0},
	}
	for name, want := range files {
		p := filepath.Join(home, name)
		b, err := os.ReadFile(p)
		if err != nil || string(b) != want.content {
			t.Errorf("%s = %.200q (%v), want %.200q", name, b, err, want.content)
		}
		if fi, err := os.Stat(p); want.mode != 0 && (err != nil || fi.Mode().Perm() != want.mode) {
			t.Errorf("%s: mode %v (%v), want %v", name, fi.Mode().Perm(), err, want.mode)
		}
	}
	if fi, err := os.Stat(filepath.Join(home, "site dir")); err != nil || fi.Mode().Perm() != 0o750 {
		t.Errorf("site dir: %v (%v), want mode 0750", fi.Mode().Perm(), err)
	}
	for _, name := range []string{"gone.txt", "gone.d", "windows", "not-hello"} {
		if _, err := os.Lstat(filepath.Join(home, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists (%v)", name, err)
		}
	}
}

// checkTimeouts runs the slow document: a check and a run time out, the
// script resumes after each, the output of the killed run is kept and
// nothing it started is left running. It returns the run's description.
func (h *shellHost) checkTimeouts(t *testing.T) string {
	t.Helper()
	start := time.Now()
	r := h.run(t, "slow", false)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("%s: the timeouts took %s", h.sh.Name, took)
	}
	if got, want := statuses(r), "slow-check=TimedOut after-check=Corrected slow-run=TimedOut never=Skipped"; got != want {
		t.Errorf("%s: timeouts:\n got %s\nwant %s\n%s", h.sh.Name, got, want, h.describe(r))
	}
	if s := r.Steps[2]; s.Error != "timed out after 1s" || s.Stdout != "started\n" || s.Stderr != "oops\n" {
		t.Errorf("%s: slow-run: error %q, stdout %q, stderr %q", h.sh.Name, s.Error, s.Stdout, s.Stderr)
	}
	if b, err := os.ReadFile(filepath.Join(h.conn.home, "after-check")); err != nil || string(b) != "checked\n" {
		t.Errorf("%s: after-check = %q (%v)", h.sh.Name, b, err)
	}
	if _, err := os.Stat(filepath.Join(h.conn.home, "never")); err == nil {
		t.Errorf("%s: the step after a timed-out run ran", h.sh.Name)
	}
	if pids := sleepersIn(h.conn.home); len(pids) != 0 {
		t.Errorf("%s: sleep %s still runs: pids %v", h.sh.Name, shellSleep, pids)
	}
	return h.describe(r)
}

// seedSite puts on a fresh host what the site document changes.
func seedSite(t *testing.T, home string) {
	t.Helper()
	for name, content := range map[string]string{
		"settings.ini": "a = 1\nb = 2\ndebug = true\ntrace1 = x\ntrace2 = y\nc = ü\n",
		"gone.txt":     "to be removed\n",
		"nul-line":     "x\nthe line\x00\n",
		"crlf-line":    "x\r\n",
		"gone.d/x":     "x\n",
	} {
		p := filepath.Join(home, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// tamperSite changes what a converged host has, in a way every step
// with a state notices.
func tamperSite(t *testing.T, home string) {
	t.Helper()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(home, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("site dir/app.conf", "greeting = changed\n")
	write("noeol", "no end of line\n")
	write("gone.txt", "back\n")
	write(".profile", "export GREETING=old\n")
	write("settings.ini", "a = 1\nb = 9\ndebug = true\nc = ü\ntrace3\n")
	write("site dir/blob.bin", "bin\x00ary\xfe\n")
	write("inner.txt", "written by someone else\n")
	write("small", "a\x00b\n")
	write("big", strings.Repeat("big line\n", 199)+"big lime\n")
	write("huge", "huge\n")
	if err := os.Chmod(filepath.Join(home, "owned"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		os.Mkdir(filepath.Join(home, "gone.d"), 0o755),
		os.Chmod(filepath.Join(home, "site dir"), 0o755),
		os.Chmod(filepath.Join(home, "bin", "tool"), 0o644),
		os.Remove(filepath.Join(home, "tool.ran")),
		os.Remove(filepath.Join(home, "inner.who")),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// wrongSteps tells, for each step whose status is not the one in want
// ("name=Status ..."), what it said.
func wrongSteps(r journal.HostResult, want string) string {
	wanted := map[string]journal.Status{}
	for _, f := range strings.Fields(want) {
		name, status, _ := strings.Cut(f, "=")
		wanted[name] = journal.Status(status)
	}
	var b strings.Builder
	for _, s := range r.Steps {
		if s.Status != wanted[s.Name] {
			fmt.Fprintf(&b, "%s: %s, want %s: error %q, differ %.300q, stderr %.300q\n", s.Name, s.Status, wanted[s.Name], s.Error, s.Differ, s.Stderr)
		}
	}
	return b.String()
}

// lineDiff shows the lines of got that are not want's, and the reverse,
// each cut to 300 bytes.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "-%.300s\n+%.300s\n", wl, gl)
		}
	}
	return b.String()
}
