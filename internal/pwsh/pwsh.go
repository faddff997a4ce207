// Package pwsh holds the PowerShell text that more than one package writes:
// quoting, the -EncodedCommand encoding, and the prologue a script runs
// with. The WinRM and SSH transports and the runner share it.
package pwsh

import (
	"encoding/base64"
	"encoding/binary"
	"strings"
	"unicode/utf16"
)

// Prologue starts every script: no progress records (they would come
// back as CLIXML on stderr).
const Prologue = "$ProgressPreference = 'SilentlyContinue'\n"

// Quote makes s one single-quoted PowerShell string. PowerShell also takes
// the typographic quotes ‘ ’ ‚ ‛ as single quotes: each is doubled too.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'', '\u2018', '\u2019', '\u201a', '\u201b':
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

// Encode is the -EncodedCommand value of a script: base64 of its UTF-16LE
// bytes.
func Encode(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		binary.LittleEndian.PutUint16(b[2*i:], r)
	}
	return base64.StdEncoding.EncodeToString(b)
}
