package eval

import (
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/runner/frame"
	"github.com/driftless-dev/driftless/runner/plan"
)

// SPEC §6: after a secret is rotated, the host still holds the old value,
// which the redactor no longer knows. A file or line whose wanted content
// holds the new one is never diffed: sizes and hashes only.
func TestRotatedSecretIsNeverDiffed(t *testing.T) {
	red := &plan.Redactor{}
	red.Add("new-t0ken")
	old := "API_TOKEN=old-t0ken\nport = 1\n"
	for _, s := range []*plan.Step{
		{Action: "file", Path: "/etc/app.env", Content: []byte("API_TOKEN=new-t0ken\nport = 1\n"), ContentText: true, Secret: true},
		{Action: "line", Path: "/etc/app.env", Line: "API_TOKEN=new-t0ken", LineRe: "^API_TOKEN=", Secret: true},
		// Not marked by the plan: the redactor still sees the secret.
		{Action: "file", Path: "/etc/app.env", Content: []byte("API_TOKEN=new-t0ken\nport = 1\n"), ContentText: true},
	} {
		fs := []frame.Frame{statOf(frame.Stat, old, "600", "app", "app"), fr(frame.Has, "0"), payload(frame.Cur, old)}
		v := Check(s, fs, Host{Red: red})
		if !v.Drifted || strings.Contains(v.Differ, "old-t0ken") || strings.Contains(v.Differ, "new-t0ken") {
			t.Fatalf("%s: drifted %v, differ %q", s.Action, v.Drifted, v.Differ)
		}
		want := "content differs (secret): on host 29 bytes, sha256 " + plan.SHA256Hex([]byte(old)) + "; wanted 29 bytes, sha256 "
		if !strings.HasPrefix(v.Differ, want) || strings.Contains(v.Differ, "\n") {
			t.Errorf("%s: differ %q, want %q...", s.Action, v.Differ, want)
		}
	}
	// A missing file: what is wanted, in size and hash only.
	s := &plan.Step{Action: "file", Path: "/etc/app.env", Content: []byte("API_TOKEN=new-t0ken\n"), ContentText: true, Secret: true}
	v := Check(s, []frame.Frame{fr(frame.Stat, "0")}, Host{Red: red})
	if v.Differ != "missing\ncontent differs (secret): wanted 20 bytes, sha256 "+plan.SHA256Hex(s.Content) {
		t.Errorf("missing: %q", v.Differ)
	}
}

// SPEC §6: a symlink at the path of a step that does not follow it is
// drift ("is a symlink"); the apply replaces it with the declared object,
// built from nothing (the link's target is not read), and never with the
// link's own mode (0777).
func TestSymlinkIsDrift(t *testing.T) {
	link := fr(frame.Stat, "3")
	for _, tc := range []struct {
		s      *plan.Step
		differ string
		write  string
	}{
		{&plan.Step{Action: "file", Path: "/f", Content: []byte("a\n"), ContentText: true}, "is a symlink\n--- /f (on host)\n+++ /f (wanted)\n@@ -0,0 +1 @@\n+a\n", "a\n"},
		{&plan.Step{Action: "directory", Path: "/d"}, "is a symlink", ""},
		{&plan.Step{Action: "directory", Path: "/d", Mode: "0750"}, "is a symlink", ""},
		{&plan.Step{Action: "line", Path: "/f", Line: "x=1"}, "is a symlink\n--- /f (on host)\n+++ /f (wanted)\n@@ -0,0 +1 @@\n+x=1\n", "x=1\n"},
		{&plan.Step{Action: "line", Path: "/f", Line: "x=1", Absent: true}, "is a symlink", ""},
	} {
		v := Check(tc.s, []frame.Frame{link}, Host{})
		if v.Status != Pending || !v.Drifted || v.Differ != tc.differ || string(v.Apply.Write) != tc.write || v.Apply.Mode != tc.s.Mode {
			t.Errorf("%s %s: status %d drifted %v differ %q write %q mode %q", tc.s.Action, tc.s.Path, v.Status, v.Drifted, v.Differ, v.Apply.Write, v.Apply.Mode)
		}
	}
	// Removing a symlink removes the link.
	v := Check(&plan.Step{Action: "file", Path: "/f", Absent: true}, []frame.Frame{link}, Host{})
	if !v.Drifted || v.Differ != "present, should be absent" {
		t.Errorf("absent: %+v", v)
	}
}

// A carriage return at the end of a line shows in a diff as ␍: a CRLF
// line differs visibly from the same line without CR.
func TestDiffShowsCarriageReturns(t *testing.T) {
	s := &plan.Step{Action: "file", Path: "/f", Content: []byte("a\nb\n"), ContentText: true}
	cur := "a\r\nb\n"
	v := Check(s, []frame.Frame{statOf(frame.Stat, cur, "644", "root", "root"), payload(frame.Cur, cur)}, Host{})
	if want := "@@ -1,2 +1,2 @@\n-a␍\n+a\n b\n"; !strings.HasSuffix(v.Differ, want) {
		t.Errorf("differ %q, want it to end %q", v.Differ, want)
	}
	// A line removed from a CRLF file: the file keeps its CRLF ends; in a
	// file of CRLF lines only, a CR tells nothing, and is left as is.
	l := &plan.Step{Action: "line", Path: "/f", Line: "debug = true", Absent: true}
	cur = "a = 1\r\ndebug = true\r\n"
	v = Check(l, []frame.Frame{statOf(frame.Stat, cur, "644", "root", "root"), fr(frame.Has, "0"), payload(frame.Cur, cur)}, Host{})
	if !v.Drifted || string(v.Apply.Write) != "a = 1\r\n" || !strings.HasSuffix(v.Differ, " a = 1\r\n-debug = true\r\n") {
		t.Errorf("line absent on CRLF: drifted %v write %q differ %q", v.Drifted, v.Apply.Write, v.Differ)
	}
	// A file with both line ends: every CR shows.
	cur = "a = 1\ndebug = true\r\n"
	v = Check(l, []frame.Frame{statOf(frame.Stat, cur, "644", "root", "root"), fr(frame.Has, "0"), payload(frame.Cur, cur)}, Host{})
	if !v.Drifted || string(v.Apply.Write) != "a = 1\n" || !strings.HasSuffix(v.Differ, " a = 1\n-debug = true␍\n") {
		t.Errorf("line absent on mixed ends: drifted %v write %q differ %q", v.Drifted, v.Apply.Write, v.Differ)
	}
}

// A correction that failed always says why: the host's error output,
// or, when there is none, that the write failed.
func TestFailedCorrectionHasAReason(t *testing.T) {
	s := &plan.Step{Action: "file", Path: "/nowhere/f", Content: []byte("a\n")}
	r := Applied(plan.ApplyStep{Step: s, Write: s.Content}, []frame.Frame{fr(frame.Applied, "0")}, Host{})
	if r.Status != Failed || r.Error == "" || strings.HasSuffix(r.Error, ": ") {
		t.Errorf("no error output: %+v", r)
	}
	r = Applied(plan.ApplyStep{Step: s, Write: s.Content}, []frame.Frame{fr(frame.Applied, "0"), payload(frame.Err, "sh: 1: cannot create /nowhere/.f.dl-tmp.x: Directory nonexistent\n")}, Host{})
	if r.Status != Failed || r.Error != "could not correct: sh: 1: cannot create /nowhere/.f.dl-tmp.x: Directory nonexistent" {
		t.Errorf("error output: %+v", r)
	}
}
