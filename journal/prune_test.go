package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

// pruneJournal writes the runs the prune tests cut at base+10d:
//
//	run  association  mode   day  hosts
//	1    web          apply  0    web-1, web-2 (web-2's latest apply)
//	2    web          apply  1    web-1
//	3    web          check  2    web-1 (its latest check)
//	4    (exec)       exec   3    web-1, one step
//	5    db           apply  4    db-1 (the last that was not cut off: schedules count from it)
//	6    db           apply  5    db-1 Cancelled (its latest apply)
//	7    web          apply  6    web-1
//	8    web          apply  7    web-1 started, still InProgress
//	9    web          apply  20   web-1 (its latest apply)
func pruneJournal(t *testing.T) (*Journal, string) {
	t.Helper()
	path := tempTarget(t)
	j := openT(t, path)
	day := func(n int) time.Time { return base.Add(time.Duration(n) * 24 * time.Hour) }
	run := func(assoc string, mode Mode, d int, status Status, hosts ...string) int64 {
		t.Helper()
		id := startRunT(t, j, assoc, mode, day(d))
		for _, h := range hosts {
			hr := fiveSteps(id, h, day(d))
			if mode == ModeExec {
				hr.Steps = hr.Steps[:1]
			}
			hr.Status = status
			recordT(t, j, hr)
		}
		finishT(t, j, id, StatusSuccess, day(d).Add(time.Minute))
		return id
	}
	run("web", ModeApply, 0, StatusSuccess, "web-1", "web-2")
	run("web", ModeApply, 1, StatusSuccess, "web-1")
	run("web", ModeCheck, 2, StatusSuccess, "web-1")
	run("", ModeExec, 3, StatusSuccess, "web-1")
	run("db", ModeApply, 4, StatusSuccess, "db-1")
	run("db", ModeApply, 5, StatusCancelled, "db-1")
	run("web", ModeApply, 6, StatusSuccess, "web-1")
	id := startRunT(t, j, "web", ModeApply, day(7))
	if err := j.StartHost(context.Background(), id, "web-1", day(7)); err != nil {
		t.Fatal(err)
	}
	if err := j.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	run("web", ModeApply, 20, StatusSuccess, "web-1")
	return j, path
}

// journalView is what the commands show of a journal.
type journalView struct {
	status   []ComplianceRow
	last     map[string]map[string]LastRun
	finished map[string]LastRun
}

func viewOf(t *testing.T, j *Journal) journalView {
	t.Helper()
	ctx := context.Background()
	v := journalView{last: map[string]map[string]LastRun{}, finished: map[string]LastRun{}}
	var err error
	if v.status, err = j.Status(ctx, StatusFilter{}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"web", "db"} {
		if v.last[a], err = j.LastRuns(ctx, a, ""); err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"web-1", "web-2", "db-1"} {
			for _, m := range []Mode{"", ModeApply, ModeCheck} {
				lr, ok, err := j.LastFinished(ctx, a, h, m)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					v.finished[a+" "+h+" "+string(m)] = lr
				}
			}
		}
	}
	return v
}

