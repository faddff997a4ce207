package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// base is a fixed point in time the tests count from.
var base = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func tempPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "cfg", ".driftless", "journal.db")
}

func openT(t testing.TB, path string) *Journal {
	t.Helper()
	j, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// newT opens a journal in a new temporary file, closed when the test
// ends, and returns it with the context the test's calls take.
func newT(t testing.TB) (context.Context, *Journal) {
	t.Helper()
	return context.Background(), openT(t, tempTarget(t))
}

// refuseBadSteps makes j's database refuse, with "no bad steps", to
// insert the row of a step named "bad": a row that fails to be written.
func refuseBadSteps(t testing.TB, j *Journal) {
	t.Helper()
	if _, pg := j.d.(postgresDialect); pg {
		if _, err := j.w.Exec(`
			CREATE FUNCTION no_bad_steps() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.name = 'bad' THEN RAISE EXCEPTION 'no bad steps'; END IF; RETURN NEW; END $$;
			CREATE TRIGGER bad_step BEFORE INSERT ON step_results FOR EACH ROW EXECUTE FUNCTION no_bad_steps()`); err != nil {
			t.Fatal(err)
		}
		return
	}
	if _, err := j.w.Exec(`CREATE TEMP TRIGGER bad_step BEFORE INSERT ON step_results
		WHEN NEW.name = 'bad' BEGIN SELECT RAISE(ABORT, 'no bad steps'); END`); err != nil {
		t.Fatal(err)
	}
}

func startRunT(t testing.TB, j *Journal, assoc string, mode Mode, at time.Time) int64 {
	t.Helper()
	trigger := TriggerManual
	if mode == ModeExec {
		trigger = TriggerExec
	}
	id, err := j.StartRun(context.Background(), &Run{
		Association: assoc, Document: "baseline", DocHash: "doc-" + assoc, ParamsHash: "params",
		Trigger: trigger, Mode: mode, Severity: SeverityHigh, StartedAt: at,
	})
	if err != nil {
		t.Fatalf("StartRun: %v", err)
	}
	return id
}

func recordT(t testing.TB, j *Journal, h HostResult) {
	t.Helper()
	if err := j.RecordHost(context.Background(), h); err != nil {
		t.Fatalf("RecordHost %s: %v", h.Host, err)
	}
}

func finishT(t testing.TB, j *Journal, id int64, status Status, at time.Time) {
	t.Helper()
	if err := j.FinishRun(context.Background(), id, status, nil, at); err != nil {
		t.Fatalf("FinishRun: %v", err)
	}
}

func step(i int, status Status) StepResult {
	s := StepResult{Index: i, Name: fmt.Sprintf("step-%d", i), Action: "shell", Status: status,
		Duration: time.Duration(i+1) * time.Millisecond}
	switch status {
	case StatusCorrected, StatusDrifted:
		s.Drifted = true
		s.Differ = fmt.Sprintf("mode 0644 -> 0600 (step %d)", i)
	case StatusSkipped:
		s.SkipReason = SkipStopped
	default: // the other values need nothing here
	}
	return s
}

func skipped(i int, reason string) StepResult {
	s := step(i, StatusSkipped)
	s.SkipReason = reason
	return s
}

func host(runID int64, name string, status Status, at time.Time, steps ...StepResult) HostResult {
	return HostResult{RunID: runID, Host: name, Status: status, DefHash: "def-1",
		StartedAt: at, EndedAt: at.Add(time.Second), Steps: steps}
}

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatalf("run helper process: %v", err)
	}
	pid := cmd.Process.Pid
	if pidAlive(pid) {
		t.Skipf("pid %d was reused already", pid)
	}
	return pid
}

