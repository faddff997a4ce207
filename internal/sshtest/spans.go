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
	"time"
)

// SpanScript is a shell step that appends to ~/spans on the host when it
// starts and when it ends (nanoseconds of the host's clock, GNU date),
// with what between, the label of the run: the hosts themselves then
// tell how many runs were going on at once (MostAtOnce).
func SpanScript(label, sleep string) string {
	return fmt.Sprintf("echo start %[1]s $(date +%%s%%N) >> ~/spans; sleep %[2]s; echo end %[1]s $(date +%%s%%N) >> ~/spans", label, sleep)
}

// MostAtOnce reads the ~/spans that SpanScript wrote in the homes given,
// and returns the most runs that were going on at once, and how many
// started in all.
func MostAtOnce(homes ...string) (most, started int, err error) {
	s, err := ReadSpans(homes...)
	return s.Most, s.Started, err
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
		b, err := os.ReadFile(filepath.Join(home, "spans"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Spans{}, err
		}
		for line := range strings.Lines(string(b)) {
			f := strings.Fields(line)
			if len(f) != 3 || f[0] != "start" && f[0] != "end" {
				return Spans{}, fmt.Errorf("%s/spans: %q is not a span line", home, line)
			}
			at, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				return Spans{}, fmt.Errorf("%s/spans: %q: %w", home, line, err)
			}
			e := event{at, -1}
			if f[0] == "start" {
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
