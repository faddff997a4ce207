package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/journal"
)

const defaultDriftSince = "24h"

// driftEventJSON is one event in `drift --json`.
type driftEventJSON struct {
	At          *string        `json:"at"`
	RunID       int64          `json:"run_id"`
	Association string         `json:"association"`
	Mode        journal.Mode   `json:"mode"`
	Host        string         `json:"host"`
	StepIndex   int            `json:"step_index"`
	Step        string         `json:"step"`
	Action      string         `json:"action"`
	Status      journal.Status `json:"status"`
	Outcome     string         `json:"outcome"`
	Differ      string         `json:"differ"`
	Error       string         `json:"error,omitempty"`
}

func runDrift(c *cli.Context, u *ui) (err error) {
	since, err := parseSince(c.String("since"), time.Now())
	if err != nil {
		return usageError("--since: %v", err)
	}
	f := journal.DriftFilter{Since: since, Association: c.String("association"), Host: c.String("host")}

	events, j, err := readJournal(c, u, "drift", func(j *journal.Journal) ([]journal.DriftEvent, error) { return j.Drift(c.Context, f) })
	if err != nil {
		return err
	}
	defer closeJournal(j, &err)

	if u.json {
		return printJSONList(u, events, func(e journal.DriftEvent) driftEventJSON {
			return driftEventJSON{
				At: rfc3339(e.At), RunID: e.RunID, Association: e.Association, Mode: e.Mode, Host: e.Host,
				StepIndex: e.StepIndex, Step: e.Step, Action: e.Action, Status: e.Status, Outcome: e.Outcome,
				Differ: e.Differ, Error: e.Error,
			}
		})
	}
	if j == nil {
		return nil
	}
	window := "in the journal"
	if !since.IsZero() {
		window = "since " + textTime(since)
	}
	if len(events) == 0 {
		msg := "no drift " + window
		if filter := describeFilter(f.Association, f.Host, ""); filter != "" {
			msg += " for " + filter
		}
		if !since.IsZero() {
			msg += "; --since all looks further back"
		}
		u.notef("%s", msg)
		return nil
	}
	header := []string{"TIME", "RUN", "ASSOCIATION", "HOST", "STEP", "OUTCOME", "WHAT DIFFERED"}
	gistWidth := 0
	if u.tty {
		gistWidth = 72
	}
	// On a narrow terminal, a shorter time.
	table := func(layout string) func() ([]string, [][]string) {
		return func() ([]string, [][]string) {
			rows := make([][]string, 0, len(events))
			for _, e := range events {
				rows = append(rows, []string{e.At.UTC().Format(layout), strconv.FormatInt(e.RunID, 10), e.Association, e.Host, e.Step,
					driftOutcomeText(u, e.Outcome), differGist(e, gistWidth)})
			}
			return header, rows
		}
	}
	u.tableFirstFit(table(textTimeLayout), table(shortTimeLayout))
	u.notef("%d drift %s %s", len(events), plural(len(events), "event"), window)
	return nil
}

// driftOutcomeText is an outcome in the colour of the step status it
// stands for, on a colour terminal.
func driftOutcomeText(u *ui, outcome string) string {
	color := map[string]string{journal.OutcomeCorrected: "6", journal.OutcomeDetected: "3", journal.OutcomeFailed: "1"}[outcome]
	if !u.color || color == "" {
		return outcome
	}
	return u.r.NewStyle().Foreground(lipgloss.Color(color)).Render(outcome)
}

// parseSince reads --since: "all" or "0" (everything: the zero time), a
// duration back from now (Go syntax, plus d for days: 7d, 1d12h), an RFC
// 3339 time, or a date (midnight UTC).
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "all", "0":
		return time.Time{}, nil
	case "":
		return time.Time{}, fmt.Errorf("expected a duration (24h, 7d), an RFC 3339 time or all, got nothing")
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t, err = time.Parse(time.DateOnly, s)
	}
	if err == nil {
		// The journal keeps times as Unix nanoseconds: years 1678 to 2262.
		switch {
		case t.After(time.Unix(0, math.MaxInt64)):
			return time.Time{}, fmt.Errorf("%s is too far in the future", s)
		case t.Before(time.Unix(0, math.MinInt64)):
			return time.Time{}, nil
		}
		return t.UTC(), nil
	}
	d, err := parseDays(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("expected a duration (30m, 24h, 7d), an RFC 3339 time (2026-11-25T21:00:00Z) or all, got %q", s)
	}
	if d < 0 {
		return time.Time{}, fmt.Errorf("a duration back from now may not be negative, got %q", s)
	}
	return now.Add(-d).UTC(), nil
}

