// Package htmlreport writes the compliance report of a journal as one
// self-contained HTML page (docs/report.md): compliance by association and
// severity, every non-compliant association × host with the steps that
// differed, and a drift timeline per host. The CSS and the script are
// inlined, the data is embedded as JSON and drawn by the script with DOM
// calls that never parse markup, so nothing the journal holds (host names,
// diffs, output) can become markup, and the page makes no request.
package htmlreport

import (
	"bufio"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/driftless-dev/driftless/journal"
)

var (
	//go:embed page.html.tmpl
	pageSrc string
	//go:embed report.css
	css string
	//go:embed report.js
	script string

	page = template.Must(template.New("page").Parse(pageSrc))
	// scriptHash lets the page's Content-Security-Policy run this script
	// and no other.
	scriptHash = func() string {
		sum := sha256.Sum256([]byte(script))
		return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
	}()
)

// Cuts of what a step recorded, per field: the page shows the start of
// a diff or error and the end of stderr; `driftless show` has it all.
const (
	maxDiffer = 16 << 10
	maxStderr = 2 << 10
)

// Options are what a report covers.
type Options struct {
	// Since and Until bound the drift timeline; a zero Since is the
	// first run recorded.
	Since, Until time.Time
	// Journal names the journal read, for the page's heading.
	Journal string
	// Version is driftless's, for the page's heading.
	Version string
	// Generated is when the report was written (default now).
	Generated time.Time
}

// Summary is what a report counts, for the command's note.
type Summary struct {
	Pairs, Compliant, NonCompliant int
	Hosts, NonCompliantHosts       int
	DriftEvents                    int
	Since, Until                   time.Time
}

// Write reads j and writes the report to w.
func Write(ctx context.Context, j *journal.Journal, w io.Writer, opt Options) (Summary, error) {
	rows, err := j.Status(ctx, journal.StatusFilter{})
	if err != nil {
		return Summary{}, fmt.Errorf("report: %w", err)
	}
	var keys []journal.RowKey
	for _, r := range rows {
		if r.Compliance != journal.Compliant {
			keys = append(keys, journal.RowKey{RunID: r.RunID, Host: r.Host})
		}
	}
	steps, err := j.OutOfStateSteps(ctx, keys)
	if err != nil {
		return Summary{}, fmt.Errorf("report: %w", err)
	}
	since, until := opt.Since, opt.Until
	if until.IsZero() {
		until = time.Now()
	}
	if since.IsZero() {
		if since, err = j.FirstRecord(ctx); err != nil {
			return Summary{}, fmt.Errorf("report: %w", err)
		}
	}
	if since.IsZero() || !since.Before(until) {
		since = until.Add(-time.Hour)
	}
	width := bucketWidth(until.Sub(since))
	counts, err := j.DriftTimeline(ctx, since, until, width)
	if err != nil {
		return Summary{}, fmt.Errorf("report: %w", err)
	}
	v := build(rows, steps, counts, since, until, width)
	if opt.Generated.IsZero() {
		opt.Generated = time.Now()
	}
	v.Journal, v.Version, v.Generated = opt.Journal, opt.Version, opt.Generated.UTC().Format("2006-01-02 15:04:05Z")
	v.CSS, v.Script, v.ScriptHash = template.CSS(css), template.JS(script), scriptHash
	bw := bufio.NewWriterSize(w, 1<<16)
	if err := page.Execute(bw, v); err != nil {
		return Summary{}, fmt.Errorf("report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return Summary{}, fmt.Errorf("report: %w", err)
	}
	return v.Summary, nil
}

// bucketWidth is the period of the drift timeline: the shortest of a
// few round widths that cuts window into at most 40 periods (30 days:
// 30 bars of a day).
func bucketWidth(window time.Duration) time.Duration {
	for _, w := range []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 3 * time.Hour,
		6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour} {
		if window <= 40*w {
			return w
		}
	}
	return window / 40
}

// view is what the template shows.
type view struct {
	Summary
	Journal, Version string
	Generated        string
	ScriptHash       string
	CSS              template.CSS
	Script           template.JS
	Window           string // "2026-11-05 → 2026-12-05, by day"
	Associations     []group
	Severities       []group
	Fleet            chart
	Data             data
}

