package journal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/pgtest"
)

// migrateView is what the commands show of a journal (status, history,
// show, drift, report's timeline, schedule's last runs, first sightings,
// undelivered notifications), with each run id replaced by the run's key
// (association, start, node): ids differ after a migration, nothing else
// may.
type migrateView struct {
	status    map[string]ComplianceRow // by association/host
	statusRun map[string]string        // the run key of each
	history   []string                 // run keys, newest first
	shows     map[string]shown
	drift     []keyed[DriftEvent]
	timeline  []DriftCount
	last      map[string]keyed[LastRun] // LastRuns, by association/host
	finished  map[string]keyed[LastRun] // LastFinished, by association/host/mode
	firstSeen map[string]time.Time
	notes     []keyed[Notification]
	// unordered are the LastFinished keys of a merged view that both
	// journals had (see mergeViews): not compared.
	unordered []string
}

type keyed[T any] struct {
	Run string
	V   T
}

type shown struct {
	run   Run
	hosts []HostResult
}

func runKey(r *Run) string {
	return fmt.Sprintf("%s@%s/%s", r.Association, r.StartedAt.Format(time.RFC3339Nano), r.Node)
}

var migrateAssocs = []string{"web", "db"}

func viewMigrate(t *testing.T, j *Journal) migrateView {
	t.Helper()
	ctx := context.Background()
	v := migrateView{status: map[string]ComplianceRow{}, statusRun: map[string]string{}, shows: map[string]shown{},
		last: map[string]keyed[LastRun]{}, finished: map[string]keyed[LastRun]{}, firstSeen: map[string]time.Time{}}
	runs, err := j.History(ctx, HistoryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[int64]string{}
	for _, r := range runs {
		k := runKey(&r)
		keys[r.ID] = k
		v.history = append(v.history, k)
		run, hosts, err := j.Show(ctx, r.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		run.ID = 0
		for i := range hosts {
			hosts[i].RunID = 0
		}
		v.shows[k] = shown{*run, hosts}
	}
	rows, err := j.Status(ctx, StatusFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rows {
		k := c.Association + "/" + c.Host
		v.statusRun[k], c.RunID = keys[c.RunID], 0
		v.status[k] = c
	}
	events, err := j.Drift(ctx, DriftFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		k := keys[e.RunID]
		e.RunID = 0
		v.drift = append(v.drift, keyed[DriftEvent]{k, e})
	}
	if v.timeline, err = j.DriftTimeline(ctx, base.Add(-24*time.Hour), base.Add(24*time.Hour), time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, a := range migrateAssocs {
		last, err := j.LastRuns(ctx, a, "")
		if err != nil {
			t.Fatal(err)
		}
		for h, lr := range last {
			k := keys[lr.RunID]
			lr.RunID = 0
			v.last[a+"/"+h] = keyed[LastRun]{k, lr}
			for _, m := range []Mode{"", ModeApply, ModeCheck} {
				lr, ok, err := j.LastFinished(ctx, a, h, m)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					k := keys[lr.RunID]
					lr.RunID = 0
					v.finished[a+"/"+h+"/"+string(m)] = keyed[LastRun]{k, lr}
				}
			}
		}
		var seen int64
		if err := j.r.QueryRow(`SELECT first_seen FROM associations WHERE association = ?`, a).Scan(&seen); err == nil {
			v.firstSeen[a] = fromNano(seen)
		}
	}
	notes, err := j.Notifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notes {
		k := keys[n.RunID]
		n.ID, n.RunID = 0, 0
		v.notes = append(v.notes, keyed[Notification]{k, n})
	}
	return v
}

// mergeViews is what a journal holding the runs of a and b shows: each
// association × host's newest result, every run, drift event and
// notification of both. The runs of a are copied after those of b, so
// that where both have run an association on a host, LastFinished (which
// goes by run id) is left out: the copied runs have the larger ids.
func mergeViews(a, b migrateView) migrateView {
	m := migrateView{status: map[string]ComplianceRow{}, statusRun: map[string]string{}, shows: map[string]shown{},
		last: map[string]keyed[LastRun]{}, finished: map[string]keyed[LastRun]{}, firstSeen: map[string]time.Time{}}
	for _, v := range []migrateView{a, b} {
		for k, c := range v.status {
			if old, ok := m.status[k]; !ok || c.At.After(old.At) {
				m.status[k], m.statusRun[k] = c, v.statusRun[k]
			}
		}
		for k, lr := range v.last {
			if old, ok := m.last[k]; !ok || lr.V.StartedAt.After(old.V.StartedAt) {
				m.last[k] = lr
			}
		}
		for k, s := range v.shows {
			m.shows[k] = s
		}
		for k, at := range v.firstSeen {
			if old, ok := m.firstSeen[k]; !ok || at.Before(old) {
				m.firstSeen[k] = at
			}
		}
		m.timeline = append(m.timeline, v.timeline...)
		m.notes = append(m.notes, v.notes...)
	}
	for k, lr := range a.finished {
		if _, both := b.finished[k]; both {
			m.unordered = append(m.unordered, k)
		} else {
			m.finished[k] = lr
		}
	}
	for k, lr := range b.finished {
		if _, both := a.finished[k]; !both {
			m.finished[k] = lr
		}
	}
	m.history = append(slices.Clone(a.history), b.history...)
	slices.SortFunc(m.history, func(x, y string) int {
		return m.shows[y].run.StartedAt.Compare(m.shows[x].run.StartedAt)
	})
	m.drift = append(slices.Clone(a.drift), b.drift...)
	slices.SortStableFunc(m.drift, func(x, y keyed[DriftEvent]) int { return y.V.At.Compare(x.V.At) })
	m.timeline = sumTimeline(m.timeline)
	// Copied notifications come after the target's own.
	m.notes = append(slices.Clone(b.notes), a.notes...)
	return m
}

func sumTimeline(cs []DriftCount) []DriftCount {
	sum := map[[2]any]*DriftCount{}
	var out []DriftCount
	for _, c := range cs {
		k := [2]any{c.Host, c.Bucket}
		if s, ok := sum[k]; ok {
			s.Corrected, s.Detected, s.Failed = s.Corrected+c.Corrected, s.Detected+c.Detected, s.Failed+c.Failed
			continue
		}
		out = append(out, c)
		sum[k] = &out[len(out)-1]
	}
	slices.SortFunc(out, func(x, y DriftCount) int {
		return cmp.Or(cmp.Compare(x.Host, y.Host), cmp.Compare(x.Bucket, y.Bucket))
	})
	return out
}

// copiedView is what a migration copies of the journal src shows: its
// view without the runs in progress, as PostgreSQL keeps it.
func copiedView(t *testing.T, src *Journal) migrateView {
	t.Helper()
	v := viewMigrate(t, src)
	for k, s := range v.shows {
		if s.run.Status == StatusInProgress {
			delete(v.shows, k)
			v.history = slices.DeleteFunc(v.history, func(h string) bool { return h == k })
		}
	}
	return onPG(v)
}

// onPG is what PostgreSQL keeps of a view from SQLite: text that is not
// UTF-8, or holds a NUL, gets U+FFFD.
func onPG(v migrateView) migrateView {
	for k, s := range v.shows {
		hosts := slices.Clone(s.hosts)
		for i := range hosts {
			hosts[i].Steps = slices.Clone(hosts[i].Steps)
			for n := range hosts[i].Steps {
				st := &hosts[i].Steps[n]
				st.Stdout, st.Stderr = pgText(st.Stdout), pgText(st.Stderr)
			}
		}
		v.shows[k] = shown{s.run, hosts}
	}
	return v
}

func compareViews(t *testing.T, got, want migrateView) {
	t.Helper()
	for _, k := range want.unordered {
		delete(got.finished, k)
	}
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"status", got.status, want.status}, {"status runs", got.statusRun, want.statusRun},
		{"history", got.history, want.history}, {"drift", got.drift, want.drift}, {"timeline", got.timeline, want.timeline},
		{"last runs", got.last, want.last}, {"last finished", got.finished, want.finished},
		{"first seen", got.firstSeen, want.firstSeen}, {"notifications", got.notes, want.notes},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.what, c.got, c.want)
		}
	}
	for k, s := range want.shows {
		if g, ok := got.shows[k]; !ok || !reflect.DeepEqual(g, s) {
			t.Errorf("show %s:\n got %+v\nwant %+v", k, g, s)
		}
	}
	if len(got.shows) != len(want.shows) {
		t.Errorf("%d runs, want %d", len(got.shows), len(want.shows))
	}
}

