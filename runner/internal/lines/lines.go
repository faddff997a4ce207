// Package lines is what the script builders of packages posix and
// powershell write a script through: a Writer cuts what is written into
// whole lines and has each indented by what the lines before it opened,
// so that a generated script reads like a hand-written one.
package lines

import (
	"bytes"
	"strings"
)

// An Indenter keeps what the lines of a script have opened so far (blocks,
// quotes) and writes each whole line to out, indented by that.
type Indenter interface {
	Line(out *strings.Builder, line string)
}

// Writer writes a script line by line through its Indenter I (P is *I).
// The zero value is ready to use. Each whole line, with its newline, goes
// to the Indenter; a line written in one piece is passed on without a
// copy.
type Writer[I any, P interface {
	*I
	Indenter
}] struct {
	strings.Builder
	// Indent is the Indenter's state.
	Indent  I
	partial []byte // the part of a line written so far
}

// Write implements io.Writer, so that fmt.Fprintf writes through the
// writer too.
func (w *Writer[I, P]) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = append(w.partial, p...)
			break
		}
		w.partial = append(w.partial, p[:i+1]...)
		w.line(string(w.partial))
		w.partial = w.partial[:0]
		p = p[i+1:]
	}
	return n, nil
}

// WriteString writes s, line by line.
func (w *Writer[I, P]) WriteString(s string) (int, error) {
	n := len(s)
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			w.partial = append(w.partial, s...)
			break
		}
		if len(w.partial) == 0 {
			w.line(s[:i+1])
		} else {
			w.partial = append(w.partial, s[:i+1]...)
			w.line(string(w.partial))
			w.partial = w.partial[:0]
		}
		s = s[i+1:]
	}
	return n, nil
}

// Verbatim writes text, hand-written and indented already (a prelude), as
// it is: whole lines whose blocks and quotes all close (the builders'
// tests check each prelude), so that what the Indenter keeps is still
// true after them.
func (w *Writer[I, P]) Verbatim(text string) {
	w.Builder.WriteString(text)
}

// Comment writes a comment line, "# " and label: sh and PowerShell alike.
func (w *Writer[I, P]) Comment(label string) {
	w.WriteString("# " + label + "\n")
}

// String returns the script, with an unterminated last line.
func (w *Writer[I, P]) String() string {
	if len(w.partial) > 0 {
		w.line(string(w.partial))
		w.partial = w.partial[:0]
	}
	return w.Builder.String()
}

func (w *Writer[I, P]) line(s string) {
	P(&w.Indent).Line(&w.Builder, s)
}

// Put writes line to out, after level tabs unless it is empty.
func Put(out *strings.Builder, level int, line string) {
	if line != "\n" && line != "" {
		for range level {
			out.WriteByte('\t')
		}
	}
	out.WriteString(line)
}