// group is the compliance of an association or a severity.
type group struct {
	Name, Severity          string
	Compliant, NonCompliant int
	Percent                 float64 // compliant, of all
}

// data is embedded in the page as JSON for the script: short keys keep
// a 10,000-host page small.
type data struct {
	Since   int64                 `json:"since"` // Unix seconds
	Width   int64                 `json:"width"` // seconds per period
	Buckets int                   `json:"buckets"`
	Assocs  []string              `json:"assocs"`
	Rows    []row                 `json:"rows"`
	Drift   map[string][][4]int32 `json:"drift"` // host: [period, corrected, detected, failed]
}

// row is an association × host.
type row struct {
	Assoc     int    `json:"a"` // index in data.Assocs
	Host      string `json:"h"`
	Compliant int    `json:"c"` // 1 or 0
	Severity  string `json:"v"`
	Run       int64  `json:"r"`
	Mode      string `json:"m"`
	At        int64  `json:"t"` // Unix seconds
	Status    string `json:"s"` // host status
	Steps     [4]int `json:"n"` // steps, drifted, corrected, failed
	Error     string `json:"e,omitempty"`
	Differ    []step `json:"d,omitempty"`
}

// step is a step that differed.
type step struct {
	Index  int    `json:"i"`
	Name   string `json:"n"`
	Action string `json:"a"`
	Status string `json:"s"`
	Skip   string `json:"k,omitempty"`
	Differ string `json:"d,omitempty"`
	Error  string `json:"e,omitempty"`
	Stderr string `json:"o,omitempty"`
	Exit   *int   `json:"x,omitempty"`
}

func build(rows []journal.ComplianceRow, steps map[journal.RowKey][]journal.StepResult, counts []journal.DriftCount,
	since, until time.Time, width time.Duration) view {
	buckets := int((until.Sub(since) + width - 1) / width)
	v := view{Data: data{Since: since.Unix(), Width: int64(width / time.Second), Buckets: buckets,
		Rows: make([]row, 0, len(rows)), Drift: map[string][][4]int32{}}}
	v.Since, v.Until = since, until
	v.Window = fmt.Sprintf("%s → %s, %s per bar", since.UTC().Format("2006-01-02 15:04Z"), until.UTC().Format("2006-01-02 15:04Z"), widthText(width))
	assocIndex := map[string]int{}
	byAssoc := map[string]*group{}
	bySeverity := map[string]*group{}
	hosts, badHosts := map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		i, ok := assocIndex[r.Association]
		if !ok {
			i = len(v.Data.Assocs)
			assocIndex[r.Association] = i
			v.Data.Assocs = append(v.Data.Assocs, r.Association)
			byAssoc[r.Association] = &group{Name: r.Association, Severity: r.Severity}
		}
		a, s := byAssoc[r.Association], bySeverity[r.Severity]
		if s == nil {
			s = &group{Name: r.Severity}
			bySeverity[r.Severity] = s
		}
		if !slices.Contains(strings.Split(a.Severity, ", "), r.Severity) {
			a.Severity += ", " + r.Severity // changed between runs
		}
		hosts[r.Host] = true
		out := row{Assoc: i, Host: r.Host, Severity: r.Severity, Run: r.RunID, Mode: string(r.Mode), At: r.At.Unix(),
			Status: string(r.HostStatus), Steps: [4]int{r.Steps, r.DriftedSteps, r.CorrectedSteps, r.FailedSteps}, Error: r.Error}
		if r.Compliance == journal.Compliant {
			out.Compliant = 1
			a.Compliant++
			s.Compliant++
			v.Compliant++
		} else {
			a.NonCompliant++
			s.NonCompliant++
			v.NonCompliant++
			badHosts[r.Host] = true
			for _, st := range steps[journal.RowKey{RunID: r.RunID, Host: r.Host}] {
				out.Differ = append(out.Differ, stepView(st))
			}
		}
		v.Data.Rows = append(v.Data.Rows, out)
	}
	v.Pairs, v.Hosts, v.NonCompliantHosts = len(rows), len(hosts), len(badHosts)
	for _, name := range v.Data.Assocs {
		v.Associations = append(v.Associations, percent(*byAssoc[name]))
	}
	for _, sev := range []string{journal.SeverityCritical, journal.SeverityHigh, journal.SeverityMedium, journal.SeverityLow, journal.SeverityUnspecified} {
		if g := bySeverity[sev]; g != nil {
			v.Severities = append(v.Severities, percent(*g))
		}
	}
	fleet := make([][3]int, buckets)
	for _, c := range counts {
		v.Data.Drift[c.Host] = append(v.Data.Drift[c.Host], [4]int32{int32(c.Bucket), int32(c.Corrected), int32(c.Detected), int32(c.Failed)})
		if c.Bucket >= 0 && c.Bucket < buckets {
			fleet[c.Bucket][0] += c.Corrected
			fleet[c.Bucket][1] += c.Detected
			fleet[c.Bucket][2] += c.Failed
		}
		v.DriftEvents += c.Corrected + c.Detected + c.Failed
	}
	v.Fleet = fleetChart(fleet, since, width)
	return v
}

