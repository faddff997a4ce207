package runner_test

import (
	"context"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/transport"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/internal/configtest"
	"github.com/driftless-dev/driftless/internal/sshtest"
	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner"
	"github.com/driftless-dev/driftless/ssh"
)

// testDocs holds the documents (and associations) the tests run, one
// file each in testdata/docs.
//
//go:embed testdata/docs
var testDocs embed.FS

// doc, like the other documents the tests run, is a file in testdata/docs.
var doc = configtest.Doc(testDocs, "app.toml")

type fleet struct {
	hosts []*sshtest.Host
	cfg   *config.Config
	dir   string
}

func newFleet(t *testing.T, n int, assoc string, extraDocs ...string) *fleet {
	t.Helper()
	return newFleetAs(t, n, false, assoc, extraDocs...)
}

// newFleetAs starts n sshd hosts; with root, they log in as root.
func newFleetAs(t *testing.T, n int, root bool, assoc string, extraDocs ...string) *fleet {
	t.Helper()
	return newFleetOpts(t, n, sshtest.Options{Root: root}, assoc, extraDocs...)
}

// newFleetOpts starts n sshd hosts with the options o (its name, address
// and key are each host's).
func newFleetOpts(t *testing.T, n int, o sshtest.Options, assoc string, extraDocs ...string) *fleet {
	t.Helper()
	dir := t.TempDir()
	key, _ := sshtest.NewClientKey(t)
	f := &fleet{dir: dir}
	var inv strings.Builder
	fmt.Fprintf(&inv, "[defaults]\nidentity_files = [%q]\nknown_hosts = [%q]\nssh_config = false\n", key, filepath.Join(dir, "known_hosts"))
	for i := range n {
		o.Name, o.Addr, o.ClientKeyPath = fmt.Sprintf("web-%d", i+1), fmt.Sprintf("127.0.0.%d", i+2), key
		h := sshtest.StartSSHD(t, o)
		f.hosts = append(f.hosts, h)
		fmt.Fprintf(&inv, "[hosts.%s]\naddress = %q\nport = %d\nuser = %q\ntags = { role = \"web\" }\n", h.Name, h.Addr, h.Port, h.User)
	}
	sshtest.WriteKnownHosts(t, filepath.Join(dir, "known_hosts"), f.hosts...)
	os.WriteFile(filepath.Join(dir, "inventory.toml"), []byte(inv.String()), 0o600)
	os.MkdirAll(filepath.Join(dir, "documents"), 0o755)
	os.WriteFile(filepath.Join(dir, "documents", "app.toml"), []byte(doc), 0o600)
	for i := 0; i+1 < len(extraDocs); i += 2 {
		os.WriteFile(filepath.Join(dir, "documents", extraDocs[i]), []byte(extraDocs[i+1]), 0o600)
	}
	os.WriteFile(filepath.Join(dir, "associations.toml"), []byte(assoc), 0o600)
	cfg, list := config.Load(config.Options{Dir: dir, Env: func(k string) (string, bool) {
		if k == "APP_TOKEN" {
			return "sup3r-s3cret-value", true
		}
		return os.LookupEnv(k)
	}})
	if err := list.Err(); err != nil {
		t.Fatal(err)
	}
	f.cfg = cfg
	return f
}

