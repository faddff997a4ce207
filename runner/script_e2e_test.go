package runner_test

import (
	"context"
	"fmt"
	"os"
	osexec "os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/transport"

	"github.com/driftless-dev/driftless/internal/configtest"
	"github.com/driftless-dev/driftless/internal/shelltest"
	"github.com/driftless-dev/driftless/internal/sshtest"
	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner"
	"github.com/driftless-dev/driftless/ssh"
)

// Step timeouts are enforced by the runner, which ends the script on the
// host and resumes with the steps after the one that timed out: the
// checks after a timed-out check are still made, and a step with
// on_failure = "continue" after a timed-out run still runs.
var timeoutDoc = configtest.Doc(testDocs, "timeout.toml")

func TestStepTimeoutsResumeTheScript(t *testing.T) {
	f := newFleet(t, 1, "[associations.t]\ndocument = \"timeouts\"\ntargets = [\"*\"]\n", "timeouts.toml", timeoutDoc)
	home := f.hosts[0].Home
	start := time.Now()
	res := f.run(t, false, nil)
	took := time.Since(start)
	h := res.Hosts[0]
	want := "slow-check=TimedOut after-check=Corrected slow-run=TimedOut after-run=Success stop-here=TimedOut never=Skipped"
	if got := statuses(h); got != want {
		t.Fatalf("statuses:\n got %s\nwant %s", got, want)
	}
	if took > 15*time.Second {
		t.Errorf("the run took %s: a timed-out step was waited for", took)
	}
	if b, err := os.ReadFile(filepath.Join(home, "after-check")); err != nil || string(b) != "checked\n" {
		t.Errorf("after-check: %q, %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(home, "after-run")); err != nil || string(b) != "ran\n" {
		t.Errorf("after-run: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(home, "never")); err == nil {
		t.Error("the step after a timed-out step with on_failure = stop ran")
	}
	// The output a timed-out run printed before it was stopped is kept.
	sr := h.Steps[2]
	if !strings.Contains(sr.Error, "timed out after 1s") || sr.Stdout != "started\n" || sr.Stderr != "oops\n" {
		t.Errorf("slow-run: error %q, stdout %q, stderr %q", sr.Error, sr.Stdout, sr.Stderr)
	}
	// Nothing is left running on the host.
	time.Sleep(200 * time.Millisecond)
	out, _ := runHere("pgrep", "-u", f.hosts[0].User, "-f", "sleep 30")
	if strings.TrimSpace(out) != "" {
		t.Errorf("sleep 30 still runs on the host: %s", out)
	}
	// No temporary file of a killed script is left behind either (each
	// resumed script removes its predecessor's).
	m := privateFiles()
	for _, p := range m {
		if fi, err := os.Stat(p); err == nil && fi.ModTime().After(start) && owner(fi) == f.hosts[0].User {
			t.Errorf("left behind: %s", p)
		}
	}
}

// A line step with state = "absent" removes the line, and only the line
// (it once truncated the file); a missing file has no line to remove.
var lineAbsentDoc = configtest.Doc(testDocs, "line-absent.toml")

func TestLineAbsentRemovesOnlyTheLine(t *testing.T) {
	f := newFleet(t, 1, "[associations.l]\ndocument = \"lines\"\ntargets = [\"*\"]\n", "lines.toml", lineAbsentDoc)
	conf := filepath.Join(f.hosts[0].Home, "conf")
	writeAs(t, f.hosts[0], conf, "a = 1\ndebug = true\ntrace = all\nb = 2\n")
	runExpect(t, f, true, "drop-literal=Drifted drop-regexp=Drifted no-file=Compliant")
	runExpect(t, f, false, "drop-literal=Corrected drop-regexp=Corrected no-file=Compliant")
	if b, _ := os.ReadFile(conf); string(b) != "a = 1\nb = 2\n" {
		t.Errorf("conf = %q", b)
	}
	runExpect(t, f, false, "drop-literal=Compliant drop-regexp=Compliant no-file=Compliant")
}

// The check script stats every path at once; a line already in place in
// a file whose mode drifted gets its mode back without a rewrite; a check
// command's output is kept; a run that leaves a daemon behind does not
// hold the run open.
var mixedDoc = configtest.Doc(testDocs, "mixed.toml")

func TestBatchedChecksAndOutputs(t *testing.T) {
	f := newFleet(t, 1, "[associations.m]\ndocument = \"mixed\"\ntargets = [\"*\"]\n", "mixed.toml", mixedDoc)
	home := f.hosts[0].Home
	res := runExpect(t, f, true, "d1=Drifted f1=Drifted f2=Drifted l1=Drifted talk=Drifted daemon=Drifted")
	h := res.Hosts[0]
	if talk := h.Steps[4]; talk.Stdout != "looking\n" || talk.Stderr != "not there\n" {
		t.Errorf("check output: stdout %q stderr %q", talk.Stdout, talk.Stderr)
	}
	start := time.Now()
	res = f.run(t, false, nil)
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("a daemon started by a run held the run for %s", took)
	}
	if got := statuses(res.Hosts[0]); got != "d1=Corrected f1=Corrected f2=Corrected l1=Compliant talk=Corrected daemon=Corrected" {
		t.Fatalf("apply: %s", got)
	}
	runExpect(t, f, true, "d1=Compliant f1=Compliant f2=Compliant l1=Compliant talk=Compliant daemon=Compliant")
	// The mode of the file drifts, the line is still there.
	if err := os.Chmod(filepath.Join(home, "m", "f 2"), 0o644); err != nil {
		t.Fatal(err)
	}
	runExpect(t, f, false, "d1=Compliant f1=Compliant f2=Corrected l1=Compliant talk=Compliant daemon=Compliant")
	// f1 is removed and d1 replaced by a file: the batch's stand-ins keep
	// the other paths' results in place.
	os.Remove(filepath.Join(home, "m", "d1", "f1"))
	res = runExpect(t, f, true, "d1=Compliant f1=Drifted f2=Compliant l1=Compliant talk=Compliant daemon=Compliant")
	if f1 := res.Hosts[0].Steps[1]; f1.Status != journal.StatusDrifted || !strings.Contains(f1.Differ, "missing") {
		t.Errorf("f1: %s %q", f1.Status, f1.Differ)
	}
}

// runHere runs a program here and returns its output.
func runHere(name string, args ...string) (string, error) {
	out, err := osexec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// writeAs writes a file in a host's home, owned by the host's user.
func writeAs(t *testing.T, h *sshtest.Host, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	chownTo(t, h, path)
}

// owner is the user name owning a file, or "".
func owner(fi os.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	u, err := user.LookupId(strconv.Itoa(int(st.Uid)))
	if err != nil {
		return ""
	}
	return u.Username
}

// A shell step found drifted is checked again before it runs when an
// earlier step of the same apply may have put it in state.
var recheckDoc = configtest.Doc(testDocs, "recheck.toml")

func TestDriftedShellStepRecheckedAfterEarlierCorrection(t *testing.T) {
	f := newFleet(t, 1, "[associations.r]\ndocument = \"recheck\"\ntargets = [\"*\"]\n", "recheck.toml", recheckDoc)
	runExpect(t, f, false, "flag=Corrected needs-flag=Compliant")
	if _, err := os.Stat(filepath.Join(f.hosts[0].Home, "ran")); err == nil {
		t.Error("needs-flag ran although the flag step had put it in state")
	}
}

// With Expect, a host's connection closes as soon as its last job ends,
// not when the Runner closes: memory follows max_concurrency.
func TestConnectionClosedAfterLastExpectedJob(t *testing.T) {
	f := newFleet(t, 2, "[associations.both]\ndocument = \"app\"\ntargets = [\"*\"]\nparameters = { token = \"x\" }\n"+
		"[associations.first]\ndocument = \"app\"\ntargets = [\"web-1\"]\nparameters = { token = \"x\" }\n")
	dial := func(ctx context.Context, h *inventory.Host) (transport.Conn, error) {
		return ssh.Dial(ctx, ssh.Config{Name: h.Name, Address: h.Address, Port: h.Port, User: h.User,
			IdentityFiles: h.IdentityFiles, KnownHosts: h.KnownHosts, HostKeyPolicy: h.HostKeyPolicy})
	}
	r := runner.New(runner.Options{Config: f.cfg, Dial: dial})
	defer r.Close()
	both, first := f.cfg.Associations[0], f.cfg.Associations[1]
	if both.Name != "both" {
		both, first = first, both
	}
	r.Expect(both.Hosts)
	r.Expect(first.Hosts)
	closed := func(h *sshtest.Host) bool {
		for range 40 {
			if strings.Contains(h.Log(), "Connection closed by") {
				return true
			}
			time.Sleep(50 * time.Millisecond)
		}
		return false
	}
	if _, err := r.Run(context.Background(), runner.Job{Assoc: both}); err != nil {
		t.Fatal(err)
	}
	if !closed(f.hosts[1]) {
		t.Errorf("web-2's connection is still open after its last job:\n%s", f.hosts[1].Log())
	}
	if strings.Contains(f.hosts[0].Log(), "Connection closed by") {
		t.Error("web-1's connection was closed before its second job")
	}
	if _, err := r.Run(context.Background(), runner.Job{Assoc: first}); err != nil {
		t.Fatal(err)
	}
	if n := f.hosts[0].ConnectionCount(); n != 1 {
		t.Errorf("web-1: %d connections for two jobs, want 1", n)
	}
	if !closed(f.hosts[0]) {
		t.Errorf("web-1's connection is still open after its last job")
	}
}

// A file step then a line step on the same file, in one apply: the line
// is added to the content the file step wrote, and both are Corrected
// (each verified against its own result).
var sameFileDoc = configtest.Doc(testDocs, "same-file.toml")

func TestFileThenLineOnOneFile(t *testing.T) {
	f := newFleet(t, 1, "[associations.h]\ndocument = \"same\"\ntargets = [\"*\"]\n", "same.toml", sameFileDoc)
	writeAs(t, f.hosts[0], filepath.Join(f.hosts[0].Home, "hosts"), "old\n")
	runExpect(t, f, false, "base=Corrected db=Corrected")
	if b, _ := os.ReadFile(filepath.Join(f.hosts[0].Home, "hosts")); string(b) != "127.0.0.1 localhost\n10.0.0.5 db\n" {
		t.Errorf("hosts = %q", b)
	}
}

// The same when the earlier step is corrected by the second script (a
// line with a regexp, which the runner edits).
var recheckPhase2Doc = configtest.Doc(testDocs, "recheck-phase2.toml")

func TestDriftedShellStepRecheckedInTheApplyScript(t *testing.T) {
	f := newFleet(t, 1, "[associations.r]\ndocument = \"recheck\"\ntargets = [\"*\"]\n", "recheck.toml", recheckPhase2Doc)
	writeAs(t, f.hosts[0], filepath.Join(f.hosts[0].Home, "flag"), "flag=off\n")
	res := runExpect(t, f, false, "flag=Corrected needs-flag=Compliant")
	h := res.Hosts[0]
	if !h.Steps[1].Drifted {
		t.Error("needs-flag was drifted when checked; the journal should say so")
	}
	if _, err := os.Stat(filepath.Join(f.hosts[0].Home, "ran")); err == nil {
		t.Error("needs-flag ran although the flag step had put it in state")
	}
}

// A literal line is appended by the check script itself (one round
// trip), keeping the file's mode, adding the missing final newline, as
// the runner's own edit would; a CRLF file is left to the runner, which
// keeps it CRLF.
var lineFixDoc = configtest.Doc(testDocs, "line-fix.toml")

func TestLiteralLineFixedOnTheHost(t *testing.T) {
	f := newFleet(t, 1, "[associations.l]\ndocument = \"linefix\"\ntargets = [\"*\"]\n", "linefix.toml", lineFixDoc)
	home := f.hosts[0].Home
	writeAs(t, f.hosts[0], filepath.Join(home, "lf"), "a\nb")
	os.Chmod(filepath.Join(home, "lf"), 0o600)
	writeAs(t, f.hosts[0], filepath.Join(home, "crlf"), "a\r\nb\r\n")
	res := runExpect(t, f, false, "lf=Corrected crlf=Corrected new=Corrected")
	for name, want := range map[string]string{"lf": "a\nb\nadded\n", "crlf": "a\r\nb\r\nadded\r\n", "new": "added\n"} {
		if b, _ := os.ReadFile(filepath.Join(home, name)); string(b) != want {
			t.Errorf("%s = %q, want %q", name, b, want)
		}
	}
	if fi, _ := os.Stat(filepath.Join(home, "lf")); fi.Mode().Perm() != 0o600 {
		t.Errorf("lf mode %v, want 0600", fi.Mode().Perm())
	}
	if d := res.Hosts[0].Steps[0].Differ; !strings.Contains(d, "+added") {
		t.Errorf("lf differ: %q", d)
	}
	runExpect(t, f, false, "lf=Compliant crlf=Compliant new=Compliant")
}

// A large file is not carried by every check: it is written by the
// second script, only when it drifted.
func TestLargeFileNotInTheCheckScript(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 8<<10) // 128 KiB
	doc := "[[steps]]\nname = \"big\"\naction = \"file\"\npath = \"~/big\"\ncontent = \"\"\"\n" + big + "\"\"\"\n"
	f := newFleet(t, 1, "[associations.b]\ndocument = \"big\"\ntargets = [\"*\"]\n", "big.toml", doc)
	runExpect(t, f, false, "big=Corrected")
	if b, _ := os.ReadFile(filepath.Join(f.hosts[0].Home, "big")); string(b) != big {
		t.Errorf("big: %d bytes", len(b))
	}
	before := strings.Count(f.hosts[0].Log(), "Starting session")
	runExpect(t, f, false, "big=Compliant")
	if n := strings.Count(f.hosts[0].Log(), "Starting session") - before; n != 1 {
		t.Errorf("converged apply: %d sessions", n)
	}
	// sshd logs the bytes of each connection when it ends: the converged
	// run's script is far smaller than the file.
	var logs string
	for range 40 {
		if logs = f.hosts[0].Log(); strings.Count(logs, "Transferred: sent ") == 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	i := strings.LastIndex(logs, "Transferred: sent ")
	if i < 0 {
		t.Fatalf("no byte count in sshd's log:\n%s", logs)
	}
	var sent, recv int
	if _, err := fmt.Sscanf(logs[i:], "Transferred: sent %d, received %d bytes", &sent, &recv); err != nil {
		t.Fatal(err)
	}
	if recv > 64<<10 {
		t.Errorf("the converged apply sent %d bytes to the host", recv)
	}
}

// A check that leaves a process behind holding the session's output (a
// daemon it started) does not hold the run: the session ends shortly
// after the script's last frame.
var daemonCheckDoc = configtest.Doc(testDocs, "daemon-check.toml")

func TestCheckLeavingADaemonDoesNotHoldTheRun(t *testing.T) {
	f := newFleet(t, 1, "[associations.d]\ndocument = \"daemon\"\ntargets = [\"*\"]\n", "daemon.toml", daemonCheckDoc)
	start := time.Now()
	res := f.run(t, true, nil)
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("the check took %s", took)
	}
	if got := statuses(res.Hosts[0]); got != "sloppy=Drifted after=Drifted" {
		t.Fatalf("check: %s (%s)", got, res.Hosts[0].Error)
	}
	start = time.Now()
	res = f.run(t, false, nil)
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("the apply took %s", took)
	}
	if got := statuses(res.Hosts[0]); got != "sloppy=Corrected after=Corrected" {
		t.Fatalf("apply: %s (%s)", got, res.Hosts[0].Error)
	}
}