func percent(g group) group {
	if n := g.Compliant + g.NonCompliant; n > 0 {
		g.Percent = float64(int(1000*float64(g.Compliant)/float64(n))) / 10
	}
	return g
}

func stepView(s journal.StepResult) step {
	out := step{Index: s.Index, Name: s.Name, Action: s.Action, Status: string(s.Status), Skip: s.SkipReason,
		Differ: head(s.Differ, maxDiffer), Error: head(s.Error, maxDiffer), Exit: s.ExitCode}
	if s.Status.Failed() || s.Status == journal.StatusCancelled {
		out.Stderr = tail(s.Stderr, maxStderr, s.StderrTruncated)
	}
	return out
}

const cutNote = "\n… (cut here: driftless show RUN --host HOST has all of it)"

// head is the first max bytes of s, on a character boundary.
func head(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + cutNote
}

// tail is the last max bytes of s, on a character boundary.
func tail(s string, max int, truncated bool) string {
	if len(s) <= max {
		if truncated {
			return "… " + s
		}
		return s
	}
	cut := len(s) - max
	for cut < len(s) && !utf8.RuneStart(s[cut]) {
		cut++
	}
	return "… " + s[cut:]
}

func widthText(w time.Duration) string {
	switch {
	case w%(24*time.Hour) == 0 && w/(24*time.Hour) == 1:
		return "1 day"
	case w%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", w/(24*time.Hour))
	case w%time.Hour == 0:
		return fmt.Sprintf("%dh", w/time.Hour)
	}
	return w.Round(time.Second).String()
}

// chart is the fleet's drift timeline, drawn as an inline SVG.
type chart struct {
	Width, Height int
	Bars          []bar
	Max           int
	From, To      string // labels of the first and last period
}

type bar struct {
	X, Y, W, H int
	Class      string
	Title      string
}

const (
	chartHeight = 90
	chartWidth  = 960 // at most
)

func fleetChart(fleet [][3]int, since time.Time, width time.Duration) chart {
	barWidth := min(32, max(6, chartWidth/max(1, len(fleet))))
	c := chart{Width: len(fleet) * barWidth, Height: chartHeight}
	for _, b := range fleet {
		c.Max = max(c.Max, b[0]+b[1]+b[2])
	}
	if c.Max == 0 {
		return c
	}
	label := func(i int) string { return since.Add(time.Duration(i) * width).UTC().Format("2006-01-02 15:04Z") }
	c.From, c.To = label(0), label(len(fleet)-1)
	for i, b := range fleet {
		y := chartHeight
		for k, class := range []string{"corrected", "detected", "failed"} {
			if b[k] == 0 {
				continue
			}
			h := max(1, b[k]*chartHeight/c.Max)
			y -= h
			c.Bars = append(c.Bars, bar{X: i * barWidth, Y: y, W: barWidth - 3, H: h, Class: class,
				Title: fmt.Sprintf("%s: %d %s", label(i), b[k], class)})
		}
	}
	return c
}
