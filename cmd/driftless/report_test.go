package main

import (
	"fmt"
	"testing"
)

// A summary names at most summaryNames hosts per outcome, in natural
// order, and counts the rest.
func TestHostNames(t *testing.T) {
	var hosts []string
	for i := 40; i >= 1; i-- {
		hosts = append(hosts, fmt.Sprintf("web-%d", i))
	}
	if got, want := hostNames(hosts, summaryNames), "web-1 web-2 web-3 web-4 web-5 web-6 web-7 web-8 +32 more"; got != want {
		t.Errorf("hostNames = %q, want %q", got, want)
	}
	if got, want := hostNames([]string{"web-10", "db-2", "web-9"}, summaryNames), "db-2 web-9 web-10"; got != want {
		t.Errorf("hostNames = %q, want %q", got, want)
	}
}

// A run summary on a terminal wraps between its parts, not inside a
// list of hosts.
func TestWrapSummary(t *testing.T) {
	line := "web-baseline check, 48 hosts: 1 unreachable: web-48; 3 drifted: web-4 web-9 web-17; 44 compliant (driftless show 12)"
	got := wrapSummary(line, 60)
	want := []string{"web-baseline check, 48 hosts: 1 unreachable: web-48;", "3 drifted: web-4 web-9 web-17; 44 compliant", "(driftless show 12)"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("wrapSummary = %q, want %q", got, want)
	}
}

// What a step recorded as differing: the lines that are not a diff go on
// the step's line, wherever they stand; a removed line that starts with
// "--" stays in its diff.
func TestSplitDiffer(t *testing.T) {
	differ := "missing\n--- a (on host)\n+++ a (wanted)\n@@ -1,2 +1 @@\n--- old\n-x\n+y\nmode 0644 -> 0600"
	notes, diff := splitDiffer(differ)
	if fmt.Sprint(notes) != "[missing mode 0644 -> 0600]" || len(diff) != 6 || diff[3] != "--- old" {
		t.Errorf("splitDiffer = %q, %q", notes, diff)
	}
	if got := string(diffRoles(diff)); got != "hh@--+" {
		t.Errorf("diffRoles = %q, want %q", got, "hh@--+")
	}
}
