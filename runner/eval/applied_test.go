package eval

import (
	"testing"
	"time"

	"github.com/driftless-dev/driftless/runner/frame"
	"github.com/driftless-dev/driftless/runner/plan"
)

// A script step's run: its exit status decides, and with a check, the
// check run after it.
func TestAppliedScript(t *testing.T) {
	plain := &plan.Step{Name: "install", Action: "shell", Timeout: time.Second}
	checked := &plan.Step{Name: "install", Action: "shell", HasCheck: true, Timeout: time.Second}
	andExit := &plan.Step{Name: "install", Action: "shell", OnFailure: "successAndExit"}
	ssm := &plan.Step{Name: "install", Action: "shell", SSM: true, Timeout: time.Second}
	pwsh := &plan.Step{Name: "ps", Action: "powershell", SSM: true, Timeout: time.Second}
	for _, tc := range []struct {
		name    string
		a       plan.ApplyStep
		fs      []frame.Frame
		ps      bool
		status  Status
		errText string
		drifted string
		reboot  string
		stderr  string
		code    int // the exit code reported (0: not checked)
	}{
		{name: "ran", a: plan.ApplyStep{Step: plain}, fs: []frame.Frame{fr(frame.Run, "0")}, status: Success},
		{name: "failed", a: plan.ApplyStep{Step: plain}, fs: []frame.Frame{fr(frame.Run, "2"), payload(frame.Err, "boom\n")},
			status: Failed, errText: "exited 2", stderr: "boom\n"},
		{name: "successAndExit", a: plan.ApplyStep{Step: andExit}, fs: []frame.Frame{fr(frame.Run, "1")},
			status: Success, errText: "exited 1 (onFailure: successAndExit)"},
		{name: "timed out", a: plan.ApplyStep{Step: plain}, fs: []frame.Frame{fr(frame.Run, "124")}, status: TimedOut, errText: "timed out after 1s"},
		{name: "asks for a reboot", a: plan.ApplyStep{Step: plain}, fs: []frame.Frame{fr(frame.Run, "194")},
			status: Success, errText: "asked for a reboot (exit 194)", reboot: `step "install" exited 194`},
		{name: "194 on Windows is a failure", a: plan.ApplyStep{Step: plain}, ps: true, fs: []frame.Frame{fr(frame.Run, "194")},
			status: Failed, errText: "exited 194"},
		{name: "3010 on Windows asks for a reboot", a: plan.ApplyStep{Step: plain}, ps: true, fs: []frame.Frame{fr(frame.Run, "3010")},
			status: Success, errText: "asked for a reboot (exit 3010)", reboot: `step "install" exited 3010`},
		{name: "corrected", a: plan.ApplyStep{Step: checked}, fs: []frame.Frame{fr(frame.Run, "0"), fr(frame.Verify, "0")}, status: Corrected},
		{name: "check still fails", a: plan.ApplyStep{Step: checked},
			fs:     []frame.Frame{fr(frame.Run, "0"), payload(frame.Err, "ran\n"), fr(frame.Verify, "1"), payload(frame.Err, "no app\n")},
			status: Failed, errText: "run succeeded but the check still fails (exit 1)", stderr: "ran\n[check]\nno app\n"},
		{name: "check times out", a: plan.ApplyStep{Step: checked}, fs: []frame.Frame{fr(frame.Run, "0"), fr(frame.Verify, "124")},
			status: TimedOut, errText: "run succeeded but its check timed out after 1s"},
		{name: "recheck passes", a: plan.ApplyStep{Step: checked, Recheck: true}, fs: []frame.Frame{fr(frame.Recheck, "0")}, status: Compliant},
		{name: "recheck fails", a: plan.ApplyStep{Step: checked, Recheck: true}, fs: []frame.Frame{fr(frame.Recheck, "1"), fr(frame.Run, "0"), fr(frame.Verify, "0")},
			status: Corrected, drifted: "check failed after an earlier step was corrected"},
		{name: "no report", a: plan.ApplyStep{Step: plain}, status: Failed, errText: "the step did not report (the script stopped early)"},
		{name: "SSM timed out", a: plan.ApplyStep{Step: ssm}, fs: []frame.Frame{fr(frame.Run, "124")}, status: TimedOut, errText: "timed out after 1s", code: 137},
		{name: "SSM timed out on Windows", a: plan.ApplyStep{Step: ssm}, ps: true, fs: []frame.Frame{fr(frame.Run, "124")}, status: TimedOut, errText: "timed out after 1s", code: -1},
		{name: "no pwsh", a: plan.ApplyStep{Step: pwsh}, fs: []frame.Frame{fr(frame.Run, "1", frame.PwshMissing), payload(frame.Err, "pwsh not found\n")},
			status: Failed, errText: "pwsh not found", code: 1, stderr: "pwsh not found\n"},
		{name: "pwsh exit 1", a: plan.ApplyStep{Step: pwsh}, fs: []frame.Frame{fr(frame.Run, "1")}, status: Failed, errText: "exited 1", code: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Applied(tc.a, tc.fs, Host{PowerShell: tc.ps})
			if tc.code != 0 && (r.ExitCode == nil || *r.ExitCode != tc.code) {
				t.Errorf("exit code %v, want %d", r.ExitCode, tc.code)
			}
			if r.Status != tc.status || r.Error != tc.errText || r.Drifted != tc.drifted || r.Reboot != tc.reboot {
				t.Fatalf("result %+v", r)
			}
			if tc.stderr != "" && (r.Out == nil || r.Out.Stderr != tc.stderr) {
				t.Errorf("output %+v, want stderr %q", r.Out, tc.stderr)
			}
		})
	}
}

