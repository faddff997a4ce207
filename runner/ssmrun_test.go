package runner_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/configtest"
	"github.com/driftless-dev/driftless/internal/sshtest"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner"
)

// ssmFleet starts one sshd host with the SSM document doc (YAML) as the
// association "s".
func ssmFleet(t *testing.T, doc string) *fleet {
	t.Helper()
	return newFleet(t, 1, "[associations.s]\ndocument = \"s\"\ntargets = [\"*\"]\n", "s.yaml", doc)
}

// An aws:runShellScript step runs as the SSM agent runs it: its lines
// joined into a file, made executable and run, so that a #! line picks
// the interpreter (no #!: sh). Parameters reach it as DL_PARAM_* and as
// {{ }} text; the file is private and removed after.
func TestSSMScriptInterpreter(t *testing.T) {
	f := ssmFleet(t, configtest.Doc(testDocs, "ssm-interpreter.yaml"))
	h := f.run(t, false, nil).Hosts[0]
	if got := statuses(h); got != "bash=Success python=Success plain=Success" {
		t.Fatalf("statuses: %s (%+v)", got, h.Steps)
	}
	if got := h.Steps[0].Stdout; got != "bash world\n3\n700\n" {
		t.Errorf("bash step printed %q (stderr %q)", got, h.Steps[0].Stderr)
	}
	if got := h.Steps[1].Stdout; got != "python world True\n" {
		t.Errorf("python step printed %q (stderr %q)", got, h.Steps[1].Stderr)
	}
	if got := h.Steps[2].Stdout; got != "sh /tmp\n" {
		t.Errorf("plain step printed %q (stderr %q)", got, h.Steps[2].Stderr)
	}
	p, err := os.ReadFile(filepath.Join(f.hosts[0].Home, "script-path"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(strings.TrimSpace(string(p))); !os.IsNotExist(err) {
		t.Errorf("the script file %s was left behind (%v)", p, err)
	}
}

// A step's script that fails to start with its interpreter fails the
// step (not the run), with the shell's reason, and the document goes on.
func TestSSMScriptMissingInterpreter(t *testing.T) {
	f := ssmFleet(t, configtest.Doc(testDocs, "ssm-missing-interpreter.yaml"))
	h := f.run(t, false, nil).Hosts[0]
	if got := statuses(h); got != "nope=Failed after=Success" {
		t.Fatalf("statuses: %s (%+v)", got, h.Steps)
	}
	if c := h.Steps[0].ExitCode; c == nil || *c != 127 || h.Steps[0].Stdout != "" {
		t.Errorf("nope: %+v", h.Steps[0])
	}
	if h.Status != journal.StatusFailed {
		t.Errorf("host %s", h.Status)
	}
}

// ssmSteps is an SSM document of shell steps, each "name: command" or
// "name: command | control" (an input such as "onFailure: exit", written
// in the step's inputs, where the SSM agent reads it).
func ssmSteps(steps ...string) string {
	var b strings.Builder
	b.WriteString("schemaVersion: \"2.2\"\nmainSteps:\n")
	for _, st := range steps {
		name, rest, _ := strings.Cut(st, ": ")
		cmd, control, _ := strings.Cut(rest, " | ")
		b.WriteString("- action: aws:runShellScript\n  name: " + name + "\n")
		b.WriteString("  inputs:\n    runCommand: [" + strconv.Quote(cmd) + "]\n")
		if control != "" {
			b.WriteString("    " + control + "\n")
		}
	}
	return b.String()
}

// Exit 168 stops the document with the step a success, 169 with it
// failed; the steps after are Skipped (a finally step still runs), in
// the first script as in the apply script (after a failed step, which
// does not stop an SSM document). onFailure: successAndExit stops it as a
// success, the step's exit code 168 as the agent reports it.
func TestSSMExitCodesStopTheDocument(t *testing.T) {
	for name, c := range map[string]struct {
		doc        string
		want, host string
		skip       string
		code       int // of step "stop"
	}{
		"168": {ssmSteps("stop: exit 168", "next: touch ~/next", "fin: touch ~/fin | finallyStep: true"),
			"stop=Success next=Skipped fin=Success", "Success", journal.SkipExited, 168},
		"169": {ssmSteps("stop: exit 169", "next: touch ~/next", "fin: touch ~/fin | finallyStep: true"),
			"stop=Failed next=Skipped fin=Success", "Failed", journal.SkipStopped, 169},
		"168 after a failure": {ssmSteps("fails: exit 2", "stop: exit 168", "next: touch ~/next", "fin: touch ~/fin | finallyStep: true"),
			"fails=Failed stop=Success next=Skipped fin=Success", "Failed", journal.SkipExited, 168},
		"169 after a failure": {ssmSteps("fails: exit 2", "stop: exit 169", "next: touch ~/next", "fin: touch ~/fin | finallyStep: true"),
			"fails=Failed stop=Failed next=Skipped fin=Success", "Failed", journal.SkipStopped, 169},
		"successAndExit": {ssmSteps("stop: exit 5 | onFailure: successAndExit", "next: touch ~/next", "fin: touch ~/fin | finallyStep: true"),
			"stop=Success next=Skipped fin=Success", "Success", journal.SkipExited, 168},
		"successAndExit after a failure": {ssmSteps("fails: exit 2", "stop: exit 5 | onFailure: successAndExit", "next: touch ~/next", "fin: touch ~/fin | finallyStep: true"),
			"fails=Failed stop=Success next=Skipped fin=Success", "Failed", journal.SkipExited, 168},
		"onFailure exit": {ssmSteps("stop: exit 4 | onFailure: exit", "next: touch ~/next", "fin: touch ~/fin | finallyStep: true"),
			"stop=Failed next=Skipped fin=Success", "Failed", journal.SkipStopped, 4},
		"onSuccess exit": {ssmSteps("stop: true | onSuccess: exit", "next: touch ~/next", "fin: touch ~/fin | finallyStep: true"),
			"stop=Success next=Skipped fin=Success", "Success", journal.SkipExited, 0},
	} {
		t.Run(name, func(t *testing.T) {
			f := ssmFleet(t, c.doc)
			h := f.run(t, false, nil).Hosts[0]
			if got := statuses(h); got != c.want || string(h.Status) != c.host {
				t.Fatalf("%s %s, want %s %s (%+v)", h.Status, got, c.host, c.want, h.Steps)
			}
			for _, s := range h.Steps {
				switch s.Name {
				case "stop":
					if s.ExitCode == nil || *s.ExitCode != c.code {
						t.Errorf("stop: exit code %v, want %d (%s)", s.ExitCode, c.code, s.Error)
					}
				case "next":
					if s.SkipReason != c.skip {
						t.Errorf("next skipped %q (%s), want %q", s.SkipReason, s.Error, c.skip)
					}
				}
			}
			home := f.hosts[0].Home
			if _, err := os.Stat(filepath.Join(home, "next")); err == nil {
				t.Error("the step after the stop ran")
			}
			if _, err := os.Stat(filepath.Join(home, "fin")); err != nil {
				t.Error("the finally step did not run")
			}
		})
	}
}

// An SSM step that exits 194 reboots the host; after it the runner runs
// that step again and goes on from there, as the SSM agent does: the
// steps before it are not run again and keep their results. When the
// step runs in the apply script (after a failed step), the steps after
// it wait for the reboot too. The step's maxAttempts does not make it
// run more than once before the reboot or after it (the agent never
// reads maxAttempts).
func TestSSMRebootResumesAtTheStep(t *testing.T) {
	for name, first := range map[string]string{
		"first script": "before: echo run >> ~/before-runs",
		"apply script": "before: echo run >> ~/before-runs; exit 3",
	} {
		t.Run(name, func(t *testing.T) {
			doc := ssmSteps(first,
				"update: echo run >> ~/update-runs; [ -f ~/updated ] && exit 0; touch ~/updated; exit 194 | maxAttempts: 3",
				"after: echo run >> ~/after-runs")
			h, cfg, j, dial := rebootFleet(t, "s.yaml", doc)
			r := runner.New(runner.Options{Config: cfg, Dial: dial, Journal: j, RebootCommand: `touch "$FAKE_REBOOT"`, RebootPoll: 300 * time.Millisecond, RebootTimeout: 30 * time.Second})
			t.Cleanup(func() { r.Close() })
			res, err := r.Run(context.Background(), runner.Job{Assoc: cfg.Associations[0]})
			if err != nil {
				t.Fatal(err)
			}
			hr := res.Hosts[0]
			want := "before=Success update=Success after=Success"
			if strings.Contains(first, "exit 3") {
				want = "before=Failed update=Success after=Success"
			}
			if h.bootCount() != 2 || statuses(hr) != want {
				t.Fatalf("boots %d, %s %s: %s", h.bootCount(), hr.Status, hr.Error, statuses(hr))
			}
			for file, runs := range map[string]string{"before-runs": "run\n", "update-runs": "run\nrun\n", "after-runs": "run\n"} {
				if b, _ := os.ReadFile(filepath.Join(h.home, file)); string(b) != runs {
					t.Errorf("%s: %q, want %q", file, b, runs)
				}
			}
			if !strings.Contains(hr.Detail, `document resumed at step "update"`) {
				t.Errorf("detail: %q", hr.Detail)
			}
		})
	}
}

// A check run records an SSM step Skipped (no-check) and leaves the
// association's compliance as the last apply left it: NON_COMPLIANT after
// a failed apply, until an apply succeeds.
func TestSSMCheckKeepsTheLastApplysCompliance(t *testing.T) {
	f := ssmFleet(t, ssmSteps("work: [ -f ~/fixed ]"))
	j, err := journal.Open(filepath.Join(f.dir, "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	compliance := func() string {
		rows, err := j.Status(context.Background(), journal.StatusFilter{})
		if err != nil || len(rows) != 1 {
			t.Fatalf("status: %v %+v", err, rows)
		}
		return rows[0].Compliance
	}
	if h := f.run(t, false, j).Hosts[0]; statuses(h) != "work=Failed" {
		t.Fatalf("apply: %s", statuses(h))
	}
	h := f.run(t, true, j).Hosts[0]
	if statuses(h) != "work=Skipped" || h.Steps[0].SkipReason != journal.SkipNoCheck {
		t.Fatalf("check: %s %q", statuses(h), h.Steps[0].SkipReason)
	}
	if c := compliance(); c != journal.NonCompliant {
		t.Errorf("after a failed apply and a check: %s", c)
	}
	os.WriteFile(filepath.Join(f.hosts[0].Home, "fixed"), nil, 0o644)
	f.run(t, false, j)
	f.run(t, true, j)
	if c := compliance(); c != journal.Compliant {
		t.Errorf("after a good apply and a check: %s", c)
	}
}

// fakePwsh stands in for pwsh on an sshd test host: it records its
// arguments and the script it got in HOME, prints its working directory
// and DL_PARAM_Name, and exits with the code of the script's last
// "exit N" line (else 0).
const fakePwsh = `#!/bin/sh
printf '%s\n' "$@" >"$HOME/pwsh-args"
for f; do :; done
cp -- "$f" "$HOME/pwsh-script"
echo "pwsh $(pwd) $DL_PARAM_Name"
code=$(sed -n 's/^exit \([0-9]*\)$/\1/p' "$f" | tail -n 1)
exit "${code:-0}"
`

// An aws:runPowerShellScript step on a Linux host runs with pwsh, as the
// SSM agent runs it there: its lines in a private .ps1 file given to
// "pwsh -NoProfile -NonInteractive -File", with its parameters and
// working directory; its exit codes count as a shell script's (a failure
// does not stop the document, 168 stops it).
func TestSSMPowerShellRunsWithPwsh(t *testing.T) {
	f := newFleetOpts(t, 1, sshtest.Options{Programs: map[string]string{"pwsh": fakePwsh}},
		"[associations.s]\ndocument = \"s\"\ntargets = [\"*\"]\n", "s.yaml", configtest.Doc(testDocs, "ssm-pwsh.yaml"))
	h := f.run(t, false, nil).Hosts[0]
	if got := statuses(h); got != "ps=Success fails=Failed stops=Success after=Skipped" {
		t.Fatalf("statuses: %s (%+v)", got, h.Steps)
	}
	if got := h.Steps[0].Stdout; got != "pwsh /tmp world\n" {
		t.Errorf("ps printed %q (stderr %q)", got, h.Steps[0].Stderr)
	}
	if c := h.Steps[1].ExitCode; c == nil || *c != 3 {
		t.Errorf("fails: %+v", h.Steps[1])
	}
	if c := h.Steps[2].ExitCode; c == nil || *c != 168 {
		t.Errorf("stops: %+v", h.Steps[2])
	}
	args, err := os.ReadFile(filepath.Join(f.hosts[0].Home, "pwsh-args"))
	if err != nil {
		t.Fatal(err)
	}
	a := strings.Split(strings.TrimSpace(string(args)), "\n")
	if len(a) != 4 || strings.Join(a[:3], " ") != "-NoProfile -NonInteractive -File" || !strings.HasSuffix(a[3], ".ps1") {
		t.Errorf("pwsh got %q", a)
	}
	if _, err := os.Stat(a[len(a)-1]); !os.IsNotExist(err) {
		t.Errorf("the script file %s is still there (%v)", a[len(a)-1], err)
	}
	// The last run's script: the one that exited 168.
	if got, _ := os.ReadFile(filepath.Join(f.hosts[0].Home, "pwsh-script")); string(got) != "exit 168\n" {
		t.Errorf("pwsh ran %q", got)
	}
}

// Without pwsh on the host, an aws:runPowerShellScript step is Failed
// with "pwsh not found" and exit code 1 (the agent's code for a command
// it cannot start), and the document goes on; a check run leaves it to
// apply mode (no check). A native powershell step is still skipped.
func TestSSMPowerShellWithoutPwsh(t *testing.T) {
	f := ssmFleet(t, configtest.Doc(testDocs, "ssm-without-pwsh.yaml"))
	h := f.run(t, false, nil).Hosts[0]
	if got := statuses(h); got != "ps=Failed after=Success" {
		t.Fatalf("statuses: %s (%+v)", got, h.Steps)
	}
	ps := h.Steps[0]
	if ps.Error != "pwsh not found" || ps.ExitCode == nil || *ps.ExitCode != 1 || ps.Stdout != "" {
		t.Errorf("ps: %+v", ps)
	}
	h = f.run(t, true, nil).Hosts[0]
	if got := statuses(h); got != "ps=Skipped after=Skipped" {
		t.Errorf("check: %s (%+v)", got, h.Steps)
	}
}

// A parameter with interpolationType ENV_VAR reaches the document's
// scripts as SSM_<name> too, as the SSM agent sets it (a value with shell
// syntax in it stays data there), and {{ name }} is still substituted;
// a parameter without it has no SSM_ variable.
func TestSSMInterpolationEnvVar(t *testing.T) {
	f := newFleet(t, 1, "[associations.s]\ndocument = \"s\"\ntargets = [\"*\"]\nparameters = { Msg = \"a'b $(id) c\" }\n", "s.yaml", `schemaVersion: "2.2"
parameters:
  Msg:
    type: String
    interpolationType: ENV_VAR
  Other:
    type: String
    default: x
mainSteps:
- action: aws:runShellScript
  name: show
  inputs:
    runCommand:
    - '#!/bin/bash'
    - 'printf "%s\n" "$SSM_Msg" "${SSM_Other-unset}"'
    - 'echo "{{ Other }}"'
`)
	h := f.run(t, false, nil).Hosts[0]
	if got := statuses(h) + " " + h.Steps[0].Stdout; got != "show=Success a'b $(id) c\nunset\nx\n" {
		t.Errorf("got %q (stderr %q)", got, h.Steps[0].Stderr)
	}
}

// The SSM agent never reads maxAttempts in a Command document: a step
// runs once, whatever its exit code (a failure, 168, 169), and a step
// that exits 194 runs again only after the reboot (see
// TestSSMRebootResumesAtTheStep), not as an attempt.
func TestSSMMaxAttemptsIgnored(t *testing.T) {
	for name, c := range map[string]struct{ code, want string }{
		"failure": {"3", "try=Failed next=Success"},
		"168":     {"168", "try=Success next=Skipped"},
		"169":     {"169", "try=Failed next=Skipped"},
	} {
		t.Run(name, func(t *testing.T) {
			f := ssmFleet(t, ssmSteps("try: echo x >> ~/tries; exit "+c.code+" | maxAttempts: 3", "next: true"))
			h := f.run(t, false, nil).Hosts[0]
			if got := statuses(h); got != c.want {
				t.Fatalf("statuses: %s (%+v)", got, h.Steps)
			}
			if b, _ := os.ReadFile(filepath.Join(f.hosts[0].Home, "tries")); string(b) != "x\n" {
				t.Errorf("the step ran %d times, want once", strings.Count(string(b), "x"))
			}
		})
	}
}

// Controls written on the step instead of in its inputs do nothing, as
// with the SSM agent: onFailure: exit there does not stop the document.
func TestSSMStepLevelControlsIgnored(t *testing.T) {
	f := ssmFleet(t, `schemaVersion: "2.2"
mainSteps:
- action: aws:runShellScript
  name: fails
  onFailure: exit
  inputs: {runCommand: ["exit 2"]}
- action: aws:runShellScript
  name: next
  inputs: {runCommand: ["touch ~/next"]}
`)
	h := f.run(t, false, nil).Hosts[0]
	if got := statuses(h); got != "fails=Failed next=Success" {
		t.Fatalf("statuses: %s (%+v)", got, h.Steps)
	}
}

// On a Linux host the SSM agent skips a schema 2.2 step of a plugin it
// has only on Windows (aws:applications) and goes on; so does driftless.
func TestSSMWindowsOnlyPluginSkippedOnLinux(t *testing.T) {
	f := ssmFleet(t, `{"schemaVersion": "2.2", "mainSteps": [
  {"action": "aws:applications", "name": "msi", "inputs": {"action": "Install", "source": "https://example.invalid/a.msi"}},
  {"action": "aws:runShellScript", "name": "after", "inputs": {"runCommand": ["echo after"]}}]}`)
	h := f.run(t, false, nil).Hosts[0]
	if got := statuses(h) + " " + string(h.Status); got != "msi=Skipped after=Success Success" {
		t.Fatalf("got %s (%+v)", got, h.Steps)
	}
	if h.Steps[0].SkipReason != journal.SkipPrecondition {
		t.Errorf("skip reason %q (%s)", h.Steps[0].SkipReason, h.Steps[0].Error)
	}
}
