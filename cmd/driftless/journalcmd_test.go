package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/journal"
)

// seedRuns writes, at path, runs of association assoc, one a day from
// daysAgo days ago on, each on hosts hosts (web-0000 …) with five steps
// whose command printed a kilobyte. Each run lasts a minute.
func seedRuns(t *testing.T, path, assoc string, daysAgo, runs, hosts int) {
	t.Helper()
	ctx := context.Background()
	j, err := journal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	out := strings.Repeat("installed package version 1.2.3\n", 32)
	day0 := time.Now().UTC().Add(-time.Duration(daysAgo) * 24 * time.Hour)
	for r := range runs {
		at := day0.Add(time.Duration(r) * 24 * time.Hour)
		id, err := j.StartRun(ctx, &journal.Run{Association: assoc, Document: "baseline", Trigger: journal.TriggerSchedule,
			Mode: journal.ModeApply, Severity: journal.SeverityHigh, StartedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		for h := range hosts {
			code := 0
			steps := make([]journal.StepResult, 5)
			for i := range steps {
				steps[i] = journal.StepResult{Index: i, Name: fmt.Sprintf("step-%d", i), Action: "shell", Status: journal.StatusCompliant}
			}
			steps[2].Status, steps[2].ExitCode, steps[2].Stdout = journal.StatusSuccess, &code, out
			err := j.RecordHost(ctx, journal.HostResult{RunID: id, Host: fmt.Sprintf("web-%04d", h), Status: journal.StatusSuccess,
				StartedAt: at, EndedAt: at.Add(time.Second), Steps: steps})
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := j.FinishRun(ctx, id, journal.StatusSuccess, nil, at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}

// runBin runs the built driftless with args in dir and returns what it
// printed and its exit code.
func runBin(t *testing.T, dir string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(buildBinary(t), append([]string{"-C", dir}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return cliResult{code, out.String(), errb.String()}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func tableRows(st statsJSON) map[string]int64 {
	rows := map[string]int64{}
	for _, tb := range st.Tables {
		rows[tb.Name] = tb.Rows
	}
	return rows
}

// A journal with 200 days of runs: prune --older-than 90d deletes what
// ended before, keeps what status shows, and the file shrinks.
func TestJournalPrune(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".driftless", "journal.db")
	// web-0000 … web-0039 ran 200 to 161 days ago; web-0020 … web-0039
	// then stopped (removed from the inventory, say): their latest
	// results are 161 days old. web-0000 … web-0019 ran every day of the
	// last 40.
	seedRuns(t, path, "web", 200, 40, 40)
	seedRuns(t, path, "web", 40, 40, 20)
	status := runBin(t, dir, "status", "--json").wantCode(t, 0).stdout

	if r := runBin(t, dir, "journal", "prune", "--older-than", "3x"); r.code != 1 ||
		r.stderr != "driftless: --older-than: expected an age such as 90d (days) or 36h (any Go duration), more than zero, got \"3x\"\n" {
		t.Errorf("bad --older-than: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, args := range [][]string{{"journal", "prune"}, {"journal", "prune", "--older-than", "0d"},
		{"journal", "prune", "--older-than", "-3h"}, {"journal", "prune", "--older-than", "90d", "--dry-run", "--vacuum"},
		{"journal", "prune", "--older-than", "90d", "extra"}, {"journal", "prun"}, {"journal", "stats", "--older-than", "1d"}} {
		if r := runBin(t, dir, args...); r.code != 1 || !strings.HasPrefix(r.stderr, "driftless: ") {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 and the problem", args, r.code, r.stderr)
		}
	}

	before := decodeJSON[statsJSON](t, runBin(t, dir, "journal", "stats", "--json").wantCode(t, 0).stdout)
	if got := tableRows(before); got["runs"] != 80 || got["host_results"] != 40*40+40*20 || got["step_results"] != 5*(40*40+40*20) || got["latest"] != 40 {
		t.Fatalf("stats before: %v", got)
	}
	if before.AutoVacuum != "incremental" || before.OldestRun == nil || before.FileBytes != fileSize(t, path) {
		t.Errorf("stats before: %+v", before)
	}

	// 40 old runs: 39 go, the last keeps web-0020 … web-0039, whose latest it holds.
	wantDeleted := pruneCount{Runs: 39, Hosts: 40*40 - 20, Steps: 5 * (40*40 - 20)}
	wantKept := pruneCount{Runs: 1, Hosts: 20}
	dry := decodeJSON[pruneJSON](t, runBin(t, dir, "journal", "prune", "--older-than", "90d", "--dry-run", "--json").wantCode(t, 0).stdout)
	if dry.Deleted != wantDeleted || dry.Kept != wantKept || !dry.DryRun {
		t.Errorf("dry run: %+v", dry)
	}
	if after := decodeJSON[statsJSON](t, runBin(t, dir, "journal", "stats", "--json").stdout); !reflect.DeepEqual(tableRows(after), tableRows(before)) {
		t.Errorf("the dry run deleted rows: %v, before %v", tableRows(after), tableRows(before))
	}

	sizeBefore := fileSize(t, path)
	r := runBin(t, dir, "journal", "prune", "--older-than", "90d").wantCode(t, 0)
	wantLines(t, "prune", r.stdout,
		`^deleted 39 runs, 1580 host executions and 7900 steps that ended before \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(older than 90d\)$`,
		`^kept 20 host executions of 1 run that ended before then: the latest result of an association × host, or the last run a schedule counts from$`,
		`^freed \d+\.\d [KM]iB: the journal is now \d+\.\d [KM]iB$`)
	sizeAfter := fileSize(t, path)
	t.Logf("journal file %d bytes before prune, %d after\n%s", sizeBefore, sizeAfter, r.stdout)
	if sizeAfter > sizeBefore*3/4 {
		t.Errorf("journal file %d bytes after prune, %d before: want a quarter less at least", sizeAfter, sizeBefore)
	}
	after := decodeJSON[statsJSON](t, runBin(t, dir, "journal", "stats", "--json").wantCode(t, 0).stdout)
	if got := tableRows(after); got["runs"] != 41 || got["host_results"] != 40*20+20 || got["latest"] != 40 || after.FreePages != 0 {
		t.Errorf("stats after: %v, %d free pages", got, after.FreePages)
	}
	if got := runBin(t, dir, "status", "--json").wantCode(t, 0).stdout; got != status {
		t.Errorf("status changed:\nbefore %s\nafter  %s", status, got)
	}

	// Nothing more to delete; the text says so.
	r = runBin(t, dir, "journal", "prune", "--older-than", "90d").wantCode(t, 0)
	wantLines(t, "second prune", r.stdout, `^nothing to delete: no run that ended before \S+ \S+Z \(older than 90d\) is no longer needed$`)

	// journal stats in text.
	r = runBin(t, dir, "journal", "stats").wantCode(t, 0)
	t.Logf("journal stats:\n%s", r.stdout)
	wantLines(t, "stats", r.stdout,
		`^journal +\S+journal\.db$`,
		`^file +\d+\.\d [KM]iB, WAL \d+`,
		`^pages +\d+ of 4\.0 KiB, 0 free \(0 B\); auto_vacuum incremental$`,
		`^runs +41, started \S+ \S+Z to \S+ \S+Z$`,
		`^TABLE +ROWS +BYTES +INDEXES$`,
		`^step_results +4100 +\d+\.\d [KM]iB +\d+\.\d [KM]iB$`,
		`^latest +40 +`)
}

// A journal created before retention (auto_vacuum off) keeps the space
// inside the file, and says so; --vacuum gives it back.
func TestJournalPruneOldJournal(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".driftless", "journal.db")
	seedRuns(t, path, "web", 200, 30, 30)
	// What an older driftless created: auto_vacuum NONE.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`PRAGMA auto_vacuum = NONE`, `VACUUM`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	sizeBefore := fileSize(t, path)
	r := runBin(t, dir, "journal", "prune", "--older-than", "180d").wantCode(t, 0)
	wantLines(t, "prune", r.stdout,
		`^deleted 20 runs, 600 host executions and 3000 steps that ended before `,
		`^journal \d+\.\d [KM]iB, of which \d+\.\d [KM]iB is free: this journal was created without incremental vacuum, so the space stays inside the file$`,
		`^  driftless journal prune --older-than 180d --vacuum gives it back \(a full VACUUM: other driftless processes wait while it runs\)$`)
	if got := fileSize(t, path); got != sizeBefore {
		t.Errorf("file %d bytes after prune without vacuum, %d before", got, sizeBefore)
	}

	out := decodeJSON[pruneJSON](t, runBin(t, dir, "journal", "prune", "--older-than", "180d", "--vacuum", "--json").wantCode(t, 0).stdout)
	if out.Deleted.Runs != 0 || out.Vacuum == nil || out.AutoVacuum != "incremental" || out.FreeBytes != 0 ||
		out.Vacuum.BytesAfter >= out.Vacuum.BytesBefore*3/4 {
		t.Errorf("prune --vacuum: %+v (vacuum %+v)", out, out.Vacuum)
	}
	if got := fileSize(t, path); got != out.JournalBytes || got >= sizeBefore*3/4 {
		t.Errorf("file %d bytes after --vacuum (journal %d), %d before", got, out.JournalBytes, sizeBefore)
	}
	st := decodeJSON[statsJSON](t, runBin(t, dir, "journal", "stats", "--json").wantCode(t, 0).stdout)
	if st.AutoVacuum != "incremental" || st.Runs != 10 {
		t.Errorf("stats after vacuum: %+v", st)
	}
}

// journal prune, a process of its own, deletes while this process writes
// runs to the same journal: the writes go on, none waits long.
func TestJournalPruneWhileWriting(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a large journal")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, ".driftless", "journal.db")
	seedRuns(t, path, "old", 200, 60, 100)

	j, err := journal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	cmd := exec.Command(buildBinary(t), "-C", dir, "journal", "prune", "--older-than", "90d", "--json")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	ctx := context.Background()
	var slowest time.Duration
	writes := 0
	for done := false; !done; {
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("prune: %v\n%s%s", err, out.String(), errb.String())
			}
			done = true
		default:
		}
		began := time.Now()
		id, err := j.StartRun(ctx, &journal.Run{Association: "new", Trigger: journal.TriggerSchedule, Mode: journal.ModeApply, StartedAt: began})
		if err != nil {
			t.Fatalf("write during prune: %v", err)
		}
		for h := range 10 {
			if err := j.RecordHost(ctx, journal.HostResult{RunID: id, Host: fmt.Sprintf("new-%d", h), Status: journal.StatusSuccess,
				StartedAt: began, EndedAt: began, Steps: []journal.StepResult{{Name: "s", Action: "shell", Status: journal.StatusSuccess}}}); err != nil {
				t.Fatalf("write during prune: %v", err)
			}
		}
		if err := j.FinishRun(ctx, id, journal.StatusSuccess, nil, time.Now()); err != nil {
			t.Fatalf("write during prune: %v", err)
		}
		slowest = max(slowest, time.Since(began))
		writes++
	}
	res := decodeJSON[pruneJSON](t, out.String())
	t.Logf("prune deleted %d runs in %d transactions; %d runs written meanwhile, the slowest in %v", res.Deleted.Runs, res.Transactions, writes, slowest)
	if res.Deleted.Runs != 59 || res.Transactions < 8 {
		t.Errorf("prune: %+v", res)
	}
	// A write waits for one prune transaction at most (tens of
	// milliseconds); the limit leaves room for a loaded machine and the
	// race detector, and is far from the 10s busy timeout.
	if writes < res.Transactions/2 || slowest > 3*time.Second {
		t.Errorf("%d runs written during %d prune transactions, the slowest in %v", writes, res.Transactions, slowest)
	}
}

// daemon --retention prunes when it starts.
func TestDaemonRetention(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "documents"), 0o755)
	os.WriteFile(filepath.Join(dir, "inventory.toml"), []byte("[hosts.here]\ntransport = \"local\"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "associations.toml"), nil, 0o600)
	path := filepath.Join(dir, ".driftless", "journal.db")
	seedRuns(t, path, "web", 100, 100, 5)

	if r := runBin(t, dir, "daemon", "--retention", "3x"); r.code != 1 || !strings.Contains(r.stderr, `--retention: expected an age such as 90d`) {
		t.Errorf("daemon --retention 3x: %+v", r)
	}

	cmd := exec.Command(buildBinary(t), "-C", dir, "daemon", "--retention", "30d")
	logPath := filepath.Join(t.TempDir(), "daemon.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	log := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(log(), "retention 30d: deleted") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("daemon: %v\n%s", err, log())
	}
	wantLines(t, "daemon stderr", log(),
		`^driftless daemon: deleting runs that ended more than 30d ago, now and every 24 hours$`,
		`^driftless daemon: retention 30d: deleted 70 runs, 350 host executions and 1750 steps; freed \d+\.\d [KM]iB, the journal is \d+\.\d [KM]iB$`,
		`^driftless daemon: stopped$`)
	st := decodeJSON[statsJSON](t, runBin(t, dir, "journal", "stats", "--json").wantCode(t, 0).stdout)
	if st.Runs != 30 {
		t.Errorf("%d runs after daemon --retention 30d, want 30", st.Runs)
	}
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "36h": 36 * time.Hour, "1d12h": 36 * time.Hour,
		" 7d ": 7 * 24 * time.Hour, "1.5d": 36 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := parseAge("older-than", in); err != nil || got != want {
			t.Errorf("parseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "3x", "0", "0d", "-1d", "-3h", "d", "90", "1e9d", "90d-100d"} {
		if got, err := parseAge("older-than", in); err == nil {
			t.Errorf("parseAge(%q) = %v, want an error", in, got)
		}
	}
}

func FuzzParseAge(f *testing.F) {
	for _, s := range []string{"90d", "36h", "1d12h", "3x", "0d", "-1d", "1.5d", "100000d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseAge("older-than", s)
		if err == nil && d <= 0 {
			t.Errorf("parseAge(%q) = %v: accepted an age of zero or less", s, d)
		}
		if err != nil && !strings.Contains(err.Error(), "--older-than: expected an age") {
			t.Errorf("parseAge(%q): %v: the error does not name the flag", s, err)
		}
	})
}
