package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/journal"
)

// The demo, end to end: drift found and corrected, in the journal.
func TestDemo(t *testing.T) {
	keep := filepath.Join(t.TempDir(), "demo")
	var out, errb bytes.Buffer
	code := Main([]string{"driftless", "demo", "--keep", keep}, strings.NewReader(""), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"web-baseline web-2 Success (3 Compliant, 1 Drifted)", "-workers = 64", "+workers = 4",
		"web-baseline web-2 Success (3 Compliant, 1 Corrected)", "That was driftless", "driftless -C " + filepath.Join(keep, "config") + " status",
		"$ driftless report --html " + filepath.Join(keep, "report.html"), "The report is " + filepath.Join(keep, "report.html")} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if page, err := os.ReadFile(filepath.Join(keep, "report.html")); err != nil || !strings.Contains(string(page), `<tr data-association="web-baseline">`) {
		t.Errorf("the demo's report: %v", err)
	}
	j, err := journal.Open(filepath.Join(keep, "config", ".driftless", "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	events, err := j.Drift(context.Background(), journal.DriftFilter{Host: "web-2"})
	if err != nil {
		t.Fatal(err)
	}
	var detected, corrected bool
	for _, e := range events {
		if e.Step == "config" && e.Outcome == journal.OutcomeDetected {
			detected = true
		}
		if e.Step == "config" && e.Outcome == journal.OutcomeCorrected && e.RunID == 5 {
			corrected = true
		}
	}
	if !detected || !corrected {
		t.Errorf("journal: detected=%v corrected=%v %+v", detected, corrected, events)
	}
	rows, _ := j.Status(context.Background(), journal.StatusFilter{})
	for _, r := range rows {
		if r.Compliance != journal.Compliant {
			t.Errorf("%s/%s %s at the end", r.Association, r.Host, r.Compliance)
		}
	}
}

// On a terminal: live progress with the hosts in flight, and the corrected
// steps in colour; through a pipe: plain lines and no escape codes.
func TestTerminalOutput(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("needs script(1) from util-linux for a pty")
	}
	bin := buildBinary(t)
	dir := filepath.Join(t.TempDir(), "ops")
	if out, err := exec.Command(bin, "init", dir).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	cmd := exec.Command("script", "-qec", bin+" apply -C "+dir, "/dev/null")
	cmd.Env = append(os.Environ(), "TERM=xterm-256color", "COLUMNS=120")
	cmd.Env = slicesDeleteEnv(cmd.Env, "NO_COLOR")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	s := string(out)
	for _, want := range []string{"\x1b[36mCorrected", "hosts done", "running: this-machine", "1 corrected: this-machine"} {
		if !strings.Contains(s, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, s)
		}
	}
	// The same through a pipe.
	out, err = exec.Command(bin, "check", "-C", dir).CombinedOutput()
	if err != nil || strings.Contains(string(out), "\x1b") || !strings.Contains(string(out), "baseline this-machine Success (4 Compliant)") {
		t.Errorf("piped output: %v\n%q", err, out)
	}
}

func slicesDeleteEnv(env []string, name string) []string {
	out := env[:0:0]
	for _, e := range env {
		if !strings.HasPrefix(e, name+"=") {
			out = append(out, e)
		}
	}
	return out
}
