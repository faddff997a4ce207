package runner

import (
	"context"
	"embed"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/runner/plan"
	"github.com/driftless-dev/driftless/transport"

	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/internal/configtest"
	"github.com/driftless-dev/driftless/internal/diag"
	"github.com/driftless-dev/driftless/journal"
)

// testDocs holds the documents these in-package tests run, in
// testdata/docs.
//
//go:embed testdata/docs
var testDocs embed.FS

// shConn runs scripts with the local sh and records every command line.
type shConn struct {
	home  string
	lines []string
}

func (c *shConn) Run(ctx context.Context, cmd *transport.Command) (int, error) {
	c.lines = append(c.lines, cmd.Script)
	x := exec.CommandContext(ctx, "sh", "-c", cmd.Script)
	x.Env = append(os.Environ(), "HOME="+c.home)
	x.Stdin, x.Stdout, x.Stderr = cmd.Stdin, cmd.Stdout, cmd.Stderr
	err := x.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), nil
	}
	return 0, err
}
func (c *shConn) Close() error { return nil }

// Secrets never appear on a command line of the host (where ps shows
// them to every user), nor in results.
func TestSecretsStayOffCommandLines(t *testing.T) {
	src := configtest.Doc(testDocs, "secret.toml")
	d := parseDoc(t, src)
	const secret = "hunter2-very-secret"
	red := &plan.Redactor{}
	red.Add(secret)
	scope := &documents.Scope{Params: map[string]documents.Value{"pw": documents.Str(secret)}, HostName: "h"}
	steps := plan.Plan(d, scope, plan.Options{Secrets: red, Docs: func(string) *documents.Document { return nil }})
	conn := &shConn{home: t.TempDir()}
	h := &hostRun{conn: conn, steps: steps, red: red}
	if err := h.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h.results[0].Status != journal.StatusCorrected || h.results[1].Status != journal.StatusSuccess {
		t.Fatalf("results: %+v", h.results)
	}
	b, _ := os.ReadFile(filepath.Join(conn.home, "db.conf"))
	if string(b) != "password = "+secret+"\n" {
		t.Errorf("file = %q", b)
	}
	for _, line := range conn.lines {
		if strings.Contains(line, secret) {
			t.Errorf("secret on a command line: %q", line)
		}
	}
	for _, r := range h.results {
		if strings.Contains(r.Stdout+r.Stderr+r.Differ+r.Error, secret) {
			t.Errorf("secret in result %s", r.Name)
		}
	}
	// SPEC §6: content holding a secret is never diffed.
	if !strings.Contains(h.results[1].Stdout, "using ******") || !strings.Contains(h.results[0].Differ, "content differs (secret)") {
		t.Errorf("redaction: %q / %q", h.results[1].Stdout, h.results[0].Differ)
	}
}

// parseDoc parses the document d.toml of src; t fails on a problem.
func parseDoc(t *testing.T, src string) *documents.Document {
	t.Helper()
	var list diag.List
	d := documents.Parse("d.toml", "d", ".toml", []byte(src), &list)
	if err := list.Err(); err != nil {
		t.Fatal(err)
	}
	return d
}

// A converged host costs one round trip in apply mode, steps without a
// check included: the check script runs them once every step before is
// known to be in state.
func TestConvergedApplyIsOneRoundTrip(t *testing.T) {
	src := configtest.Doc(testDocs, "converged-one-round-trip.toml")
	d := parseDoc(t, src)
	conn := &shConn{home: t.TempDir()}
	runOnce := func() []journal.StepResult {
		steps := plan.Plan(d, &documents.Scope{HostName: "h"}, plan.Options{Secrets: &plan.Redactor{}, Docs: func(string) *documents.Document { return nil }})
		h := &hostRun{conn: conn, steps: steps, red: &plan.Redactor{}}
		if err := h.run(context.Background()); err != nil {
			t.Fatal(err)
		}
		return h.results
	}
	first := runOnce()
	// Everything is corrected by the first script: one round trip.
	if len(conn.lines) != 1 || first[0].Status != journal.StatusCorrected || first[1].Status != journal.StatusSuccess || first[3].Stdout != "last\n" {
		t.Fatalf("first apply: %d round trips, %+v", len(conn.lines), first)
	}
	conn.lines = nil
	second := runOnce()
	if len(conn.lines) != 1 {
		t.Errorf("converged apply took %d round trips, want 1", len(conn.lines))
	}
	want := []journal.Status{journal.StatusCompliant, journal.StatusSuccess, journal.StatusCompliant, journal.StatusSuccess}
	for i, r := range second {
		if r.Status != want[i] {
			t.Errorf("step %s: %s, want %s", r.Name, r.Status, want[i])
		}
	}
	if second[1].Stdout == "" || second[3].Stdout != "last\n" {
		t.Errorf("outputs: %q %q", second[1].Stdout, second[3].Stdout)
	}
}
