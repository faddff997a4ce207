package sshtest

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SpanScript is a shell step that appends to ~/spans on the host when it
// starts and when it ends (nanoseconds of the host's clock, GNU date),
// with what between, the label of the run: the hosts themselves then
// tell how many runs were going on at once (MostAtOnce), and which ran
// when (Spans).
func SpanScript(label, sleep string) string {
	return fmt.Sprintf("echo start %[1]s $(date +%%s%%N) >> ~/spans; sleep %[2]s; echo end %[1]s $(date +%%s%%N) >> ~/spans", label, sleep)
}

// spanLine is one line of ~/spans: a run's start or end.
type spanLine struct {
	start bool
	label string
	at    int64
}

// readSpans reads the lines SpanScript wrote in home/spans, in order; a
// home without the file has none.
func readSpans(home string) ([]spanLine, error) {
	b, err := os.ReadFile(filepath.Join(home, "spans"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var lines []spanLine
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "start" && f[0] != "end" {
			return nil, fmt.Errorf("%s/spans: %q is not a span line", home, line)
		}
		at, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s/spans: %q: %w", home, line, err)
		}
		lines = append(lines, spanLine{start: f[0] == "start", label: f[1], at: at})
	}
	return lines, nil
}

// MostAtOnce reads the ~/spans that SpanScript wrote in the homes given,
// and returns the most runs that were going on at once, and how many
// started in all.
func MostAtOnce(homes ...string) (most, started int, err error) {
	s, err := ReadSpans(homes...)
	return s.Most, s.Started, err
}

// CountAtOnce is MostAtOnce for a test that counts again later: it fails
// t when the spans cannot be read, logs what they tell under label, and
// removes them (ClearSpans), so that the next count sees only the runs
// that come after.
func CountAtOnce(t testing.TB, label string, homes ...string) (most, started int) {
	t.Helper()
	most, started, err := MostAtOnce(homes...)
	if err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	t.Logf("%s: %d runs started, at most %d at once", label, started, most)
	ClearSpans(homes...)
	return most, started
}

// ClearSpans removes the ~/spans that SpanScript wrote in the homes
// given: the hosts then tell only of the runs that start after.
func ClearSpans(homes ...string) {
	for _, home := range homes {
		os.Remove(filepath.Join(home, "spans"))
	}
}

// Spans is what the ~/spans of some hosts tell.
type Spans struct {
	// Most is the most runs that were going on at once; Started how many
	// started in all.
	Most, Started int
	// First is when the first run started, Last when the last one ended
	// (the hosts' clock; zero when there was none).
	First, Last time.Time
}

// ReadSpans reads the ~/spans that SpanScript wrote in the homes given.
func ReadSpans(homes ...string) (Spans, error) {
	type event struct {
		at    int64
		delta int
	}
	var events []event
	var s Spans
	for _, home := range homes {
		lines, err := readSpans(home)
		if err != nil {
			return Spans{}, err
		}
		for _, l := range lines {
			e := event{l.at, -1}
			if l.start {
				e.delta = 1
				s.Started++
			}
			events = append(events, e)
		}
	}
	// An end and a start at the same time did not overlap.
	slices.SortFunc(events, func(a, b event) int {
		if a.at != b.at {
			return cmp.Compare(a.at, b.at)
		}
		return a.delta - b.delta
	})
	n := 0
	for _, e := range events {
		n += e.delta
		s.Most = max(s.Most, n)
	}
	if len(events) > 0 {
		s.First, s.Last = time.Unix(0, events[0].at), time.Unix(0, events[len(events)-1].at)
	}
	return s, nil
}

// Span is one run that SpanScript recorded on a host.
type Span struct {
	Label string
	// Start and End are nanoseconds of the host's clock; End is 0 when
	// the run never wrote its end (it was killed).
	Start, End int64
}

// RunSpans reads the runs SpanScript recorded in home/spans, in the order
// they started. An end is paired with the start of its label, so each
// run needs a label of its own: "NODE-$$" (the host shell's pid) does.
func RunSpans(home string) ([]Span, error) {
	lines, err := readSpans(home)
	if err != nil {
		return nil, err
	}
	var spans []Span
	open := map[string]int{} // label: its span waiting for an end
	for _, l := range lines {
		i, ok := open[l.label]
		switch {
		case l.start && ok:
			return nil, fmt.Errorf("%s/spans: two runs labelled %s started", home, l.label)
		case l.start:
			open[l.label] = len(spans)
			spans = append(spans, Span{Label: l.label, Start: l.at})
		case !ok:
			return nil, fmt.Errorf("%s/spans: %s ended, never started", home, l.label)
		default:
			spans[i].End = l.at
			delete(open, l.label)
		}
	}
	slices.SortStableFunc(spans, func(a, b Span) int { return cmp.Compare(a.Start, b.Start) })
	return spans, nil
}

// Overlap returns two spans of one host's (RunSpans) that were going on at
// once, if any. A span without an end counts as ending when the next one
// started: a run of an association first ends, on the host, what a killed
// run of it left running there (docs/safety.md), and a run that was not
// ended wrote its end.
func Overlap(spans []Span) (a, b Span, found bool) {
	for i := 1; i < len(spans); i++ {
		if prev := spans[i-1]; prev.End > spans[i].Start {
			return prev, spans[i], true
		}
	}
	return Span{}, Span{}, false
}
