// Package lines cuts what a script builder writes into whole lines, for
// the writers of packages posix and powershell, which indent each line by
// what the lines before it opened.
package lines

import (
	"bytes"
	"strings"
)

// Splitter holds the part of a line written so far. Each whole line, with
// its newline, goes to the function a call is given; a line written in
// one piece is passed on without a copy.
type Splitter struct {
	partial []byte
}

// Write cuts p into lines.
func (s *Splitter) Write(p []byte, line func(string)) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.partial = append(s.partial, p...)
			return
		}
		s.partial = append(s.partial, p[:i+1]...)
		line(string(s.partial))
		s.partial = s.partial[:0]
		p = p[i+1:]
	}
}

// WriteString cuts text into lines.
func (s *Splitter) WriteString(text string, line func(string)) {
	for len(text) > 0 {
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			s.partial = append(s.partial, text...)
			return
		}
		if len(s.partial) == 0 {
			line(text[:i+1])
		} else {
			s.partial = append(s.partial, text[:i+1]...)
			line(string(s.partial))
			s.partial = s.partial[:0]
		}
		text = text[i+1:]
	}
}

// Flush passes on an unterminated last line, if any.
func (s *Splitter) Flush(line func(string)) {
	if len(s.partial) > 0 {
		line(string(s.partial))
		s.partial = s.partial[:0]
	}
}
