package powershell

import (
	"encoding/base64"
	"io"
	"strings"

	"github.com/driftless-dev/driftless/internal/pwsh"
	"github.com/driftless-dev/driftless/runner/internal/splice"
)

// streamed is the expression of the content of step idx in base64,
// streamed (Stdin): the script's text holds a stand-in for it, so that
// large content is neither built into the script nor kept by the script
// cache. It is assigned to $dl_b, which the write then decodes.
func streamed(idx int) string {
	return "$dl_b = " + splice.Mark(idx) + "\n"
}

// Stdin is the stdin of StdinScript for script: its UTF-8 in base64, in
// CRLF-ended lines.
func Stdin(script string) io.Reader { return strings.NewReader(stdinText(script)) }

// StdinStreamed is Stdin, with the content of each streamed write (streamed)
// read from open(its step) as it is sent, a chunk at a time. Content
// that cannot be read to its end (a source that changed since it was
// planned) becomes a throw of the reason: that write fails, nothing of
// it kept.
func StdinStreamed(script string, open func(step int) (io.ReadCloser, error)) io.Reader {
	if !splice.Has(script) {
		return strings.NewReader(stdinText(script))
	}
	return &b64Lines{r: splice.Reader(script, func(step int) io.Reader { return b64Encoding.Content(step, open) })}
}

// stdinText is script in base64, in CRLF-ended lines of psStdinLine.
func stdinText(script string) string {
	enc := base64.StdEncoding.EncodeToString([]byte(script))
	var b strings.Builder
	b.Grow(len(enc) + 2*(len(enc)/psStdinLine+1))
	for len(enc) > 0 {
		n := min(len(enc), psStdinLine)
		b.WriteString(enc[:n])
		b.WriteString("\r\n")
		enc = enc[n:]
	}
	return b.String()
}

// b64Lines encodes what r gives in base64 lines, as stdinText: a line is
// the encoding of psStdinLine/4*3 bytes.
type b64Lines struct {
	r    io.Reader
	in   []byte
	out  []byte
	done bool
}

func (l *b64Lines) Read(b []byte) (int, error) {
	for len(l.out) == 0 {
		if l.done {
			return 0, io.EOF
		}
		if l.in == nil {
			l.in = make([]byte, psStdinLine/4*3)
		}
		n, err := io.ReadFull(l.r, l.in)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return 0, err
		}
		l.done = err != nil
		if n > 0 {
			l.out = base64.StdEncoding.AppendEncode(l.out[:0], l.in[:n])
			l.out = append(l.out, '\r', '\n')
		}
	}
	n := copy(b, l.out)
	l.out = l.out[n:]
	return n, nil
}

// b64Encoding writes content as a quoted base64 string; content that
// cannot be read becomes a throw of the reason.
var b64Encoding = splice.Encoding{
	Head:   "'",
	Tail:   "'",
	Chunk:  3 << 12,
	Append: base64.StdEncoding.AppendEncode,
	Fail:   func(err error) string { return "'; throw " + pwsh.Quote(err.Error()) },
}
