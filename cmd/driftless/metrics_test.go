package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/driftless-dev/driftless/internal/promtest"
	"github.com/driftless-dev/driftless/metrics"
)

// metricsAssocs: "audit" only checks that ~/ok exists (web-2 lacks it:
// drifted, NON_COMPLIANT); "count" runs a command everywhere.
const metricsAssocs = `[associations.audit]
document = "guard"
targets = ["*"]
mode = "check"
compliance_severity = "CRITICAL"

[associations.count]
document = "count"
targets = ["*"]
compliance_severity = "LOW"
`

const guardDoc = `[[steps]]
name = "ok"
action = "shell"
check = "test -f ~/ok"
run = "touch ~/ok"
`

// complianceOf is each driftless_compliance gauge of fams, by
// "association host severity".
func complianceOf(fams map[string]*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, m := range fams[metrics.NameCompliance].GetMetric() {
		out[promtest.Label(m, "association")+" "+promtest.Label(m, "host")+" "+promtest.Label(m, "severity")] = m.GetGauge().GetValue()
	}
	return out
}

func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %s", url, resp.Status)
	}
	return promtest.Parse(t, "scrape", resp.Body)
}

// The daemon serves /metrics while it ticks: after its first tick on
// three real sshd hosts, one of them drifted, the gauges are what status
// says, the counters what history and drift say, and `status --output
// prometheus --output-file` writes the same gauges.
func TestDaemonServesMetrics(t *testing.T) {
	f := startFleet(t, 3, metricsAssocs)
	f.writeDoc("guard", guardDoc)
	f.writeDoc("count", counterDoc("count"))
	for _, h := range []int{0, 2} {
		os.WriteFile(filepath.Join(f.hosts[h].Home, "ok"), nil, 0o644)
	}

	cmd, url, stderr := startDaemon(t, f)
	deadline := time.Now().Add(20 * time.Second)
	// The first tick has ended when its timestamp is set.
	var fams map[string]*dto.MetricFamily
	for {
		fams = scrape(t, url)
		if fams[metrics.NameLastTick].GetMetric()[0].GetGauge().GetValue() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no tick ended within 20s:\n%s", stderr())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if last := fams[metrics.NameLastTick].GetMetric()[0].GetGauge().GetValue(); math.Abs(last-float64(time.Now().Unix())) > 60 {
		t.Errorf("last tick %v is not about now", last)
	}

	// Compliance: the journal's, as status --json shows it.
	r := f.mustRun(t, "status", 0, "", "status", "--json")
	var rows []complianceJSON
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{}
	for _, row := range rows {
		want[row.Association+" "+row.Host+" "+row.Severity] = map[string]float64{"COMPLIANT": 1, "NON_COMPLIANT": 0}[row.Compliance]
	}
	got := complianceOf(fams)
	if len(rows) != 6 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("compliance gauges %v\nstatus --json says %v", got, want)
	}
	if got["audit web-2 CRITICAL"] != 0 || got["audit web-1 CRITICAL"] != 1 || got["count web-2 LOW"] != 1 {
		t.Errorf("compliance gauges: %v", got)
	}

	// Host results and run durations: what history --json says of the runs.
	r = f.mustRun(t, "history", 0, "", "history", "--json")
	var history historyJSON
	if err := json.Unmarshal([]byte(r.stdout), &history); err != nil {
		t.Fatal(err)
	}
	runs := history.Runs
	wantResults, durations := map[string]float64{}, 0.0
	for _, run := range runs {
		for status, n := range run.Counts {
			wantResults[run.Association+" "+string(status)] += float64(n)
		}
		durations += *run.DurationSeconds
	}
	gotResults := map[string]float64{}
	for _, m := range fams[metrics.NameHostResults].GetMetric() {
		if v := m.GetCounter().GetValue(); v > 0 {
			gotResults[promtest.Label(m, "association")+" "+promtest.Label(m, "status")] = v
		}
	}
	if len(runs) != 2 || fmt.Sprint(gotResults) != fmt.Sprint(wantResults) {
		t.Errorf("host results %v\nhistory --json says %v", gotResults, wantResults)
	}
	if n := len(fams[metrics.NameHostResults].GetMetric()); n != 12 {
		t.Errorf("%d host result series, want 12: each status of each association, from 0", n)
	}
	h := fams[metrics.NameRunDuration].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 2 || math.Abs(h.GetSampleSum()-durations) > 0.01 {
		t.Errorf("run durations: %d runs, %vs; history says 2 runs, %vs", h.GetSampleCount(), h.GetSampleSum(), durations)
	}

	// Drift events: what drift --json lists.
	r = f.mustRun(t, "drift", 0, "", "drift", "--since", "all", "--json")
	var events []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &events); err != nil {
		t.Fatal(err)
	}
	if v := fams[metrics.NameDriftEvents].GetMetric()[0].GetCounter().GetValue(); len(events) != 1 || v != 1 {
		t.Errorf("drift events: %v, drift --json lists %d", v, len(events))
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "go_gc_duration_seconds", "process_resident_memory_bytes"} {
		if fams[name] == nil {
			t.Errorf("no %s in the scrape", name)
		}
	}

	// The textfile collector's file: the same gauges, written whole.
	dir := t.TempDir()
	prom := filepath.Join(dir, "driftless.prom")
	os.WriteFile(prom, []byte("stale"), 0o600)
	f.mustRun(t, "status --output prometheus", 0, "", "status", "--output", "prometheus", "--output-file", prom)
	b, err := os.ReadFile(prom)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(prom); fi.Mode().Perm() != 0o644 {
		t.Errorf("%s has mode %v, want 0644", prom, fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left next to %s: %v", prom, entries)
	}
	if fromFile := complianceOf(promtest.Parse(t, prom, strings.NewReader(string(b)))); fmt.Sprint(fromFile) != fmt.Sprint(got) {
		t.Errorf("status --output prometheus: %v\nthe scrape: %v", fromFile, got)
	}
	if strings.Contains(string(b), "go_goroutines") || strings.Contains(string(b), metrics.NameHostResults) {
		t.Errorf("the textfile holds more than the compliance gauges:\n%s", b)
	}
	r = f.mustRun(t, "status --output prometheus", 0, "# TYPE driftless_compliance gauge", "status", "--output", "prometheus", "--severity", "critical")
	if fromStdout := complianceOf(promtest.Parse(t, "stdout", strings.NewReader(r.stdout))); len(fromStdout) != 3 {
		t.Errorf("status --output prometheus --severity critical: %v", fromStdout)
	}

	// SIGTERM stops the daemon and its server.
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil || !strings.Contains(stderr(), "driftless daemon: stopped") {
		t.Errorf("daemon after SIGTERM: %v\n%s", err, stderr())
	}
	if _, err := http.Get(url); err == nil {
		t.Errorf("%s still answers after the daemon stopped", url)
	}
}

