package posix

import (
	"io"

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
// key (MainFor). A script without streamed content is read from its
// parts as they are: MainFor's copy of it is never made (a fleet sends
// one script per host).
func StdinFor(key, script string, open func(step int) (io.ReadCloser, error)) io.Reader {
	if !splice.Has(script) {
		return &parts{p: [3]string{mainHead(key), script, mainTail}}
	}
	return splice.Reader(MainFor(key, script), func(step int) io.Reader { return printfEncoding.Content(step, open) })
}

// parts reads strings one after the other, filling each Read as far as
// they go: the transport sends what one Read gives as one packet.
type parts struct {
	p [3]string
	i int // the part being read
	n int // bytes of it read
}

func (r *parts) Read(b []byte) (int, error) {
	total := 0
	for total < len(b) && r.i < len(r.p) {
		c := copy(b[total:], r.p[r.i][r.n:])
		total += c
		r.n += c
		if r.n == len(r.p[r.i]) {
			r.i, r.n = r.i+1, 0
		}
	}
	if total == 0 && r.i == len(r.p) {
		return 0, io.EOF
	}
	return total, nil
}

// printfEncoding writes content as the printf commands printfBytes
// would; content that cannot be read becomes a command that fails with
// the reason on stderr.
var printfEncoding = splice.Encoding{
	Chunk:  printfChunk,
	Append: appendPrintf,
	Fail:   func(err error) string { return "printf '%s\\n' " + Quote(err.Error()) + " >&2; false; " },
}
