package psparse_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/internal/psparse"
)

func TestValidScriptParsesClean(t *testing.T) {
	res := psparse.Parse(t, map[string]string{
		"valid": "param([string]$Name = 'x')\n" +
			"function Get-It([int]$n) {\n  if ($n -gt 1) { return @{ a = $n; b = \"n=$($n * 2)\" } }\n  else { $null }\n}\n" +
			"try { Get-It 3 | ForEach-Object { $_.a } } catch { Write-Error $_ } finally { }\n" +
			"$h = @'\nhere 'string'\n'@\n",
		"one line": "exit 0",
	})
	for name, errs := range res {
		if len(errs) != 0 {
			t.Errorf("%s: %v", name, errs)
		}
	}
}

// An unclosed "if (" is an error at its line and column; the valid
// script beside it is not.
func TestUnclosedIfFails(t *testing.T) {
	res := psparse.Parse(t, map[string]string{
		"bad": "$a = 1\n  if (\n",
		"ok":  "$a = 1\n",
	})
	if len(res["ok"]) != 0 {
		t.Errorf("ok: %v", res["ok"])
	}
	errs := res["bad"]
	if len(errs) == 0 {
		t.Fatal("bad: no error")
	}
	if e := errs[0]; e.Line != 2 || e.Col != 3 || !strings.HasPrefix(e.Text, "if (") {
		t.Errorf("bad: first error %v, want 2:3: ... if (", e)
	}
	// Check says the same as a test failure.
	r := &recorder{TB: t}
	psparse.Check(r, map[string]string{"bad": "$a = 1\n  if (\n", "ok": "$a = 1\n"})
	if len(r.errors) != 1 || !strings.Contains(r.errors[0], "\n\tbad:2:3: ERROR: if (") {
		t.Errorf("Check reported %q", r.errors)
	}
}

type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// Valid PowerShell that tree-sitter-powershell rejects (see the package
// doc). When this fails after an upgrade of the grammar, a gap has
// closed: drop it from here and from the package doc.
func TestKnownGrammarGaps(t *testing.T) {
	gaps := map[string]string{
		"empty":                "",
		"blank":                "\n",
		"comment only":         "# nothing to do\n",
		"break label":          ":outer while ($true) {\n  while ($true) { break outer }\n}\n",
		"continue label":       ":outer foreach ($x in 1..2) {\n  foreach ($y in 1..2) { continue outer }\n}\n",
		"switch one line":      "switch ($a) { 1 { 'a' } default { 'b' } }\n",
		"param then statement": "function F { param($N) $N }\n",
		"long operand":         "$a = 1 + 5L\n",
		"ternary":              "$a = $b ? 1 : 2\n",
		"null coalescing":      "$a = $b ?? 1\n",
	}
	for name, errs := range psparse.Parse(t, gaps) {
		if len(errs) == 0 {
			t.Errorf("%s: the grammar accepts it now: %q", name, gaps[name])
		}
	}
	// Their neighbours parse.
	for name, errs := range psparse.Parse(t, map[string]string{
		"labelled loop":         ":outer while ($true) { break }\n",
		"switch lines":          "switch ($a) {\n  1 { 'a' }\n  default { 'b' }\n}\n",
		"switch semicolon":      "switch ($a) { 1 { 'a' }; default { 'b' } }\n",
		"param then line":       "function F {\n  param($N)\n  $N\n}\n",
		"long left":             "$a = 5L + 1\n",
		"comment and statement": "# a comment\nexit 0\n",
	}) {
		if len(errs) != 0 {
			t.Errorf("%s: %v", name, errs)
		}
	}
}