func userVersion(t *testing.T, j *Journal) int {
	t.Helper()
	var v int
	q := `PRAGMA user_version`
	if _, pg := j.d.(postgresDialect); pg {
		q = `SELECT max(version) FROM driftless_schema`
	}
	if err := j.r.QueryRow(q).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenMigratesAndReopens(t *testing.T) {
	path := tempPath(t)
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := userVersion(t, j), schemaVersion(migrations); got != want {
		t.Errorf("user_version = %d, want %d", got, want)
	}
	var tables []string
	rows, err := j.r.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	want := []string{"associations", "host_results", "latest", "leases", "nodes", "notifications", "runs", "step_results"}
	if !slices.Equal(tables, want) {
		t.Errorf("tables = %v, want %v", tables, want)
	}
	var mode string
	j.r.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
	var fk int
	j.w.QueryRow(`PRAGMA foreign_keys`).Scan(&fk)
	if fk != 1 {
		t.Errorf("foreign_keys = %d, want 1", fk)
	}
	id := startRunT(t, j, "web", ModeApply, base)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopening applies nothing and keeps the data.
	j = openT(t, path)
	if got, want := userVersion(t, j), schemaVersion(migrations); got != want {
		t.Errorf("after reopen: user_version = %d, want %d", got, want)
	}
	runs, err := j.History(context.Background(), HistoryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].ID != id || runs[0].Status != StatusInProgress {
		t.Errorf("after reopen: runs = %+v, want run %d InProgress", runs, id)
	}
}

func TestMigrationsUpgradeAndRefuseNewer(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	j := openT(t, path)
	id := startRunT(t, j, "web", ModeApply, base)
	j.Close()

	// A migration that fails half-way leaves the journal at its version,
	// without the half.
	cur := schemaVersion(migrations)
	bad := append(slices.Clone(migrations), migration{version: cur + 1, stmts: []string{
		`CREATE TABLE half (x INTEGER)`,
		`CREATE TABLE broken (`,
	}})
	if _, err := open(ctx, path, bad); err == nil {
		t.Fatal("open with a broken migration: no error")
	}
	j = openT(t, path)
	if v := userVersion(t, j); v != cur {
		t.Errorf("after failed migration: user_version = %d, want %d", v, cur)
	}
	var n int
	j.r.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'half'`).Scan(&n)
	if n != 0 {
		t.Error("failed migration left table 'half' behind")
	}
	j.Close()

	// A newer build migrates to the next version, keeping the data.
	next := append(slices.Clone(migrations), migration{version: cur + 1, stmts: []string{
		`ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT ''`,
	}})
	j2, err := open(ctx, path, next)
	if err != nil {
		t.Fatal(err)
	}
	if v := userVersion(t, j2); v != cur+1 {
		t.Errorf("user_version = %d, want %d", v, cur+1)
	}
	if _, _, err := j2.Show(ctx, id, ""); err != nil {
		t.Errorf("Show after upgrade: %v", err)
	}
	j2.Close()

	// This build then refuses the journal.
	_, err = Open(path)
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open of a newer journal: err = %v, want ErrNewerSchema", err)
	}
}

func TestConcurrentOpenOfFreshFile(t *testing.T) { forBackends(t, testConcurrentOpenOfFreshFile) }

func testConcurrentOpenOfFreshFile(t *testing.T) {
	path := tempTarget(t)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	js := make([]*Journal, 6)
	for i := range js {
		wg.Go(func() { js[i], errs[i] = Open(path) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer js[i].Close()
		if v := userVersion(t, js[i]); v != schemaVersion(migrations) && v != schemaVersion(pgMigrations) {
			t.Errorf("journal %d: user_version = %d", i, v)
		}
	}
}

func TestFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix file modes")
	}
	path := tempPath(t)
	j := openT(t, path)
	id := startRunT(t, j, "web", ModeApply, base)
	recordT(t, j, host(id, "web-1", StatusSuccess, base, step(0, StatusCompliant)))
	if err := j.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	// While the journal is open, the WAL and shared-memory files exist.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", filepath.Base(p), m)
		}
	}
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o700 {
		t.Errorf("journal directory: mode %04o, want 0700", m)
	}
}

func TestErrors(t *testing.T) { forBackends(t, testErrors) }

func testErrors(t *testing.T) {
	ctx, j := newT(t)
	id := startRunT(t, j, "web", ModeApply, base)

	if _, _, err := j.Show(ctx, id+100, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("Show of a missing run: %v, want ErrNotFound", err)
	}
	if _, _, err := j.Show(ctx, id, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Show of a missing host: %v, want ErrNotFound", err)
	}
	for name, h := range map[string]HostResult{
		"unknown host status": host(id, "a", "Done", base),
		"no host":             host(id, "", StatusSuccess, base),
		"no run":              host(0, "a", StatusSuccess, base),
		"unknown step status": host(id, "a", StatusSuccess, base, step(0, "Fine")),
		"skip without reason": host(id, "a", StatusSuccess, base, skipped(0, "")),
		"reason without skip": host(id, "a", StatusSuccess, base, StepResult{Index: 0, Status: StatusSuccess, SkipReason: SkipStopped}),
		"same index twice":    host(id, "a", StatusSuccess, base, step(0, StatusSuccess), step(0, StatusSuccess)),
	} {
		if err := j.RecordHost(ctx, h); !errors.Is(err, ErrInvalid) {
			t.Errorf("RecordHost, %s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := j.StartRun(ctx, &Run{Association: "web", Trigger: "cron", Mode: ModeApply, StartedAt: base}); !errors.Is(err, ErrInvalid) {
		t.Errorf("StartRun with an unknown trigger: %v, want ErrInvalid", err)
	}
	if err := j.FinishRun(ctx, id, StatusInProgress, nil, base); !errors.Is(err, ErrInvalid) {
		t.Errorf("FinishRun InProgress: %v, want ErrInvalid", err)
	}
	if err := j.FinishRun(ctx, id+100, StatusSuccess, nil, base); !errors.Is(err, ErrNotFound) {
		t.Errorf("FinishRun of a missing run: %v, want ErrNotFound", err)
	}

	// A record for a missing run is accepted (it is only queued) and the
	// failure surfaces when the journal is closed; the good records of the
	// same batch are written.
	recordT(t, j, host(id+100, "ghost", StatusSuccess, base))
	recordT(t, j, host(id, "web-1", StatusSuccess, base, step(0, StatusCompliant)))
	if err := j.Close(); !errors.Is(err, ErrNotFound) {
		t.Errorf("Close after a record of a missing run: %v, want ErrNotFound", err)
	}
	if err := j.RecordHost(ctx, host(id, "web-2", StatusSuccess, base)); !errors.Is(err, ErrClosed) {
		t.Errorf("RecordHost after Close: %v, want ErrClosed", err)
	}
	if _, err := j.Status(ctx, StatusFilter{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Status after Close: %v, want ErrClosed", err)
	}
	if err := j.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	j = openT(t, j.Path())
	_, hosts, err := j.Show(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 1 || hosts[0].Host != "web-1" {
		t.Errorf("hosts = %+v, want web-1 only", hosts)
	}
}

// A journal opened read-only shows what it holds and refuses every write.
func TestOpenReadOnly(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	j := openT(t, path)
	id := startRunT(t, j, "web", ModeApply, base)
	recordT(t, j, host(id, "web-1", StatusSuccess, base, step(0, StatusCompliant)))
	finishT(t, j, id, StatusSuccess, base.Add(time.Minute))
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if !ro.ReadOnly() {
		t.Error("ReadOnly() = false")
	}
	rows, err := ro.Status(ctx, StatusFilter{})
	if err != nil || len(rows) != 1 || rows[0].Host != "web-1" || rows[0].Compliance != Compliant {
		t.Fatalf("Status = %+v, %v", rows, err)
	}
	if _, err := ro.StartRun(ctx, &Run{Association: "web", Document: "d", Mode: ModeApply, Trigger: TriggerManual, StartedAt: base}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("StartRun = %v, want ErrReadOnly", err)
	}
	if _, _, err := ro.AcquireLeases(ctx, ro.Self(0), "web", []string{"web-1"}, time.Minute); !errors.Is(err, ErrReadOnly) {
		t.Errorf("AcquireLeases = %v, want ErrReadOnly", err)
	}
	if err := ro.RecordHost(ctx, host(id, "web-2", StatusSuccess, base)); !errors.Is(err, ErrReadOnly) {
		t.Errorf("RecordHost = %v, want ErrReadOnly", err)
	}
	// Seen for the first time, it is seen now, and nothing is written.
	if at, err := ro.FirstSeen(ctx, "new", base); err != nil || !at.Equal(base) {
		t.Errorf("FirstSeen = %v, %v", at, err)
	}
}

// A journal that other users may read is made private when opened, and
// the user is told.
func TestOpenTightensMode(t *testing.T) {
	path := tempPath(t)
	j := openT(t, path)
	j.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	j = openT(t, path)
	defer j.Close()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o after Open, want 0600", st.Mode().Perm())
	}
	if n := j.Notes(); len(n) != 1 || !strings.Contains(n[0], "was mode 0644, readable by other users: made it 0600") {
		t.Errorf("notes = %q", n)
	}
}
