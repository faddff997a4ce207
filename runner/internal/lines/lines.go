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
type Writer[I any, P pointer[I]] struct {
	strings.Builder
	// Indent is the Indenter's state.
	Indent  I
	partial []byte // the part of a line written so far
}

// pointer is *I, when *I is an Indenter.
type pointer[I any] interface {
	*I
	Indenter
}

// Write implements io.Writer, so that fmt.Fprintf writes through the
// writer too.
func (w *Writer[I, P]) Write(p []byte) (int, error) {
	write(w, p, bytes.IndexByte)
	return len(p), nil
}

// WriteString writes s, line by line.
func (w *Writer[I, P]) WriteString(s string) (int, error) {
	write(w, s, strings.IndexByte)
	return len(s), nil
}

// write cuts text into lines (index is bytes.IndexByte or
// strings.IndexByte) and passes each whole one on.
func write[I any, P pointer[I], S string | []byte](w *Writer[I, P], text S, index func(S, byte) int) {
	for len(text) > 0 {
		i := index(text, '\n')
		if i < 0 {
			w.partial = append(w.partial, text...)
			return
		}
		if len(w.partial) == 0 {
			w.line(string(text[:i+1]))
		} else {
			w.partial = append(w.partial, text[:i+1]...)
			w.line(string(w.partial))
			w.partial = w.partial[:0]
		}
		text = text[i+1:]
	}
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
