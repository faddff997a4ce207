package posix

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/driftless-dev/driftless/runner/plan"
)

// writer is what the builders write a script through. It keeps the
// indentation: every line is indented by the depth of the shell blocks
// open before it (then … fi, do … done, case … esac, { … }, ( … )), so
// that a generated script reads like a hand-written one, one commented
// block per step. The lines of a quoted string that spans several (a
// step's own command, a separator such as '\n') and the line after a
// backslash-newline are data, written as they are.
//
// Indentation is only leading white space before a command: it changes
// nothing the shell does.
type writer struct {
	strings.Builder
	lex   lexer
	depth int
	raw   bool // the next line starts inside a quote or after a backslash-newline
	line  []byte
}

// Write implements io.Writer, so that fmt.Fprintf writes through the
// writer too.
func (w *writer) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.line = append(w.line, p...)
			break
		}
		w.line = append(w.line, p[:i+1]...)
		w.flush(string(w.line))
		w.line = w.line[:0]
		p = p[i+1:]
	}
	return n, nil
}

// WriteString writes s, line by line.
func (w *writer) WriteString(s string) (int, error) {
	n := len(s)
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			w.line = append(w.line, s...)
			break
		}
		if len(w.line) == 0 {
			w.flush(s[:i+1]) // a whole line: no copy
		} else {
			w.line = append(w.line, s[:i+1]...)
			w.flush(string(w.line))
			w.line = w.line[:0]
		}
		s = s[i+1:]
	}
	return n, nil
}

// verbatim writes text, hand-written and indented already (the preludes),
// as it is: complete lines whose blocks and quotes all close (a test
// checks each prelude), so that neither the depth nor the quotes change.
func (w *writer) verbatim(text string) {
	w.Builder.WriteString(text)
}

// comment writes a comment line naming step s, with what it acts on.
func (w *writer) comment(s *plan.Step) {
	var b strings.Builder
	b.WriteString("# step ")
	b.WriteString(strconv.Itoa(s.Idx + 1))
	b.WriteString(": ")
	b.WriteString(s.Name)
	b.WriteString(" (")
	b.WriteString(string(s.Action))
	if s.Path != "" {
		b.WriteString(" " + s.Path)
	}
	b.WriteString(")")
	w.WriteString(strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, b.String()) + "\n")
}

// String returns the script, with an unterminated last line.
func (w *writer) String() string {
	if len(w.line) > 0 {
		w.flush(string(w.line))
		w.line = w.line[:0]
	}
	return w.Builder.String()
}

// flush writes one line, indented.
func (w *writer) flush(line string) {
	if w.raw {
		w.Builder.WriteString(line)
		w.lex.scan(line)
		w.raw = w.lex.open()
		return
	}
	trimmed := strings.TrimLeft(line, " \t")
	closers, delta := w.lex.blocks(trimmed)
	level := max(w.depth-closers, 0)
	if trimmed != "\n" && trimmed != "" {
		for range level {
			w.Builder.WriteByte('\t')
		}
	}
	w.Builder.WriteString(trimmed)
	w.depth = max(w.depth+delta, 0)
	w.raw = w.lex.open()
}

// lexer reads enough of sh to find the blocks a line opens and closes:
// words in command position, operators, quotes, $( ) and ${ }, comments.
// Its state carries over lines (a quote left open).
type lexer struct {
	single, double bool // inside '…' or "…"
	escaped        bool // the last line ended with a backslash outside quotes
	caseIn         bool // after case: its word, then in
	pattern        bool // after in or ;;: a case's pattern (or esac) comes
}

// open reports whether the next line starts inside a quote or continues
// a word.
func (l *lexer) open() bool { return l.single || l.double || l.escaped }

// scan only follows the quotes of text.
func (l *lexer) scan(text string) {
	l.escaped = false
	t := tokens{l: l, text: text}
	for {
		if _, _, ok := t.next(); !ok && t.i >= len(text) {
			return
		}
	}
}