func (f *fleet) run(t *testing.T, check bool, j *journal.Journal) *runner.RunResult {
	t.Helper()
	dial := func(ctx context.Context, h *inventory.Host) (transport.Conn, error) {
		return ssh.Dial(ctx, ssh.Config{Name: h.Name, Address: h.Address, Port: h.Port, User: h.User,
			IdentityFiles: h.IdentityFiles, KnownHosts: h.KnownHosts, HostKeyPolicy: h.HostKeyPolicy})
	}
	r := runner.New(runner.Options{Config: f.cfg, Dial: dial, Journal: j})
	defer r.Close()
	res, err := r.Run(context.Background(), runner.Job{Assoc: f.cfg.Associations[0], Check: check})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func statuses(h journal.HostResult) string {
	var s []string
	for _, st := range h.Steps {
		s = append(s, st.Name+"="+string(st.Status))
	}
	return strings.Join(s, " ")
}

var assoc = configtest.Doc(testDocs, "app-associations.toml")

func TestApplyConvergesAndDetectsDrift(t *testing.T) {
	f := newFleet(t, 2, assoc)
	j, err := journal.Open(filepath.Join(f.dir, "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()

	first := f.run(t, false, j)
	for _, h := range first.Hosts {
		if h.Status != journal.StatusSuccess {
			t.Fatalf("%s: %s %s: %s", h.Host, h.Status, h.Error, statuses(h))
		}
		want := "dir=Corrected config=Corrected profile=Corrected installed=Corrected linux-only=Skipped"
		if got := statuses(h); got != want {
			t.Errorf("%s first apply: %s", h.Host, got)
		}
		if out := h.Steps[3].Stdout; !strings.Contains(out, "token=******") || strings.Contains(out, "sup3r") {
			t.Errorf("secret not redacted in output: %q", out)
		}
	}
	// Files on the hosts.
	for _, h := range f.hosts {
		b, err := os.ReadFile(filepath.Join(h.Home, "app/conf/app.toml"))
		if err != nil || string(b) != fmt.Sprintf("port = 9090\nhost = %q\n", h.Name) {
			t.Errorf("%s app.toml = %q, %v", h.Name, b, err)
		}
		st, _ := os.Stat(filepath.Join(h.Home, "app/conf/app.toml"))
		if st == nil || st.Mode().Perm() != 0o640 {
			t.Errorf("%s mode = %v", h.Name, st)
		}
		p, _ := os.ReadFile(filepath.Join(h.Home, ".profile"))
		if !strings.Contains(string(p), "export APP_PORT=9090\n") {
			t.Errorf("%s .profile = %q", h.Name, p)
		}
	}

	second := f.run(t, false, j)
	for _, h := range second.Hosts {
		want := "dir=Compliant config=Compliant profile=Compliant installed=Compliant linux-only=Skipped"
		if got := statuses(h); got != want {
			t.Errorf("%s second apply: %s", h.Host, got)
		}
	}
	// One connection per host per invocation: two invocations so far.
	for _, h := range f.hosts {
		if n := h.ConnectionCount(); n != 2 {
			t.Errorf("%s: %d connections, want 2", h.Name, n)
		}
	}

	// Tamper with one host.
	os.WriteFile(filepath.Join(f.hosts[1].Home, "app/conf/app.toml"), []byte("port = 1\n"), 0o640)
	check := f.run(t, true, j)
	if !check.Drifted() || check.Failed() {
		t.Fatalf("check: drifted=%v failed=%v", check.Drifted(), check.Failed())
	}
	h0, h1 := check.Hosts[0], check.Hosts[1]
	if statuses(h0) != "dir=Compliant config=Compliant profile=Compliant installed=Compliant linux-only=Skipped" {
		t.Errorf("untouched host: %s", statuses(h0))
	}
	cfgStep := h1.Steps[1]
	if cfgStep.Status != journal.StatusDrifted || !strings.Contains(cfgStep.Differ, "-port = 1\n+port = 9090") {
		t.Errorf("drifted step: %s %q", cfgStep.Status, cfgStep.Differ)
	}
	b, _ := os.ReadFile(filepath.Join(f.hosts[1].Home, "app/conf/app.toml"))
	if string(b) != "port = 1\n" {
		t.Errorf("check changed the host: %q", b)
	}
	rows, err := j.Status(context.Background(), journal.StatusFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		want := journal.Compliant
		if r.Host == "web-2" {
			want = journal.NonCompliant
		}
		if r.Compliance != want {
			t.Errorf("status %s: %s, want %s", r.Host, r.Compliance, want)
		}
	}
	fix := f.run(t, false, j)
	if got := fix.Hosts[1].Steps[1].Status; got != journal.StatusCorrected {
		t.Errorf("after tamper, apply: %s", got)
	}
}

func TestFailureStopsAndSkips(t *testing.T) {
	f := newFleet(t, 1, `[associations.fail]
document = "driftless:RunShellScript"
targets = ["*"]
parameters = { commands = ["echo before", "exit 7"] }
`)
	res := f.run(t, false, nil)
	h := res.Hosts[0]
	if h.Status != journal.StatusFailed || h.Steps[0].Status != journal.StatusFailed || *h.Steps[0].ExitCode != 7 || h.Steps[0].Stdout != "before\n" {
		t.Fatalf("got %s %+v", h.Status, h.Steps[0])
	}
}

var ssmDoc = configtest.Doc(testDocs, "ssm.yaml")

// An SSM document runs unchanged: steps continue after a failure by
// default, onFailure: exit stops the document, the finally step runs.
func TestSSMSemantics(t *testing.T) {
	f := newFleet(t, 1, "[associations.ssm]\ndocument = \"chaos\"\ntargets = [\"*\"]\n", "chaos.yaml", ssmDoc)
	res := f.run(t, false, nil)
	h := res.Hosts[0]
	if got := statuses(h); got != "soft-fail=Failed hard-fail=Failed never=Skipped cleanup=Success" {
		t.Fatalf("statuses: %s", got)
	}
	if h.Steps[0].Stdout != "hello\n" || *h.Steps[1].ExitCode != 4 || h.Steps[2].SkipReason != journal.SkipStopped {
		t.Errorf("steps: %+v", h.Steps[:3])
	}
	home := f.hosts[0].Home
	if _, err := os.Stat(filepath.Join(home, "never")); err == nil {
		t.Error("a step after onFailure: exit ran")
	}
	if _, err := os.Stat(filepath.Join(home, "cleaned")); err != nil {
		t.Error("the finally step did not run")
	}
}

var outerDoc = configtest.Doc(testDocs, "outer.toml")

var innerDoc = configtest.Doc(testDocs, "inner.toml")

func TestNestedDocumentAndStepTimeout(t *testing.T) {
	f := newFleet(t, 1, "[associations.n]\ndocument = \"outer\"\ntargets = [\"*\"]\n", "outer.toml", outerDoc, "innerdoc.toml", innerDoc)
	res := f.run(t, false, nil)
	h := res.Hosts[0]
	if got := statuses(h); got != "inner/greet=Corrected slow=TimedOut" {
		t.Fatalf("statuses: %s (%s)", got, h.Steps[1].Error)
	}
	if h.Status != journal.StatusTimedOut {
		t.Errorf("host status %s", h.Status)
	}
	b, _ := os.ReadFile(filepath.Join(f.hosts[0].Home, "greeting"))
	if string(b) != "hi outer-web-1\n" {
		t.Errorf("greeting = %q", b)
	}
	if d := h.Steps[1].Duration; d < 900*time.Millisecond || d > 4*time.Second {
		t.Errorf("timed-out step took %s", d)
	}
}

// reload reads the config dir again after a test changed it.
func (f *fleet) reload(t *testing.T) {
	t.Helper()
	cfg, list := config.Load(config.Options{Dir: f.dir, Env: f.cfg.Env})
	if err := list.Err(); err != nil {
		t.Fatal(err)
	}
	f.cfg = cfg
}
