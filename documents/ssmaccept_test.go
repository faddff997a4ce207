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
