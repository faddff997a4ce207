package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/driftless-dev/driftless/internal/configtest"
	"github.com/driftless-dev/driftless/internal/pgtest"
	"github.com/driftless-dev/driftless/internal/sshtest"
	"github.com/driftless-dev/driftless/journal"
)

// targetSecret is the password the tests give in a --journal; the test
// server trusts local connections, so any password connects.
const targetSecret = "S3cr3t-pw"

// echoDir is a config dir of two local hosts and an association hello
// that echoes on both, every day.
func echoDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	configtest.Dir(t, dir, map[string]string{
		"inventory.toml":       "[defaults]\ntransport = \"local\"\n[hosts.here-1]\n[hosts.here-2]\n",
		"associations.toml":    "[associations.hello]\ndocument = \"hello\"\ntargets = [\"*\"]\nschedule = \"rate(1 day)\"\n",
		"documents/hello.toml": "[[steps]]\nname = \"hello\"\naction = \"shell\"\nrun = \"echo hello\"\n",
	})
	return dir
}

// keywordValue is the keyword/value string of the database at url (a
// pgtest URL) with password, quoted as libpq wants it.
func keywordValue(t *testing.T, url, password string) string {
	t.Helper()
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("host=%s port=%d dbname='%s' user=%s password='%s' sslmode=disable",
		cfg.Host, cfg.Port, cfg.Database, cfg.User, strings.ReplaceAll(password, "'", `\'`))
}

// --journal 'host=... dbname=... password=...' is the PostgreSQL journal
// (no file is made of it): every command runs on it as on its URL, and
// the password shows nowhere: not in any command's output, text or
// JSON, not in the daemon's first line or --verbose logs, not in the
// HTML report, not in a row of the database.
func TestJournalKeywordValue(t *testing.T) {
	url := pgtest.NewDB(t)
	dsn := keywordValue(t, url, targetSecret+" it's")
	dir := echoDir(t)
	shown := journal.Redact(dsn)
	if !strings.Contains(shown, "password=xxxxx") || strings.Contains(shown, "S3cr3t") {
		t.Fatalf("Redact(%q) = %q", dsn, shown)
	}
	now := time.Now().UTC().Truncate(time.Minute).Format(time.RFC3339)
	var all strings.Builder
	run := func(code int, args ...string) cliResult {
		t.Helper()
		r := runBin(t, dir, append([]string{"--journal", dsn}, args...)...).wantCode(t, code)
		all.WriteString(r.stdout + r.stderr)
		return r
	}
	run(0, "apply", "--verbose")
	run(0, "check", "--json")
	run(0, "tick", "--now", now, "--verbose")
	run(0, "exec", "--targets", "*", "--", "true")
	run(0, "schedule", "--now", now)
	run(0, "status")
	run(0, "status", "--json")
	run(0, "drift", "--json")
	run(0, "show", "1", "--json")
	run(0, "show", "1")
	run(0, "report", "--html", "-")
	for _, args := range [][]string{{"journal", "stats", "--json"}, {"journal", "prune", "--older-than", "1d", "--json"}} {
		if r := run(0, args...); !strings.Contains(r.stdout, `"journal": `+strconv.Quote(shown)) {
			t.Errorf("%v does not name the journal %q:\n%s", args, shown, r.stdout)
		}
	}
	// What the keyword/value string wrote is in the database its URL
	// names.
	history := run(0, "history", "--json").stdout
	if runs := decodeJSON[historyJSON](t, history).Runs; len(runs) < 3 {
		t.Errorf("history: %d runs, want apply's, check's and exec's at least\n%s", len(runs), history)
	}
	if r := runBin(t, dir, "--journal", url, "history", "--json").wantCode(t, 0); r.stdout != history {
		t.Errorf("history through the URL:\n%s\nthrough the keyword/value string:\n%s", r.stdout, history)
	}

	// The daemon names its journal on its first line.
	daemon := exec.Command(buildBinary(t), "-C", dir, "--journal", dsn, "daemon")
	stderr, err := daemon.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	first, _ := bufio.NewReader(stderr).ReadString('\n')
	daemon.Process.Signal(syscall.SIGTERM)
	daemon.Wait()
	all.WriteString(first)
	if !strings.Contains(first, "journal "+shown+", node ") {
		t.Errorf("daemon's first line: %q, want the journal %q", first, shown)
	}

	if strings.Contains(all.String(), "S3cr3t") {
		t.Errorf("the password shows:\n%s", all.String())
	}
	if _, err := os.Stat(filepath.Join(dir, ".driftless")); err == nil {
		t.Errorf("a journal file was made in the config dir")
	}
	if rows := rowsHolding(t, url, "S3cr3t"); len(rows) > 0 {
		t.Errorf("the journal records the password: %v", rows)
	}
}

