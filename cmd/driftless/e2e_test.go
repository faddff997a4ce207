package main

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/driftless-dev/driftless/internal/configtest"
	"github.com/driftless-dev/driftless/internal/pgtest"
	"github.com/driftless-dev/driftless/internal/sshtest"
	"github.com/driftless-dev/driftless/journal"
)

// e2eFleet is a config dir whose hosts are real sshd processes on
// loopback, each with its own host key, user and home.
type e2eFleet struct {
	dir   string
	hosts []*sshtest.Host
	key   string
	kh    string
	// hostKeys are more lines of a host's table in the inventory, by
	// host name.
	hostKeys map[string]string
}

// homes are the fleet's hosts' home directories.
func (f *e2eFleet) homes() []string {
	var homes []string
	for _, h := range f.hosts {
		homes = append(homes, h.Home)
	}
	return homes
}

// testDocs holds the documents (and associations) the tests run, one
// file each in testdata/docs.
//
//go:embed testdata/docs
var testDocs embed.FS

// e2eDoc, like the other documents the tests run, is a file in testdata/docs.
var e2eDoc = configtest.Doc(testDocs, "e2e.toml")

// everyHost is the association name of the document doc on every host,
// with more of its keys, each a line ("schedule = \"rate(1 day)\"").
func everyHost(name, doc string, keys ...string) string {
	s := fmt.Sprintf("[associations.%s]\ndocument = %q\ntargets = [\"*\"]\n", name, doc)
	for _, k := range keys {
		s += k + "\n"
	}
	return s
}

func startFleet(t *testing.T, n int, assocs string) *e2eFleet {
	t.Helper()
	f := &e2eFleet{dir: t.TempDir()}
	f.key, _ = sshtest.NewClientKey(t)
	f.kh = filepath.Join(f.dir, "known_hosts")
	for i := range n {
		f.hosts = append(f.hosts, sshtest.StartSSHD(t, sshtest.Options{Name: fmt.Sprintf("web-%d", i+1), Addr: fmt.Sprintf("127.0.0.%d", 10+i), ClientKeyPath: f.key}))
	}
	sshtest.WriteKnownHosts(t, f.kh, f.hosts...)
	f.writeInventory(t, "")
	os.MkdirAll(filepath.Join(f.dir, "documents"), 0o755)
	f.writeDoc("app", e2eDoc)
	os.WriteFile(filepath.Join(f.dir, "associations.toml"), []byte(assocs), 0o600)
	return f
}

