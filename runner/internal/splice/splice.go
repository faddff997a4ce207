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