// rowsHolding are the tables of the database at url with a row whose
// text holds s, and how many.
func rowsHolding(t *testing.T, url, s string) map[string]int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 5 {
		t.Fatalf("tables %v: %v", tables, err)
	}
	found := map[string]int{}
	for _, table := range tables {
		var n int
		q := fmt.Sprintf(`SELECT count(*) FROM %s AS t WHERE CAST(t.* AS text) LIKE '%%' || $1 || '%%'`, pgx.Identifier{table}.Sanitize())
		if err := conn.QueryRow(ctx, q, s).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			found[table] = n
		}
	}
	return found
}

// A --journal that is neither a file nor a PostgreSQL database, or one
// that cannot be parsed or reached, exits 1 before any host is
// contacted, naming it without its password; no file is made of it.
func TestJournalTargetRefused(t *testing.T) {
	dir := echoDir(t)
	sock := t.TempDir()
	for _, c := range []struct {
		journal string
		want    string
	}{
		{"mysql://root:s3cret@db/x", `^driftless: --journal \(or DRIFTLESS_JOURNAL\) "mysql://root:xxxxx@db/x" is neither a file nor a PostgreSQL database\n\thint: a PostgreSQL journal is a postgres:// URL or a keyword/value string starting with a libpq keyword`},
		{"hots=/tmp dbname=d password=s3cret", `^driftless: --journal \(or DRIFTLESS_JOURNAL\) "hots=/tmp dbname=d password=xxxxx" is neither a file nor a PostgreSQL database\n`},
		{"host=/tmp password='s3cret", `^driftless: open journal: journal: open host=/tmp password=…: invalid argument: not a keyword/value string \(KEY=VALUE separated by spaces; a value with a space in 'quotes'\)\n$`},
		{"host=/tmp password=s3cret port=x", `^driftless: open journal: journal: open host=/tmp password=xxxxx port=x: invalid argument: invalid port\n$`},
		{"postgres://u:s3cr/et@db/d", `^driftless: open journal: journal: open postgres://…: invalid argument: not a postgres:// URL`},
		{"host=" + sock + " port=1 dbname=d password=s3cret sslmode=disable", `^driftless: open journal: journal: open host=\S+ port=1 dbname=d password=xxxxx sslmode=disable: the journal's database cannot be reached: `},
	} {
		for _, args := range [][]string{{"apply"}, {"history"}, {"tick"}, {"schedule"}, {"show", "1"}, {"drift"}, {"report", "--html", "-"}, {"journal", "stats"}, {"journal", "prune", "--older-than", "1d"}} {
			r := runBin(t, dir, append([]string{"--journal", c.journal}, args...)...)
			if r.code != exitInvalid || !regexp.MustCompile(c.want).MatchString(r.stderr) || strings.Contains(r.stdout+r.stderr, "s3cr") {
				t.Errorf("--journal %q %v: exit %d\nstdout %q\nstderr %q\nwant exit 1 and %s", c.journal, args, r.code, r.stdout, r.stderr, c.want)
			}
		}
		// The environment variable is the flag.
		cmd := exec.Command(buildBinary(t), "-C", dir, "status")
		cmd.Env = append(os.Environ(), "DRIFTLESS_JOURNAL="+c.journal)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInvalid || !regexp.MustCompile(c.want).Match(out) {
			t.Errorf("DRIFTLESS_JOURNAL=%q status: %v\n%s", c.journal, err, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".driftless")); err == nil {
		t.Errorf("a journal file was made")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.ContainsAny(e.Name(), "=:") {
			t.Errorf("a file was made of a --journal: %s", e.Name())
		}
	}
}

// The node name is read once per run of driftless, however many parts
// of it ask: the runs are recorded under the name the hosts were
// claimed with, even when the machine's host name changes meanwhile.
func TestNodeNameReadOnce(t *testing.T) {
	dir := echoDir(t)
	f := &e2eFleet{dir: dir}
	calls := 0
	osHostname = func() (string, error) {
		calls++
		return fmt.Sprintf("box-%d", calls), nil
	}
	t.Cleanup(func() { osHostname = os.Hostname })
	now := time.Now().UTC().Truncate(time.Minute).Format(time.RFC3339)
	for _, args := range [][]string{{"apply"}, {"tick", "--now", now}, {"schedule", "--now", now}, {"history"}, {"exec", "-t", "*", "--", "true"}} {
		calls = 0
		if r := f.run(t, args...); r.code != 0 {
			t.Fatalf("%v: %s", args, r)
		}
		if calls != 1 {
			t.Errorf("%v read the host name %d times, want once", args, calls)
		}
	}
	runs := decodeJSON[historyJSON](t, f.run(t, "history", "--json").stdout).Runs
	if len(runs) != 2 {
		t.Fatalf("history: %d runs, want 2 (apply, exec)", len(runs))
	}
	for _, r := range runs {
		if r.Node != "box-1" {
			t.Errorf("run %d recorded by node %q, want box-1", r.ID, r.Node)
		}
	}
}

// apply dials its first host while the journal opens, but only once the
// journal is known to be good input: a --journal refused as bad input
// exits 1 with no host contacted (the host here is a listener that
// counts who connects).
func TestJournalRefusedBeforeHostContacted(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var contacts atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			contacts.Add(1)
			c.Close()
		}
	}()
	dir := t.TempDir()
	key, _ := sshtest.NewClientKey(t)
	port := l.Addr().(*net.TCPAddr).Port
	configtest.Dir(t, dir, map[string]string{
		"inventory.toml": fmt.Sprintf("[defaults]\nidentity_files = [%q]\nhost_key_policy = \"accept-new\"\nknown_hosts = [%q]\nssh_config = false\n[hosts.web-1]\naddress = \"127.0.0.1\"\nport = %d\nuser = \"nobody\"\n",
			key, filepath.Join(dir, "known_hosts"), port),
		"associations.toml":    "[associations.hello]\ndocument = \"hello\"\ntargets = [\"*\"]\n",
		"documents/hello.toml": "[[steps]]\nname = \"hello\"\naction = \"shell\"\nrun = \"echo hello\"\n",
	})
	for _, target := range []string{"mysql://root:s3cret@db/x", "host=/tmp password='s3cret", "host=/tmp password=s3cret port=x", "postgres://u:s3cr/et@db/d"} {
		for range 5 {
			var out, errb strings.Builder
			if code := Main([]string{"driftless", "-C", dir, "--journal", target, "apply"}, strings.NewReader(""), &out, &errb); code != exitInvalid {
				t.Fatalf("--journal %q apply: exit %d, %q; want 1", target, code, errb.String())
			}
		}
	}
	time.Sleep(100 * time.Millisecond) // a dial started would have connected by now
	if n := contacts.Load(); n != 0 {
		t.Errorf("the host was contacted %d times by commands refused for their --journal", n)
	}
}
