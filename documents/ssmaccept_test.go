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
