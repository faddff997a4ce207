package journal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/driftless-dev/driftless/internal/pgtest"
)

// fiveSteps is the host record of the batch tests and the benchmark.
func fiveSteps(runID int64, name string, at time.Time) HostResult {
	code0, code1 := 0, 1
	h := host(runID, name, StatusSuccess, at,
		step(0, StatusCompliant),
		step(1, StatusCorrected),
		step(2, StatusSuccess),
		skipped(3, SkipPrecondition),
		step(4, StatusCompliant),
	)
	h.Steps[2].ExitCode = &code0
	h.Steps[2].Stdout = "installed " + name + "\n"
	h.Steps[2].Stderr = "warning: " + name + "\n"
	h.Steps[4].ExitCode = &code1
	h.Detail = "accepted new host key SHA256:" + name
	return h
}

func TestRecordHostBatched(t *testing.T) { forBackends(t, testRecordHostBatched) }

func testRecordHostBatched(t *testing.T) {
	const nHosts, workers = 500, 50
	ctx, j := newT(t)
	id := startRunT(t, j, "web", ModeApply, base)

	// Like the runner: many goroutines, each StartHost then RecordHost.
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < nHosts; i += workers {
				name := fmt.Sprintf("web-%03d", i)
				at := base.Add(time.Duration(i) * time.Millisecond)
				if err := j.StartHost(ctx, id, name, at); err != nil {
					t.Error(err)
					return
				}
				h := fiveSteps(id, name, at)
				if i%10 == 0 {
					h.Status = StatusFailed
					h.Error = "exit status 1"
					h.Steps[4].Status = StatusFailed
				}
				if err := j.RecordHost(ctx, h); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	counts := map[Status]int{StatusSuccess: 450, StatusFailed: 50}
	if err := j.FinishRun(ctx, id, StatusFailed, counts, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}

	run, hosts, err := j.Show(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != StatusFailed || run.Counts[StatusSuccess] != 450 || run.Counts[StatusFailed] != 50 ||
		!run.EndedAt.Equal(base.Add(time.Minute)) || run.PID != os.Getpid() || run.Severity != SeverityHigh {
		t.Errorf("run = %+v", run)
	}
	if len(hosts) != nHosts {
		t.Fatalf("%d hosts, want %d", len(hosts), nHosts)
	}
	for i, h := range hosts {
		name := fmt.Sprintf("web-%03d", i)
		wantStatus := StatusSuccess
		if i%10 == 0 {
			wantStatus = StatusFailed
		}
		if h.Host != name || h.Status != wantStatus || len(h.Steps) != 5 || h.DefHash != "def-1" ||
			!h.StartedAt.Equal(base.Add(time.Duration(i)*time.Millisecond)) {
			t.Fatalf("host %d = %+v", i, h)
		}
		for k, s := range h.Steps {
			if s.Index != k || s.Name != fmt.Sprintf("step-%d", k) {
				t.Fatalf("%s: step %d = %+v", name, k, s)
			}
		}
	}
	// One host in full.
	h := hosts[7]
	if h.Detail != "accepted new host key SHA256:web-007" || h.Error != "" {
		t.Errorf("host = %+v", h)
	}
	s := h.Steps[1]
	if s.Status != StatusCorrected || !s.Drifted || s.Differ != "mode 0644 -> 0600 (step 1)" ||
		s.ExitCode != nil || s.Duration != 2*time.Millisecond || !s.StartedAt.Equal(h.StartedAt) {
		t.Errorf("step 1 = %+v", s)
	}
	s = h.Steps[2]
	if s.ExitCode == nil || *s.ExitCode != 0 || s.Stdout != "installed web-007\n" || s.Stderr != "warning: web-007\n" ||
		s.StdoutTruncated || s.StderrTruncated {
		t.Errorf("step 2 = %+v", s)
	}
	if s := h.Steps[3]; s.Status != StatusSkipped || s.SkipReason != SkipPrecondition {
		t.Errorf("step 3 = %+v", s)
	}
	if s := h.Steps[4]; s.ExitCode == nil || *s.ExitCode != 1 {
		t.Errorf("step 4 = %+v", s)
	}

	rows, err := j.Status(ctx, StatusFilter{Association: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != nHosts {
		t.Fatalf("%d status rows, want %d", len(rows), nHosts)
	}
	var compliant, failedSteps int
	for _, r := range rows {
		if r.Compliance == Compliant {
			compliant++
		}
		failedSteps += r.FailedSteps
		if r.RunID != id || r.DriftedSteps != 1 || r.CorrectedSteps != 1 || r.Steps != 5 {
			t.Fatalf("row = %+v", r)
		}
	}
	if compliant != 450 || failedSteps != 50 {
		t.Errorf("%d compliant, %d failed steps; want 450, 50", compliant, failedSteps)
	}
	drift, err := j.Drift(ctx, DriftFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(drift) != nHosts {
		t.Errorf("%d drift events, want %d", len(drift), nHosts)
	}
	one, err := j.History(ctx, HistoryFilter{Host: "web-499"})
	if err != nil || len(one) != 1 || one[0].ID != id {
		t.Errorf("History(web-499) = %+v, %v", one, err)
	}
}

func TestTruncateOutput(t *testing.T) {
	if s, cut := TruncateOutput("short"); s != "short" || cut {
		t.Errorf("short: %q, %v", s, cut)
	}
	exact := strings.Repeat("x", MaxOutput)
	if s, cut := TruncateOutput(exact); s != exact || cut {
		t.Errorf("exactly MaxOutput: cut = %v, len %d", cut, len(s))
	}

	long := strings.Repeat("a", MaxOutput) + strings.Repeat("b", 1000)
	s, cut := TruncateOutput(long)
	want := strings.Repeat("a", MaxOutput) + "\n[driftless: output truncated, 1000 bytes omitted]"
	if !cut || s != want {
		t.Errorf("long: cut = %v, tail %q", cut, s[len(s)-60:])
	}
	if again, cut := TruncateOutput(s); again != s || !cut {
		t.Error("TruncateOutput is not idempotent")
	}

	// A multi-byte character across the limit is not split.
	multi := strings.Repeat("a", MaxOutput-1) + "é" + "rest"
	s, _ = TruncateOutput(multi)
	kept := strings.TrimSuffix(s, "\n[driftless: output truncated, 6 bytes omitted]")
	if kept == s || len(kept) != MaxOutput-1 || !utf8.ValidString(s) {
		t.Errorf("multi-byte: kept %d bytes, valid %v, tail %q", len(kept), utf8.ValidString(s), s[len(s)-60:])
	}

	var b OutputBuffer
	for range 3 {
		b.Write([]byte(strings.Repeat("z", MaxOutput/2+10)))
	}
	wantOmitted := 3*(MaxOutput/2+10) - MaxOutput
	if got := b.String(); !b.Truncated() || got != strings.Repeat("z", MaxOutput)+
		fmt.Sprintf("\n[driftless: output truncated, %d bytes omitted]", wantOmitted) {
		t.Errorf("OutputBuffer: truncated %v, len %d", b.Truncated(), len(got))
	}
	if s, cut := TruncateOutput(b.String()); s != b.String() || !cut {
		t.Error("TruncateOutput of an OutputBuffer's String changed it")
	}
}

func TestRecordHostTruncatesOutput(t *testing.T) { forBackends(t, testRecordHostTruncatesOutput) }

func testRecordHostTruncatesOutput(t *testing.T) {
	ctx, j := newT(t)
	id := startRunT(t, j, "web", ModeApply, base)
	h := host(id, "web-1", StatusFailed, base, step(0, StatusFailed))
	h.Steps[0].Stdout = strings.Repeat("o", MaxOutput+12345)
	h.Steps[0].Stderr = "boom\n"
	recordT(t, j, h)
	_, hosts, err := j.Show(ctx, id, "web-1")
	if err != nil {
		t.Fatal(err)
	}
	s := hosts[0].Steps[0]
	wantOut := strings.Repeat("o", MaxOutput) + "\n[driftless: output truncated, 12345 bytes omitted]"
	if !s.StdoutTruncated || s.Stdout != wantOut {
		t.Errorf("stdout: truncated %v, len %d, tail %q", s.StdoutTruncated, len(s.Stdout), s.Stdout[len(s.Stdout)-60:])
	}
	if s.StderrTruncated || s.Stderr != "boom\n" {
		t.Errorf("stderr: truncated %v, %q", s.StderrTruncated, s.Stderr)
	}
}

func TestFinishRunClosesUnrecordedHosts(t *testing.T) {
	forBackends(t, testFinishRunClosesUnrecordedHosts)
}

func testFinishRunClosesUnrecordedHosts(t *testing.T) {
	ctx, j := newT(t)
	id := startRunT(t, j, "web", ModeApply, base)
	for _, h := range []string{"web-1", "web-2"} {
		if err := j.StartHost(ctx, id, h, base); err != nil {
			t.Fatal(err)
		}
	}
	recordT(t, j, host(id, "web-2", StatusSuccess, time.Time{}, step(0, StatusCompliant)))
	if err := j.FinishRun(ctx, id, StatusCancelled, nil, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	run, hosts, err := j.Show(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != StatusCancelled || run.Counts[StatusCancelled] != 1 || run.Counts[StatusSuccess] != 1 {
		t.Errorf("run = %+v", run)
	}
	if hosts[0].Host != "web-1" || hosts[0].Status != StatusCancelled || !hosts[0].EndedAt.Equal(base.Add(time.Minute)) {
		t.Errorf("web-1 = %+v", hosts[0])
	}
	// web-2 was recorded without a start time: it keeps the StartHost one.
	if hosts[1].Status != StatusSuccess || !hosts[1].StartedAt.Equal(base) {
		t.Errorf("web-2 = %+v", hosts[1])
	}
}

// holdNextBatch makes j's writer stop in the first batch it begins once
// armed is set: entered is closed when it is there, and it goes on when
// release is closed.
func holdNextBatch(j *Journal) (armed *atomic.Bool, entered, release chan struct{}) {
	armed = new(atomic.Bool)
	entered, release = make(chan struct{}), make(chan struct{})
	j.batchHook = func() {
		if armed.CompareAndSwap(true, false) {
			close(entered)
			<-release
		}
	}
	return armed, entered, release
}

// TestReadWhileWriterMidBatch opens the journal with a second handle while
// the first is inside a batch transaction, and checks that it opens without
// waiting and reads the last committed state, then the new one.
func TestReadWhileWriterMidBatch(t *testing.T) { forBackends(t, testReadWhileWriterMidBatch) }

func testReadWhileWriterMidBatch(t *testing.T) {
	ctx := context.Background()
	path := tempTarget(t)
	w := openT(t, path)
	armed, entered, release := holdNextBatch(w)
	id := startRunT(t, w, "web", ModeApply, base)
	recordT(t, w, fiveSteps(id, "web-000", base))
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	armed.Store(true)
	for i := 1; i <= 10; i++ {
		recordT(t, w, fiveSteps(id, fmt.Sprintf("web-%03d", i), base))
	}
	flushed := make(chan error, 1)
	go func() { flushed <- w.Flush(ctx) }()
	<-entered

	start := time.Now()
	r := openT(t, path)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Open waited %v for the writer", d)
	}
	check := func(want int) {
		t.Helper()
		run, hosts, err := r.Show(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != StatusInProgress || len(hosts) != want || run.Counts[StatusSuccess] != want {
			t.Fatalf("run %s with %d hosts (counts %v), want InProgress with %d", run.Status, len(hosts), run.Counts, want)
		}
		for _, h := range hosts {
			if len(h.Steps) != 5 {
				t.Fatalf("%s has %d steps, want 5", h.Host, len(h.Steps))
			}
		}
		rows, err := r.Status(ctx, StatusFilter{})
		if err != nil || len(rows) != want {
			t.Fatalf("Status: %d rows, %v; want %d", len(rows), err, want)
		}
	}
	check(1)
	if ids, err := r.RecoverInterrupted(ctx); err != nil || len(ids) != 0 {
		t.Errorf("RecoverInterrupted while the writer lives: %v, %v", ids, err)
	}

	close(release)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	check(11)
}

// TestRecordHostBlocksWhenQueueFull checks that the queue is bounded: with
// the writer stuck, RecordHost blocks (until its context ends) instead of
// queueing without bound, and nothing accepted is lost.
func TestRecordHostBlocksWhenQueueFull(t *testing.T) {
	forBackends(t, testRecordHostBlocksWhenQueueFull)
}

func testRecordHostBlocksWhenQueueFull(t *testing.T) {
	ctx, j := newT(t)
	stuck, entered, release := holdNextBatch(j)
	id := startRunT(t, j, "web", ModeApply, base)
	stuck.Store(true)
	recordT(t, j, fiveSteps(id, "first", base))
	<-entered // the writer is now stuck in its first batch

	accepted := 1
	for {
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		err := j.RecordHost(cctx, fiveSteps(id, fmt.Sprintf("h-%04d", accepted), base))
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		accepted++
		if accepted > 10*queueLen {
			t.Fatal("RecordHost never blocked")
		}
	}
	if accepted < queueLen || accepted > queueLen+batchMax+1 {
		t.Errorf("accepted %d records before blocking, want about %d", accepted, queueLen)
	}
	close(release)
	if err := j.FinishRun(ctx, id, StatusSuccess, nil, base); err != nil {
		t.Fatal(err)
	}
	run, hosts, err := j.Show(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != accepted || run.Counts[StatusSuccess] != accepted {
		t.Errorf("%d hosts written (counts %v), want %d", len(hosts), run.Counts, accepted)
	}
}

// TestHelperWriter is not a test: TestKilledWriter runs the test binary
// with JOURNAL_HELPER_PATH set to make it a driftless-like writer that is
// then killed.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv("JOURNAL_HELPER_PATH")
	if path == "" {
		t.Skip("helper process only")
	}
	ctx := context.Background()
	j, err := Open(path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	id, err := j.StartRun(ctx, &Run{Association: "web", Trigger: TriggerSchedule, Mode: ModeApply, StartedAt: time.Now()})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	out := strings.Repeat("output line\n", 1024)
	for i := 0; ; i++ {
		h := fiveSteps(id, fmt.Sprintf("h-%06d", i), time.Now())
		h.Steps[2].Stdout = out
		if err := j.RecordHost(ctx, h); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		if i == 20 {
			j.Flush(ctx)
			fmt.Println("ready", id)
		}
	}
}

func TestKilledWriter(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	path := tempPath(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$")
	cmd.Env = append(os.Environ(), "JOURNAL_HELPER_PATH="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready ") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper said %q, %v", line, err)
	}
	id, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(line, "ready ")), 10, 64)

	// Kill it while it is busy writing batches, with this process reading.
	j := openT(t, path)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var n int
		if err := j.r.QueryRow(`SELECT count(*) FROM host_results WHERE run_id = ?`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n >= 200 {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	ctx := context.Background()
	var integrity string
	if err := j.r.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %q, %v", integrity, err)
	}
	ids, err := j.RecoverInterrupted(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != id {
		t.Fatalf("recovered %v, want [%d]", ids, id)
	}
	run, hosts, err := j.Show(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != StatusInterrupted || len(hosts) < 200 {
		t.Errorf("run %s with %d hosts, want Interrupted with at least 200", run.Status, len(hosts))
	}
	// Batches are all or nothing: no host without its steps.
	for _, h := range hosts {
		if len(h.Steps) != 5 || len(h.Steps[2].Stdout) != len("output line\n")*1024 {
			t.Fatalf("%s: %d steps", h.Host, len(h.Steps))
		}
	}
	t.Logf("the killed writer had committed %d hosts", len(hosts))
}

func BenchmarkRecordHost(b *testing.B) {
	ctx := context.Background()
	j := openT(b, tempPath(b))
	id := startRunT(b, j, "web", ModeApply, base)
	hosts := make([]HostResult, 1000)
	for i := range hosts {
		hosts[i] = fiveSteps(id, fmt.Sprintf("web-%04d", i), base)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h := hosts[i%len(hosts)]
		h.Host = fmt.Sprintf("web-%07d", i)
		if err := j.RecordHost(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
	// Count the writes too, not only the queueing.
	if err := j.FinishRun(ctx, id, StatusSuccess, nil, base); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRunHosts is what the runner asks of the journal per host of
// a large run: StartHost when the host starts, RecordHost (five steps,
// as the fleet benchmark's baseline) when it is done, with 100 hosts in
// flight; one op is one host, the run's FinishRun included. In
// "progress", every third host also records progress (RecordProgress,
// its first four steps) before its result, as a host whose last step
// runs a command does in an apply.
// In "postgres", the same as "plain" on a PostgreSQL journal (a server
// of the test binary, on a unix socket).
func BenchmarkRunHosts(b *testing.B) {
	b.Run("plain", func(b *testing.B) { benchmarkRunHosts(b, tempPath(b), 0) })
	b.Run("progress", func(b *testing.B) { benchmarkRunHosts(b, tempPath(b), 3) })
	b.Run("postgres", func(b *testing.B) { benchmarkRunHosts(b, pgtest.NewDB(b), 0) })
}

func benchmarkRunHosts(b *testing.B, target string, progressEvery int) {
	const inFlight = 100
	ctx := context.Background()
	j := openT(b, target)
	id := startRunT(b, j, "web", ModeApply, base)
	names := make([]string, b.N)
	for i := range names {
		names[i] = fmt.Sprintf("web-%07d", i)
	}
	b.ReportAllocs()
	cpu := processCPU()
	b.ResetTimer()
	defer func() {
		b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
	}()
	record := func(i int) {
		h := fiveSteps(id, names[i], base)
		if progressEvery > 0 && i%progressEvery == 0 {
			p := h
			p.Steps = p.Steps[:4]
			_ = j.RecordProgress(p) // dropped when the queue is full, as in a run
		}
		if err := j.RecordHost(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
	for i := range b.N {
		if err := j.StartHost(ctx, id, names[i], base); err != nil {
			b.Fatal(err)
		}
		if i >= inFlight {
			record(i - inFlight)
		}
	}
	for i := max(b.N-inFlight, 0); i < b.N; i++ {
		record(i)
	}
	if err := j.FinishRun(ctx, id, StatusSuccess, nil, base); err != nil {
		b.Fatal(err)
	}
}

// A host's step rows go in one INSERT (stepsPerInsert at most): a host of
// more steps takes several, and a row that fails is written again one at a
// time, so that the error names its step.
func TestRecordHostStepRows(t *testing.T) { forBackends(t, testRecordHostStepRows) }

func testRecordHostStepRows(t *testing.T) {
	ctx, j := newT(t)
	refuseBadSteps(t, j)
	id := startRunT(t, j, "web", ModeApply, base)
	many := func(name string, n int) HostResult {
		h := host(id, name, StatusSuccess, base)
		for i := range n {
			h.Steps = append(h.Steps, step(i, StatusCompliant))
		}
		return h
	}
	bad := fiveSteps(id, "web-bad", base)
	bad.Steps[2].Name = "bad"
	for _, h := range []HostResult{many("web-1", 1), many("web-16", 16), many("web-17", 17), bad, many("web-40", 40), fiveSteps(id, "web-5", base)} {
		recordT(t, j, h)
	}
	err := j.FinishRun(ctx, id, StatusSuccess, nil, base.Add(time.Minute))
	if err == nil || !strings.Contains(err.Error(), `journal: record host web-bad: step 2 "bad": `) ||
		!strings.Contains(err.Error(), "no bad steps") {
		t.Errorf("FinishRun: %v, want the bad step's error", err)
	}
	_, hosts, err := j.Show(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"web-1": 1, "web-16": 16, "web-17": 17, "web-40": 40, "web-5": 5}
	if len(hosts) != len(want) {
		t.Errorf("%d hosts, want %d", len(hosts), len(want))
	}
	for _, h := range hosts {
		if len(h.Steps) != want[h.Host] {
			t.Errorf("%s: %d steps, want %d", h.Host, len(h.Steps), want[h.Host])
		}
		for k, s := range h.Steps {
			if s.Index != k || s.Name != fmt.Sprintf("step-%d", k) {
				t.Errorf("%s: step %d = %+v", h.Host, k, s)
			}
		}
	}
}
