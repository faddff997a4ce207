package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestBulkBatchMixed writes one batch that holds every kind of record the
// bulk statements meet, and what they leave to the one-by-one path, and
// checks what the read side shows: StartHost rows, results over rows the
// writer made, a result over a progress record's steps, a result whose
// row another process deleted, an exec run's result (no latest row), two
// runs of one association on one host (the newer is the latest).
func TestBulkBatchMixed(t *testing.T) { forBackends(t, testBulkBatchMixed) }

func testBulkBatchMixed(t *testing.T) {
	ctx, j := newT(t)
	a := startRunT(t, j, "web", ModeApply, base)
	b := startRunT(t, j, "web", ModeApply, base.Add(time.Minute))
	x := startRunT(t, j, "adhoc", ModeExec, base)
	starts := []struct {
		run  int64
		host string
	}{{a, "a1"}, {a, "a2"}, {a, "a3"}, {a, "a4"}, {a, "a5"}, {a, "c1"}, {b, "c1"}, {x, "x1"}}
	for _, s := range starts {
		if err := j.StartHost(ctx, s.run, s.host, base); err != nil {
			t.Fatal(err)
		}
	}
	progress := host(a, "a3", StatusInProgress, base, step(0, StatusCompliant), step(1, StatusCompliant))
	if err := j.RecordProgress(progress); err != nil {
		t.Fatal(err)
	}
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Another process prunes a4's row: the writer's memory of it is stale.
	if _, err := j.w.ExecContext(ctx, `DELETE FROM host_results WHERE run_id = ? AND host = ?`, a, "a4"); err != nil {
		t.Fatal(err)
	}

	// Hold the writer inside a batch, so that what follows is one batch.
	armed, entered, release := holdNextBatch(j)
	armed.Store(true)
	if err := j.StartHost(ctx, a, "a0", base); err != nil {
		t.Fatal(err)
	}
	<-entered
	failed := fiveSteps(a, "a2", base)
	failed.Status, failed.Error = StatusFailed, "exit status 1"
	newer := fiveSteps(b, "c1", base.Add(time.Minute))
	newer.Steps = newer.Steps[:2]
	for _, h := range []HostResult{fiveSteps(a, "a1", base), failed, fiveSteps(a, "a3", base), fiveSteps(a, "a4", base),
		newer, fiveSteps(a, "c1", base), fiveSteps(x, "x1", base)} {
		recordT(t, j, h)
	}
	for i := range 3 {
		if err := j.StartHost(ctx, b, fmt.Sprintf("b%d", i), base.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	// A progress record in the batch: its steps are replaced by the
	// result's in the next.
	if err := j.RecordProgress(host(a, "a5", StatusInProgress, base, step(0, StatusCompliant), step(1, StatusCompliant))); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	recordT(t, j, fiveSteps(a, "a5", base))
	recordT(t, j, fiveSteps(a, "a0", base))
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	_, hosts, err := j.Show(ctx, a, "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, h := range hosts {
		got[h.Host] = fmt.Sprintf("%s/%d", h.Status, len(h.Steps))
	}
	want := map[string]string{"a0": "Success/5", "a1": "Success/5", "a2": "Failed/5", "a3": "Success/5", "a4": "Success/5", "a5": "Success/5", "c1": "Success/5"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("run a: %v, want %v", got, want)
	}
	_, hosts, err = j.Show(ctx, b, "")
	if err != nil {
		t.Fatal(err)
	}
	got = map[string]string{}
	for _, h := range hosts {
		got[h.Host] = fmt.Sprintf("%s/%d", h.Status, len(h.Steps))
	}
	want = map[string]string{"b0": "InProgress/0", "b1": "InProgress/0", "b2": "InProgress/0", "c1": "Success/2"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("run b: %v, want %v", got, want)
	}

	rows, err := j.Status(ctx, StatusFilter{})
	if err != nil {
		t.Fatal(err)
	}
	latest := map[string]string{}
	for _, r := range rows {
		latest[r.Association+"/"+r.Host] = fmt.Sprintf("%d/%d", r.RunID, r.Steps)
	}
	want = map[string]string{
		"web/a1": fmt.Sprintf("%d/5", a), "web/a2": fmt.Sprintf("%d/5", a), "web/a3": fmt.Sprintf("%d/5", a),
		"web/a0": fmt.Sprintf("%d/5", a), "web/a4": fmt.Sprintf("%d/5", a), "web/a5": fmt.Sprintf("%d/5", a), "web/c1": fmt.Sprintf("%d/2", b),
	}
	if fmt.Sprint(latest) != fmt.Sprint(want) {
		t.Errorf("latest: %v, want %v", latest, want)
	}
	if _, hosts, err := j.Show(ctx, x, ""); err != nil || len(hosts) != 1 || hosts[0].Status != StatusSuccess || len(hosts[0].Steps) != 5 {
		t.Errorf("exec run: %+v, %v", hosts, err)
	}
	assertBulkUsed(t, ctx, j)
}

// assertBulkUsed fails the test if the writer did not write in bulk:
// without it, a bulk statement that stopped preparing would fall back to
// the one-by-one path and every other check of the batch would pass.
func assertBulkUsed(t *testing.T, ctx context.Context, j *Journal) {
	t.Helper()
	if err := j.Flush(ctx); err != nil { // the writer's state, read after it
		t.Fatal(err)
	}
	if j.bulk.failed {
		t.Fatal("a bulk statement would not prepare: the batch was written record by record")
	}
	for kind, sizes := range j.bulk.stmt {
		if !slices.ContainsFunc(sizes[:], func(st *sql.Stmt) bool { return st != nil }) {
			t.Errorf("no bulk statement of kind %d was prepared: the batch did not use it", kind)
		}
	}
}

// TestBulkBatchBadRecord: a StartHost of a run that does not exist fails
// the bulk batch; the records are then written one by one, the others
// land, and the run's FinishRun reports nothing of the stranger's error.
func TestBulkBatchBadRecord(t *testing.T) { forBackends(t, testBulkBatchBadRecord) }

func testBulkBatchBadRecord(t *testing.T) {
	ctx, j := newT(t)
	a := startRunT(t, j, "web", ModeApply, base)
	armed, entered, release := holdNextBatch(j)
	armed.Store(true)
	if err := j.StartHost(ctx, a, "first", base); err != nil {
		t.Fatal(err)
	}
	<-entered
	for i := range 5 {
		if err := j.StartHost(ctx, a, fmt.Sprintf("h%d", i), base); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.StartHost(ctx, a+1000, "ghost", base); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		recordT(t, j, fiveSteps(a, fmt.Sprintf("h%d", i), base))
	}
	close(release)
	if err := j.FinishRun(ctx, a, StatusSuccess, nil, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	run, hosts, err := j.Show(ctx, a, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 6 || run.Counts[StatusSuccess] != 5 {
		t.Fatalf("%d hosts, counts %v; want 6, 5 Success", len(hosts), run.Counts)
	}
	for _, h := range hosts[1:] {
		if h.Status != StatusSuccess || len(h.Steps) != 5 {
			t.Errorf("%s: %s with %d steps", h.Host, h.Status, len(h.Steps))
		}
	}
	if err := j.Close(); !errors.Is(err, ErrNotFound) {
		t.Errorf("Close = %v, want the ghost's ErrNotFound", err)
	}
}
