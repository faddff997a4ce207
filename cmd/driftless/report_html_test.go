package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/driftless-dev/driftless/internal/htmlreport/reporttest"
	"github.com/driftless-dev/driftless/journal"
)

// page is a report open in headless Chromium, with what it logged and
// requested.
type page struct {
	ctx  context.Context
	url  string
	mu   sync.Mutex
	errs []string // console errors, exceptions, log entries of level error
	reqs []string // every URL requested
}

// openReport opens file in a headless Chromium of its own (Debian's
// chromium, no network, a fresh profile), sized width × height.
func openReport(t *testing.T, file string, width, height int64) *page {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("the report's browser tests need Chromium: install Debian's chromium package (sudo apt-get install chromium; test.sh does)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(int(width), int(height)),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	p := &page{url: "file://" + file}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(p.listen))
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	p.ctx = ctx
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	p.do(t, chromedp.EmulateViewport(width, height), chromedp.Navigate(p.url), chromedp.WaitVisible(chromedp.CSS("#count[data-matching]")))
	return p
}

// listen records what the page logs and requests. It runs in the loop of
// the tab: it returns fast and runs no command.
func (p *page) listen(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range e.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			p.errs = append(p.errs, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		p.errs = append(p.errs, "exception: "+e.ExceptionDetails.Text)
	case *cdplog.EventEntryAdded:
		if e.Entry.Level == cdplog.EntryLevelError || e.Entry.Level == cdplog.EntryLevelWarning {
			p.errs = append(p.errs, fmt.Sprintf("log %s: %s %s", e.Entry.Level, e.Entry.Text, e.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		p.reqs = append(p.reqs, e.Request.URL)
	}
}

func (p *page) do(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		t.Fatalf("chromium: %v", err)
	}
}

// clean fails t on any console error or exception, and on any request
// but the page's own.
func (p *page) clean(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.errs {
		t.Errorf("the page logged %s", e)
	}
	for _, u := range p.reqs {
		if u != p.url {
			t.Errorf("the page requested %s", u)
		}
	}
	if len(p.reqs) == 0 {
		t.Error("no request seen at all: the network listener does not work")
	}
}

// eval evaluates a script expression into T.
func eval[T any](t *testing.T, p *page, expr string) T {
	t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("chromium: %s: %v", expr, err)
	}
	return v
}

// shown is the (matching, shown) count of the host table, and the hosts
// and associations of the rows it shows.
func (p *page) shown(t *testing.T) (matching int, hosts, assocs []string) {
	t.Helper()
	got := eval[struct {
		Matching string
		Hosts    []string
		Assocs   []string
	}](t, p, `({matching: document.getElementById("count").dataset.matching,
		hosts: [...document.querySelectorAll("#hosts tbody tr[data-host]")].map(r => r.dataset.host),
		assocs: [...document.querySelectorAll("#hosts tbody tr[data-host]")].map(r => r.dataset.association)})`)
	n, err := strconv.Atoi(got.Matching)
	if err != nil {
		t.Fatalf("#count data-matching = %q", got.Matching)
	}
	return n, got.Hosts, got.Assocs
}

func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := Main(append([]string{"driftless"}, args...), strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("driftless %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return out.String()
}

// recordedJournal is a journal in a new temporary directory, with what
// record wrote in it, closed; and the directory.
func recordedJournal(t *testing.T, record func(context.Context, *journal.Journal) error) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "journal.db")
	j, err := journal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := record(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

// The report of a 200-host fleet in Chromium: it loads with no error and
// no request, its numbers are status --json's, the filters and sorting
// work, and a screenshot of it is kept.
func TestReportHTMLInBrowser(t *testing.T) {
	dir, jpath := recordedJournal(t, func(ctx context.Context, j *journal.Journal) error {
		return reporttest.Record(ctx, j, reporttest.Fleet{Hosts: 200, Days: 30, End: time.Now().Add(-time.Hour)})
	})
	var status []complianceJSON
	if err := json.Unmarshal([]byte(runCLI(t, "--journal", jpath, "status", "--json")), &status); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "report.html")
	if out := runCLI(t, "--journal", jpath, "report", "--html", file); !strings.HasPrefix(out, "wrote "+file+": 600 association × host pairs on 200 hosts") {
		t.Errorf("report printed %q", out)
	}

	type counts struct{ Compliant, NonCompliant int }
	want := map[string]counts{}
	var total counts
	for _, r := range status {
		c := want[r.Association]
		if r.Compliance == journal.Compliant {
			c.Compliant++
			total.Compliant++
		} else {
			c.NonCompliant++
			total.NonCompliant++
		}
		want[r.Association] = c
	}
	if total.NonCompliant == 0 || len(want) != 3 {
		t.Fatalf("the fleet has %+v over %d associations: nothing to look at", total, len(want))
	}

	p := openReport(t, file, 1360, 1500)
	onPage := eval[struct {
		Compliant, NonCompliant string
		Assocs                  [][3]string
	}](t, p, `({compliant: document.querySelector("#total-compliant .num").textContent,
		nonCompliant: document.querySelector("#total-noncompliant .num").textContent,
		assocs: [...document.querySelectorAll("#by-association tbody tr")].map(r =>
			[r.dataset.association, r.querySelector(".compliant").textContent, r.querySelector(".noncompliant").textContent])})`)
	if onPage.Compliant != strconv.Itoa(total.Compliant) || onPage.NonCompliant != strconv.Itoa(total.NonCompliant) {
		t.Errorf("the page shows %s compliant, %s non-compliant; status --json: %+v", onPage.Compliant, onPage.NonCompliant, total)
	}
	if len(onPage.Assocs) != len(want) {
		t.Errorf("the page shows %d associations, status --json %d", len(onPage.Assocs), len(want))
	}
	for _, a := range onPage.Assocs {
		if w := want[a[0]]; a[1] != strconv.Itoa(w.Compliant) || a[2] != strconv.Itoa(w.NonCompliant) {
			t.Errorf("association %s: the page shows %s compliant, %s non-compliant; status --json: %+v", a[0], a[1], a[2], w)
		}
	}
	matching, hosts, _ := p.shown(t)
	if matching != len(status) || len(hosts) != 500 {
		t.Errorf("the table matches %d rows and shows %d, want %d and 500 (a page)", matching, len(hosts), len(status))
	}

	shot := filepath.Join(dir, "report.png")
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the 200-host report: %s", shot)
	if keep := os.Getenv("DRIFTLESS_REPORT_PNG"); keep != "" {
		if err := os.WriteFile(keep, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Clicking an association in the summary filters the table to it.
	p.do(t, chromedp.Click(chromedp.CSS(`#by-association button[data-value="ssh-hardening"]`)))
	matching, _, assocs := p.shown(t)
	if w := want["ssh-hardening"]; matching != w.Compliant+w.NonCompliant || len(assocs) != 200 || slices.IndexFunc(assocs, func(a string) bool { return a != "ssh-hardening" }) >= 0 {
		t.Errorf("filtered on ssh-hardening: %d matching, rows of %v", matching, slices.Compact(assocs))
	}
	p.do(t, chromedp.SetValue(chromedp.CSS("#f-compliance"), journal.NonCompliant),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("f-compliance").dispatchEvent(new Event("change"))`))
	if matching, hosts, _ = p.shown(t); matching != want["ssh-hardening"].NonCompliant || len(hosts) != matching {
		t.Errorf("non-compliant ssh-hardening: %d matching, %d shown, want %d", matching, len(hosts), want["ssh-hardening"].NonCompliant)
	}
	details := eval[int](t, p, `document.querySelectorAll("#hosts tbody tr.detail .step").length`)
	if details < matching {
		t.Errorf("%d non-compliant rows show %d steps that differed", matching, details)
	}

	// Typing in the search box, then sorting by host, descending.
	var wantHosts []string
	for _, r := range status {
		if strings.Contains(r.Host, "db-01") {
			wantHosts = append(wantHosts, r.Host)
		}
	}
	p.do(t, chromedp.Click(chromedp.CSS("#f-reset")), chromedp.SendKeys(chromedp.CSS("#q"), "DB-01"),
		chromedp.Click(chromedp.CSS(`#hosts th[data-sort="host"]`)), chromedp.Click(chromedp.CSS(`#hosts th[data-sort="host"]`)))
	matching, hosts, _ = p.shown(t)
	slices.Sort(wantHosts)
	slices.Reverse(wantHosts)
	if matching != len(wantHosts) || !slices.Equal(hosts, wantHosts) {
		t.Errorf("search db-01, sorted by host descending: %d matching, %v; want %v", matching, hosts, wantHosts)
	}

	// Sorting by drift puts the host that drifted most first.
	var events []driftEventJSON
	if err := json.Unmarshal([]byte(runCLI(t, "--journal", jpath, "drift", "--json", "--since", "30d")), &events); err != nil {
		t.Fatal(err)
	}
	perHost := map[string]int{}
	most := 0
	for _, e := range events {
		perHost[e.Host]++
		most = max(most, perHost[e.Host])
	}
	p.do(t, chromedp.Click(chromedp.CSS("#f-reset")), chromedp.Click(chromedp.CSS(`#hosts th[data-sort="drift"]`)))
	if _, hosts, _ = p.shown(t); len(hosts) == 0 || perHost[hosts[0]] != most {
		t.Errorf("sorted by drift, the first host drifted %d times; the most any host did is %d", perHost[hosts[0]], most)
	}
	p.clean(t)
}

// Markup in what the journal holds (host, association and step names,
// diffs, errors, output) shows as text in the browser and never runs or
// loads anything.
func TestReportHTMLHostileText(t *testing.T) {
	dir, jpath := recordedJournal(t, func(ctx context.Context, j *journal.Journal) error {
		return reporttest.RecordHostile(ctx, j, time.Now().Add(-time.Minute))
	})
	file := filepath.Join(dir, "report.html")
	runCLI(t, "--journal", jpath, "report", "--html", file)
	p := openReport(t, file, 1200, 900)
	got := eval[struct {
		Pwned    bool
		Injected int
		Texts    []string
	}](t, p, `({pwned: window.pwned !== undefined,
		injected: document.querySelectorAll("img, svg[onload], script:not([type]) ~ script, body script:not(:last-of-type):not([type])").length,
		texts: [document.querySelector("#hosts tbody td.host").textContent,
			document.querySelector("#hosts tbody td.association").textContent,
			document.querySelector("#hosts tbody tr.detail .name").textContent,
			document.querySelector("#hosts tbody tr.detail pre.differ").textContent,
			document.querySelector("#hosts tbody tr.detail pre.stderr").textContent,
			document.querySelector("#by-association button").textContent]})`)
	if got.Pwned || got.Injected != 0 {
		t.Errorf("injected markup ran (pwned %v) or became elements (%d)", got.Pwned, got.Injected)
	}
	for i, text := range got.Texts {
		if text != reporttest.Hostile {
			t.Errorf("text %d on the page = %q, want %q", i, text, reporttest.Hostile)
		}
	}
	p.clean(t)
}

// What report says: the file it wrote and what it counted (text and
// JSON), the page on stdout with --html -, and exit 1 with what is wrong
// before reading anything: no --html, a bad --since, an argument, no
// journal.
func TestReportHTMLCommand(t *testing.T) {
	dir, jpath := recordedJournal(t, func(ctx context.Context, j *journal.Journal) error {
		return reporttest.Record(ctx, j, reporttest.Fleet{Hosts: 20, Days: 2, End: time.Now().Add(-time.Hour)})
	})
	file := filepath.Join(dir, "out", "report.html")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	var got reportJSON
	if err := json.Unmarshal([]byte(runCLI(t, "--journal", jpath, "report", "--html", file, "--json", "--since", "all")), &got); err != nil {
		t.Fatal(err)
	}
	if got.File != file || got.Pairs != 60 || got.Hosts != 20 || got.NonCompliant == 0 || got.Compliant+got.NonCompliant != 60 || got.Since == nil {
		t.Errorf("report --json = %+v", got)
	}
	if entries, _ := os.ReadDir(filepath.Dir(file)); len(entries) != 1 {
		t.Errorf("the report's directory holds %d files, want the report alone", len(entries))
	}
	if page := runCLI(t, "--journal", jpath, "report", "--html", "-"); !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.Contains(page, `"h":"db-0020"`) {
		t.Errorf("report --html - printed %.200q", page)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--journal", jpath, "report"}, "report: --html FILE is required"},
		{[]string{"--journal", jpath, "report", "--html", file, "--since", "yesterday"}, `--since: expected a duration`},
		{[]string{"--journal", jpath, "report", "--html", file, "extra"}, `report takes no arguments, got "extra"`},
		{[]string{"--journal", filepath.Join(dir, "none.db"), "report", "--html", file}, "report: nothing to report: no journal at " + filepath.Join(dir, "none.db")},
	} {
		var out, errb bytes.Buffer
		code := Main(append([]string{"driftless"}, c.args...), strings.NewReader(""), &out, &errb)
		if code != exitInvalid || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %q", c.args, code, errb.String(), c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "none.db")); err == nil {
		t.Error("report created a journal where there was none")
	}
}
