package cfgtree

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/driftless-dev/driftless/internal/diag"
)

// ParseTOML decodes src (named file in messages) into a tree. A syntax
// error is returned as a *diag.Error with its position.
func ParseTOML(file string, src []byte) (*Node, error) {
	if err := precheck(file, src); err != nil {
		return nil, err
	}
	if err := tomlDepth(file, src); err != nil {
		return nil, err
	}
	var m map[string]any
	if _, err := toml.NewDecoder(strings.NewReader(string(src))).Decode(&m); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			msg := pe.Message
			if msg == "" {
				msg = pe.Error()
			}
			return nil, &diag.Error{File: file, Pos: diag.Pos{Line: pe.Position.Line, Col: max(pe.Position.Col, 1)}, Msg: "TOML syntax: " + msg}
		}
		return nil, &diag.Error{File: file, Msg: "TOML syntax: " + err.Error()}
	}
	positions := locateTOML(string(src))
	root := &Node{Kind: Map, Pos: diag.Pos{Line: 1, Col: 1}}
	fillMap(root, m, "", positions)
	return root, nil
}

// join appends a segment to a NUL-separated position key.
func join(prefix, seg string) string {
	if prefix == "" {
		return seg
	}
	return prefix + "\x00" + seg
}

func fillMap(n *Node, m map[string]any, prefix string, positions map[string]diag.Pos) {
	n.Kind = Map
	n.Entries = make([]*Node, 0, len(m))
	for k, v := range m {
		s := join(prefix, k)
		c := &Node{Key: k, Path: childPath(n.Path, k), Pos: posOf(positions, s, n.Pos)}
		fillValue(c, v, s, positions)
		n.Entries = append(n.Entries, c)
	}
	slices.SortFunc(n.Entries, func(a, b *Node) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col), cmp.Compare(a.Key, b.Key))
	})
}

// fillList fills n with the items of an array (of tables, or of any
// values).
func fillList[T any](n *Node, v []T, prefix string, positions map[string]diag.Pos) {
	n.Kind = List
	for i, x := range v {
		s := join(prefix, "["+strconv.Itoa(i)+"]")
		c := &Node{Path: itemPath(n.Path, i), Pos: posOf(positions, s, n.Pos)}
		fillValue(c, x, s, positions)
		n.Items = append(n.Items, c)
	}
}

func fillValue(n *Node, v any, prefix string, positions map[string]diag.Pos) {
	switch v := v.(type) {
	case map[string]any:
		fillMap(n, v, prefix, positions)
	case []map[string]any:
		fillList(n, v, prefix, positions)
	case []any:
		fillList(n, v, prefix, positions)
	case string:
		n.Kind, n.Str = String, v
	case int64:
		n.Kind, n.Int = Int, v
	case float64:
		n.Kind, n.Float = Float, v
	case bool:
		n.Kind, n.Bool = Bool, v
	case time.Time:
		n.Kind, n.Time = Time, v
	default:
		// Local dates and times decode to time.Time as well; anything
		// else is shown as text.
		n.Kind, n.Str = String, fmt.Sprint(v)
	}
}

func posOf(positions map[string]diag.Pos, key string, fallback diag.Pos) diag.Pos {
	if p, ok := positions[key]; ok {
		return p
	}
	return fallback
}

// locateTOML finds where each key, table and array item of a TOML document
// is written. It assumes src is valid TOML (it runs after the decoder) and
// only needs to be robust, not strict, on anything else: it never loops
// forever and never panics. Keys of the result are path segments joined by
// NUL, with array indices as "[i]" segments.
func locateTOML(src string) map[string]diag.Pos {
	l := &locator{src: src, pos: make(map[string]diag.Pos, 2*strings.Count(src, "\n")+8), aot: make(map[string]int)}
	l.run()
	return l.pos
}

type locator struct {
	src       string
	i         int
	line      int
	lineStart int
	pos       map[string]diag.Pos
	aot       map[string]int // array-of-tables header path -> current index
	table     []string       // segments of the current table
}

func (l *locator) here() diag.Pos {
	end := min(l.i, len(l.src))
	return diag.Pos{Line: l.line + 1, Col: utf8.RuneCountInString(l.src[l.lineStart:end]) + 1}
}

func (l *locator) record(segs []string, p diag.Pos) {
	k := strings.Join(segs, "\x00")
	if _, ok := l.pos[k]; !ok {
		l.pos[k] = p
	}
}

func (l *locator) peek(off int) byte {
	if l.i+off < len(l.src) {
		return l.src[l.i+off]
	}
	return 0
}

func (l *locator) advance() {
	if l.i >= len(l.src) {
		return
	}
	if l.src[l.i] == '\n' {
		l.line++
		l.lineStart = l.i + 1
	}
	l.i++
}

func (l *locator) skipSpace() {
	for c := l.peek(0); c == ' ' || c == '\t'; c = l.peek(0) {
		l.advance()
	}
}

// skipBlank skips spaces, newlines and comments.
func (l *locator) skipBlank() {
	for l.i < len(l.src) {
		switch l.peek(0) {
		case ' ', '\t', '\r', '\n':
			l.advance()
		case '#':
			l.skipLine()
		default:
			return
		}
	}
}

func (l *locator) skipLine() {
	for l.i < len(l.src) && l.peek(0) != '\n' {
		l.advance()
	}
}

