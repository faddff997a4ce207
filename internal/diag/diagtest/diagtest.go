// Package diagtest checks the diagnostics a parser reported, for tests.
package diagtest

import (
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/internal/diag"
)

// Check checks that got holds as many diagnostics (what: "error",
// "warning") as want, each starting with its line of want.
func Check(t testing.TB, what string, got []*diag.Error, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d %ss, want %d:\n%v", len(got), what, len(want), (&diag.ListError{Errs: got}).Error())
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i].Error(), w) {
			t.Errorf("%s %d:\n got  %s\n want %s", what, i, got[i].Error(), w)
		}
	}
}

// CheckErrors checks that l holds as many errors as want, each starting
// with its line of want.
func CheckErrors(t testing.TB, l *diag.List, want []string) {
	t.Helper()
	Check(t, "error", l.Errors(), want)
}