// runExpect runs the fleet's association (in check mode when check) and
// fails the test unless the first host's steps end as want
// ("name=Status ...").
func runExpect(t *testing.T, f *fleet, check bool, want string) *runner.RunResult {
	t.Helper()
	res := f.run(t, check, nil)
	h := res.Hosts[0]
	if got := statuses(h); got != want {
		var errs []string
		for _, s := range h.Steps {
			if s.Error != "" {
				errs = append(errs, s.Name+": "+s.Error)
			}
		}
		t.Fatalf("statuses:\n got %s\nwant %s\nhost: %s %s\nsteps: %s", got, want, h.Status, h.Error, strings.Join(errs, "; "))
	}
	return res
}

// When the last step times out, its output is still sent and the killed
// script's files are removed (one more, short script).
func TestLastStepTimesOut(t *testing.T) {
	doc := "[[steps]]\nname = \"hang\"\naction = \"shell\"\nrun = \"echo begun; sleep 30\"\ntimeout = \"1s\"\n"
	f := newFleet(t, 1, "[associations.l]\ndocument = \"last\"\ntargets = [\"*\"]\n", "last.toml", doc)
	start := time.Now()
	res := runExpect(t, f, false, "hang=TimedOut")
	if st := res.Hosts[0].Steps[0]; st.Stdout != "begun\n" {
		t.Errorf("stdout %q", st.Stdout)
	}
	m := privateFiles()
	for _, p := range m {
		if fi, err := os.Stat(p); err == nil && fi.ModTime().After(start) && owner(fi) == f.hosts[0].User {
			t.Errorf("left behind: %s", p)
		}
	}
}

