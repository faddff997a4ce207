package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/driftless-dev/driftless/internal/pgtest"
	"github.com/driftless-dev/driftless/journal"
)

// journal migrate copies the SQLite journal into a PostgreSQL one:
// status, history and show print the same there; a second migrate copies
// nothing and says so; bad input exits 1 before anything is copied.
func TestJournalMigrate(t *testing.T) {
	url := pgtest.NewDB(t)
	dir := t.TempDir()
	path := filepath.Join(dir, ".driftless", "journal.db")
	seedRuns(t, path, "web", 30, 3, 4)
	seedRuns(t, path, "db", 10, 2, 2)
	var sqlite []string
	for _, args := range [][]string{{"status", "--json"}, {"history", "--json"}, {"show", "4", "--json"}, {"status"}} {
		sqlite = append(sqlite, runBin(t, dir, args...).wantCode(t, 0).stdout)
	}

	r := runBin(t, dir, "journal", "migrate", "--to", url).wantCode(t, 0)
	if want := "copied 5 runs, 16 host executions, 80 steps into " + journal.Redact(url) + "\n"; r.stdout != want || r.stderr != "" {
		t.Errorf("migrate: stdout %q, stderr %q; want %q", r.stdout, r.stderr, want)
	}
	for i, args := range [][]string{{"status", "--json"}, {"history", "--json"}, {"show", "4", "--json"}, {"status"}} {
		if got := runBin(t, dir, append([]string{"--journal", url}, args...)...).wantCode(t, 0).stdout; got != sqlite[i] {
			t.Errorf("%v on PostgreSQL:\n%s\non SQLite:\n%s", args, got, sqlite[i])
		}
	}

	abs, _ := filepath.Abs(path)
	r = runBin(t, dir, "journal", "migrate", "--to", url).wantCode(t, 0)
	if want := "nothing to copy: the 5 runs of " + abs + " that ended are in " + journal.Redact(url) + " already\n"; r.stdout != want {
		t.Errorf("second migrate: %q, want %q", r.stdout, want)
	}
	js := decodeJSON[migrateJSON](t, runBin(t, dir, "journal", "migrate", "--to", url, "--json").wantCode(t, 0).stdout)
	if js.Copied != (migrateCount{}) || js.AlreadyCopied != 5 || js.Source != abs || js.InProgress == nil || js.Interrupted == nil {
		t.Errorf("second migrate --json: %+v", js)
	}

	// A new database, --json: the counts.
	other := pgtest.NewDB(t)
	js = decodeJSON[migrateJSON](t, runBin(t, dir, "journal", "migrate", "--to", other, "--json").wantCode(t, 0).stdout)
	if js.Copied != (migrateCount{Runs: 5, Hosts: 16, Steps: 80, Associations: 0}) || js.Target != journal.Redact(other) || js.Transactions != 1 {
		t.Errorf("migrate --json: %+v", js)
	}

	// A run whose process is gone, and one still going (this test's).
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{gone.Process.Pid, os.Getpid()} {
		if _, err := j.StartRun(context.Background(), &journal.Run{Association: "web", Trigger: journal.TriggerSchedule,
			Mode: journal.ModeApply, StartedAt: time.Now(), PID: pid}); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	r = runBin(t, dir, "journal", "migrate", "--to", url).wantCode(t, 0)
	if r.stdout != "copied 1 run, 0 host executions, 0 steps into "+journal.Redact(url)+"\n5 runs copied before were left as they are\n"+
		"left out 1 run still in progress (run 7): run journal migrate again once it has ended\n" ||
		r.stderr != "marked run 6 Interrupted before copying: the process recording it is gone\n" {
		t.Errorf("migrate with runs in progress: stdout %q, stderr %q", r.stdout, r.stderr)
	}

	socketless := "postgres://driftless:s3cret@/driftless?host=" + t.TempDir() + "&port=1&sslmode=disable"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"journal", "migrate"}, `^driftless: journal migrate: --to is required: the PostgreSQL journal to copy into`},
		{[]string{"journal", "migrate", "--to", "other.db"}, `^driftless: journal migrate: --to: expected a PostgreSQL database, a postgres:// URL or a keyword/value string such as 'host=/run/postgresql dbname=driftless', got "other.db"\n$`},
		{[]string{"journal", "migrate", "--to", "mysql://root:s3cret@db/x"}, `^driftless: journal migrate: --to: expected a PostgreSQL database, .*, got "mysql://root:xxxxx@db/x"\n$`},
		{[]string{"journal", "migrate", "--to", "hots=/tmp password=s3cret"}, `^driftless: journal migrate: --to: expected a PostgreSQL database, .*, got "hots=/tmp password=xxxxx"\n$`},
		{[]string{"--journal", "mysql://root:s3cret@db/x", "journal", "migrate", "--to", url}, `^driftless: --journal \(or DRIFTLESS_JOURNAL\) "mysql://root:xxxxx@db/x" is neither a file nor a PostgreSQL database\n\thint: `},
		{[]string{"--journal", "dbname=x password=s3cret", "journal", "migrate", "--to", url}, `^driftless: journal migrate: the journal to copy is dbname=x password=xxxxx, a PostgreSQL database: `},
		{[]string{"journal", "migrate", "--to", "host=/tmp password=s3cret oops"}, `^driftless: journal migrate: journal: open host=/tmp password=xxxxx …: invalid argument: not a keyword/value string`},
		{[]string{"journal", "migrate", "--to", url, "extra"}, `^driftless: migrate takes no arguments, got "extra"`},
		{[]string{"--journal", url, "journal", "migrate", "--to", other}, `^driftless: journal migrate: the journal to copy is postgres://\S+, a PostgreSQL database: migrate copies a SQLite journal file\n`},
		{[]string{"--journal", filepath.Join(dir, "none.db"), "journal", "migrate", "--to", url}, `^driftless: journal migrate: no journal at \S+none\.db: nothing to copy\n\thint: `},
		{[]string{"--journal", dir, "journal", "migrate", "--to", url}, `^driftless: journal migrate: \S+ is not a journal file\n`},
		{[]string{"journal", "migrate", "--to", socketless}, `^driftless: journal migrate: journal: open postgres://driftless:xxxxx@/driftless\?\S+: the journal's database cannot be reached: `},
	} {
		r := runBin(t, dir, c.args...)
		if r.code != exitInvalid || !regexp.MustCompile(c.want).MatchString(r.stderr) || strings.Contains(r.stderr, "s3cret") || r.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 1 and %s", c.args, r.code, r.stdout, r.stderr, c.want)
		}
	}
}

