package shquote_test

import (
	"os/exec"
	"testing"

	"github.com/driftless-dev/driftless/internal/shquote"
)

func TestQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", "it's", "''", `"$HOME" $(id) ` + "`id`", "a\nb\n", `\\'\`, "*?[a]~"} {
		out, err := exec.Command("/bin/sh", "-c", "printf '%s' "+shquote.Quote(s)).Output()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != s {
			t.Errorf("Quote(%q) came back as %q", s, out)
		}
	}
}
