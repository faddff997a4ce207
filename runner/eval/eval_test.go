package eval

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/runner/frame"
	"github.com/driftless-dev/driftless/runner/plan"
)

// fr is a frame of kind with fields.
func fr(kind frame.Kind, fields ...string) frame.Frame {
	return frame.Frame{Kind: kind, Fields: fields}
}

// payload is a payload frame of kind (out, err, cur, list).
func payload(kind frame.Kind, p string) frame.Frame {
	return frame.Frame{Kind: kind, Payload: []byte(p), Size: int64(len(p))}
}

// statOf is a stat frame of a regular file or directory in state 1.
func statOf(kind frame.Kind, content, mode, owner, group string) frame.Frame {
	return fr(kind, "1", plan.SHA256Hex([]byte(content)), mode, owner, group, strconv.Itoa(len(content)))
}

// A script step's check: its exit status decides, its output is kept
// when it says the step drifted.
func TestCheckScript(t *testing.T) {
	s := &plan.Step{Name: "app", Action: "shell", HasCheck: true, Timeout: 5 * time.Second}
	for _, tc := range []struct {
		name     string
		fs       []frame.Frame
		status   Status
		drifted  bool
		differ   string
		errText  string
		exitCode int // -1: none
		stdout   string
	}{
		{name: "in state", fs: []frame.Frame{fr(frame.Check, "0")}, exitCode: -1},
		{name: "drifted", fs: []frame.Frame{fr(frame.Check, "3"), payload(frame.Out, "not yet\n"), payload(frame.Err, "no app\n")},
			drifted: true, differ: "check exited 3", exitCode: 3, stdout: "not yet\n"},
		{name: "timed out", fs: []frame.Frame{fr(frame.Check, "124"), payload(frame.Out, "slow\n")},
			status: TimedOut, errText: "check timed out after 5s", exitCode: -1, stdout: "slow\n"},
		{name: "no report", status: Failed, errText: "the check did not report (the script stopped early)", exitCode: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Check(s, tc.fs, Host{})
			if v.Status != tc.status || v.Drifted != tc.drifted || v.Differ != tc.differ || v.Error != tc.errText {
				t.Fatalf("verdict %+v", v)
			}
			if (v.ExitCode == nil) != (tc.exitCode < 0) || (v.ExitCode != nil && *v.ExitCode != tc.exitCode) {
				t.Errorf("exit code %v, want %d", v.ExitCode, tc.exitCode)
			}
			if (v.Out == nil) != (tc.stdout == "") || (v.Out != nil && v.Out.Stdout != tc.stdout) {
				t.Errorf("output %+v, want stdout %q", v.Out, tc.stdout)
			}
			if v.Apply.Step != s {
				t.Errorf("apply step %+v", v.Apply)
			}
		})
	}
	// Without a check, the step is the runner's to run: nothing to judge.
	if v := Check(&plan.Step{Action: "shell"}, nil, Host{}); v.Status != Pending || v.Drifted {
		t.Errorf("no check: %+v", v)
	}
}

