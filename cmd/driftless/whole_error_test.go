package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A failure's reason is never cut off a terminal, in --json or in
// --junit (docs/safety.md#errors-are-whole): a long one arrives whole.
func TestErrorsAreWhole(t *testing.T) {
	f := startFleet(t, 1, everyHost("long", "long"))
	long := "the-reason-" + strings.Repeat("0123456789", 15) + "-end"
	f.writeDoc("long", "[[steps]]\nname = \"fails\"\naction = \"file\"\npath = \"/nonexistent/"+long+"/f\"\ncontent = \"x\"\n")
	junit := filepath.Join(t.TempDir(), "j.xml")
	r := f.run(t, "apply", "--junit", junit)
	if r.code != 3 {
		t.Fatalf("apply: %s", r)
	}
	if !strings.Contains(r.stdout, long) || strings.Contains(r.stdout, "…") {
		t.Errorf("the host line (not a terminal) cuts the reason: %s", r)
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `message="Failed: fails: `) || strings.Count(string(b), long) < 1 || strings.Contains(string(b), "…") {
		t.Errorf("junit cuts the reason:\n%s", b)
	}
	if r := f.run(t, "apply", "--json"); !strings.Contains(r.stdout, long) || !strings.Contains(r.stderr, long) || strings.Contains(r.stderr, "…") {
		t.Errorf("--json run cuts the reason: %s", r)
	}
}