func runIDs(t *testing.T, j *Journal) []int64 {
	t.Helper()
	runs, err := j.History(context.Background(), HistoryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	return ids
}

func countRows(t *testing.T, j *Journal, table string) int64 {
	t.Helper()
	var n int64
	if err := j.r.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPruneKeepsWhatIsStillNeeded(t *testing.T) { forBackends(t, testPruneKeepsWhatIsStillNeeded) }

func testPruneKeepsWhatIsStillNeeded(t *testing.T) {
	ctx := context.Background()
	j, _ := pruneJournal(t)
	cutoff := base.Add(10 * 24 * time.Hour)
	before := viewOf(t, j)
	steps := countRows(t, j, "step_results")

	want := PruneResult{Runs: 3, Hosts: 4, Steps: 16, KeptRuns: 4, KeptHosts: 4}
	dry, err := j.Prune(ctx, PruneOptions{Before: cutoff, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := (PruneResult{Runs: dry.Runs, Hosts: dry.Hosts, Steps: dry.Steps, KeptRuns: dry.KeptRuns, KeptHosts: dry.KeptHosts}); got != want {
		t.Errorf("dry run = %+v, want %+v", got, want)
	}
	if ids := runIDs(t, j); !slices.Equal(ids, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9}) || countRows(t, j, "step_results") != steps {
		t.Fatalf("the dry run deleted something: runs %v", ids)
	}

	res, err := j.Prune(ctx, PruneOptions{Before: cutoff})
	if err != nil {
		t.Fatal(err)
	}
	if got := (PruneResult{Runs: res.Runs, Hosts: res.Hosts, Steps: res.Steps, KeptRuns: res.KeptRuns, KeptHosts: res.KeptHosts}); got != want {
		t.Errorf("prune = %+v, want %+v", got, want)
	}
	if ids := runIDs(t, j); !slices.Equal(ids, []int64{1, 3, 5, 6, 8, 9}) {
		t.Errorf("runs left %v, want 1 3 5 6 8 9", ids)
	}
	if got := countRows(t, j, "step_results"); got != steps-16 {
		t.Errorf("%d step rows left, want %d", got, steps-16)
	}
	if after := viewOf(t, j); !reflect.DeepEqual(after, before) {
		t.Errorf("what status and the scheduler read changed:\nbefore %+v\nafter  %+v", before, after)
	}
	// Run 1 keeps web-2 (its latest apply) with its steps, not web-1.
	_, hosts, err := j.Show(ctx, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 1 || hosts[0].Host != "web-2" || len(hosts[0].Steps) != 5 {
		t.Errorf("run 1 after prune: %+v, want web-2 with 5 steps", hosts)
	}
	// The run in progress keeps its host, InProgress.
	if _, hosts, err := j.Show(ctx, 8, ""); err != nil || len(hosts) != 1 || hosts[0].Status != StatusInProgress {
		t.Errorf("run 8 after prune: %+v, %v", hosts, err)
	}

	// Again: nothing more to delete.
	res, err = j.Prune(ctx, PruneOptions{Before: cutoff})
	if err != nil || res.Runs+res.Hosts+res.Steps != 0 || res.KeptRuns != 4 {
		t.Errorf("second prune = %+v, %v; want nothing deleted, 4 old runs kept", res, err)
	}
	if _, err := j.Prune(ctx, PruneOptions{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("prune without a cutoff: %v, want ErrInvalid", err)
	}
}

// bulkRuns writes runs runs of assoc from day from on, one a day, of hosts
// hosts with five steps each, every host's output padded to pad bytes.
func bulkRuns(t testing.TB, j *Journal, assoc string, from, runs, hosts, pad int) {
	t.Helper()
	ctx := context.Background()
	out := string(make([]byte, pad))
	for r := range runs {
		at := base.Add(time.Duration(from+r) * 24 * time.Hour)
		id := startRunT(t, j, assoc, ModeApply, at)
		for h := range hosts {
			hr := fiveSteps(id, fmt.Sprintf("%s-%04d", assoc, h), at)
			hr.Steps[2].Stdout = out
			if err := j.RecordHost(ctx, hr); err != nil {
				t.Fatal(err)
			}
		}
		if err := j.FinishRun(ctx, id, StatusSuccess, nil, at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPruneInBatchesGivesSpaceBack(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	j := openT(t, path)
	// One run larger than a transaction's share, then many small ones,
	// then the runs that stay.
	bulkRuns(t, j, "big", 0, 1, 800, 200)
	bulkRuns(t, j, "small", 1, 150, 3, 200)
	bulkRuns(t, j, "big", 400, 1, 800, 200)
	bulkRuns(t, j, "small", 400, 1, 3, 200)
	start, err := j.d.space(ctx, j.w)
	if err != nil {
		t.Fatal(err)
	}
	if start.AutoVacuum != "incremental" {
		t.Errorf("a new journal has auto_vacuum %s, want incremental", start.AutoVacuum)
	}

	res, err := j.Prune(ctx, PruneOptions{Before: base.Add(150 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Runs != 1+149 || res.Hosts != 800+149*3 || res.Steps != 5*res.Hosts {
		t.Errorf("deleted %d runs, %d hosts, %d steps; want 150, %d, %d", res.Runs, res.Hosts, res.Steps, 800+149*3, 5*(800+149*3))
	}
	// 1247 hosts of 6 rows: at most 4000 rows a transaction.
	if res.Transactions < 2 {
		t.Errorf("%d transactions, want at least 2 of at most %d rows", res.Transactions, pruneRows)
	}
	if res.Space.FreePages != 0 || res.BytesFreed <= 0 || res.BytesFreed != start.Bytes()-res.Space.Bytes() {
		t.Errorf("space %+v, freed %d (from %d bytes): want no free page left", res.Space, res.BytesFreed, start.Bytes())
	}
	if got := countRows(t, j, "latest"); got != 800+3 {
		t.Errorf("%d latest rows, want %d", got, 803)
	}
	sizeBefore := start.Bytes()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != res.Space.Bytes() || fi.Size() > sizeBefore*3/4 {
		t.Errorf("file is %d bytes after prune, database %d, before %d", fi.Size(), res.Space.Bytes(), sizeBefore)
	}
}

func TestPruneOldJournalThenVacuum(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	// A journal written by a driftless from before retention (schema 1,
	// auto_vacuum = NONE), with today's columns.
	old, err := open(ctx, path, migrations)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`PRAGMA auto_vacuum = NONE`, `VACUUM`} {
		if _, err := old.w.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	bulkRuns(t, old, "web", 0, 40, 20, 300)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	j := openT(t, path)
	if got := userVersion(t, j); got != schemaVersion(migrations) {
		t.Errorf("user_version %d, want %d", got, schemaVersion(migrations))
	}
	res, err := j.Prune(ctx, PruneOptions{Before: base.Add(30 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Runs != 30 || res.Space.AutoVacuum != "none" || res.BytesFreed != 0 || res.Space.FreeBytes() <= 0 {
		t.Errorf("prune of an old journal = %+v: want 30 runs deleted, the space free inside the file", res)
	}
	before, after, err := j.Vacuum(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.AutoVacuum != "incremental" || after.FreePages != 0 || after.Bytes() >= before.Bytes()/2 {
		t.Errorf("vacuum: before %+v, after %+v", before, after)
	}
	if got := runIDs(t, j); len(got) != 10 {
		t.Errorf("%d runs after vacuum, want 10", len(got))
	}
}

// A writer on the same journal (another Journal: its own connections and
// locks, like another process) keeps writing while Prune deletes, and
// never waits long.
func TestPruneLetsAnotherWriterWrite(t *testing.T) { forBackends(t, testPruneLetsAnotherWriterWrite) }

func testPruneLetsAnotherWriterWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a large journal")
	}
	ctx := context.Background()
	path := tempTarget(t)
	j := openT(t, path)
	bulkRuns(t, j, "old", 0, 30, 100, 400)
	other := openT(t, path)

	var (
		wg      sync.WaitGroup
		stop    = make(chan struct{})
		slowest time.Duration
		writes  int
		werr    error
	)
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			began := time.Now()
			at := base.Add(100*24*time.Hour + time.Duration(i)*time.Minute)
			id, err := other.StartRun(ctx, &Run{Association: "new", Trigger: TriggerSchedule, Mode: ModeApply, StartedAt: at})
			if err == nil {
				for h := range 10 {
					if err = other.RecordHost(ctx, fiveSteps(id, fmt.Sprintf("new-%d", h), at)); err != nil {
						break
					}
				}
			}
			if err == nil {
				err = other.FinishRun(ctx, id, StatusSuccess, nil, at.Add(time.Second))
			}
			if err != nil {
				werr = err
				return
			}
			slowest = max(slowest, time.Since(began))
			writes++
			time.Sleep(2 * time.Millisecond) // a tick writes in bursts
		}
	})
	res, err := j.Prune(ctx, PruneOptions{Before: base.Add(25 * 24 * time.Hour)})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if werr != nil {
		t.Fatalf("the other writer failed during the prune: %v", werr)
	}
	// 2,500 hosts of 6 rows: 4 transactions of at most 4,000 rows, or
	// more.
	if res.Runs != 25 || res.Transactions < 4 {
		t.Errorf("prune = %+v: want 25 runs deleted in 4 transactions or more", res)
	}
	t.Logf("prune: %d transactions; the other writer wrote %d runs of 10 hosts meanwhile, the slowest in %v", res.Transactions, writes, slowest)
	// Its writes wait for one prune transaction at most (tens of
	// milliseconds); the limit leaves room for a loaded machine and the
	// race detector, and is far from the busy timeout (10s) at which the
	// writer would fail.
	if writes < res.Transactions/2 || slowest > 3*time.Second {
		t.Errorf("the other writer wrote %d runs, the slowest in %v: want at least one per two prune transactions, none over 3s", writes, slowest)
	}
}

func TestStats(t *testing.T) { forBackends(t, testStats) }

func testStats(t *testing.T) {
	ctx := context.Background()
	j, path := pruneJournal(t)
	st, err := j.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int64{}
	var bytes int64
	for _, tb := range st.Tables {
		rows[tb.Name] = tb.Rows
		bytes += tb.Bytes + tb.IndexBytes
		if tb.Bytes < st.Space.PageSize {
			t.Errorf("table %s: %d bytes, want at least a page", tb.Name, tb.Bytes)
		}
	}
	want := map[string]int64{"associations": 0, "host_results": 10, "latest": 4, "leases": 0, "nodes": 0, "notifications": 0, "runs": 9, "step_results": 41}
	if onPostgres(t) {
		want["driftless_schema"], want["imported_runs"] = int64(len(pgMigrations)), 0
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows %v, want %v", rows, want)
	}
	if st.Runs != 9 || !st.OldestRun.Equal(base) || !st.NewestRun.Equal(base.Add(20*24*time.Hour)) {
		t.Errorf("stats %+v", st)
	}
	if onPostgres(t) { // the database's size, in PostgreSQL's blocks
		if st.Space.PageSize != 8192 || bytes <= 0 || st.FileBytes != st.Space.Bytes() || st.FileBytes < bytes {
			t.Errorf("tables and indexes %d bytes, stats %+v", bytes, st)
		}
		return
	}
	// Every page is a table's, an index's, free, or the schema's (3 pages
	// here) and the pointer map's (1).
	if st.OtherBytes != 4*st.Space.PageSize || bytes+st.OtherBytes+st.Space.FreeBytes() != st.Space.Bytes() {
		t.Errorf("tables and indexes %d bytes, other %d, free %d, database %d", bytes, st.OtherBytes, st.Space.FreeBytes(), st.Space.Bytes())
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.FileBytes != fi.Size() || st.WALBytes <= 0 || st.Runs != 9 ||
		!st.OldestRun.Equal(base) || !st.NewestRun.Equal(base.Add(20*24*time.Hour)) {
		t.Errorf("stats %+v; file %d bytes", st, fi.Size())
	}
}