// File, directory and line steps: the diffs a user sees, and what the
// apply script must write.
func TestCheckPath(t *testing.T) {
	file := func(content string) *plan.Step {
		return &plan.Step{Action: "file", Path: "/etc/app.conf", Content: []byte(content), ContentText: true}
	}
	red := &plan.Redactor{}
	red.Add("hunter2")
	for _, tc := range []struct {
		name    string
		s       *plan.Step
		fs      []frame.Frame
		pending map[string]*[]byte
		status  Status
		drifted bool
		differ  string // a prefix for unified diffs
		errText string
		write   string
		mode    string
	}{
		{name: "file in state", s: file("a\n"), fs: []frame.Frame{statOf(frame.Stat, "a\n", "644", "root", "root")},
			write: "a\n", mode: "644"},
		{name: "file missing", s: file("a\n"), fs: []frame.Frame{fr(frame.Stat, "0")}, drifted: true,
			differ: "missing\n--- /etc/app.conf (on host)\n+++ /etc/app.conf (wanted)\n", write: "a\n"},
		{name: "file content", s: file("port = 8080\n"), fs: []frame.Frame{statOf(frame.Stat, "port = 80\n", "600", "root", "root"), payload(frame.Cur, "port = 80\n")},
			drifted: true, differ: "--- /etc/app.conf (on host)\n+++ /etc/app.conf (wanted)\n@@ -1 +1 @@\n-port = 80\n+port = 8080\n", write: "port = 8080\n", mode: "600"},
		// SPEC §6: content with a secret is never diffed (sizes and
		// hashes only), so that an older value on the host stays unseen.
		{name: "secret kept out of the diff", s: file("password = hunter2\n"), fs: []frame.Frame{statOf(frame.Stat, "password = x\n", "600", "root", "root"), payload(frame.Cur, "password = x\n")},
			drifted: true, differ: "content differs (secret): on host 13 bytes, sha256 " + plan.SHA256Hex([]byte("password = x\n")) + "; wanted 19 bytes, sha256 " + plan.SHA256Hex([]byte("password = hunter2\n")), write: "password = hunter2\n", mode: "600"},
		{name: "file content, no diff", s: &plan.Step{Action: "file", Path: "/bin/tool", Content: []byte{0, 1}}, fs: []frame.Frame{statOf(frame.Stat, "xyz", "755", "root", "root")},
			drifted: true, differ: "content differs (3 bytes, want 2)", write: "\x00\x01", mode: "755"},
		{name: "attributes", s: &plan.Step{Action: "file", Path: "/f", Content: []byte("a"), Mode: "0600", Owner: "app", Group: "app"},
			fs:      []frame.Frame{statOf(frame.Stat, "a", "644", "root", "wheel")},
			drifted: true, differ: "mode 0644 -> 0600\nowner root -> app\ngroup wheel -> app", write: "a", mode: "0600"},
		{name: "an earlier step writes the file", s: file("a\n"), fs: []frame.Frame{statOf(frame.Stat, "a\n", "644", "root", "root")},
			pending: map[string]*[]byte{"/etc/app.conf": {'b'}}, drifted: true, differ: "an earlier step of the document changes it", write: "a\n", mode: "644"},
		{name: "not a regular file", s: file("a\n"), fs: []frame.Frame{fr(frame.Stat, "2")}, status: Failed,
			errText: "/etc/app.conf exists but is not a regular file"},
		{name: "absent, present", s: &plan.Step{Action: "file", Path: "/f", Absent: true}, fs: []frame.Frame{fr(frame.Stat, "1")},
			drifted: true, differ: "present, should be absent"},
		{name: "absent, gone", s: &plan.Step{Action: "directory", Path: "/d", Absent: true}, fs: []frame.Frame{fr(frame.Stat, "0")}},
		{name: "directory missing", s: &plan.Step{Action: "directory", Path: "/d"}, fs: []frame.Frame{fr(frame.Stat, "0")}, drifted: true, differ: "missing"},
		{name: "no report", s: file("a\n"), status: Failed, errText: "the check did not report (the script stopped early)"},
		{name: "line found by the host", s: &plan.Step{Action: "line", Path: "/f", Line: "x=1"}, fs: []frame.Frame{statOf(frame.Stat, "x=1\n", "644", "root", "root"), fr(frame.Has, "1")}},
		{name: "line edited in", s: &plan.Step{Action: "line", Path: "/f", Line: "x=2", LineRe: "^x="},
			fs:      []frame.Frame{statOf(frame.Stat, "x=1\n", "640", "root", "root"), fr(frame.Has, "0"), payload(frame.Cur, "x=1\n")},
			drifted: true, differ: "--- /f (on host)\n+++ /f (wanted)\n@@ -1 +1 @@\n-x=1\n+x=2\n", write: "x=2\n", mode: "640"},
		{name: "line on top of an earlier step's edit", s: &plan.Step{Action: "line", Path: "/f", Line: "y=1"},
			fs:      []frame.Frame{statOf(frame.Stat, "", "640", "root", "root"), fr(frame.Has, "1")},
			pending: map[string]*[]byte{"/f": {'x', '\n'}}, drifted: true, differ: "--- /f (on host)\n+++ /f (wanted)\n", write: "x\ny=1\n", mode: "640"},
		{name: "line, no file", s: &plan.Step{Action: "line", Path: "/f", Line: "x=1"}, fs: []frame.Frame{fr(frame.Stat, "0")}, status: Failed,
			errText: "/f does not exist (set create = true to create it)"},
		{name: "line, bad regexp", s: &plan.Step{Action: "line", Path: "/f", Line: "x=1", LineRe: "("}, fs: []frame.Frame{statOf(frame.Stat, "", "640", "root", "root")}, status: Failed,
			errText: "regexp: error parsing regexp: missing closing ): `(`"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Check(tc.s, tc.fs, Host{Red: red, Pending: tc.pending})
			if v.Status != tc.status || v.Drifted != tc.drifted || !strings.HasPrefix(v.Differ, tc.differ) || (tc.differ == "") != (v.Differ == "") || v.Error != tc.errText {
				t.Fatalf("status %d, drifted %v, differ %q, error %q", v.Status, v.Drifted, v.Differ, v.Error)
			}
			if tc.status == Pending && (string(v.Apply.Write) != tc.write || v.Apply.Mode != tc.mode) {
				t.Errorf("writes %q mode %q, want %q mode %q", v.Apply.Write, v.Apply.Mode, tc.write, tc.mode)
			}
		})
	}
}

