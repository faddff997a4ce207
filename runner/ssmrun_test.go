package runner_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/journal"
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
	f := ssmFleet(t, `schemaVersion: "2.2"
parameters:
  Name:
    type: String
    default: world
mainSteps:
- action: aws:runShellScript
  name: bash
  inputs:
    runCommand:
    - "#!/bin/bash"
    - "if [[ {{ Name }} == w* ]]; then echo bash $DL_PARAM_Name; fi"
    - "arr=(a b c); echo ${#arr[@]}"
    - "stat -c '%a' \"$0\"; echo \"$0\" > ~/script-path"
- action: aws:runShellScript
  name: python
  inputs:
    runCommand:
    - "#!/usr/bin/env python3"
    - "import os, sys"
    - "print('python', os.environ['DL_PARAM_Name'], sys.argv[0] != '')"
- action: aws:runShellScript
  name: plain
  inputs:
    workingDirectory: /tmp
    runCommand:
    - "echo ${BASH_VERSION:-sh} $(pwd)"
    - "exit 0"
`)
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
	f := ssmFleet(t, `schemaVersion: "2.2"
mainSteps:
- action: aws:runShellScript
  name: nope
  inputs:
    runCommand: ["#!/no/such/interpreter", "echo never"]
- action: aws:runShellScript
  name: after
  inputs:
    runCommand: ["echo after"]
`)
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
