package posix

import (
	"io"
	"strings"

	"github.com/driftless-dev/driftless/runner/internal/splice"
)

// streamed writes the content of step idx, streamed (Stdin), to the
// file named by the shell word dst: the script's text holds a stand-in
// for the printf commands, so that large content is neither built into
// the script nor kept by the script cache.
func streamed(idx int, dst string) string {
	return "{ " + splice.Mark(idx) + "} >" + dst
}

// Stdin is what the transport sends for script (StdinScript reads it):
// Main(script), with the content of each streamed write (streamed) read
// from open(its step) as it is sent, a chunk at a time, as the printf
// commands printfBytes would write. Content that cannot be read to its
// end (a source that changed since it was planned: open's reader
// fails) becomes a command that fails with the reason on stderr: that
// write fails, and the temporary file it made is removed, nothing of it
// kept.
func Stdin(script string, open func(step int) (io.ReadCloser, error)) io.Reader {
	return StdinFor("", script, open)
}

// StdinFor is Stdin for the run of an association on a host, guarded by
// key (MainFor).
func StdinFor(key, script string, open func(step int) (io.ReadCloser, error)) io.Reader {
	main := MainFor(key, script)
	if !splice.Has(main) {
		return strings.NewReader(main)
	}
	return splice.Reader(main, func(step int) io.Reader { return &printfStream{step: step, open: open} })
}

// printfStream reads a step's content, opened at its first read, and
// gives the printf commands that write it.
type printfStream struct {
	step   int
	open   func(int) (io.ReadCloser, error)
	r      io.ReadCloser
	opened bool
	done   bool
	in     []byte
	out    []byte // encoded, not yet read
}

func (p *printfStream) Read(b []byte) (int, error) {
	for len(p.out) == 0 {
		if p.done {
			return 0, io.EOF
		}
		p.fill()
	}
	n := copy(b, p.out)
	p.out = p.out[n:]
	return n, nil
}

// fill encodes the next chunk of content, or the failure that ends it.
func (p *printfStream) fill() {
	if !p.opened {
		p.opened = true
		r, err := p.open(p.step)
		if err != nil {
			p.fail(err)
			return
		}
		p.r, p.in = r, make([]byte, printfChunk)
	}
	n, err := io.ReadFull(p.r, p.in)
	p.out = appendPrintf(p.out[:0], p.in[:n])
	switch err {
	case nil:
	case io.EOF, io.ErrUnexpectedEOF:
		p.close()
	default:
		p.fail(err)
	}
}

func (p *printfStream) fail(err error) {
	p.out = append(p.out, "printf '%s\\n' "+Quote(err.Error())+" >&2; false; "...)
	p.close()
}

func (p *printfStream) close() {
	p.done = true
	if p.r != nil {
		p.r.Close()
		p.r = nil
	}
	p.in = nil
}
