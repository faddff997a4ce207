package powershell

import (
	"strings"

	"github.com/driftless-dev/driftless/runner/internal/lines"
)

// writer is what the builders write a script through. It keeps the
// indentation: every line is indented by the depth of the braces open
// before it, so that a generated script reads like a hand-written one,
// one commented block per step. The lines of a quoted string that spans
// several (a value holding a newline) and the line after a backtick
// continuation are data, written as they are.
type writer = lines.Writer[indent, *indent]

// indent is the writer's state between lines.
type indent struct {
	depth          int
	single, double bool // inside '…' or "…" at the end of the last line
	escaped        bool // the last line ended with a backtick outside quotes
}

// Line writes one line, indented.
func (w *indent) Line(out *strings.Builder, line string) {
	if w.single || w.double || w.escaped {
		out.WriteString(line)
		w.braces(line)
		return
	}
	trimmed := strings.TrimLeft(line, " \t")
	level := w.depth
	if strings.HasPrefix(trimmed, "}") {
		level--
	}
	lines.Put(out, max(level, 0), trimmed)
	w.depth = max(w.depth+w.braces(trimmed), 0)
}

// braces follows the quotes of line and returns how many more braces it
// opens than it closes, outside quotes and comments.
func (w *indent) braces(line string) (delta int) {
	w.escaped = false
	word := false // inside a word: a # there is not a comment
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case w.single:
			if c == '\'' {
				w.single = false
			}
			continue
		case w.double:
			switch c {
			case '`':
				i++
			case '"':
				w.double = false
			}
			continue
		}
		switch c {
		case '`':
			if i+1 >= len(line) || line[i+1] == '\n' || line[i+1] == '\r' {
				w.escaped = true
				return delta
			}
			i++
		case '\'':
			w.single = true
		case '"':
			w.double = true
		case '#':
			if !word {
				return delta // a comment, to the end of the line
			}
		case '{':
			delta++
		case '}':
			delta--
		}
		word = c != ' ' && c != '\t' && c != ';' && c != '(' && c != '{' && c != '}' && c != '|'
	}
	return delta
}
