package journal

import (
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// MaxOutput is how much of a step's stdout, and of its stderr, the journal
// keeps (docs/journal.md#output-retention: never cut at 2,500 characters, up to 1 MiB each).
const MaxOutput = 1 << 20

const (
	markerPrefix = "\n[driftless: output truncated, "
	markerSuffix = " bytes omitted]"
)

// TruncateOutput keeps the first MaxOutput bytes of s (backing up to the
// start of a UTF-8 character rather than splitting one) and appends a marker
// saying how many bytes were left out:
//
//	\n[driftless: output truncated, 123 bytes omitted]
//
// It reports whether s was cut. It is idempotent: a string it already cut
// comes back unchanged, with true. RecordHost applies it to every step.
func TruncateOutput(s string) (string, bool) {
	if len(s) <= MaxOutput {
		return s, false
	}
	if alreadyTruncated(s) {
		return s, true
	}
	return cutOutput(s, 0), true
}

// cutOutput keeps at most MaxOutput bytes of s and appends the marker,
// counting extra bytes that were dropped before s was built.
func cutOutput(s string, extra int64) string {
	n := min(len(s), MaxOutput)
	// Do not end in the middle of a multi-byte character: find the start of
	// the last character within reach and drop it if it is incomplete.
	for i := n - 1; i >= 0 && i >= n-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			if !utf8.FullRuneInString(s[i:n]) {
				n = i
			}
			break
		}
	}
	omitted := int64(len(s)-n) + extra
	return s[:n] + markerPrefix + strconv.FormatInt(omitted, 10) + markerSuffix
}

// alreadyTruncated reports whether s ends with a marker that cutOutput
// appended to at most MaxOutput bytes.
func alreadyTruncated(s string) bool {
	if !strings.HasSuffix(s, markerSuffix) {
		return false
	}
	i := strings.LastIndex(s, markerPrefix)
	if i < 0 || i > MaxOutput {
		return false
	}
	digits := s[i+len(markerPrefix) : len(s)-len(markerSuffix)]
	_, err := strconv.ParseUint(digits, 10, 63)
	return err == nil
}

// OutputBuffer is an io.Writer for a step's stdout or stderr that keeps only
// the first MaxOutput bytes written to it and counts the rest, so that a
// chatty command cannot make driftless hold more than that in memory. Its
// String has the same form as TruncateOutput's result. The zero value is
// ready to use; it is safe for concurrent use.
type OutputBuffer struct {
	mu      sync.Mutex
	buf     []byte
	omitted int64
}

// Write keeps what fits and always reports len(p), nil.
func (b *OutputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	keep := min(len(p), MaxOutput-len(b.buf))
	b.buf = append(b.buf, p[:keep]...)
	b.omitted += int64(len(p) - keep)
	return len(p), nil
}

// String returns what was kept, with the truncation marker when bytes were
// dropped.
func (b *OutputBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.omitted == 0 {
		return string(b.buf)
	}
	return cutOutput(string(b.buf), b.omitted)
}

// Truncated reports whether bytes were dropped.
func (b *OutputBuffer) Truncated() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.omitted > 0
}
