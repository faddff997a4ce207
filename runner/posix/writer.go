package posix

import (
	"strings"

	"github.com/driftless-dev/driftless/runner/internal/lines"
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
type writer = lines.Writer[indent, *indent]

// indent is the writer's state between lines.
type indent struct {
	lex   lexer
	depth int
	raw   bool // the next line starts inside a quote or after a backslash-newline
}

// Line writes one line, indented.
func (in *indent) Line(out *strings.Builder, line string) {
	if in.raw {
		out.WriteString(line)
		in.lex.scan(line)
		in.raw = in.lex.open()
		return
	}
	trimmed := strings.TrimLeft(line, " \t")
	closers, delta := in.lex.blocks(trimmed)
	lines.Put(out, max(in.depth-closers, 0), trimmed)
	in.depth = max(in.depth+delta, 0)
	in.raw = in.lex.open()
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
	b := lineBlocks{l: l, cmd: true, leading: true}
	l.escaped = false
	t := tokens{l: l, text: line}
	for {
		tok, word, ok := t.next()
		switch {
		case !ok && t.i >= len(line):
			return b.closers, b.delta
		case !ok:
		case !word:
			b.operator(tok)
		default:
			b.word(tok)
		}
	}
}

// lineBlocks counts the blocks one line opens and closes.
type lineBlocks struct {
	l              *lexer
	closers, delta int
	cmd            bool // the next word is in command position
	leading        bool // nothing but closers so far on the line
	fn             int  // name( read: its ) starts a function's body
}

// close counts a block closed.
func (b *lineBlocks) close() {
	b.delta--
	if b.leading {
		b.closers++
	}
}

// operator reads an operator: a list's, a subshell's, a redirection.
func (b *lineBlocks) operator(tok string) {
	switch tok {
	case ";;":
		b.l.pattern, b.cmd = true, false
	case ";", "&&", "||", "|", "&":
		b.cmd = true
	case "(":
		if b.cmd {
			b.delta++
		} else {
			b.fn++ // name(): a function's definition follows
		}
	case ")":
		switch {
		case b.l.pattern:
			b.l.pattern, b.cmd = false, true
		case b.fn > 0:
			b.fn--
			b.cmd = true
		default:
			b.close()
			b.cmd = false
		}
		return
	default: // a redirection: its target follows
		b.cmd = false
	}
	b.leading = false
}

// word reads a word: a case's pattern, or a reserved word in command
// position.
func (b *lineBlocks) word(tok string) {
	switch {
	case b.l.pattern:
		if tok == "esac" {
			b.delta--
			b.l.pattern = false
		}
		return
	case b.l.caseIn:
		if tok == "in" {
			b.l.caseIn, b.l.pattern = false, true
		}
		return
	case !b.cmd:
		b.leading = false
		return
	}
	switch tok {
	case "then", "do", "{":
		b.delta++
	case "}", "fi", "done", "esac":
		b.close()
		b.cmd = false
		return
	case "else", "elif":
		if b.leading {
			b.closers++
		}
		if tok == "elif" {
			b.delta-- // its then continues the if's block
		}
	case "if", "while", "until", "!":
	case "case":
		b.delta++
		b.l.caseIn, b.cmd = true, false
	default:
		b.cmd = false
	}
	b.leading = false
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
	mark := func() {
		if start < 0 {
			start = t.i
		}
	}
	for ; t.i < len(t.text); t.i++ {
		if t.l.single || t.l.double {
			mark()
			t.quoted()
			continue
		}
		c := t.text[t.i]
		if t.nested(c, mark) {
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			if start >= 0 {
				return t.word(start)
			}
		case '#':
			if start < 0 {
				t.i = len(t.text) // a comment, to the end of the line
				return "", false, false
			}
		case ';', '&', '|', '<', '>', '(', ')':
			if start >= 0 {
				return t.word(start)
			}
			return t.operator(c)
		case '\\':
			if t.i+1 == len(t.text) || t.text[t.i+1] == '\n' {
				t.l.escaped = true
				t.i = len(t.text)
				return t.word(start)
			}
			mark()
			t.i++
		default:
			mark()
		}
	}
	return t.word(start)
}

// quoted reads on inside a quote, up to its end (the rest of the line for
// a single quote that does not end on it).
func (t *tokens) quoted() {
	if t.l.single {
		j := strings.IndexByte(t.text[t.i:], '\'')
		if j < 0 {
			t.i = len(t.text) - 1
			return
		}
		t.i += j
		t.l.single = false
		return
	}
	switch t.text[t.i] {
	case '\\':
		t.i++
	case '"':
		t.l.double = false
	}
}

// nested reads c when it opens a quote, a $( or ${, or is inside one (a
// word's part, marked): it reports whether c is taken.
func (t *tokens) nested(c byte, mark func()) bool {
	switch c {
	case '\'':
		t.l.single = true
	case '"':
		t.l.double = true
	case '$':
		if t.i+1 < len(t.text) && (t.text[t.i+1] == '(' || t.text[t.i+1] == '{') {
			mark()
			t.nest++
			t.i++
			return true
		}
	case '(', '{':
		if t.nest > 0 {
			t.nest++
		}
	case ')', '}':
		if t.nest > 0 {
			t.nest--
			return true
		}
	}
	if t.nest > 0 || t.l.single || t.l.double {
		mark()
		return true
	}
	return false
}

// operator returns the operator at c: ;, ;;, &, &&, |, ||, <, <<, <&,
// >, >>, >&, ( or ).
func (t *tokens) operator(c byte) (string, bool, bool) {
	i, j := t.i, t.i+1
	if j < len(t.text) && c != '(' && c != ')' && (t.text[j] == c || (c == '>' || c == '<') && t.text[j] == '&') {
		j++
	}
	t.i = j
	return t.text[i:j], false, true
}

// word returns the word from start to where the reading stopped.
func (t *tokens) word(start int) (string, bool, bool) {
	t.i = min(t.i, len(t.text)) // an escape may end the line
	if start < 0 {
		return "", false, false
	}
	return t.text[start:t.i], true, true
}