// privateFiles lists the scripts' private files on this machine, in /tmp
// and /dev/shm (runner's tmpPrelude).
func privateFiles() []string {
	var m []string
	for _, dir := range []string{os.TempDir(), "/dev/shm"} {
		for _, p := range shelltest.Leftovers(dir) {
			if strings.HasPrefix(filepath.Base(p), ".driftless-") || strings.HasPrefix(filepath.Base(filepath.Dir(p)), ".driftless-") {
				m = append(m, p)
			}
		}
	}
	return m
}

// Owner and group are read from the host only when a step names them (the
// look-up in the user database is skipped otherwise), and then they are
// checked and corrected.
func TestOwnerAndGroup(t *testing.T) {
	doc := configtest.Doc(testDocs, "owner-group.toml")
	f := newFleetAs(t, 1, true, "[associations.o]\ndocument = \"owners\"\ntargets = [\"*\"]\n", "owners.toml", doc)
	home := f.hosts[0].Home
	if err := os.WriteFile(filepath.Join(home, "owned"), []byte("y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := f.run(t, true, nil)
	if got, want := statuses(res.Hosts[0]), "plain=Drifted owned=Drifted"; got != want {
		t.Fatalf("check: %s, want %s", got, want)
	}
	if d := res.Hosts[0].Steps[1].Differ; !strings.Contains(d, "owner root -> daemon") || !strings.Contains(d, "group root -> daemon") {
		t.Errorf("owned differs by %q", d)
	}
	res = f.run(t, false, nil)
	if got, want := statuses(res.Hosts[0]), "plain=Corrected owned=Corrected"; got != want {
		t.Fatalf("apply: %s, want %s", got, want)
	}
	fi, err := os.Stat(filepath.Join(home, "owned"))
	if err != nil || owner(fi) != "daemon" {
		t.Fatalf("owned is owned by %q (%v)", owner(fi), err)
	}
	res = f.run(t, true, nil)
	if got, want := statuses(res.Hosts[0]), "plain=Compliant owned=Compliant"; got != want {
		t.Fatalf("check after apply: %s, want %s", got, want)
	}
}