// blocks returns how many blocks line closes before its first command
// (an else or elif counts one: it stands at the depth of its if) and by
// how much it changes the depth.
func (l *lexer) blocks(line string) (closers, delta int) {
	cmd, leading := true, true
	fn := 0
	l.escaped = false
	t := tokens{l: l, text: line}
	for {
		tok, word, ok := t.next()
		if !ok {
			if t.i >= len(line) {
				return closers, delta
			}
			continue
		}
		switch {
		case !word:
			switch tok {
			case ";;":
				l.pattern, cmd = true, false
			case ";", "&&", "||", "|", "&", "!":
				cmd = true
			case "(":
				if cmd {
					delta++
				} else {
					fn++ // name(): a function's definition follows
				}
			case ")":
				if l.pattern {
					l.pattern, cmd = false, true
					continue
				}
				if fn > 0 {
					fn--
					cmd = true
					continue
				}
				delta--
				if leading {
					closers++
				}
				cmd = false
			default: // a redirection: its target follows
				cmd = false
			}
			if tok != ")" {
				leading = false
			}
		case l.pattern:
			if tok == "esac" {
				delta--
				l.pattern = false
			}
		case l.caseIn:
			if tok == "in" {
				l.caseIn, l.pattern = false, true
			}
		case cmd:
			switch tok {
			case "then", "do", "{":
				delta++
			case "}", "fi", "done", "esac":
				delta--
				if leading {
					closers++
				}
				cmd = false
				continue
			case "else", "elif":
				if leading {
					closers++
				}
				if tok == "elif" {
					delta-- // its then continues the if's block
				}
			case "if", "while", "until", "!":
			case "case":
				delta++
				l.caseIn, cmd = true, false
			default:
				cmd = false
			}
			leading = false
		default:
			leading = false
		}
	}
}

// tokens reads the words and operators of one line, outside quotes and
// comments. A word holds its quotes and its $( ), $(( )) and ${ } whole.
type tokens struct {
	l    *lexer
	text string
	i    int
	nest int // inside $( or ${
}

// next returns the next token, whether it is a word, and false at the end
// of the line (or of a comment).
func (t *tokens) next() (tok string, word, ok bool) {
	start := -1
	text, l := t.text, t.l
	for ; t.i < len(text); t.i++ {
		i, c := t.i, text[t.i]
		if l.single {
			if start < 0 {
				start = i
			}
			j := strings.IndexByte(text[i:], '\'')
			if j < 0 {
				t.i = len(text)
				break
			}
			t.i += j
			l.single = false
			continue
		}
		if l.double {
			if start < 0 {
				start = i
			}
			switch c {
			case '\\':
				t.i++
			case '"':
				l.double = false
			}
			continue
		}
		switch c {
		case '\\':
			if i+1 == len(text) || text[i+1] == '\n' {
				l.escaped = true
				t.i = len(text)
				return t.word(start)
			}
			if start < 0 {
				start = i
			}
			t.i++
			continue
		case '\'':
			l.single = true
		case '"':
			l.double = true
		case '$':
			if i+1 < len(text) && (text[i+1] == '(' || text[i+1] == '{') {
				if start < 0 {
					start = i
				}
				t.nest++
				t.i++
				continue
			}
		case '(', '{':
			if t.nest > 0 {
				t.nest++
			}
		case ')', '}':
			if t.nest > 0 {
				t.nest--
				continue
			}
		}
		if t.nest > 0 {
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			if start >= 0 {
				return t.word(start)
			}
		case '#':
			if start < 0 {
				t.i = len(text) // a comment, to the end of the line
				return "", false, false
			}
		case ';', '&', '|', '<', '>', '(', ')':
			if start >= 0 {
				return t.word(start)
			}
			j := i + 1
			if j < len(text) && c != '(' && c != ')' && (text[j] == c || (c == '>' || c == '<') && text[j] == '&') {
				j++
			}
			t.i = j
			return text[i:j], false, true
		default:
			if start < 0 {
				start = i
			}
		}
	}
	return t.word(start)
}

// word returns the word from start to where the reading stopped.
func (t *tokens) word(start int) (string, bool, bool) {
	if start < 0 {
		return "", false, false
	}
	return t.text[start:t.i], true, true
}