// An address that cannot be listened on stops the daemon at startup,
// exit 1, before any host is contacted.
func TestDaemonMetricsAddressInUse(t *testing.T) {
	f := startFleet(t, 1, "[associations.count]\ndocument = \"count\"\ntargets = [\"*\"]\n")
	f.writeDoc("count", counterDoc("count"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := f.run(t, "daemon", "--metrics-listen", ln.Addr().String())
	if r.code != exitInvalid || !strings.Contains(r.stderr, "--metrics-listen: listen tcp "+ln.Addr().String()+": bind: address already in use") {
		t.Errorf("daemon on an address in use: %s", r)
	}
	r = f.run(t, "daemon", "--metrics-listen", "9469")
	if r.code != exitInvalid || !strings.Contains(r.stderr, "--metrics-listen: listen tcp: address 9469: missing port in address") {
		t.Errorf("daemon on a bad address: %s", r)
	}
	if n := runsOn(t, f.hosts[0].Home, "count"); n != 0 {
		t.Errorf("the host was run on %d times", n)
	}
}

// --output prometheus is for status only, and --output-file only with it.
func TestPrometheusOutputFlags(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"history", "--output", "prometheus"}, `--output: expected text or json, got "prometheus"`},
		{[]string{"status", "--output", "yaml"}, `--output: expected text, json or prometheus, got "yaml"`},
		{[]string{"status", "--json", "--output", "prometheus"}, "--json and --output prometheus: give one of them"},
		{[]string{"status", "--output-file", filepath.Join(dir, "x.prom")}, "--output-file: only with --output prometheus"},
		{[]string{"status", "-o", "prometheus", "--output-file", filepath.Join(dir, "missing", "x.prom")}, "--output-file: write " + filepath.Join(dir, "missing", "x.prom")},
	} {
		r := driftless(t, append(c.args, "-C", dir)...)
		if r.code != exitInvalid || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: want exit 1 and %q, got exit %d\n%s", strings.Join(c.args, " "), c.want, r.code, r.stderr)
		}
	}
	// No journal yet: an empty file, which the textfile collector reads as no metrics.
	prom := filepath.Join(dir, "x.prom")
	if r := driftless(t, "status", "-C", dir, "-o", "prometheus", "--output-file", prom); r.code != 0 {
		t.Fatalf("status with no journal: exit %d\n%s", r.code, r.stderr)
	}
	if b, err := os.ReadFile(prom); err != nil || len(b) != 0 {
		t.Errorf("%s: %q, %v; want an empty file", prom, b, err)
	}
	if entries, _ := os.ReadDir(dir); !slices.ContainsFunc(entries, func(e os.DirEntry) bool { return e.Name() == "x.prom" }) || len(entries) != 1 {
		t.Errorf("files left: %v", entries)
	}
}