// A patch scan that finds updates is final: drifted, nothing applied.
// With install, the same updates are what the apply phase installs.
func TestCheckPatch(t *testing.T) {
	fs := []frame.Frame{fr(frame.State, "apt"), payload(frame.List, "libssl3\nopenssl\n")}
	v := Check(&plan.Step{Action: "patch"}, fs, Host{})
	if v.Status != Drifted || !v.Drifted || v.Differ != "2 pending updates (apt):\nlibssl3\nopenssl" {
		t.Fatalf("scan: %+v", v)
	}
	v = Check(&plan.Step{Action: "patch", PatchInstall: true}, fs, Host{})
	if v.Status != Pending || !v.Drifted || v.Apply.Commands != "dl_patch_install 'apt'" {
		t.Fatalf("install: %+v", v)
	}
	v = Check(&plan.Step{Action: "patch"}, []frame.Frame{fr(frame.State, "apt"), payload(frame.List, "")}, Host{})
	if v.Status != Pending || v.Drifted || v.Differ != "" {
		t.Fatalf("none pending: %+v", v)
	}
	v = Check(&plan.Step{Action: "patch"}, fs, Host{PowerShell: true})
	if v.Status != Failed || v.Error != "action not available in this version of driftless: patch runs on Linux and macOS hosts; on Windows use a powershell step" {
		t.Fatalf("on Windows: %+v", v)
	}
	v = Check(&plan.Step{Action: "package", Names: []string{"jq"}}, []frame.Frame{fr(frame.State, "none"), payload(frame.List, "")}, Host{})
	if v.Status != Failed || v.Error != "no supported package manager found on the host (apt, dnf, yum, apk, zypper, pacman, brew)" {
		t.Fatalf("no manager: %+v", v)
	}
}

// Which steps the check script (in apply mode) already corrected.
func TestCorrectedByCheck(t *testing.T) {
	for _, tc := range []struct {
		s    *plan.Step
		fs   []frame.Frame
		want bool
	}{
		{&plan.Step{Action: "file"}, []frame.Frame{fr(frame.Stat, "0"), fr(frame.Applied, "1")}, true},
		{&plan.Step{Action: "file"}, []frame.Frame{fr(frame.Stat, "0")}, false},
		{&plan.Step{Action: "shell", HasCheck: true}, []frame.Frame{fr(frame.Check, "1"), fr(frame.Run, "0")}, true},
		{&plan.Step{Action: "shell"}, []frame.Frame{fr(frame.Run, "0")}, false},
		{&plan.Step{Action: "package"}, []frame.Frame{fr(frame.Run, "0")}, false},
	} {
		if got := CorrectedByCheck(tc.s, tc.fs); got != tc.want {
			t.Errorf("%s %v: %v", tc.s.Action, tc.fs, got)
		}
	}
}
