// Package shquote quotes text for a POSIX shell.
package shquote

import "strings"

// Quote quotes s as one word for a POSIX shell (sh, dash, bash, zsh,
// ksh), so that nothing in it is interpreted: in single quotes, each
// single quote of s ending the quoted text, escaped, then reopening it:
//
//	it's  →  'it'\''s'
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
