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
	return splice.Reader(main, func(step int) io.Reader { return printfEncoding.Content(step, open) })
}

// printfEncoding writes content as the printf commands printfBytes
// would; content that cannot be read becomes a command that fails with
// the reason on stderr.
var printfEncoding = splice.Encoding{
	Chunk:  printfChunk,
	Append: appendPrintf,
	Fail:   func(err error) string { return "printf '%s\\n' " + Quote(err.Error()) + " >&2; false; " },
}
