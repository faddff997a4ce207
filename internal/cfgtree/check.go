package cfgtree

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/driftless-dev/driftless/internal/diag"
)

// Checker validates nodes of one file and records what is wrong in L.
type Checker struct {
	File string
	L    *diag.List
}

// Errf records an error about n.
func (c Checker) Errf(n *Node, format string, args ...any) *diag.Error {
	return c.L.Addf(c.File, n.Pos, n.Path, format, args...)
}

// Warnf records a warning about n.
func (c Checker) Warnf(n *Node, format string, args ...any) *diag.Error {
	return c.L.Warnf(c.File, n.Pos, n.Path, format, args...)
}

// Keys reports every entry of map n whose key is not in allowed, with a
// suggestion when one is close.
func (c Checker) Keys(n *Node, allowed ...string) {
	for _, e := range n.Entries {
		if slices.Contains(allowed, e.Key) {
			continue
		}
		err := c.Errf(e, "unknown key %q", e.Key)
		if s := diag.Suggest(e.Key, allowed); s != "" {
			err.Msg += fmt.Sprintf(" (did you mean %q?)", s)
		} else {
			err.Hint = "expected one of: " + strings.Join(allowed, ", ")
		}
	}
}

// IgnoredKeys warns about every entry of map n whose key is not in
// allowed, as "unknown NOUN %q is ignored, WHY", with a suggestion when
// one is close: for formats whose readers skip what they do not know.
func (c Checker) IgnoredKeys(n *Node, noun, why string, allowed ...string) {
	for _, e := range n.Entries {
		if slices.Contains(allowed, e.Key) {
			continue
		}
		w := c.Warnf(e, "unknown %s %q is ignored, %s", noun, e.Key, why)
		if s := diag.Suggest(e.Key, allowed); s != "" {
			w.Msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
	}
}

// Map reports n unless it is a table.
func (c Checker) Map(n *Node) bool {
	if n.Kind != Map {
		c.Errf(n, "expected a table, got %s", n.Describe())
		return false
	}
	return true
}

// Str returns the string value of n.
func (c Checker) Str(n *Node) (string, bool) {
	if n.Kind != String {
		c.Errf(n, "expected a string, got %s", n.Describe())
		return "", false
	}
	return n.Str, true
}

// NonEmpty returns the string value of n, which must not be empty.
func (c Checker) NonEmpty(n *Node) (string, bool) {
	s, ok := c.Str(n)
	if ok && strings.TrimSpace(s) == "" {
		c.Errf(n, "must not be empty")
		return "", false
	}
	return s, ok
}

// ScalarString returns a string, or the text of a number or boolean (a user
// who writes app_port = 8080 in a map of strings means "8080").
func (c Checker) ScalarString(n *Node) (string, bool) {
	if n.Kind == Time || n.Kind == Map || n.Kind == List || n.Kind == Null {
		c.Errf(n, "expected a string, got %s", n.Describe())
		return "", false
	}
	return n.Scalar()
}

// StrList returns a list of strings.
func (c Checker) StrList(n *Node) ([]string, bool) {
	if n.Kind != List {
		c.Errf(n, "expected a list of strings, got %s", n.Describe())
		return nil, false
	}
	out := make([]string, 0, len(n.Items))
	ok := true
	for _, it := range n.Items {
		s, good := c.Str(it)
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

// StrOrList accepts a string (one item) or a list of strings.
func (c Checker) StrOrList(n *Node) ([]string, bool) {
	if n.Kind == String {
		return []string{n.Str}, true
	}
	if n.Kind != List {
		c.Errf(n, "expected a string or a list of strings, got %s", n.Describe())
		return nil, false
	}
	return c.StrList(n)
}

// StrMap returns a table of scalars as strings, keys in file order.
func (c Checker) StrMap(n *Node) (map[string]string, []string, bool) {
	if !c.Map(n) {
		return nil, nil, false
	}
	m := make(map[string]string, len(n.Entries))
	keys := make([]string, 0, len(n.Entries))
	ok := true
	for _, e := range n.Entries {
		s, good := c.ScalarString(e)
		ok = ok && good
		m[e.Key] = s
		keys = append(keys, e.Key)
	}
	return m, keys, ok
}

// Int returns an integer; a string holding an integer is accepted too.
func (c Checker) Int(n *Node) (int64, bool) {
	switch n.Kind {
	case Int:
		return n.Int, true
	case Float:
		if n.Float == math.Trunc(n.Float) && math.Abs(n.Float) < 1<<53 {
			return int64(n.Float), true
		}
	case String:
		var v int64
		if _, err := fmt.Sscanf(n.Str, "%d", &v); err == nil && fmt.Sprint(v) == strings.TrimSpace(n.Str) {
			return v, true
		}
	default: // the other values need nothing here
	}
	c.Errf(n, "expected an integer, got %s", n.Describe())
	return 0, false
}

// IntRange returns an integer in [lo, hi].
func (c Checker) IntRange(n *Node, lo, hi int64) (int64, bool) {
	v, ok := c.Int(n)
	if ok && (v < lo || v > hi) {
		c.Errf(n, "expected an integer from %d to %d, got %d", lo, hi, v)
		return 0, false
	}
	return v, ok
}

// Bool returns a boolean; the strings "true" and "false" are accepted too
// (SSM documents often quote them).
func (c Checker) Bool(n *Node) (bool, bool) {
	switch n.Kind {
	case Bool:
		return n.Bool, true
	case String:
		switch strings.ToLower(n.Str) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	default: // the other values need nothing here
	}
	c.Errf(n, "expected true or false, got %s", n.Describe())
	return false, false
}

// Duration returns a positive Go duration written as a string ("10s",
// "1m30s").
func (c Checker) Duration(n *Node) (time.Duration, bool) {
	s, ok := c.Str(n)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d <= 0 {
		c.Errf(n, "expected a positive duration such as \"30s\", \"10m\" or \"1h\", got %q", s)
		return 0, false
	}
	return d, true
}

// OneOf returns a string that must be one of values.
func (c Checker) OneOf(n *Node, values ...string) (string, bool) {
	s, ok := c.Str(n)
	if !ok {
		return "", false
	}
	if !slices.Contains(values, s) {
		e := c.Errf(n, "expected one of %s, got %q", quoteList(values), s)
		if sug := diag.Suggest(s, values); sug != "" {
			e.Msg += fmt.Sprintf(" (did you mean %q?)", sug)
		}
		return "", false
	}
	return s, true
}

// Regexp compiles a regular expression (RE2 syntax).
func (c Checker) Regexp(n *Node) (*regexp.Regexp, bool) {
	s, ok := c.Str(n)
	if !ok {
		return nil, false
	}
	re, err := regexp.Compile(s)
	if err != nil {
		c.Errf(n, "invalid regular expression: %v", err)
		return nil, false
	}
	return re, true
}

var envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// EnvName returns the name of an environment variable.
func (c Checker) EnvName(n *Node) (string, bool) {
	s, ok := c.Str(n)
	if ok && !envNameRe.MatchString(s) {
		c.Errf(n, "expected the name of an environment variable, got %q", s)
		return "", false
	}
	return s, ok
}

func quoteList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = fmt.Sprintf("%q", v)
	}
	if len(q) <= 1 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