// On a terminal, stderr shows how many runs are copied, redrawn in place
// after each transaction, and cleared before the result.
func TestJournalMigrateProgress(t *testing.T) {
	url := pgtest.NewDB(t)
	dir := t.TempDir()
	seedRuns(t, filepath.Join(dir, ".driftless", "journal.db"), "web", 500, 450, 1)
	out, code := runPTY(t, 100, "-C", dir, "journal", "migrate", "--to", url)
	if code != 0 || !strings.Contains(out, "\rcopied 0 of 450 runs\x1b[K\rcopied 200 of 450 runs\x1b[K\rcopied 400 of 450 runs\x1b[K\rcopied 450 of 450 runs\x1b[K\r\x1b[K") {
		t.Errorf("exit %d, terminal got %q", code, out)
	}
	if lines := screenLines(out); len(lines) != 1 || lines[0] != "copied 450 runs, 450 host executions, 2,250 steps into "+journal.Redact(url) {
		t.Errorf("screen %q", lines)
	}
}

// Ctrl-C stops the copy after the transaction under way: exit 130, and
// what was copied stays; the next migrate copies the rest.
func TestJournalMigrateInterrupted(t *testing.T) {
	url := pgtest.NewDB(t)
	dir := t.TempDir()
	seedRuns(t, filepath.Join(dir, ".driftless", "journal.db"), "web", 3000, 1000, 1)
	cmd := exec.Command(buildBinary(t), "-C", dir, "journal", "migrate", "--to", url)
	tty, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	// Once the first transaction is copied, as a user would.
	if _, err := readUntil(tty, "copied 200 of 1,000 runs"); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGINT)
	var out strings.Builder
	done := make(chan struct{})
	go func() { io.Copy(&out, tty); close(done) }()
	var ee *exec.ExitError
	err = cmd.Wait()
	<-done
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted ||
		!regexp.MustCompile(`\r\x1b\[Kdriftless: journal migrate: interrupted; \d+ runs, \d+ host executions and \d+ steps copied before it stopped: run it again to copy the rest\r\n$`).MatchString(out.String()) {
		t.Fatalf("migrate after SIGINT: %v, terminal got %q", err, out.String())
	}
	r := runBin(t, dir, "journal", "migrate", "--to", url).wantCode(t, 0)
	m := regexp.MustCompile(`^copied (\S+) runs, `).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("second migrate: %s", r.stdout)
	}
	rest, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
	if rest <= 0 || rest >= 1000 || rest%200 != 0 || !strings.Contains(r.stdout, strconv.Itoa(1000-rest)+" runs copied before were left as they are\n") {
		t.Errorf("after the interrupted migrate, the next copied %d runs: %s", rest, r.stdout)
	}
	st := decodeJSON[statsJSON](t, runBin(t, dir, "--journal", url, "journal", "stats", "--json").wantCode(t, 0).stdout)
	if st.Runs != 1000 || tableRows(st)["imported_runs"] != 1000 {
		t.Errorf("on PostgreSQL: %d runs, %d imported, want 1000", st.Runs, tableRows(st)["imported_runs"])
	}
}