// parseDays is time.ParseDuration that also takes a leading number of
// days: 7d, 1d12h, 1.5d.
func parseDays(s string) (time.Duration, error) {
	i := strings.IndexByte(s, 'd')
	if i < 0 {
		return time.ParseDuration(s)
	}
	days, err := strconv.ParseFloat(s[:i], 64)
	if err != nil || days < 0 || days > 100*365 {
		return 0, fmt.Errorf("bad number of days %q", s[:i])
	}
	d := time.Duration(days * float64(24*time.Hour))
	if rest := s[i+1:]; rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil {
			return 0, err
		}
		d += r
	}
	return d, nil
}

// differGist sums up what differed in one line: each unified diff as its
// file and the number of lines added and removed, other lines as they are
// ("missing", "mode 0644 -> 0600"), joined with "; ". Without a record of
// what differed, it is the step's error. On a terminal (width > 0) it is
// cut to width characters, and the error to its first line; off a
// terminal (width 0) it is whole (docs/safety.md#errors-are-whole).
func differGist(e journal.DriftEvent, width int) string {
	if strings.TrimSpace(e.Differ) == "" {
		switch {
		case e.Error == "":
			return "-"
		case width > 0:
			return "error: " + oneLine(safeText(e.Error), width-7)
		}
		return "error: " + wholeLine(e.Error)
	}
	gist := strings.Join(differParts(safeText(e.Differ)), "; ")
	if width > 0 {
		return cutRunes(gist, width)
	}
	return gist
}

// differParts reads what a step recorded as differing: unified diffs
// become "FILE: +A -R lines", other non-empty lines stay as they are.
func differParts(s string) []string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	var parts []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "--- ") && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "+++ ") {
			file := diffName(lines[i+1][4:])
			if file == "" || file == "/dev/null" {
				file = diffName(l[4:])
			}
			added, removed, n := diffHunks(lines[i+2:])
			parts = append(parts, fmt.Sprintf("%s: +%d -%d %s", file, added, removed, plural(added+removed, "line")))
			i += 1 + n
			continue
		}
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return parts
}

// diffHunks counts the lines that the hunks at the start of lines add and
// remove, and how many lines the hunks take. It follows the line counts of
// each "@@ -a,b +c,d @@" header, so that a removed line that starts with
// "--" is not taken for the next file.
func diffHunks(lines []string) (added, removed, n int) {
	for n < len(lines) {
		oldLeft, newLeft, ok := hunkHeader(lines[n])
		if !ok {
			return added, removed, n
		}
		n++
		for n < len(lines) && (oldLeft > 0 || newLeft > 0 || strings.HasPrefix(lines[n], `\`)) {
			switch l := lines[n]; {
			case strings.HasPrefix(l, "+"):
				added++
				newLeft--
			case strings.HasPrefix(l, "-"):
				removed++
				oldLeft--
			case strings.HasPrefix(l, `\`): // "\ No newline at end of file"
			default:
				oldLeft--
				newLeft--
			}
			n++
		}
	}
	return added, removed, n
}

// hunkHeader reads "@@ -a,b +c,d @@": the number of old and new lines of
// the hunk (b and d, 1 when left out).
func hunkHeader(l string) (oldLines, newLines int, ok bool) {
	rest, found := strings.CutPrefix(l, "@@ -")
	if !found {
		return 0, 0, false
	}
	oldRange, rest, found := strings.Cut(rest, " +")
	if !found {
		return 0, 0, false
	}
	newRange, _, found := strings.Cut(rest, " @@")
	if !found {
		return 0, 0, false
	}
	count := func(r string) (int, bool) {
		_, c, has := strings.Cut(r, ",")
		if !has {
			return 1, true
		}
		n, err := strconv.Atoi(c)
		return n, err == nil && n >= 0
	}
	o, ok1 := count(oldRange)
	n, ok2 := count(newRange)
	return o, n, ok1 && ok2
}

// diffName is the file name of a ---/+++ line, without a/ or b/, a time
// stamp after a tab, or a note in parentheses ("app.toml (on host)").
func diffName(s string) string {
	s, _, _ = strings.Cut(s, "\t")
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, " ("); i > 0 && strings.HasSuffix(s, ")") {
		s = s[:i]
	}
	for _, p := range []string{"a/", "b/"} {
		if rest, ok := strings.CutPrefix(s, p); ok && rest != "" {
			return rest
		}
	}
	return s
}