// writeInventory writes the inventory; extra is appended (more hosts).
func (f *e2eFleet) writeInventory(t *testing.T, extra string) {
	var b strings.Builder
	fmt.Fprintf(&b, "[defaults]\nidentity_files = [%q]\nknown_hosts = [%q]\nssh_config = false\nconnect_timeout = \"3s\"\n", f.key, f.kh)
	for _, h := range f.hosts {
		fmt.Fprintf(&b, "\n[hosts.%s]\naddress = %q\nport = %d\nuser = %q\ntags = { role = \"web\" }\n", h.Name, h.Addr, h.Port, h.User)
		b.WriteString(f.hostKeys[h.Name])
	}
	b.WriteString(extra)
	os.WriteFile(filepath.Join(f.dir, "inventory.toml"), []byte(b.String()), 0o600)
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs driftless in-process, as a user would type it.
// writeDoc writes text as the document name (documents/name.toml).
func (f *e2eFleet) writeDoc(name, text string) {
	os.WriteFile(filepath.Join(f.dir, "documents", name+".toml"), []byte(text), 0o600)
}

func (f *e2eFleet) run(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(append([]string{"driftless", "-C", f.dir}, args...), strings.NewReader(""), &out, &errb)
	return result{code, out.String(), errb.String()}
}

// mustRun is run that stops the test, saying what ran and how it ended,
// unless driftless exits with code and its stdout holds want ("" for
// anything).
func (f *e2eFleet) mustRun(t *testing.T, what string, code int, want string, args ...string) result {
	t.Helper()
	r := f.run(t, args...)
	if r.code != code || !strings.Contains(r.stdout, want) {
		t.Fatalf("%s: %s", what, r)
	}
	return r
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

var baseAssoc = configtest.Doc(testDocs, "base-associations.toml")

func TestE2EApplyCheckDriftCorrect(t *testing.T) { e2eApplyCheckDriftCorrect(t, "") }

// The same on a PostgreSQL journal: every command works on it as on
// SQLite (SPEC §9).
func TestE2EApplyCheckDriftCorrectPostgres(t *testing.T) {
	e2eApplyCheckDriftCorrect(t, pgtest.NewDB(t))
}

// e2eApplyCheckDriftCorrect applies, checks, finds drift, corrects it, on
// the journal at pg (a PostgreSQL URL), or in the config dir when "".
func e2eApplyCheckDriftCorrect(t *testing.T, pg string) {
	t.Setenv("APP_TOKEN", "tok-5ecret-v4lue")
	if pg != "" {
		t.Setenv("DRIFTLESS_JOURNAL", pg)
	}
	f := startFleet(t, 3, baseAssoc)

	r := f.mustRun(t, "first apply", 0, "", "apply")
	for _, h := range f.hosts {
		if !strings.Contains(r.stdout, "app "+h.Name+" Success (3 Corrected)") {
			t.Errorf("no plain result line for %s:\n%s", h.Name, r)
		}
		b, err := os.ReadFile(filepath.Join(h.Home, "app/conf/app.toml"))
		if err != nil || !strings.Contains(string(b), fmt.Sprintf("name = %q", h.Name)) {
			t.Errorf("%s: app.toml %q %v", h.Name, b, err)
		}
	}
	if strings.Contains(r.stdout+r.stderr, "\x1b[") {
		t.Error("escape codes off a terminal")
	}

	r = f.mustRun(t, "second apply", 0, "", "apply", "--json")
	var sum runsJSON
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatalf("json: %v\n%s", err, r.stdout)
	}
	for _, h := range sum.Runs[0].Hosts {
		for _, s := range h.Steps {
			if s.Status != journal.StatusCompliant {
				t.Errorf("second apply %s/%s: %s", h.Host, s.Name, s.Status)
			}
		}
	}

	os.WriteFile(filepath.Join(f.hosts[1].Home, "app/conf/app.toml"), []byte("[server]\nport = 1\n"), 0o644)
	r = f.run(t, "check")
	if r.code != 2 {
		t.Fatalf("check after tamper: want exit 2, %s", r)
	}
	if !strings.Contains(r.stdout, "app web-2 Success (2 Compliant, 1 Drifted)") {
		t.Errorf("check line:\n%s", r.stdout)
	}
	r = f.run(t, "status", "--json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("status json: %v\n%s", err, r)
	}
	for _, row := range rows {
		want := "COMPLIANT"
		if row["host"] == "web-2" {
			want = "NON_COMPLIANT"
		}
		if row["compliance"] != want || row["severity"] != "HIGH" {
			t.Errorf("status row %v", row)
		}
	}
	r = f.run(t, "drift")
	if r.code != 0 || !strings.Contains(r.stdout, "web-2") || !strings.Contains(r.stdout, "config") {
		t.Errorf("drift: %s", r)
	}
	r = f.run(t, "apply", "app", "--targets", "web-2")
	if r.code != 0 || !strings.Contains(r.stdout, "app web-2 Success (2 Compliant, 1 Corrected)") || strings.Contains(r.stdout, "web-1") {
		t.Errorf("correcting apply: %s", r)
	}
	r = f.run(t, "check")
	if r.code != 0 {
		t.Errorf("check after correction: %s", r)
	}

	// One connection per host per invocation: apply, apply, check,
	// check touched every host, the targeted apply only web-2; status and
	// drift read the journal alone.
	for i, h := range f.hosts {
		want := 4
		if i == 1 {
			want = 5
		}
		if n := h.ConnectionCount(); n != want {
			t.Errorf("%s: %d connections, want %d", h.Name, n, want)
		}
	}

	// The secret appears nowhere: not in output, not in the journal's
	// bytes.
	r = f.run(t, "show", "1", "--json")
	if !strings.Contains(r.stdout, "installing with ******") {
		t.Errorf("show does not have the redacted output: %s", r)
	}
	if pg != "" {
		if n := pgCount(t, pg, `SELECT count(*) FROM step_results WHERE stdout LIKE '%tok-5ecret%' OR stderr LIKE '%tok-5ecret%' OR differ LIKE '%tok-5ecret%'`); n != 0 {
			t.Errorf("secret found in %d step rows of the PostgreSQL journal", n)
		}
		if _, err := os.Stat(filepath.Join(f.dir, ".driftless")); err == nil {
			t.Error("a journal file was made in the config dir though the journal is in PostgreSQL")
		}
		if r := f.run(t, "history", "--json"); r.code != 0 || strings.Count(r.stdout, `"document": "app"`) != 5 {
			t.Errorf("history on PostgreSQL: want 5 runs: %s\n%s", r, r.stdout)
		}
		if r := f.run(t, "schedule"); r.code != 0 || !strings.Contains(r.stdout, "app") {
			t.Errorf("schedule on PostgreSQL: %s", r)
		}
		if r := f.run(t, "report", "--html", "-"); r.code != 0 || !strings.Contains(r.stdout, "<html") {
			t.Errorf("report --html on PostgreSQL: %d %s", r.code, r.stderr)
		}
		return
	}
	for _, p := range []string{"journal.db", "journal.db-wal"} {
		b, _ := os.ReadFile(filepath.Join(f.dir, ".driftless", p))
		if bytes.Contains(b, []byte("tok-5ecret-v4lue")) {
			t.Errorf("secret found in %s", p)
		}
	}
	st, err := os.Stat(filepath.Join(f.dir, ".driftless", "journal.db"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("journal mode: %v %v", st, err)
	}
}

func TestE2EHostKeysAndUnreachable(t *testing.T) {
	f := startFleet(t, 2, everyHost("app", "app", `parameters = { token = "x" }`))
	// An unknown host under strict, a changed key under accept-new, a
	// closed port.
	unknown := sshtest.StartSSHD(t, sshtest.Options{Name: "unknown", Addr: "127.0.0.30", ClientKeyPath: f.key})
	changed := sshtest.StartSSHD(t, sshtest.Options{Name: "changed", Addr: "127.0.0.31", ClientKeyPath: f.key})
	other := sshtest.StartSSHD(t, sshtest.Options{Name: "other", Addr: "127.0.0.32", ClientKeyPath: f.key})
	// changed's address is pinned with other's key.
	line := strings.Replace(other.KnownHostsLine(), fmt.Sprintf("[%s]:%d", other.Addr, other.Port), fmt.Sprintf("[%s]:%d", changed.Addr, changed.Port), 1)
	sshtest.WriteKnownHostsLines(t, f.kh, append(knownLines(f.hosts), line)...)
	f.writeInventory(t, fmt.Sprintf(`
[hosts.unknown]
address = %q
port = %d
user = %q
[hosts.changed]
address = %q
port = %d
user = %q
host_key_policy = "accept-new"
[hosts.closed]
address = "127.0.0.33"
port = 1
`, unknown.Addr, unknown.Port, unknown.User, changed.Addr, changed.Port, changed.User))

	r := f.mustRun(t, "want exit 3", 3, "", "apply")
	for _, want := range []string{"app web-1 Success", "app web-2 Success", "app unknown Failed", "app changed Failed", "app closed Unreachable"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("missing %q in\n%s", want, r.stdout)
		}
	}
	for _, l := range strings.Split(r.stdout, "\n") {
		if (strings.Contains(l, " unknown ") || strings.Contains(l, " changed ")) && !strings.Contains(l, "host key") {
			t.Errorf("no 'host key' in %q", l)
		}
	}
	if !strings.Contains(r.stderr, fmt.Sprintf("ssh-keyscan -p %d %s >> ", unknown.Port, unknown.Addr)) {
		t.Errorf("no hint on how to pin the unknown key:\n%s", r.stderr)
	}
	for _, h := range []*sshtest.Host{unknown, changed} {
		if _, err := os.Stat(filepath.Join(h.Home, "app")); err == nil {
			t.Errorf("%s: something ran on a host with a bad key", h.Name)
		}
	}
}

func knownLines(hosts []*sshtest.Host) []string {
	var out []string
	for _, h := range hosts {
		out = append(out, h.KnownHostsLine())
	}
	return out
}

func TestE2ERateControl(t *testing.T) {
	shared := t.TempDir()
	os.Chmod(shared, 0o777)
	// Each host records how many hosts run at once, in a directory all
	// the sshd users can write: measured on the server side.
	doc := fmt.Sprintf(`[[steps]]
name = "probe"
action = "shell"
run = '''
touch %[1]s/run.$(id -u).$$
ls %[1]s | grep -c '^run\.' > %[1]s/seen.$(id -u).$$
sleep 0.4
rm -f %[1]s/run.$(id -u).$$
if [ -f ~/fail ]; then exit 1; fi
'''
`, shared)
	f := startFleet(t, 6, everyHost("probe", "probe", `max_concurrency = "2"`))
	f.writeDoc("probe", doc)
	r := f.run(t, "apply", "probe")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	var seen []byte
	files, _ := filepath.Glob(filepath.Join(shared, "seen.*"))
	for _, p := range files {
		b, _ := os.ReadFile(p)
		seen = append(seen, b...)
	}
	if len(files) != 6 {
		t.Errorf("%d hosts reported, want 6", len(files))
	}
	maxSeen := 0
	for _, l := range strings.Fields(string(seen)) {
		var n int
		fmt.Sscan(l, &n)
		maxSeen = max(maxSeen, n)
	}
	if maxSeen != 2 {
		t.Errorf("max hosts at once = %d, want 2 (%q)", maxSeen, seen)
	}

	// max_errors: the first two hosts fail; with max_errors 1 and one
	// host at a time, the third host never starts.
	for _, h := range f.hosts[:2] {
		os.WriteFile(filepath.Join(h.Home, "fail"), nil, 0o644)
		os.Chmod(filepath.Join(h.Home, "fail"), 0o644)
	}
	r = f.mustRun(t, "max_errors", 3, "", "apply", "probe", "--max-concurrency", "1", "--max-errors", "1", "--json")
	var sum runsJSON
	json.Unmarshal([]byte(r.stdout), &sum)
	var got []string
	for _, h := range sum.Runs[0].Hosts {
		got = append(got, h.Host+"="+string(h.Status))
		if h.Status == "Skipped" && !strings.Contains(h.Detail, "max_errors") {
			t.Errorf("skip reason: %q", h.Detail)
		}
	}
	if strings.Join(got, " ") != "web-1=Failed web-2=Failed web-3=Skipped web-4=Skipped web-5=Skipped web-6=Skipped" {
		t.Errorf("statuses: %v", got)
	}
}

func TestE2ETruncatedOutput(t *testing.T) {
	f := startFleet(t, 1, everyHost("big", "driftless:RunShellScript", `parameters = { commands = ["head -c 5000000 /dev/zero | tr '\\0' x"] }`))
	r := f.run(t, "apply", "--json")
	if r.code != 0 {
		t.Fatalf("%s", r.String()[:min(len(r.String()), 2000)])
	}
	var sum runsJSON
	json.Unmarshal([]byte(r.stdout), &sum)
	out := sum.Runs[0].Hosts[0].Steps[0].Stdout
	if !strings.HasPrefix(out, strings.Repeat("x", 1<<20)) || !strings.Contains(out, "output truncated, 3951424 bytes omitted") {
		t.Errorf("stdout: %d bytes, tail %q", len(out), out[max(0, len(out)-80):])
	}
	r = f.run(t, "show", "1", "--json")
	if !strings.Contains(r.stdout, "output truncated, 3951424 bytes omitted") {
		t.Errorf("journal lost the truncation marker")
	}
}

var buildOnce sync.Once
var binPath string

func buildBinary(t *testing.T) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "driftless-bin")
		if err != nil {
			t.Fatal(err)
		}
		binPath = filepath.Join(dir, "driftless")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			t.Fatalf("build: %v\n%s", err, out)
		}
	})
	return binPath
}

