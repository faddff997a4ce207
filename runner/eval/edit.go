package eval

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/driftless-dev/driftless/runner/plan"
)

// EditLine returns the content of a file after the line step: the last
// line matching regexp (or equal to line) replaced by line, or line
// appended; with state = "absent", matching lines removed.
func EditLine(cur []byte, s *plan.Step) ([]byte, error) {
	var re *regexp.Regexp
	if s.LineRe != "" {
		var err error
		if re, err = regexp.Compile(s.LineRe); err != nil {
			return nil, fmt.Errorf("regexp: %w", err)
		}
	}
	text := string(cur)
	// A file whose first line ends in CRLF (Windows) keeps CRLF: lines
	// are compared without their CR, and written back with it.
	nl := "\n"
	if i := strings.IndexByte(text, '\n'); i > 0 && text[i-1] == '\r' {
		nl = "\r\n"
	}
	trailingNL := text == "" || strings.HasSuffix(text, "\n")
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if text == "" {
		lines = nil
	}
	if nl == "\r\n" {
		for i := range lines {
			lines[i] = strings.TrimSuffix(lines[i], "\r")
		}
	}
	// A line is compared without a CR at its end, also in a file whose
	// first line ends in LF alone (mixed line ends): its CR is kept.
	matches := func(l string) bool {
		l = strings.TrimSuffix(l, "\r")
		if re != nil {
			return re.MatchString(l)
		}
		return l == s.Line
	}
	if s.Absent {
		out := lines[:0:0]
		for _, l := range lines {
			if !matches(l) && !(re != nil && s.Line != "" && strings.TrimSuffix(l, "\r") == s.Line) {
				out = append(out, l)
			}
		}
		return joinLines(out, trailingNL, nl), nil
	}
	for _, l := range lines {
		if strings.TrimSuffix(l, "\r") == s.Line {
			if re == nil {
				return cur, nil
			}
		}
	}
	last := -1
	for i, l := range lines {
		if matches(l) {
			last = i
		}
	}
	if last >= 0 {
		if strings.TrimSuffix(lines[last], "\r") == s.Line {
			return cur, nil
		}
		out := append([]string{}, lines...)
		out[last] = s.Line
		return joinLines(out, trailingNL, nl), nil
	}
	return joinLines(append(append([]string{}, lines...), s.Line), true, nl), nil
}

func joinLines(lines []string, trailingNL bool, nl string) []byte {
	if len(lines) == 0 {
		return nil
	}
	s := strings.Join(lines, nl)
	if trailingNL {
		s += nl
	}
	return []byte(s)
}