func (l *locator) run() {
	for l.i < len(l.src) {
		l.skipBlank()
		if l.i >= len(l.src) {
			return
		}
		start := l.i
		switch {
		case l.peek(0) == '[' && l.peek(1) == '[':
			p := l.here()
			l.advance()
			l.advance()
			raw := l.keyPath(nil, false)
			resolved := l.resolve(raw[:max(len(raw)-1, 0)])
			if len(raw) > 0 {
				resolved = append(resolved, raw[len(raw)-1])
			}
			hk := strings.Join(resolved, "\x00")
			idx, seen := l.aot[hk]
			if seen {
				idx++
			}
			l.aot[hk] = idx
			l.record(resolved, p)
			l.table = append(resolved, "["+strconv.Itoa(idx)+"]")
			l.record(l.table, p)
			l.skipLine()
		case l.peek(0) == '[':
			p := l.here()
			l.advance()
			raw := l.keyPath(nil, false)
			l.table = l.resolve(raw)
			for k := 1; k <= len(l.table); k++ {
				l.record(l.table[:k], p)
			}
			l.skipLine()
		default:
			l.keyValue(l.table)
			l.skipLine()
		}
		if l.i == start {
			l.advance()
		}
	}
}

// resolve maps a header's raw segments to a path, inserting the current
// index after every prefix that is an array of tables.
func (l *locator) resolve(raw []string) []string {
	var out []string
	for _, s := range raw {
		out = append(out, s)
		if idx, ok := l.aot[strings.Join(out, "\x00")]; ok {
			out = append(out, "["+strconv.Itoa(idx)+"]")
		}
	}
	return out
}

// keyPath reads a dotted key, recording each segment under prefix when
// rec is set.
func (l *locator) keyPath(prefix []string, rec bool) []string {
	var segs []string
	for l.i < len(l.src) {
		l.skipSpace()
		p := l.here()
		var k string
		switch l.peek(0) {
		case '"':
			k = l.quoted('"')
		case '\'':
			k = l.quoted('\'')
		default:
			start := l.i
			for c := l.peek(0); isBare(c); c = l.peek(0) {
				l.advance()
			}
			k = l.src[start:l.i]
			if k == "" {
				return segs
			}
		}
		segs = append(segs, k)
		if rec {
			l.record(append(slices.Clip(prefix), segs...), p)
		}
		l.skipSpace()
		if l.peek(0) != '.' {
			return segs
		}
		l.advance()
	}
	return segs
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// quoted reads a one-line quoted key or string and returns its value.
func (l *locator) quoted(q byte) string {
	start := l.i
	l.advance()
	for l.i < len(l.src) && l.peek(0) != q && l.peek(0) != '\n' {
		if q == '"' && l.peek(0) == '\\' {
			l.advance()
		}
		l.advance()
	}
	l.advance()
	raw := l.src[start:min(l.i, len(l.src))]
	if q == '\'' {
		return strings.Trim(raw, "'")
	}
	if s, err := strconv.Unquote(raw); err == nil {
		return s
	}
	return strings.Trim(raw, `"`)
}

func (l *locator) keyValue(prefix []string) {
	segs := l.keyPath(prefix, true)
	l.skipSpace()
	if l.peek(0) != '=' || len(segs) == 0 {
		return
	}
	l.advance()
	l.skipSpace()
	l.value(append(slices.Clip(prefix), segs...))
}

func (l *locator) value(path []string) {
	switch {
	case strings.HasPrefix(l.src[l.i:], `"""`):
		l.multiline(`"""`, true)
	case strings.HasPrefix(l.src[l.i:], `'''`):
		l.multiline(`'''`, false)
	case l.peek(0) == '"':
		l.quoted('"')
	case l.peek(0) == '\'':
		l.quoted('\'')
	case l.peek(0) == '[':
		l.items(l.skipBlank, "]", func(idx int) {
			item := append(slices.Clip(path), "["+strconv.Itoa(idx)+"]")
			l.record(item, l.here())
			l.value(item)
		})
	case l.peek(0) == '{':
		// An inline table ends at its line's end.
		l.items(l.skipSpace, "}\n", func(int) { l.keyValue(path) })
	default:
		for l.i < len(l.src) && !strings.ContainsRune(",]}#\r\n", rune(l.peek(0))) {
			l.advance()
		}
	}
}

// items reads the items of an array or an inline table, from its opening
// bracket to after its closing one, or to where a byte of ends stands
// between items. skip passes what may stand around an item; item reads
// the idx-th.
func (l *locator) items(skip func(), ends string, item func(idx int)) {
	l.advance()
	for idx := 0; l.i < len(l.src); idx++ {
		skip()
		if l.i >= len(l.src) || strings.IndexByte(ends, l.peek(0)) >= 0 {
			break
		}
		before := l.i
		item(idx)
		skip()
		if l.peek(0) == ',' {
			l.advance()
		} else if l.i == before {
			break
		}
	}
	l.advance()
}

func (l *locator) multiline(delim string, escapes bool) {
	for range 3 {
		l.advance()
	}
	for l.i < len(l.src) {
		if escapes && l.peek(0) == '\\' {
			l.advance()
			l.advance()
			continue
		}
		if strings.HasPrefix(l.src[l.i:], delim) {
			// Up to two quotes may close the content right before
			// the delimiter: """a""""" is `a""`.
			n := 0
			for l.i+n < len(l.src) && l.src[l.i+n] == delim[0] {
				n++
			}
			for range min(n, 5) {
				l.advance()
			}
			return
		}
		l.advance()
	}
}
