package journal

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestStatusCompliance(t *testing.T) { forBackends(t, testStatusCompliance) }

func testStatusCompliance(t *testing.T) {
	ctx, j := newT(t)

	r1 := startRunT(t, j, "web", ModeApply, base)
	recordT(t, j, host(r1, "all-good", StatusSuccess, base,
		step(0, StatusCompliant), step(1, StatusCorrected), step(2, StatusSuccess), skipped(3, SkipPrecondition)))
	recordT(t, j, host(r1, "stopped", StatusFailed, base,
		step(0, StatusCompliant), step(1, StatusFailed), skipped(2, SkipStopped)))
	recordT(t, j, host(r1, "exited", StatusSuccess, base, step(0, StatusSuccess), skipped(1, SkipExited)))
	// A skip reason the journal does not know is not compliant.
	recordT(t, j, host(r1, "odd-skip", StatusSuccess, base, step(0, StatusSuccess), skipped(1, "because")))
	recordT(t, j, host(r1, "down", StatusUnreachable, base))
	// Every step fine, but the host execution timed out.
	recordT(t, j, host(r1, "slow", StatusTimedOut, base, step(0, StatusCompliant)))
	finishT(t, j, r1, StatusFailed, base.Add(time.Minute))

	r2 := startRunT(t, j, "db", ModeCheck, base.Add(time.Minute))
	recordT(t, j, host(r2, "stopped", StatusSuccess, base.Add(time.Minute),
		step(0, StatusCompliant), step(1, StatusDrifted), step(2, StatusDrifted)))
	// In check mode a step without a check is skipped, and never drifted.
	recordT(t, j, host(r2, "no-check", StatusSuccess, base.Add(time.Minute),
		step(0, StatusCompliant), skipped(1, SkipNoCheck)))
	finishT(t, j, r2, StatusSuccess, base.Add(2*time.Minute))

	// exec runs are not associations.
	r3 := startRunT(t, j, "", ModeExec, base.Add(time.Minute))
	recordT(t, j, host(r3, "all-good", StatusFailed, base.Add(time.Minute), step(0, StatusFailed)))
	finishT(t, j, r3, StatusFailed, base.Add(2*time.Minute))

	type row struct {
		assoc, host, compliance    string
		hostStatus                 Status
		run                        int64
		drifted, corrected, failed int
	}
	got := func(f StatusFilter) []row {
		t.Helper()
		return queryT(t, j.Status, f, func(r ComplianceRow) row {
			return row{r.Association, r.Host, r.Compliance, r.HostStatus, r.RunID,
				r.DriftedSteps, r.CorrectedSteps, r.FailedSteps}
		})
	}
	want := []row{
		{"db", "no-check", Compliant, StatusSuccess, r2, 0, 0, 0},
		{"db", "stopped", NonCompliant, StatusSuccess, r2, 2, 0, 0},
		{"web", "all-good", Compliant, StatusSuccess, r1, 1, 1, 0},
		{"web", "down", NonCompliant, StatusUnreachable, r1, 0, 0, 0},
		{"web", "exited", Compliant, StatusSuccess, r1, 0, 0, 0},
		{"web", "odd-skip", NonCompliant, StatusSuccess, r1, 0, 0, 0},
		{"web", "slow", NonCompliant, StatusTimedOut, r1, 0, 0, 0},
		{"web", "stopped", NonCompliant, StatusFailed, r1, 0, 0, 1},
	}
	if g := got(StatusFilter{}); !slices.Equal(g, want) {
		t.Errorf("Status:\n got %v\nwant %v", g, want)
	}
	if g := got(StatusFilter{Host: "stopped"}); !slices.Equal(g, []row{want[1], want[7]}) {
		t.Errorf("Status(host stopped) = %v", g)
	}
	if g := got(StatusFilter{Association: "db"}); !slices.Equal(g, want[:2]) {
		t.Errorf("Status(association db) = %v", g)
	}
	if g := got(StatusFilter{Severity: SeverityLow}); len(g) != 0 {
		t.Errorf("Status(severity LOW) = %v, want none", g)
	}

	// The latest execution wins: a later run fixes "stopped" and "down"…
	r4 := startRunT(t, j, "web", ModeApply, base.Add(time.Hour))
	recordT(t, j, host(r4, "stopped", StatusSuccess, base.Add(time.Hour), step(0, StatusCompliant),
		step(1, StatusCorrected), step(2, StatusSuccess)))
	recordT(t, j, host(r4, "down", StatusSuccess, base.Add(time.Hour), step(0, StatusCompliant)))
	finishT(t, j, r4, StatusSuccess, base.Add(time.Hour+time.Minute))
	// …and a check run that started earlier but is recorded last does not
	// override it. Latest means latest started.
	r5 := startRunT(t, j, "web", ModeCheck, base.Add(30*time.Minute))
	recordT(t, j, host(r5, "down", StatusSuccess, base.Add(30*time.Minute), step(0, StatusDrifted)))
	finishT(t, j, r5, StatusSuccess, base.Add(31*time.Minute))

	want[3] = row{"web", "down", Compliant, StatusSuccess, r4, 0, 0, 0}
	want[7] = row{"web", "stopped", Compliant, StatusSuccess, r4, 1, 1, 0}
	if g := got(StatusFilter{}); !slices.Equal(g, want) {
		t.Errorf("Status after a later run:\n got %v\nwant %v", g, want)
	}
	rows, _ := j.Status(ctx, StatusFilter{Association: "web", Host: "down"})
	if len(rows) != 1 || rows[0].Severity != SeverityHigh || !rows[0].At.Equal(base.Add(time.Hour)) || rows[0].Mode != ModeApply {
		t.Errorf("Status(web, down) = %+v", rows)
	}

	// LastRuns: newest of any mode, or of one mode.
	last, err := j.LastRuns(ctx, "web", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(last) != 6 || last["down"].RunID != r4 || last["all-good"].RunID != r1 ||
		last["down"].DefHash != "def-1" || !last["down"].StartedAt.Equal(base.Add(time.Hour)) {
		t.Errorf("LastRuns(web) = %+v", last)
	}
	last, _ = j.LastRuns(ctx, "web", ModeCheck)
	if len(last) != 1 || last["down"].RunID != r5 || last["down"].Mode != ModeCheck {
		t.Errorf("LastRuns(web, check) = %+v", last)
	}
	last, _ = j.LastRuns(ctx, "nope", "")
	if len(last) != 0 {
		t.Errorf("LastRuns(nope) = %+v", last)
	}
}

func TestHistory(t *testing.T) { forBackends(t, testHistory) }

func testHistory(t *testing.T) {
	ctx, j := newT(t)
	var ids []int64 // in start order
	for i, a := range []string{"web", "db", "web", "db", "web"} {
		at := base.Add(time.Duration(i) * time.Hour)
		id := startRunT(t, j, a, ModeApply, at)
		ids = append(ids, id)
		recordT(t, j, host(id, a+"-1", StatusSuccess, at, step(0, StatusCompliant)))
		if i%2 == 0 {
			recordT(t, j, host(id, "shared", StatusFailed, at, step(0, StatusFailed)))
		}
		if i < 4 {
			finishT(t, j, id, StatusSuccess, at.Add(time.Minute))
		}
	}
	history := func(f HistoryFilter) []int64 {
		t.Helper()
		return queryT(t, j.History, f, func(r Run) int64 { return r.ID })
	}
	if g, w := history(HistoryFilter{}), []int64{ids[4], ids[3], ids[2], ids[1], ids[0]}; !slices.Equal(g, w) {
		t.Errorf("History = %v, want %v", g, w)
	}
	if g, w := history(HistoryFilter{Limit: 2}), []int64{ids[4], ids[3]}; !slices.Equal(g, w) {
		t.Errorf("History(limit 2) = %v, want %v", g, w)
	}
	if g, w := history(HistoryFilter{Association: "db"}), []int64{ids[3], ids[1]}; !slices.Equal(g, w) {
		t.Errorf("History(db) = %v, want %v", g, w)
	}
	if g, w := history(HistoryFilter{Host: "shared"}), []int64{ids[4], ids[2], ids[0]}; !slices.Equal(g, w) {
		t.Errorf("History(host shared) = %v, want %v", g, w)
	}
	if g, w := history(HistoryFilter{Host: "shared", Association: "web", Limit: 1}), []int64{ids[4]}; !slices.Equal(g, w) {
		t.Errorf("History(shared, web, 1) = %v, want %v", g, w)
	}
	runs, _ := j.History(ctx, HistoryFilter{Limit: 2})
	// The newest is still running: its counts come from its hosts so far.
	if r := runs[0]; r.Status != StatusInProgress || !r.EndedAt.IsZero() ||
		r.Counts[StatusSuccess] != 1 || r.Counts[StatusFailed] != 1 || r.Association != "web" ||
		r.DocHash != "doc-web" || r.Trigger != TriggerManual {
		t.Errorf("running run = %+v", r)
	}
	// A finished one has the counts FinishRun computed.
	if r := runs[1]; r.Status != StatusSuccess || !r.EndedAt.Equal(base.Add(3*time.Hour+time.Minute)) ||
		len(r.Counts) != 1 || r.Counts[StatusSuccess] != 1 {
		t.Errorf("finished run = %+v", r)
	}
}

func TestDrift(t *testing.T) { forBackends(t, testDrift) }

func testDrift(t *testing.T) {
	ctx, j := newT(t)
	r1 := startRunT(t, j, "web", ModeCheck, base)
	recordT(t, j, host(r1, "web-1", StatusSuccess, base, step(0, StatusCompliant), step(1, StatusDrifted)))
	finishT(t, j, r1, StatusSuccess, base)

	at := base.Add(2 * time.Hour)
	r2 := startRunT(t, j, "web", ModeApply, at)
	h := host(r2, "web-1", StatusFailed, at, step(0, StatusCorrected), step(1, StatusFailed))
	h.Steps[1].Drifted, h.Steps[1].Differ, h.Steps[1].Error = true, "--- a\n+++ b\n", "exit status 2"
	h.Steps[1].StartedAt = at.Add(5 * time.Second)
	recordT(t, j, h)
	recordT(t, j, host(r2, "web-2", StatusSuccess, at, step(0, StatusCompliant), step(1, StatusCompliant)))
	finishT(t, j, r2, StatusFailed, at)

	r3 := startRunT(t, j, "db", ModeApply, at.Add(time.Hour))
	recordT(t, j, host(r3, "web-1", StatusSuccess, at.Add(time.Hour), step(0, StatusCorrected)))
	finishT(t, j, r3, StatusSuccess, at)

	type ev struct {
		run             int64
		assoc, host     string
		step            int
		outcome, differ string
		at              time.Time
	}
	drift := func(f DriftFilter) []ev {
		t.Helper()
		return queryT(t, j.Drift, f, func(e DriftEvent) ev {
			return ev{e.RunID, e.Association, e.Host, e.StepIndex, e.Outcome, e.Differ, e.At}
		})
	}
	all := []ev{
		{r3, "db", "web-1", 0, OutcomeCorrected, "mode 0644 -> 0600 (step 0)", at.Add(time.Hour)},
		{r2, "web", "web-1", 1, OutcomeFailed, "--- a\n+++ b\n", at.Add(5 * time.Second)},
		{r2, "web", "web-1", 0, OutcomeCorrected, "mode 0644 -> 0600 (step 0)", at},
		{r1, "web", "web-1", 1, OutcomeDetected, "mode 0644 -> 0600 (step 1)", base},
	}
	if g := drift(DriftFilter{}); !slices.Equal(g, all) {
		t.Errorf("Drift:\n got %v\nwant %v", g, all)
	}
	if g := drift(DriftFilter{Since: base.Add(time.Hour)}); !slices.Equal(g, all[:3]) {
		t.Errorf("Drift(since) = %v", g)
	}
	if g := drift(DriftFilter{Since: at.Add(time.Second)}); !slices.Equal(g, all[:2]) {
		t.Errorf("Drift(since, step time) = %v", g)
	}
	if g := drift(DriftFilter{Association: "web", Since: base.Add(time.Hour)}); !slices.Equal(g, all[1:3]) {
		t.Errorf("Drift(web, since) = %v", g)
	}
	if g := drift(DriftFilter{Host: "web-2"}); len(g) != 0 {
		t.Errorf("Drift(web-2) = %v, want none", g)
	}
	es, _ := j.Drift(ctx, DriftFilter{Association: "web", Since: at})
	if e := es[0]; e.Status != StatusFailed || e.Error != "exit status 2" || e.Step != "step-1" || e.Action != "shell" || e.Mode != ModeApply {
		t.Errorf("event = %+v", e)
	}
}

func TestFirstSeen(t *testing.T) { forBackends(t, testFirstSeen) }

func testFirstSeen(t *testing.T) {
	ctx := context.Background()
	path := tempTarget(t)
	j1, j2 := openT(t, path), openT(t, path)

	got, err := j1.FirstSeen(ctx, "web", base)
	if err != nil || !got.Equal(base) {
		t.Fatalf("FirstSeen(web, base) = %v, %v", got, err)
	}
	got, err = j1.FirstSeen(ctx, "web", base.Add(time.Hour))
	if err != nil || !got.Equal(base) {
		t.Errorf("FirstSeen(web) again = %v, %v; want %v", got, err, base)
	}
	got, err = j2.FirstSeen(ctx, "web", base.Add(2*time.Hour))
	if err != nil || !got.Equal(base) {
		t.Errorf("FirstSeen(web) from another handle = %v, %v; want %v", got, err, base)
	}

	// Two processes seeing a new association at once agree on one time.
	var wg sync.WaitGroup
	res := make([]time.Time, 10)
	for i := range res {
		jj := j1
		if i%2 == 1 {
			jj = j2
		}
		wg.Go(func() {
			var err error
			if res[i], err = jj.FirstSeen(ctx, "db", base.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, r := range res {
		if !r.Equal(res[0]) {
			t.Fatalf("FirstSeen(db) disagree: %v", res)
		}
	}
}

// queryT runs query with filter f and returns what keep takes of each
// row, failing t on an error.
func queryT[F, R, K any](t testing.TB, query func(context.Context, F) ([]R, error), f F, keep func(R) K) []K {
	t.Helper()
	rows, err := query(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	var out []K
	for _, r := range rows {
		out = append(out, keep(r))
	}
	return out
}

// A check run cannot run a step without a check (every SSM command step):
// it records it Skipped (no-check), and the association's compliance for
// that step stays what the last apply left: an apply that failed it keeps
// the host NON_COMPLIANT through later checks, until an apply succeeds.
func TestCheckKeepsTheLastApplysFailure(t *testing.T) {
	forBackends(t, testCheckKeepsTheLastApplysFailure)
}

func testCheckKeepsTheLastApplysFailure(t *testing.T) {
	ctx, j := newT(t)
	at := base
	run := func(mode Mode, hostName string, status Status, steps ...StepResult) {
		id := startRunT(t, j, "ssm", mode, at)
		recordT(t, j, host(id, hostName, status, at, steps...))
		finishT(t, j, id, status, at.Add(time.Second))
		at = at.Add(time.Minute)
	}
	compliance := func() (string, string) {
		rows, err := j.Status(ctx, StatusFilter{Association: "ssm"})
		if err != nil || len(rows) != 1 {
			t.Fatalf("status: %v %+v", err, rows)
		}
		return rows[0].Compliance, rows[0].Error
	}
	run(ModeApply, "h", StatusFailed, step(0, StatusCompliant), step(1, StatusFailed))
	run(ModeCheck, "h", StatusSuccess, step(0, StatusCompliant), skipped(1, SkipNoCheck))
	if c, e := compliance(); c != NonCompliant || !strings.Contains(e, `step "step-1" did not succeed in the last apply`) {
		t.Errorf("after a failed apply and a check: %s %q", c, e)
	}
	// A check that finds drift is non-compliant on its own.
	run(ModeCheck, "h", StatusSuccess, step(0, StatusDrifted), skipped(1, SkipNoCheck))
	if c, _ := compliance(); c != NonCompliant {
		t.Errorf("drifted check: %s", c)
	}
	run(ModeApply, "h", StatusSuccess, step(0, StatusCompliant), step(1, StatusSuccess))
	run(ModeCheck, "h", StatusSuccess, step(0, StatusCompliant), skipped(1, SkipNoCheck))
	if c, e := compliance(); c != Compliant {
		t.Errorf("after a good apply and a check: %s %q", c, e)
	}
}
