// Package diag holds validation diagnostics: every problem found in the
// user's files, each with the file, line and column where it is, so that
// one run of `driftless validate` reports them all.
package diag

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Pos is a 1-based line and column in a file. The zero Pos means "the file
// as a whole".
type Pos struct {
	Line, Col int
}

// Error is one problem in one file.
type Error struct {
	File string
	Pos  Pos
	Key  string // the dotted key the problem is about, e.g. hosts.web-1.port
	Msg  string
	Hint string // optional, printed on the next line
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Pos.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Pos.Line, max(e.Pos.Col, 1))
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString("\n\thint: ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// ErrInvalid is wrapped by every List error so that callers can tell bad
// input (exit 1) from other failures.
var ErrInvalid = errors.New("invalid configuration")

// List collects diagnostics. The zero value is ready to use.
type List struct {
	errs     []*Error
	warnings []*Error
}

// Add records an error.
func (l *List) Add(e *Error) { l.errs = append(l.errs, e) }

// Addf records an error built from a format.
func (l *List) Addf(file string, pos Pos, key, format string, args ...any) *Error {
	e := &Error{File: file, Pos: pos, Key: key, Msg: fmt.Sprintf(format, args...)}
	l.errs = append(l.errs, e)
	return e
}

// Warnf records a warning: printed, but not a reason to stop.
func (l *List) Warnf(file string, pos Pos, key, format string, args ...any) *Error {
	e := &Error{File: file, Pos: pos, Key: key, Msg: fmt.Sprintf(format, args...)}
	l.warnings = append(l.warnings, e)
	return e
}

// Merge appends the errors and warnings of o.
func (l *List) Merge(o *List) {
	if o == nil {
		return
	}
	l.errs = append(l.errs, o.errs...)
	l.warnings = append(l.warnings, o.warnings...)
}

// Len is the number of errors.
func (l *List) Len() int { return len(l.errs) }

// Errors returns the errors sorted by file and position.
func (l *List) Errors() []*Error { return sorted(l.errs) }

// Warnings returns the warnings sorted by file and position.
func (l *List) Warnings() []*Error { return sorted(l.warnings) }

func sorted(in []*Error) []*Error {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	// The same problem found twice (e.g. one selector used by two
	// associations) is reported once.
	return slices.CompactFunc(out, func(a, b *Error) bool { return a.Error() == b.Error() })
}

// Err returns nil when no error was recorded, else an error listing them
// all, one per line, that wraps ErrInvalid.
func (l *List) Err() error {
	if len(l.errs) == 0 {
		return nil
	}
	return &ListError{Errs: l.Errors()}
}

// ListError is the error returned by List.Err.
type ListError struct{ Errs []*Error }

func (e *ListError) Error() string {
	parts := make([]string, len(e.Errs))
	for i, x := range e.Errs {
		parts[i] = x.Error()
	}
	return strings.Join(parts, "\n")
}

func (e *ListError) Unwrap() error { return ErrInvalid }

// Suggest returns the candidate closest to s, or "" when none is close
// enough to be what the user meant.
func Suggest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := levenshtein(strings.ToLower(s), strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	limit := max(1, min(3, len(s)/3))
	if bestD <= limit {
		return best
	}
	return ""
}

// levenshtein is the edit distance of a and b, a swap of two neighbouring
// letters counting as one edit (the commonest typo).
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