// startDaemon starts the driftless binary's daemon on f with
// --metrics-listen on a free port and returns it, the URL it serves
// metrics on, and its stderr so far.
func startDaemon(t *testing.T, f *e2eFleet) (*exec.Cmd, string, func() string) {
	t.Helper()
	cmd := exec.Command(buildBinary(t), "daemon", "-C", f.dir, "--grace", "5s", "--metrics-listen", "127.0.0.1:0")
	logPath := filepath.Join(t.TempDir(), "daemon.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	cmd.Stdout, cmd.Stderr = io.Discard, logFile
	stderr := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	serving := regexp.MustCompile(`serving metrics on (http://\S+/metrics)`)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := serving.FindStringSubmatch(stderr()); m != nil {
			return cmd, m[1], stderr
		}
	}
	t.Fatalf("the daemon does not say where it serves metrics:\n%s", stderr())
	return nil, "", nil
}

// A scrape answers at once while a tick is running: it reads the
// journal, it does not wait for the tick.
func TestScrapeDuringTick(t *testing.T) {
	f := startFleet(t, 1, "[associations.slow]\ndocument = \"slow\"\ntargets = [\"*\"]\n")
	f.writeDoc("slow", counterDoc("slow")+"\n[[steps]]\nname = \"wait\"\naction = \"shell\"\nrun = \"sleep 4\"\n")
	cmd, url, stderr := startDaemon(t, f)
	for deadline := time.Now().Add(15 * time.Second); runsOn(t, f.hosts[0].Home, "slow") == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the tick did not start:\n%s", stderr())
		}
	}
	start := time.Now()
	fams := scrape(t, url)
	took := time.Since(start)
	if took > time.Second {
		t.Errorf("a scrape during a tick took %v", took)
	}
	if v := fams[metrics.NameLastTick].GetMetric()[0].GetGauge().GetValue(); v != 0 {
		t.Errorf("last tick %v while the first tick runs; want 0", v)
	}
	if got := complianceOf(fams); len(got) != 0 {
		t.Errorf("compliance before any run ended: %v", got)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("daemon after SIGTERM: %v\n%s", err, stderr())
	}
	if runsOn(t, f.hosts[0].Home, "slow") != 1 {
		t.Errorf("the tick did not finish its run within the grace period:\n%s", stderr())
	}
	t.Logf("scrape during a tick: %v", took)
}
