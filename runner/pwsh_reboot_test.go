package runner_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/transport"

	"github.com/driftless-dev/driftless/internal/configtest"
	"github.com/driftless-dev/driftless/internal/winstub"
	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/winrm"
	"github.com/driftless-dev/driftless/winrm/winrmtest"
)

// winReboot is a Windows host behind WinRM that can reboot: a TCP proxy
// in front of a winrmtest server drops every connection, refuses new
// ones for a while and comes back on the same address, and the server
// forgets its shells, as a restarted host does.
// winReboot is a TCP proxy in front of the WinRM test server that goes
// down and comes back as a rebooting host does; the server forgets its
// shells.
type winReboot struct {
	rebootable
	srv *winrmtest.Server
}

// forward connects an accepted connection to the WinRM test server.
func (h *winReboot) forward(c net.Conn) {
	up, err := net.Dial("tcp", net.JoinHostPort(h.srv.Host, fmt.Sprint(h.srv.Port)))
	if err != nil {
		c.Close()
		return
	}
	h.track(up)
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	c.Close()
}

// reboot goes down now (the server forgets its shells) and comes back
// after d.
func (h *winReboot) reboot(d time.Duration) {
	h.down()
	h.srv.DropShells()
	h.rebootable.reboot(d)
}

// A powershell step that exits 3010 reboots a Windows host over WinRM:
// the runner sends the Windows restart command, waits for the host to go
// down and come back, and runs the document again from the start.
func TestWindowsRebootAndRerun(t *testing.T) {
	w := winstub.New()
	runs := 0
	w.Step = func(tag, script string, env map[string]string, wd string) (int, string, string) {
		switch {
		case strings.Contains(script, "runs.txt"):
			runs++
			return 0, "", ""
		case tag == "run":
			w.Files[`C:\updated`] = []byte{}
			return 3010, "KB5034441 installed; restart required\r\n", ""
		case w.Files[`C:\updated`] != nil:
			return 0, "", ""
		}
		return 1, "", ""
	}
	h := &winReboot{rebootable: rebootable{t: t}}
	h.handle = h.forward
	var reboots []string
	exec := w.Handler()
	srv, err := winrmtest.New(winrmtest.Options{Handler: func(ctx context.Context, p *winrmtest.Process) int {
		switch {
		case strings.Contains(p.Script, "shutdown.exe /r"):
			reboots = append(reboots, p.Script)
			// The host goes down once the command has answered.
			go func() { time.Sleep(300 * time.Millisecond); h.reboot(2 * time.Second) }()
			return 0
		case strings.Contains(p.Script, "Start-Sleep"):
			<-ctx.Done()
			return 1
		}
		return exec(ctx, p)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	h.srv = srv
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.addr = ln.Addr().String()
	h.serve(ln)
	defer h.down()
	_, port, _ := net.SplitHostPort(h.addr)

	dir := t.TempDir()
	inv := fmt.Sprintf("[hosts.win]\naddress = \"127.0.0.1\"\ntransport = \"winrm\"\nuser = %q\npassword_env = \"WIN_PASSWORD\"\nwinrm = { port = %s, auth = \"ntlm\" }\n",
		winrmtest.DefaultUser, port)
	docText := configtest.Doc(testDocs, "kb.toml")
	cfg, j := configtest.Dir(t, dir, map[string]string{"inventory.toml": inv, "documents/kb.toml": docText, "associations.toml": "[associations.kb]\ndocument = \"kb\"\ntargets = [\"*\"]\n"})
	dial := func(ctx context.Context, h *inventory.Host) (transport.Conn, error) {
		return asConn(winrm.Dial(ctx, winrm.Config{Name: h.Name, Address: h.Address, Port: h.WinRM.Port, User: h.User,
			Password: winrmtest.DefaultPassword, Auth: winrm.AuthNTLM, ConnectTimeout: time.Second, OperationTimeout: 2 * time.Second}))
	}
	res, start := runRebootJob(t, cfg, j, dial, "")
	if h.bootCount() != 1 || len(reboots) != 1 || time.Since(start) < 2*time.Second {
		t.Errorf("boots %d, reboot commands %d, after %s", h.bootCount(), len(reboots), time.Since(start))
	}
	// The Windows restart command, not the POSIX one.
	if !strings.Contains(reboots[0], "& shutdown.exe /r /t 2 /c 'driftless: a step asked for a reboot'") {
		t.Errorf("reboot command %q", reboots[0])
	}
	if runs != 2 {
		t.Errorf("the document ran %d times, want 2 (again from the start after the reboot)", runs)
	}
	if got, _ := w.File(`C:\app\after.txt`); got != "ok\r\n" {
		t.Errorf("after.txt %q", got)
	}
	checkRebootDetail(t, j, res.Run.ID, "win", "3010")
}
