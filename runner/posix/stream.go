package posix

import (
	"io"
	"strings"

	"github.com/driftless-dev/driftless/runner/internal/splice"
)

// streamed writes the content of step idx, streamed (StdinJoined), to the
// file named by the shell word dst: the script's text holds a stand-in
// for the printf commands, so that large content is neither built into
// the script nor kept by the script cache.
func streamed(idx int, dst string) string {
	return "{ " + splice.Mark(idx) + "} >" + dst
}

// StdinJoined is what the transport sends (StdinScript reads it) for
// the run of an association on a host, guarded by key (MainFor), of the
// script strings.Join(pieces, sep): MainFor(key, script), with the
// content of each streamed write (streamed) read from open(its step) as
// it is sent, a chunk at a time, as the printf commands printfBytes
// would write. Content that cannot be read to its end (a source that
// changed since it was planned: open's reader fails) becomes a command
// that fails with the reason on stderr: that write fails, and the
// temporary file it made is removed, nothing of it kept. A script
// without streamed content is read from its parts as they are: a script
// shared by many hosts, cut where its marker was, is sent with one
// host's marker as sep, and neither MainFor's copy of it nor the join is
// made for that host.
func StdinJoined(key string, pieces []string, sep string, open func(step int) (io.ReadCloser, error)) io.Reader {
	for _, p := range pieces {
		if splice.Has(p) {
			script := MainFor(key, strings.Join(pieces, sep))
			return splice.Reader(script, func(step int) io.Reader { return printfEncoding.Content(step, open) })
		}
	}
	r := &parts{}
	r.p = append(r.own[:0], mainHead(key))
	for i, p := range pieces {
		if i > 0 {
			r.p = append(r.p, sep)
		}
		r.p = append(r.p, p)
	}
	r.p = append(r.p, mainTail)
	return r
}

// parts reads strings one after the other, filling each Read as far as
// they go: the transport sends what one Read gives as one packet.
type parts struct {
	p   []string
	own [5]string // p's storage: head, a script cut once, tail
	i   int       // the part being read
	n   int       // bytes of it read
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
