package runner_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/driftless-dev/driftless/internal/configtest"
	"github.com/driftless-dev/driftless/journal"
)

// SSM's onFailure: successAndExit and onSuccess: exit end the document
// when their step runs in the first script too: the steps after it do
// not run, and are Skipped "exited" (the host stays compliant), as when
// the apply script runs the step.
func TestDocumentEndsEarlyInTheFirstScript(t *testing.T) {
	for name, c := range map[string]struct{ control, command string }{
		"successAndExit": {"onFailure: successAndExit", "exit 3"},
		"onSuccess":      {"onSuccess: exit", "true"},
	} {
		home := t.TempDir()
		t.Setenv("HOME", home)
		cfg, _ := configtest.Dir(t, t.TempDir(), map[string]string{
			"inventory.toml":    "[hosts.me]\ntransport = \"local\"\n",
			"associations.toml": "[associations.a]\ndocument = \"doc\"\ntargets = [\"*\"]\n",
			"documents/doc.yaml": `schemaVersion: "2.2"
description: ends early
mainSteps:
  - action: aws:runShellScript
    name: first
    inputs:
      runCommand: ["` + c.command + `"]
      ` + c.control + `
  - action: aws:runShellScript
    name: second
    inputs:
      runCommand: ["touch ~/second"]
`,
		})
		h := runLocal(t, cfg, false)
		if got := statuses(h); got != "first=Success second=Skipped" {
			t.Errorf("%s: %s", name, got)
		}
		if s := h.Steps[1]; s.SkipReason != journal.SkipExited {
			t.Errorf("%s: second skipped %q (%s), want %q", name, s.SkipReason, s.Error, journal.SkipExited)
		}
		if _, err := os.Stat(filepath.Join(home, "second")); err == nil {
			t.Errorf("%s: the step after the end ran", name)
		}
		if h.Status != journal.StatusSuccess {
			t.Errorf("%s: host %s", name, h.Status)
		}
	}
}
