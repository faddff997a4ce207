// Package splice puts a step's streamed content into a script as it is
// sent: a script builder writes a stand-in, Mark(step), where the content
// goes, and Reader replaces each stand-in with the reader the builder
// gives for that step. The script and the script cache hold only the
// stand-ins, never the content (docs/safety.md#bounded-input).
package splice

import (
	"io"
	"strconv"
	"strings"
)

// The stand-in is start, the step's index, end: NUL bytes never appear
// in a script otherwise.
const (
	start = "\x00DL-STREAM "
	end   = "\x00"
)

// Mark is the stand-in for the content of step.
func Mark(step int) string { return start + strconv.Itoa(step) + end }

// Has reports whether script holds a stand-in.
func Has(script string) bool { return strings.Contains(script, start) }

// Reader is script with each stand-in replaced by content(its step), in
// order, read as it is sent.
func Reader(script string, content func(step int) io.Reader) io.Reader {
	var parts []io.Reader
	for {
		i := strings.Index(script, start)
		if i < 0 {
			break
		}
		j := strings.Index(script[i+len(start):], end)
		if j < 0 {
			break
		}
		idx, err := strconv.Atoi(script[i+len(start) : i+len(start)+j])
		if err != nil {
			break
		}
		parts = append(parts, strings.NewReader(script[:i]), content(idx))
		script = script[i+len(start)+j+len(end):]
	}
	return io.MultiReader(append(parts, strings.NewReader(script))...)
}

// Encoding is how a script builder writes a step's content into its
// script: the text of each chunk read, between a head and a tail.
type Encoding struct {
	Head, Tail string
	Chunk      int                            // bytes read at a time
	Append     func(dst, chunk []byte) []byte // appends the script text of chunk
	Fail       func(err error) string         // ends the text when the content cannot be read to its end: a command that fails with err
}

// Content is the script text of the content of step, read from
// open(step) at the first read and then a chunk at a time, as it is
// sent: at most a chunk and its text are held at once.
func (e Encoding) Content(step int, open func(step int) (io.ReadCloser, error)) io.Reader {
	return &content{e: e, step: step, open: open}
}

type content struct {
	e      Encoding
	step   int
	open   func(int) (io.ReadCloser, error)
	r      io.ReadCloser
	opened bool
	done   bool
	in     []byte
	out    []byte // text not yet read
}

func (c *content) Read(b []byte) (int, error) {
	for len(c.out) == 0 {
		if c.done {
			return 0, io.EOF
		}
		c.fill()
	}
	n := copy(b, c.out)
	c.out = c.out[n:]
	return n, nil
}

// fill makes the text of the next chunk, or of the failure that ends it.
func (c *content) fill() {
	if !c.opened {
		c.opened = true
		c.out = append(c.out[:0], c.e.Head...)
		r, err := c.open(c.step)
		if err != nil {
			c.fail(err)
			return
		}
		c.r, c.in = r, make([]byte, c.e.Chunk)
		return
	}
	n, err := io.ReadFull(c.r, c.in)
	c.out = c.e.Append(c.out[:0], c.in[:n])
	switch err {
	case nil:
	case io.EOF, io.ErrUnexpectedEOF:
		c.out = append(c.out, c.e.Tail...)
		c.close()
	default:
		c.fail(err)
	}
}

func (c *content) fail(err error) {
	c.out = append(c.out, c.e.Fail(err)...)
	c.close()
}

func (c *content) close() {
	c.done = true
	if c.r != nil {
		c.r.Close()
		c.r = nil
	}
	c.in = nil
}