// readUntil reads r until it has read s, and returns what it read.
func readUntil(r io.Reader, s string) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for !strings.HasSuffix(b.String(), s) {
		if _, err := r.Read(buf); err != nil {
			return b.String(), fmt.Errorf("read %q, not %q: %w", b.String(), s, err)
		}
		b.Write(buf)
	}
	return b.String(), nil
}

func TestGroupDigits(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -12345: "-12,345"} {
		if got := groupDigits(n); got != want {
			t.Errorf("groupDigits(%d) = %q, want %q", n, got, want)
		}
	}
}

// A journal made by real commands on a local host (a schedule's tick, an
// apply that corrected a file, a check that found it drifted, an exec):
// after journal migrate, status, history, show, drift, schedule and
// report print on the PostgreSQL journal what they print on the file.
func TestJournalMigrateCommandsAgree(t *testing.T) {
	dir := localDir(t, "[associations.c]\ndocument = \"c\"\ntargets = [\"*\"]\nschedule = \"rate(30 minutes)\"\n"+
		"[associations.f]\ndocument = \"f\"\ntargets = [\"*\"]\n", "c")
	motd := filepath.Join(dir, "motd.txt")
	os.WriteFile(filepath.Join(dir, "documents", "f.toml"), []byte("[[steps]]\nname = \"motd\"\naction = \"file\"\npath = \""+motd+"\"\ncontent = \"hello\\n\"\n"), 0o600)
	now := time.Now().UTC().Truncate(time.Minute)
	runBin(t, dir, "tick", "--now", now.Add(-time.Minute).Format(time.RFC3339)).wantCode(t, 0)
	runBin(t, dir, "apply", "f").wantCode(t, 0)
	os.WriteFile(motd, []byte("changed\n"), 0o600)
	runBin(t, dir, "check", "f").wantCode(t, exitDrift)
	runBin(t, dir, "exec", "--targets", "here", "--", "echo", "ran").wantCode(t, 0)

	url := pgtest.NewDB(t)
	views := [][]string{{"status", "--json"}, {"status"}, {"history", "--json"}, {"history"}, {"drift", "--since", "1d", "--json"},
		{"schedule", "--now", now.Add(45 * time.Minute).Format(time.RFC3339), "--json"}, {"report", "--html", "-", "--since", now.Add(-24 * time.Hour).Format(time.RFC3339)}}
	for i := 1; i <= 5; i++ {
		views = append(views, []string{"show", strconv.Itoa(i), "--json"}, []string{"show", strconv.Itoa(i)})
	}
	sqlite := make([]string, len(views))
	for i, args := range views {
		sqlite[i] = runBin(t, dir, args...).wantCode(t, 0).stdout
	}
	if strings.Count(sqlite[4], `"step": "motd"`) != 2 || !strings.Contains(sqlite[5], `"association": "c"`) {
		t.Fatalf("the journal lacks the drift or the schedule:\n%s\n%s", sqlite[4], sqlite[5])
	}
	r := runBin(t, dir, "journal", "migrate", "--to", url).wantCode(t, 0)
	if want := "copied 5 runs, 5 host executions, 5 steps into " + journal.Redact(url) + "\n"; r.stdout != want {
		t.Errorf("migrate: %q, want %q", r.stdout, want)
	}
	generated := regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ`)
	file, _ := filepath.Abs(filepath.Join(dir, ".driftless", "journal.db"))
	for i, args := range views {
		got := runBin(t, dir, append([]string{"--journal", url}, args...)...).wantCode(t, 0).stdout
		want := sqlite[i]
		if args[0] == "report" { // it names the journal and when it was written
			got = generated.ReplaceAllString(strings.ReplaceAll(got, html.EscapeString(journal.Redact(url)), "JOURNAL"), "TIME")
			want = generated.ReplaceAllString(strings.ReplaceAll(want, html.EscapeString(file), "JOURNAL"), "TIME")
		}
		if got != want {
			t.Errorf("%v on PostgreSQL:\n%s\non SQLite:\n%s", args, lineDiff(got, want), lineDiff(want, got))
		}
	}
}

// lineDiff is the lines of a that b does not have.
func lineDiff(a, b string) string {
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if !strings.Contains(b, l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
