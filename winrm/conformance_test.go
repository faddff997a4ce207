package winrm_test

import (
	"context"
	"io"
	"testing"

	"github.com/driftless-dev/driftless/transport"
	"github.com/driftless-dev/driftless/transport/transporttest"
	"github.com/driftless-dev/driftless/winrm"
	"github.com/driftless-dev/driftless/winrm/winrmtest"
)

// The transport passes the conformance suite against the WinRM test
// server, whose fake host runs the suite's PowerShell scripts with
// transporttest.PowerShell.
func TestConformance(t *testing.T) {
	t.Parallel()
	ps := transporttest.NewPowerShell()
	srv, _ := newHost(t, winrmtest.Options{}, func(ctx context.Context, p *winrmtest.Process, script string) int {
		var stdin io.Reader // a console: nothing to read
		if p.Options["WINRS_CONSOLEMODE_STDIN"] == "FALSE" {
			stdin = p.Stdin
		}
		return ps.Run(ctx, script, stdin, p.Stdout, p.Stderr)
	})
	cfg := config(t, srv, winrm.AuthNTLM)
	transporttest.Run(t, transporttest.Factory{
		New:    func(t *testing.T) transport.Conn { return dial(t, cfg) },
		Cannot: map[transporttest.Capability]string{transporttest.Signals: "Windows has no signals"},
	})
}