// A package, service or patch step: its commands' exit status, then the
// state they left.
func TestAppliedSystem(t *testing.T) {
	pkg := &plan.Step{Name: "tools", Action: "package", Names: []string{"curl", "jq"}, PkgWant: "present"}
	svc := &plan.Step{Name: "web", Action: "service", Service: "nginx", SvcRunning: ptr(true)}
	patch := &plan.Step{Name: "updates", Action: "patch", PatchInstall: true, RebootTimeout: 10 * time.Minute}
	for _, tc := range []struct {
		name    string
		s       *plan.Step
		fs      []frame.Frame
		status  Status
		errText string
		reboot  string
	}{
		{name: "installed", s: pkg, fs: []frame.Frame{fr(frame.Run, "0"), fr(frame.After, "apt"), payload(frame.List, "ok curl\nok jq\n")}, status: Corrected},
		{name: "still missing", s: pkg, fs: []frame.Frame{fr(frame.Run, "0"), fr(frame.After, "apt"), payload(frame.List, "ok curl\nmissing jq\n")},
			status: Failed, errText: "still out of state after the change: jq"},
		{name: "manager failed", s: pkg, fs: []frame.Frame{fr(frame.Run, "100"), payload(frame.Err, "Reading lists\nE: Unable to locate package jq\n")},
			status: Failed, errText: "exited 100: E: Unable to locate package jq"},
		{name: "no state after", s: pkg, fs: []frame.Frame{fr(frame.Run, "0")}, status: Failed, errText: "no state reported after the change"},
		{name: "service started", s: svc, fs: []frame.Frame{fr(frame.Run, "0"), fr(frame.After, "systemd", "1", "1", "0")}, status: Corrected},
		{name: "service still stopped", s: svc, fs: []frame.Frame{fr(frame.Run, "0"), fr(frame.After, "systemd", "1", "0", "0")},
			status: Failed, errText: "service is stopped after the change"},
		{name: "patched, reboot", s: patch, fs: []frame.Frame{fr(frame.Run, "0"), fr(frame.Reboot), fr(frame.After, "apt"), payload(frame.List, "")},
			status: Corrected, reboot: `step "updates": the OS needs a reboot after patching`},
		{name: "updates left", s: patch, fs: []frame.Frame{fr(frame.Run, "0"), fr(frame.After, "apt"), payload(frame.List, "openssl\n")},
			status: Failed, errText: "1 updates still pending after install"},
		{name: "no report", s: svc, status: Failed, errText: "the step did not report (the script stopped early)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Applied(plan.ApplyStep{Step: tc.s}, tc.fs, Host{})
			if r.Status != tc.status || r.Error != tc.errText || r.Reboot != tc.reboot {
				t.Fatalf("result %+v", r)
			}
			if tc.reboot != "" && r.RebootTimeout != tc.s.RebootTimeout {
				t.Errorf("reboot timeout %s", r.RebootTimeout)
			}
		})
	}
}

// A directory, file or line step: the correction's status, then what is
// at the path after it.
func TestAppliedPath(t *testing.T) {
	file := &plan.Step{Action: "file", Path: "/f", Content: []byte("a\n")}
	for _, tc := range []struct {
		name    string
		a       plan.ApplyStep
		fs      []frame.Frame
		status  Status
		errText string
	}{
		{name: "written", a: plan.ApplyStep{Step: file, Write: []byte("a\n")}, fs: []frame.Frame{fr(frame.Applied, "1"), statOf(frame.After, "a\n", "644", "root", "root")}, status: Corrected},
		{name: "could not write", a: plan.ApplyStep{Step: file, Write: []byte("a\n")}, fs: []frame.Frame{fr(frame.Applied, "0"), payload(frame.Err, "Permission denied\nmore\n")},
			status: Failed, errText: "could not correct: Permission denied"},
		{name: "other content", a: plan.ApplyStep{Step: file, Write: []byte("a\n")}, fs: []frame.Frame{fr(frame.Applied, "1"), statOf(frame.After, "b\n", "644", "root", "root")},
			status: Failed, errText: "content differs after it was written"},
		{name: "missing", a: plan.ApplyStep{Step: file}, fs: []frame.Frame{fr(frame.Applied, "1"), fr(frame.After, "0")}, status: Failed, errText: "missing after it was written"},
		{name: "removed", a: plan.ApplyStep{Step: &plan.Step{Action: "directory", Path: "/d", Absent: true}}, fs: []frame.Frame{fr(frame.Applied, "1"), fr(frame.After, "0")}, status: Corrected},
		{name: "still present", a: plan.ApplyStep{Step: &plan.Step{Action: "file", Path: "/f", Absent: true}}, fs: []frame.Frame{fr(frame.Applied, "1"), fr(frame.After, "1")},
			status: Failed, errText: "still present after removal"},
		{name: "line written", a: plan.ApplyStep{Step: &plan.Step{Action: "line", Path: "/f", Line: "x"}, Write: []byte("x\n")},
			fs: []frame.Frame{fr(frame.Applied, "1"), statOf(frame.After, "x\n", "644", "root", "root")}, status: Corrected},
		// SPEC §6: a failed step always carries a non-empty reason.
		{name: "no report", a: plan.ApplyStep{Step: file}, status: Failed, errText: "the step did not report (the script stopped early)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := Applied(tc.a, tc.fs, Host{}); r.Status != tc.status || r.Error != tc.errText {
				t.Fatalf("result %+v", r)
			}
		})
	}
}