func TestE2EInterrupt(t *testing.T) {
	bin := buildBinary(t)
	f := startFleet(t, 2, everyHost("slow", "driftless:RunShellScript", `parameters = { commands = ["sleep 300"] }`))
	cmd := exec.Command(bin, "apply", "-C", f.dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the remote sleeps run.
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && !remoteSleeping(f, "300") {
		time.Sleep(100 * time.Millisecond)
	}
	if !remoteSleeping(f, "300") {
		cmd.Process.Kill()
		t.Fatalf("the remote commands never started:\n%s", out.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if code != 130 {
		t.Fatalf("exit %d (%v), want 130:\n%s", code, err, out.String())
	}
	time.Sleep(500 * time.Millisecond)
	if remoteSleeping(f, "300") {
		t.Error("the remote process survived the interrupt")
	}
	j, err := journal.Open(filepath.Join(f.dir, ".driftless", "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	runs, err := j.History(context.Background(), journal.HistoryFilter{})
	if err != nil || len(runs) != 1 || runs[0].Status != journal.StatusCancelled {
		t.Fatalf("history: %+v %v", runs, err)
	}
}

// remoteSleeping reports whether a "sleep SECONDS" runs as a fleet
// host's user.
func remoteSleeping(f *e2eFleet, seconds string) bool {
	out, _ := exec.Command("ps", "-eo", "uid=,args=").Output()
	uids := map[string]bool{}
	for _, h := range f.hosts {
		if u, err := user.Lookup(h.User); err == nil {
			uids[u.Uid] = true
		}
	}
	for _, l := range strings.Split(string(out), "\n") {
		fields := strings.Fields(l)
		if len(fields) >= 3 && uids[fields[0]] && fields[1] == "sleep" && fields[2] == seconds {
			return true
		}
	}
	return false
}

func TestE2EAcceptNewAndJUnit(t *testing.T) {
	f := startFleet(t, 2, everyHost("app", "app", `parameters = { token = "x" }`))
	// Only web-1 is pinned; web-2 is learnt under accept-new.
	sshtest.WriteKnownHostsLines(t, f.kh, f.hosts[0].KnownHostsLine())
	inv, _ := os.ReadFile(filepath.Join(f.dir, "inventory.toml"))
	os.WriteFile(filepath.Join(f.dir, "inventory.toml"), []byte(strings.Replace(string(inv), "ssh_config = false\n", "ssh_config = false\nhost_key_policy = \"accept-new\"\n", 1)), 0o600)

	report := filepath.Join(f.dir, "report.xml")
	r := f.run(t, "apply", "--junit", report)
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	kh, _ := os.ReadFile(f.kh)
	if !strings.Contains(string(kh), fmt.Sprintf("[%s]:%d ssh-ed25519 ", f.hosts[1].Addr, f.hosts[1].Port)) {
		t.Errorf("known_hosts not extended:\n%s", kh)
	}
	r = f.run(t, "show", "1", "--host", "web-2", "--json")
	if !strings.Contains(r.stdout, "recorded in") || !strings.Contains(r.stdout, "accept-new") {
		t.Errorf("journal does not say the key was recorded: %s", r)
	}
	x, err := os.ReadFile(report)
	if err != nil || !strings.Contains(string(x), `<testsuite name="app" tests="2" failures="0"`) || !strings.Contains(string(x), `<testcase name="app on web-2"`) {
		t.Errorf("junit:\n%s", x)
	}

	// Drift shows up as a failed testcase in check mode.
	os.Remove(filepath.Join(f.hosts[0].Home, "app/.installed"))
	r = f.run(t, "check", "--junit", report)
	x, _ = os.ReadFile(report)
	if r.code != 2 || !strings.Contains(string(x), `failures="1"`) || !strings.Contains(string(x), `<failure message="drift found"`) {
		t.Errorf("check junit (exit %d):\n%s", r.code, x)
	}
}

// pgCount runs a count query on the PostgreSQL database at url.
func pgCount(t *testing.T, url, query string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
