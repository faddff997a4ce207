package documents

import (
	"strings"
	"testing"
)

// The agent reads onFailure as a plain string and acts only on "exit" and
// "successAndExit" (agent/framework/runpluginutil): any other value, such
// as "Abort", is accepted and the document goes on.
func TestSSMOnFailureAnyValue(t *testing.T) {
	src := `schemaVersion: "2.2"
mainSteps:
- action: aws:runShellScript
  name: a
  onFailure: Abort
  inputs: {runCommand: [x]}
- action: aws:runShellScript
  name: b
  inputs: {runCommand: [x], onFailure: exit}
- action: aws:runShellScript
  name: c
  inputs: {runCommand: [x], onFailure: true}
`
	d, l := parseDoc(t, "documents/f.yaml", src)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{OnFailureContinue, OnFailureStop, OnFailureContinue} {
		if got := d.Steps[i].OnFailure; got != want {
			t.Errorf("step %d: onFailure = %q, want %q", i, got, want)
		}
	}
}

func hasErr(l interface{ Err() error }, sub string) bool {
	err := l.Err()
	return err != nil && strings.Contains(err.Error(), sub)
}

// The agent unmarshals a document and each plugin's inputs into structs,
// ignoring keys it does not know: a "$schema" at the top is accepted, an
// unknown input is a warning (with a suggestion), not a refusal.
func TestSSMIgnoredKeys(t *testing.T) {
	src := `{
  "schemaVersion": "2.2",
  "$schema": "http://amazonaws.com/schemas/ec2/v3-0/runcommand#",
  "mainSteps": [{"action": "aws:runShellScript", "name": "a",
    "inputs": {"runCommand": ["x"], "description": "installs", "workingDirectry": "/tmp"}}]
}`
	_, l := parseDoc(t, "documents/k.json", src)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	w := l.Warnings()
	if len(w) != 2 || !strings.Contains(w[0].Error(), `unknown input "description" is ignored, as the SSM agent ignores it`) ||
		!strings.Contains(w[1].Error(), `did you mean "workingDirectory"?`) {
		t.Errorf("warnings: %v", w)
	}
}

// aws:configurePackage's action given as "{{ action }}" is checked once
// rendered, per association and host, not refused at load.
func TestSSMTemplatedPackageAction(t *testing.T) {
	src := `schemaVersion: "2.2"
parameters:
  action: {type: String, default: Install}
mainSteps:
- action: aws:configurePackage
  name: pkg
  inputs: {name: nginx, action: "{{ action }}"}
`
	d, l := parseDoc(t, "documents/p.yaml", src)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	in := d.Steps[0].Input("state")
	for v, want := range map[string]string{"Install": "present", "Uninstall": "absent"} {
		got, err := in.RenderString(&Scope{Params: map[string]Value{"action": Str(v)}})
		if err != nil || got != want {
			t.Errorf("action %s: state %q, %v; want %q", v, got, err, want)
		}
	}
	if _, err := in.RenderString(&Scope{Params: map[string]Value{"action": Str("Upgrade")}}); err == nil || !strings.Contains(err.Error(), `action: expected one of Install, Uninstall, got "Upgrade"`) {
		t.Errorf("action Upgrade: %v", err)
	}
}

// Every SSM plugin driftless does not run is refused with what it does,
// why driftless does not run it, and what to use instead.
func TestSSMRefusalReasons(t *testing.T) {
	for action, want := range map[string]string{
		"aws:configureDocker": "docker with yum on Amazon Linux and Red Hat): use a package step",
		"aws:applications":    "needs Windows: use a powershell step running msiexec",
		"aws:psModule":        "installs a PowerShell module",
		"aws:runScript":       "is not a plugin of the SSM agent",
		"aws:runDockerAction": "use a shell step with the docker command instead",
		"aws:configureDaemon": "use a service step",
	} {
		// Schema 2.0: there the agent fails such a step (in 2.2 it skips
		// aws:applications and aws:psModule on Linux, see
		// TestSSMWindowsOnlyPluginSkipped).
		src := "schemaVersion: \"2.0\"\nmainSteps:\n- action: " + action + "\n  name: s\n  inputs: {}\n"
		_, l := parseDoc(t, "documents/r.yaml", src)
		if !hasErr(l, `SSM action "`+action+`" is not supported by driftless: `+action+" ") || !hasErr(l, want) {
			t.Errorf("%s: %v", action, l.Err())
		}
	}
	for action := range ssmUnsupported {
		if !strings.Contains(ssmUnsupported[action], "instead") && !strings.Contains(ssmUnsupported[action], "drop the step") && !strings.Contains(ssmUnsupported[action], "journal") {
			t.Errorf("%s: the refusal says nothing to use instead", action)
		}
	}
}

// A parameter name with a space is refused, saying that the SSM agent
// takes no value for it either.
func TestSSMParameterNameAsAgent(t *testing.T) {
	_, l := parseDoc(t, "documents/n.yaml", "schemaVersion: \"2.2\"\nparameters:\n  parameter 1: {type: String}\nmainSteps:\n- {action: aws:runShellScript, name: a, inputs: {runCommand: [x]}}\n")
	if !hasErr(l, "the SSM agent too takes no value for it") {
		t.Errorf("%v", l.Err())
	}
}