func openAs(t *testing.T, target, node string) *Journal {
	t.Helper()
	j, err := OpenWith(target, Options{Node: node})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func closeT(t *testing.T, j *Journal) {
	t.Helper()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}

// bastionOne records, at path, what a bastion's journal holds: an apply
// that corrected web-1 and failed on web-2 (with outputs), a check that
// found web-1 drifted, an exec whose output is not text, an apply of db,
// an undelivered notification, first sightings, and a run still going.
// It returns the id of that one.
func bastionOne(t *testing.T, path string) int64 {
	t.Helper()
	ctx := context.Background()
	j := openAs(t, path, "bastion-1")
	defer j.Close()
	seen(t, j, "web", base)
	seen(t, j, "db", base.Add(20*time.Minute))
	at := base.Add(time.Hour)
	r1 := startRunT(t, j, "web", ModeApply, at)
	code, fail := 0, 1
	run := step(2, StatusSuccess)
	run.ExitCode, run.Stdout = &code, "installed nginx 1.24\n"
	recordT(t, j, host(r1, "web-1", StatusSuccess, at, step(0, StatusCompliant), step(1, StatusCorrected), run))
	failed := step(1, StatusFailed)
	failed.ExitCode, failed.Stderr, failed.Error = &fail, "E: unable to locate package\n", "exit status 1"
	recordT(t, j, host(r1, "web-2", StatusFailed, at.Add(time.Second), step(0, StatusCompliant), failed, skipped(2, SkipStopped)))
	finishT(t, j, r1, StatusFailed, at.Add(time.Minute))
	at = base.Add(2 * time.Hour)
	r2 := startRunT(t, j, "web", ModeCheck, at)
	recordT(t, j, host(r2, "web-1", StatusSuccess, at, step(0, StatusCompliant), step(1, StatusDrifted), skipped(2, SkipNoCheck)))
	finishT(t, j, r2, StatusSuccess, at.Add(time.Minute))
	at = base.Add(3 * time.Hour)
	r3 := startRunT(t, j, "", ModeExec, at)
	out := StepResult{Index: 0, Name: "command", Action: "exec", Status: StatusSuccess, ExitCode: &code, Stdout: "bin\xff\x00ary"}
	recordT(t, j, host(r3, "web-1", StatusSuccess, at, out))
	finishT(t, j, r3, StatusSuccess, at.Add(time.Minute))
	at = base.Add(30 * time.Minute)
	r4 := startRunT(t, j, "db", ModeApply, at)
	recordT(t, j, host(r4, "db-1", StatusSuccess, at, step(0, StatusCompliant)))
	finishT(t, j, r4, StatusSuccess, at.Add(time.Minute))
	if _, err := j.AddNotifications(ctx, []Notification{{Webhook: "hook-1", RunID: r1, Body: []byte(`{"run_id":1}`),
		CreatedAt: base.Add(62 * time.Minute), Attempts: 2, LastError: "HTTP 500", NextAt: base.Add(2 * time.Hour)}}, 0); err != nil {
		t.Fatal(err)
	}
	going := startRunT(t, j, "web", ModeApply, base.Add(4*time.Hour))
	if err := j.StartHost(ctx, going, "web-1", base.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	closeT(t, j)
	return going
}

func seen(t *testing.T, j *Journal, assoc string, at time.Time) {
	t.Helper()
	if _, err := j.FirstSeen(context.Background(), assoc, at); err != nil {
		t.Fatal(err)
	}
}

// nodeZero records in the PostgreSQL journal at target the runs of
// another node that writes there already: web-1 before bastion-1 ran it,
// web-9 that bastion-1 never ran, db-1 after bastion-1 ran it. Their ids
// are those of bastion-1's runs.
func nodeZero(t *testing.T, target string) {
	t.Helper()
	ctx := context.Background()
	j := openAs(t, target, "bastion-0")
	defer j.Close()
	seen(t, j, "web", base.Add(-time.Hour))
	seen(t, j, "db", base.Add(time.Hour))
	t1 := startRunT(t, j, "web", ModeApply, base)
	recordT(t, j, host(t1, "web-1", StatusSuccess, base, step(0, StatusCorrected)))
	recordT(t, j, host(t1, "web-9", StatusSuccess, base.Add(time.Second), step(0, StatusCompliant)))
	finishT(t, j, t1, StatusSuccess, base.Add(time.Minute))
	t2 := startRunT(t, j, "db", ModeApply, base.Add(5*time.Hour))
	recordT(t, j, host(t2, "db-1", StatusFailed, base.Add(5*time.Hour), step(0, StatusFailed)))
	finishT(t, j, t2, StatusFailed, base.Add(5*time.Hour+time.Minute))
	if _, err := j.AddNotifications(ctx, []Notification{{Webhook: "hook-0", RunID: t2, Body: []byte(`{"run_id":2}`),
		CreatedAt: base.Add(5 * time.Hour)}}, 0); err != nil {
		t.Fatal(err)
	}
	closeT(t, j)
}

func viewOfTarget(t *testing.T, target string) migrateView {
	t.Helper()
	j := openT(t, target)
	defer j.Close()
	return viewMigrate(t, j)
}

func migrateT(t *testing.T, source, target string) MigrateResult {
	t.Helper()
	res, err := Migrate(context.Background(), source, target, nil)
	if err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return res
}

// A bastion's SQLite journal copied into a PostgreSQL journal that
// another node writes already, with run ids that overlap: afterwards the
// target shows the source's runs and its own, each association × host's
// newest result (whichever journal had it), the earliest first sighting;
// the run still going is left out, then copied once it ended; a second
// migration, or one from a copy of the file, copies nothing.
func TestMigrateIntoAJournalInUse(t *testing.T) {
	ctx := context.Background()
	source, target := tempPath(t), pgtest.NewDB(t)
	going := bastionOne(t, source)
	nodeZero(t, target)
	before := viewOfTarget(t, target)
	src := openT(t, source)
	fromSource := copiedView(t, src)
	closeT(t, src)

	var seenProgress []MigrateProgress
	res, err := Migrate(ctx, source, target, func(p MigrateProgress) { seenProgress = append(seenProgress, p) })
	if err != nil {
		t.Fatal(err)
	}
	want := MigrateResult{Source: source, Target: Redact(target), Runs: 4, Hosts: 5, Steps: 11, Notifications: 1, Associations: 1,
		InProgress: []int64{going}, Transactions: 1}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("result %+v\n  want %+v", res, want)
	}
	if !reflect.DeepEqual(seenProgress, []MigrateProgress{{Total: 4}, {Runs: 4, Total: 4, Hosts: 5, Steps: 11}}) {
		t.Errorf("progress %+v", seenProgress)
	}
	compareViews(t, viewOfTarget(t, target), mergeViews(fromSource, before))

	// The binary output is on PostgreSQL with U+FFFD.
	j := openT(t, target)
	runs, _ := j.History(ctx, HistoryFilter{Association: ""})
	var exec *Run
	for i := range runs {
		if runs[i].Mode == ModeExec {
			exec = &runs[i]
		}
	}
	if _, hosts, err := j.Show(ctx, exec.ID, "web-1"); err != nil || hosts[0].Steps[0].Stdout != "bin\uFFFD\uFFFDary" {
		t.Errorf("exec output on PostgreSQL: %v %q", err, hosts[0].Steps[0].Stdout)
	}
	// A node writing after the migration gets ids of its own.
	id := startRunT(t, j, "web", ModeApply, base.Add(7*time.Hour))
	for _, r := range runs {
		if r.ID >= id {
			t.Errorf("new run %d, copied run %d", id, r.ID)
		}
	}
	if err := j.DiscardRun(ctx, id); err != nil {
		t.Fatal(err)
	}
	closeT(t, j)

	again := migrateT(t, source, target)
	if again.Runs != 0 || again.Hosts != 0 || again.Already != 4 || !slices.Equal(again.InProgress, []int64{going}) || again.Notifications != 0 {
		t.Errorf("second migration: %+v", again)
	}
	copied := filepath.Join(t.TempDir(), "copy.db")
	b, err := os.ReadFile(source)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copied, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if res := migrateT(t, copied, target); res.Runs != 0 || res.Already != 4 {
		t.Errorf("migration of a copy: %+v", res)
	}
	compareViews(t, viewOfTarget(t, target), mergeViews(fromSource, before))

	// The run ends: the next migration copies it, and it is the latest
	// on web-1.
	src = openT(t, source)
	recordT(t, src, host(going, "web-1", StatusSuccess, base.Add(4*time.Hour), step(0, StatusCompliant)))
	finishT(t, src, going, StatusSuccess, base.Add(4*time.Hour+time.Minute))
	fromSource = copiedView(t, src)
	closeT(t, src)
	if res := migrateT(t, source, target); res.Runs != 1 || res.Hosts != 1 || res.Already != 4 || len(res.InProgress) != 0 {
		t.Errorf("migration after the run ended: %+v", res)
	}
	compareViews(t, viewOfTarget(t, target), mergeViews(fromSource, before))
}

// Two bastions' journals merged into one database: it shows both.
func TestMigrateMergesTwoBastions(t *testing.T) {
	target := pgtest.NewDB(t)
	one, two := tempPath(t), tempPath(t)
	bastionOne(t, one)
	j := openAs(t, two, "bastion-2")
	seen(t, j, "web", base.Add(-2*time.Hour))
	at := base.Add(6 * time.Hour)
	r := startRunT(t, j, "web", ModeApply, at)
	recordT(t, j, host(r, "web-3", StatusSuccess, at, step(0, StatusCorrected), step(1, StatusCompliant)))
	recordT(t, j, host(r, "web-4", StatusSuccess, at.Add(time.Second), step(0, StatusCorrected)))
	finishT(t, j, r, StatusSuccess, at.Add(time.Minute))
	r = startRunT(t, j, "web", ModeCheck, at.Add(time.Hour))
	recordT(t, j, host(r, "web-3", StatusSuccess, at.Add(time.Hour), step(0, StatusDrifted)))
	finishT(t, j, r, StatusSuccess, at.Add(time.Hour+time.Minute))
	views := []migrateView{}
	for _, p := range []string{one, two} {
		closeT(t, j)
		j = openT(t, p)
		views = append(views, copiedView(t, j))
	}
	closeT(t, j)
	if res := migrateT(t, one, target); res.Runs != 4 {
		t.Errorf("first bastion: %+v", res)
	}
	if res := migrateT(t, two, target); res.Runs != 2 || res.Hosts != 3 || res.Steps != 4 || res.Already != 0 || res.Associations != 1 {
		t.Errorf("second bastion: %+v", res)
	}
	compareViews(t, viewOfTarget(t, target), mergeViews(views[1], views[0]))
}

// A journal larger than a transaction is copied in several, the progress
// reported after each; a migration cancelled between two keeps what it
// committed, and the next one copies the rest.
func TestMigrateInBatches(t *testing.T) {
	defer func(r, h int64) { migrateRuns, migrateHosts = r, h }(migrateRuns, migrateHosts)
	migrateRuns, migrateHosts = 40, 100
	source, target := tempPath(t), pgtest.NewDB(t)
	j := openT(t, source)
	bulkRuns(t, j, "web", 0, 1, 150, 10) // alone in its transaction: more hosts than migrateHosts
	bulkRuns(t, j, "db", 1, 130, 3, 10)
	closeT(t, j)

	ctx, cancel := context.WithCancel(context.Background())
	var got []MigrateProgress
	res, err := Migrate(ctx, source, target, func(p MigrateProgress) {
		got = append(got, p)
		if len(got) == 3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || res.Runs != 1+33 || res.Transactions != 2 {
		t.Fatalf("cancelled migration: %v, %+v", err, res)
	}
	want := []MigrateProgress{{Total: 131}, {Runs: 1, Total: 131, Hosts: 150, Steps: 750}, {Runs: 34, Total: 131, Hosts: 249, Steps: 1245}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("progress %+v\n    want %+v", got, want)
	}
	got = nil
	res, err = Migrate(context.Background(), source, target, func(p MigrateProgress) { got = append(got, p) })
	if err != nil || res.Runs != 97 || res.Already != 34 || res.Hosts != 291 || res.Transactions != 4 {
		t.Fatalf("second migration: %v, %+v", err, res)
	}
	if last := got[len(got)-1]; last.Runs != 97 || last.Total != 97 {
		t.Errorf("progress %+v", got)
	}
	tj := openT(t, target)
	defer tj.Close()
	if n := countRows(t, tj, "runs"); n != 131 {
		t.Errorf("%d runs in the target, want 131", n)
	}
	if n := countRows(t, tj, "step_results"); n != 5*(150+390) {
		t.Errorf("%d steps in the target, want %d", n, 5*(150+390))
	}
}

// A run whose process is gone is marked Interrupted first, as every
// command does, and copied so.
func TestMigrateRecoversDeadRuns(t *testing.T) {
	ctx := context.Background()
	source, target := tempPath(t), pgtest.NewDB(t)
	j := openT(t, source)
	id, err := j.StartRun(ctx, &Run{Association: "web", Trigger: TriggerSchedule, Mode: ModeApply, StartedAt: base, PID: deadPID(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.StartHost(ctx, id, "web-1", base); err != nil {
		t.Fatal(err)
	}
	closeT(t, j)
	res := migrateT(t, source, target)
	if !slices.Equal(res.Recovered, []int64{id}) || res.Runs != 1 || res.Hosts != 1 || len(res.InProgress) != 0 {
		t.Fatalf("migration: %+v", res)
	}
	tj := openT(t, target)
	rows, err := tj.Status(ctx, StatusFilter{})
	if err != nil || len(rows) != 1 || rows[0].HostStatus != StatusInterrupted {
		t.Errorf("status on the target: %v %+v", err, rows)
	}
}

// What Migrate refuses, before it copies anything.
func TestMigrateRefuses(t *testing.T) {
	dir := t.TempDir()
	target := "postgres://driftless@/nothing?host=" + dir + "&port=1&sslmode=disable"
	for _, c := range []struct {
		source, target string
		is             error
	}{
		{filepath.Join(dir, "missing.db"), target, fs.ErrNotExist},
		{dir, target, ErrInvalid},
		{filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db"), ErrInvalid},
		{target, target, ErrInvalid},
	} {
		if _, err := Migrate(context.Background(), c.source, c.target, nil); !errors.Is(err, c.is) {
			t.Errorf("Migrate(%s, %s): %v, want %v", c.source, c.target, err, c.is)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
		t.Error("Migrate created the missing source")
	}
	source := tempPath(t)
	closeT(t, openT(t, source))
	if _, err := Migrate(context.Background(), source, target, nil); !errors.Is(err, ErrUnavailable) {
		t.Errorf("unreachable target: %v", err)
	}
}
