package runner_test

import (
	"context"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/internal/configtest"
	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/local"
	"github.com/driftless-dev/driftless/runner"
	"github.com/driftless-dev/driftless/transport"
)

// An ad-hoc command's output is kept up to 1 MiB, cut before a UTF-8
// character rather than in its middle, and ends with a marker saying how
// many bytes were left out (docs/journal.md#output-retention).
func TestExecOutputCutBeforeACharacter(t *testing.T) {
	cfg, j := configtest.Dir(t, t.TempDir(), map[string]string{"inventory.toml": "[hosts.me]\ntransport = \"local\"\n"})
	r := runner.New(runner.Options{Config: cfg, Journal: j, Dial: func(_ context.Context, h *inventory.Host) (transport.Conn, error) {
		return local.New(h.Name), nil
	}})
	defer r.Close()
	// 1 MiB less one byte of "a", then "é" (2 bytes) across the limit.
	cmd := `head -c 1048575 /dev/zero | tr '\0' a; printf '\303\251b'`
	res, err := r.Exec(context.Background(), runner.ExecJob{Command: cmd, Hosts: []*inventory.Host{{Name: "me", Transport: "local"}}})
	if err != nil {
		t.Fatal(err)
	}
	out := res.Hosts[0].Steps[0].Stdout
	if want := strings.Repeat("a", 1<<20-1) + "\n[driftless: output truncated, 3 bytes omitted]"; out != want {
		t.Errorf("stdout ends %q, want %q", out[max(0, len(out)-60):], want[len(want)-60:])
	}
}
