package eval

import (
	"testing"

	"github.com/driftless-dev/driftless/runner/plan"
)

func TestEditLine(t *testing.T) {
	cases := []struct {
		cur, line, re string
		absent        bool
		want          string
	}{
		{"a\nb\n", "c", "", false, "a\nb\nc\n"},
		{"a\nb", "c", "", false, "a\nb\nc\n"},
		{"", "c", "", false, "c\n"},
		{"a\nc\nb\n", "c", "", false, "a\nc\nb\n"},
		{"PORT=1\nx\nPORT=2\n", "PORT=9", "^PORT=", false, "PORT=1\nx\nPORT=9\n"},
		{"PORT=9\n", "PORT=9", "^PORT=", false, "PORT=9\n"},
		{"a\nsecret\nb\n", "secret", "", true, "a\nb\n"},
		{"a\nPORT=1\nb\n", "", "^PORT=", true, "a\nb\n"},
		// CRLF files (Windows) are matched without their CRs and keep CRLF.
		{"127.0.0.1 localhost\r\n10.0.0.4 db\r\n", "10.0.0.5 db", `\sdb$`, false, "127.0.0.1 localhost\r\n10.0.0.5 db\r\n"},
		{"127.0.0.1 localhost\r\n10.0.0.5 db\r\n", "10.0.0.5 db", `\sdb$`, false, "127.0.0.1 localhost\r\n10.0.0.5 db\r\n"},
		{"a\r\nb\r\n", "c", "", false, "a\r\nb\r\nc\r\n"},
		{"a\r\nsecret\r\nb", "secret", "", true, "a\r\nb"},
		{"a\r\nb\r\n", "b", "", false, "a\r\nb\r\n"},
		// Mixed line ends: a line is still found, its CR kept.
		{"a\nsecret\r\nb\n", "secret", "", true, "a\nb\n"},
		{"a\nb\r\n", "b", "", false, "a\nb\r\n"},
	}
	for _, c := range cases {
		got, err := EditLine([]byte(c.cur), &plan.Step{Line: c.line, LineRe: c.re, Absent: c.absent})
		if err != nil || string(got) != c.want {
			t.Errorf("EditLine(%q, %q, %q, absent=%v) = %q, %v; want %q", c.cur, c.line, c.re, c.absent, got, err, c.want)
		}
	}
}
