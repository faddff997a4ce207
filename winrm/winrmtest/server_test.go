package winrmtest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/masterzen/winrm"

	"github.com/driftless-dev/driftless/winrm/winrmtest"
)

// These tests drive the server with github.com/masterzen/winrm as it is,
// without driftless's transport in between.

func start(t *testing.T, opts winrmtest.Options) *winrmtest.Server {
	t.Helper()
	srv, err := winrmtest.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func masterzen(t *testing.T, srv *winrmtest.Server, https bool, ntlm bool, user, password string) *winrm.Client {
	t.Helper()
	ep := winrm.NewEndpoint(srv.Host, srv.Port, https, false, srv.CAPEM(), nil, nil, 10*time.Second)
	params := winrm.NewParameters("PT5S", "en-US", 153600)
	if ntlm {
		params.TransportDecorator = func() winrm.Transporter { return &winrm.ClientNTLM{} }
	}
	c, err := winrm.NewClientWithParameters(ep, user, password, params)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// script is a handler that answers a PowerShell script with its own
// text, reversed on stderr, and exit code 7.
func script(ctx context.Context, p *winrmtest.Process) int {
	fmt.Fprintf(p.Stdout, "script: %s", p.Script)
	io.WriteString(p.Stderr, "oops")
	return 7
}

func TestMasterzenRunsPowerShell(t *testing.T) {
	for _, tc := range []struct {
		name        string
		https, ntlm bool
	}{
		{"http-basic", false, false},
		{"http-ntlm", false, true},
		{"https-basic", true, false},
		{"https-ntlm", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := start(t, winrmtest.Options{TLS: tc.https, Handler: script})
			c := masterzen(t, srv, tc.https, tc.ntlm, winrmtest.DefaultUser, winrmtest.DefaultPassword)
			stdout, stderr, code, err := c.RunPSWithContext(context.Background(), "Write-Output 'héllo ✓'")
			if err != nil {
				t.Fatal(err)
			}
			want := "script: $ProgressPreference = 'SilentlyContinue';Write-Output 'héllo ✓'"
			if stdout != want || stderr != "oops" || code != 7 {
				t.Fatalf("got stdout %q stderr %q code %d, want %q, oops, 7", stdout, stderr, code, want)
			}
			if got := srv.Scripts(); len(got) != 1 || got[0] != "$ProgressPreference = 'SilentlyContinue';Write-Output 'héllo ✓'" {
				t.Fatalf("recorded scripts %q", got)
			}
			ops := strings.Join(srv.Operations(), " ")
			if !strings.HasPrefix(ops, "Create Command Receive") || !strings.HasSuffix(ops, "Signal Delete") {
				t.Fatalf("operations %s", ops)
			}
			if srv.OpenShells() != 0 {
				t.Fatalf("%d shells left open", srv.OpenShells())
			}
			schemes := srv.AuthSchemes()
			for _, s := range schemes {
				if tc.ntlm && s == "Basic" {
					t.Fatalf("NTLM client sent Basic credentials: %v", schemes)
				}
			}
		})
	}
}

func TestWrongPasswordIs401(t *testing.T) {
	for _, ntlm := range []bool{false, true} {
		srv := start(t, winrmtest.Options{})
		c := masterzen(t, srv, false, ntlm, winrmtest.DefaultUser, "wrong")
		_, _, _, err := c.RunPSWithContext(context.Background(), "1")
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("ntlm=%v: err %v, want a 401", ntlm, err)
		}
		if n := len(srv.Operations()); n != 0 {
			t.Fatalf("ntlm=%v: %d operations got through", ntlm, n)
		}
	}
}

func TestStdinStreamsAndLongOutput(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320 KB: several Receives
	srv := start(t, winrmtest.Options{Handler: func(ctx context.Context, p *winrmtest.Process) int {
		in, _ := io.ReadAll(p.Stdin)
		p.Stdout.Write(big)
		fmt.Fprintf(p.Stderr, "stdin=%s", in)
		return 0
	}})
	c := masterzen(t, srv, false, false, winrmtest.DefaultUser, winrmtest.DefaultPassword)
	stdout, stderr, code, err := c.RunWithContextWithString(context.Background(), "cmd /c type con", "line 1\r\nline 2\r\n")
	if err != nil || code != 0 {
		t.Fatal(code, err)
	}
	if stdout != string(big) || stderr != "stdin=line 1\r\nline 2\r\n" {
		t.Fatalf("stdout %d bytes, stderr %q", len(stdout), stderr)
	}
	cmds := srv.Commands()
	if len(cmds) != 1 || cmds[0].PowerShell || cmds[0].CommandLine != "cmd /c type con" {
		t.Fatalf("commands %+v", cmds)
	}
}

func TestReceiveTimesOutThenCompletes(t *testing.T) {
	release := make(chan struct{})
	srv := start(t, winrmtest.Options{ReceiveTimeout: 50 * time.Millisecond, Handler: func(ctx context.Context, p *winrmtest.Process) int {
		<-release
		io.WriteString(p.Stdout, "late")
		return 0
	}})
	c := masterzen(t, srv, false, false, winrmtest.DefaultUser, winrmtest.DefaultPassword)
	time.AfterFunc(300*time.Millisecond, func() { close(release) })
	stdout, _, code, err := c.RunPSWithContext(context.Background(), "Start-Sleep 1")
	if err != nil || code != 0 || stdout != "late" {
		t.Fatalf("stdout %q code %d err %v", stdout, code, err)
	}
	if receives := srv.Count(winrmtest.OpReceive); receives < 3 {
		t.Fatalf("%d Receives: the server did not time out empty ones", receives)
	}
}

func TestDecodeCommandLine(t *testing.T) {
	enc := winrmtest.EncodeScript("Get-Date; 'ü'")
	for _, line := range []string{
		"powershell.exe -NoProfile -NonInteractive -EncodedCommand " + enc,
		"powershell -encodedcommand " + enc,
		`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe -enc ` + enc,
		"pwsh -e " + enc,
	} {
		s, ok, err := winrmtest.DecodeCommandLine(line)
		if err != nil || !ok || s != "Get-Date; 'ü'" {
			t.Errorf("%s: %q %v %v", line, s, ok, err)
		}
	}
	for _, line := range []string{"cmd /c dir", "powershell -Command Get-Date", "powershell -ExecutionPolicy Bypass -File x.ps1"} {
		if _, ok, err := winrmtest.DecodeCommandLine(line); ok || err != nil {
			t.Errorf("%s: ok %v err %v", line, ok, err)
		}
	}
	if _, ok, err := winrmtest.DecodeCommandLine("powershell -EncodedCommand !!!"); !ok || err == nil {
		t.Errorf("bad base64: ok %v err %v", ok, err)
	}
}
