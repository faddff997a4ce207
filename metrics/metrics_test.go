package metrics

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/driftless-dev/driftless/internal/promtest"
	"github.com/driftless-dev/driftless/journal"
)

// oddHost is a host name with every character the text format escapes.
const oddHost = "we\"b\\1\nx"

// fillJournal records, on hosts web-0 … web-(n-1) and oddHost, a run of
// "baseline" (apply, HIGH) in which every 10th host drifted and failed to
// be corrected, and a run of "audit" (check, CRITICAL) that found every
// 7th host drifted.
func fillJournal(t testing.TB, n int) *journal.Journal {
	t.Helper()
	ctx := context.Background()
	j, err := journal.Open(filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	hosts := []string{oddHost}
	for i := range n {
		hosts = append(hosts, fmt.Sprintf("web-%d", i))
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, a := range []struct {
		name, severity string
		mode           journal.Mode
		every          int
		bad            journal.Status
	}{
		{"baseline", journal.SeverityHigh, journal.ModeApply, 10, journal.StatusFailed},
		{"audit", journal.SeverityCritical, journal.ModeCheck, 7, journal.StatusDrifted},
	} {
		id, err := j.StartRun(ctx, &journal.Run{Association: a.name, Document: "d", Trigger: journal.TriggerSchedule,
			Mode: a.mode, Severity: a.severity, StartedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		for i, h := range hosts {
			hr := journal.HostResult{RunID: id, Host: h, Status: journal.StatusSuccess, StartedAt: at, EndedAt: at.Add(time.Second),
				Steps: []journal.StepResult{{Index: 0, Name: "s0", Action: "shell", Status: journal.StatusCompliant}}}
			if i%a.every == 0 {
				hr.Steps[0] = journal.StepResult{Index: 0, Name: "s0", Action: "shell", Status: a.bad, Drifted: true, Differ: "x"}
				if a.bad == journal.StatusFailed {
					hr.Status, hr.Error = journal.StatusFailed, "boom"
				}
			}
			if err := j.RecordHost(ctx, hr); err != nil {
				t.Fatal(err)
			}
		}
		if err := j.FinishRun(ctx, id, journal.StatusSuccess, nil, at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	return j
}

// checkCompliance checks that fam holds exactly one gauge per row of rows,
// with its labels and 1 for COMPLIANT, 0 otherwise.
func checkCompliance(t *testing.T, fam *dto.MetricFamily, rows []journal.ComplianceRow) {
	t.Helper()
	if fam == nil || fam.GetType() != dto.MetricType_GAUGE {
		t.Fatalf("%s: no gauge family: %v", NameCompliance, fam)
	}
	want := map[[3]string]float64{}
	for _, r := range rows {
		v := 0.0
		if r.Compliance == journal.Compliant {
			v = 1
		}
		want[[3]string{r.Association, r.Host, r.Severity}] = v
	}
	if len(fam.GetMetric()) != len(want) {
		t.Errorf("%d gauges, want one per association × host: %d", len(fam.GetMetric()), len(want))
	}
	for _, m := range fam.GetMetric() {
		k := [3]string{promtest.Label(m, "association"), promtest.Label(m, "host"), promtest.Label(m, "severity")}
		v, ok := want[k]
		if !ok {
			t.Errorf("gauge %q: no such row in the journal", k)
			continue
		}
		if got := m.GetGauge().GetValue(); got != v {
			t.Errorf("gauge %q = %v, journal says %v", k, got, v)
		}
	}
}

func TestWriteTextMatchesStatus(t *testing.T) {
	j := fillJournal(t, 50)
	rows, err := j.Status(t.Context(), journal.StatusFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteText(&b, rows); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b.Bytes(), []byte(`host="we\"b\\1\nx"`)) {
		t.Errorf("the odd host name is not escaped as the text format says:\n%s", b.String())
	}
	fams := promtest.Parse(t, "WriteText", &b)
	checkCompliance(t, fams[NameCompliance], rows)
	nonCompliant := 0
	for _, m := range fams[NameCompliance].GetMetric() {
		if m.GetGauge().GetValue() == 0 {
			nonCompliant++
		}
	}
	// baseline: web-0, 10, …, 40 and the odd host (index 0); audit: 0, 7, …, 49.
	if want := 6 + 8; nonCompliant != want {
		t.Errorf("%d non-compliant gauges, want %d", nonCompliant, want)
	}

	b.Reset()
	if err := WriteText(&b, nil); err != nil || b.Len() != 0 {
		t.Errorf("no rows: %q, %v; want nothing", b.String(), err)
	}
}

// A scrape of a 2,000-host journal (two associations, one of them in
// check mode) reads it whole, and fast.
func TestScrapeLargeJournal(t *testing.T) {
	j := fillJournal(t, 2000)
	d := NewDaemon(func(ctx context.Context) ([]journal.ComplianceRow, error) {
		return j.Status(ctx, journal.StatusFilter{})
	})
	d.Associations([]string{"baseline", "audit"})
	srv := httptest.NewServer(d.Handler(log.New(io.Discard, "", 0)))
	defer srv.Close()

	var best time.Duration
	var body []byte
	for range 3 {
		start := time.Now()
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("scrape: %s %v", resp.Status, err)
		}
		if took := time.Since(start); best == 0 || took < best {
			best = took
		}
	}
	start := time.Now()
	rows, err := j.Status(t.Context(), journal.StatusFilter{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("scrape of %d association × host gauges: %v (best of 3; the journal's Status alone: %v), %d bytes",
		len(rows), best, time.Since(start), len(body))
	if best > time.Second && !raceDetector {
		t.Errorf("a scrape took %v, want well under 1s", best)
	}
	fams := promtest.Parse(t, "scrape", bytes.NewReader(body))
	checkCompliance(t, fams[NameCompliance], rows)
	for _, name := range []string{NameHostResults, NameDriftEvents, NameRunDuration, NameLastTick, "go_goroutines", "go_memstats_alloc_bytes"} {
		if fams[name] == nil {
			t.Errorf("%s missing from the scrape", name)
		}
	}
	if n := len(fams[NameHostResults].GetMetric()); n != 2*len(hostStatuses) {
		t.Errorf("%d host result counters before any run, want %d (each status of each association at 0)", n, 2*len(hostStatuses))
	}
}

// What the daemon observes shows in its counters, histogram and gauge.
func TestDaemonObserves(t *testing.T) {
	d := NewDaemon(func(context.Context) ([]journal.ComplianceRow, error) { return nil, nil })
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	d.ObserveRun(journal.Run{Association: "a", StartedAt: at, EndedAt: at.Add(42 * time.Second)}, []journal.HostResult{
		{Host: "h1", Status: journal.StatusSuccess, Steps: []journal.StepResult{{Status: journal.StatusCorrected, Drifted: true}, {Status: journal.StatusCompliant}}},
		{Host: "h2", Status: journal.StatusFailed, Steps: []journal.StepResult{{Status: journal.StatusFailed, Drifted: true}}},
		{Host: "h3", Status: journal.StatusUnreachable},
	})
	d.TickDone(at.Add(time.Minute))
	fams, err := d.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		got[f.GetName()] = f
	}
	results := map[string]float64{}
	for _, m := range got[NameHostResults].GetMetric() {
		results[promtest.Label(m, "association")+"/"+promtest.Label(m, "status")] = m.GetCounter().GetValue()
	}
	if results["a/Success"] != 1 || results["a/Failed"] != 1 || results["a/Unreachable"] != 1 || len(results) != 3 {
		t.Errorf("host results: %v", results)
	}
	if v := got[NameDriftEvents].GetMetric()[0].GetCounter().GetValue(); v != 2 {
		t.Errorf("drift events: %v, want 2", v)
	}
	h := got[NameRunDuration].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 1 || h.GetSampleSum() != 42 {
		t.Errorf("run duration: %d samples, sum %v; want 1, 42", h.GetSampleCount(), h.GetSampleSum())
	}
	if v := got[NameLastTick].GetMetric()[0].GetGauge().GetValue(); v != float64(at.Add(time.Minute).Unix()) {
		t.Errorf("last tick: %v", v)
	}
}

// A journal that cannot be read fails the compliance gauges only: the
// scrape still serves the rest, and says what went wrong.
func TestScrapeWithUnreadableJournal(t *testing.T) {
	d := NewDaemon(func(context.Context) ([]journal.ComplianceRow, error) { return nil, journal.ErrClosed })
	var logged bytes.Buffer
	srv := httptest.NewServer(d.Handler(log.New(&logged, "", 0)))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	fams := promtest.Parse(t, "scrape", resp.Body)
	if fams[NameCompliance] != nil || fams[NameLastTick] == nil || fams["go_goroutines"] == nil {
		t.Errorf("scrape with an unreadable journal: %v", fams)
	}
	if !bytes.Contains(logged.Bytes(), []byte("read compliance from the journal")) {
		t.Errorf("nothing logged: %q", logged.String())
	}
}
