package main

import (
	"strings"
	"testing"
)

// What a host prints reaches the terminal with its control characters
// escaped: a host cannot move the cursor, retitle the window or hide
// text in the user's terminal (docs/safety.md).
func TestExecEscapesControlCharacters(t *testing.T) {
	f := startFleet(t, 1, "")
	r := f.run(t, "exec", "--targets", "*", "--", `printf 'red\033[31mX\033]0;pwned\007 bell\a cr\rend\n'; printf 'err\033[2J\n' >&2`)
	if r.code != 0 {
		t.Fatalf("exec: %s", r)
	}
	for _, out := range []string{r.stdout, r.stderr} {
		if strings.ContainsAny(out, "\x1b\x07\r") {
			t.Errorf("raw control characters reached the terminal: %q", out)
		}
	}
	if !strings.Contains(r.stdout, `web-1: red\x1b[31mX\x1b]0;pwned\x07 bell\x07 cr\x0dend`) {
		t.Errorf("stdout not escaped as expected: %q", r.stdout)
	}
	if !strings.Contains(r.stderr, `web-1: err\x1b[2J`) {
		t.Errorf("stderr not escaped as expected: %q", r.stderr)
	}
}
