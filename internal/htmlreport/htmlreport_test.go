package htmlreport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/htmlreport"
	"github.com/driftless-dev/driftless/internal/htmlreport/reporttest"
	"github.com/driftless-dev/driftless/journal"
)

var end = time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)

func fleetJournal(t testing.TB, f reporttest.Fleet) *journal.Journal {
	t.Helper()
	j, err := journal.Open(filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	f.End = end
	if err := reporttest.Record(context.Background(), j, f); err != nil {
		t.Fatal(err)
	}
	return j
}

func write(t testing.TB, j *journal.Journal, since time.Time) (string, htmlreport.Summary) {
	t.Helper()
	var b bytes.Buffer
	sum, err := htmlreport.Write(context.Background(), j, &b, htmlreport.Options{Since: since, Until: end.Add(time.Hour), Journal: "journal.db", Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return b.String(), sum
}

var dataRE = regexp.MustCompile(`(?s)<script type="application/json" id="data">(.*?)</script>`)

// pageData is the JSON the page embeds.
func pageData(t testing.TB, page string) map[string]any {
	t.Helper()
	m := dataRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no data script in the page")
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
		t.Fatalf("the page's data is not JSON: %v", err)
	}
	return d
}

// The page counts what status counts, embeds every association × host,
// and loads nothing from anywhere.
func TestReportCounts(t *testing.T) {
	j := fleetJournal(t, reporttest.Fleet{Hosts: 50, Days: 10})
	page, sum := write(t, j, end.Add(-30*24*time.Hour))
	rows, err := j.Status(context.Background(), journal.StatusFilter{})
	if err != nil {
		t.Fatal(err)
	}
	nc := 0
	for _, r := range rows {
		if r.Compliance != journal.Compliant {
			nc++
		}
	}
	if sum.Pairs != 150 || sum.Pairs != len(rows) || sum.NonCompliant != nc || nc == 0 || sum.Compliant != len(rows)-nc || sum.Hosts != 50 {
		t.Errorf("summary %+v; status has %d rows, %d non-compliant", sum, len(rows), nc)
	}
	events, err := j.Drift(context.Background(), journal.DriftFilter{Since: end.Add(-30 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if sum.DriftEvents != len(events) {
		t.Errorf("%d drift events in the report, %d in drift", sum.DriftEvents, len(events))
	}
	d := pageData(t, page)
	if got := len(d["rows"].([]any)); got != len(rows) {
		t.Errorf("%d rows in the page's data, want %d", got, len(rows))
	}
	for _, want := range []string{`<div class="card bad" id="total-noncompliant"><span class="num">` + strconv.Itoa(nc) + `</span>`,
		`<tr data-association="ssh-hardening">`, "default-src 'none'", "workers = 4"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, bad := range []string{"http://", "https://", "src=", "<link", "@import", "url("} {
		if i := strings.Index(strings.ReplaceAll(page, "http://www.w3.org/2000/svg", ""), bad); i >= 0 {
			t.Errorf("the page refers to something outside it: %q at %d", bad, i)
		}
	}
}

// What the journal holds stays text: markup in host names, association
// names, diffs, errors and output never becomes markup in the page.
func TestReportEscapes(t *testing.T) {
	j, err := journal.Open(filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	hostile := reporttest.Hostile
	if err := reporttest.RecordHostile(context.Background(), j, end); err != nil {
		t.Fatal(err)
	}
	page, _ := write(t, j, time.Time{})
	for _, bad := range []string{"<script>alert", "<img", "</script><", "onerror=\"", "'\"><"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q unescaped", bad)
		}
	}
	d := pageData(t, page)
	if got := d["assocs"].([]any)[0]; got != hostile {
		t.Errorf("association in the data = %q, want %q", got, hostile)
	}
}
