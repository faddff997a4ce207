package runner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/runner/eval"
	"github.com/driftless-dev/driftless/runner/frame"
	"github.com/driftless-dev/driftless/runner/internal/pstest"
	"github.com/driftless-dev/driftless/runner/plan"
	"github.com/driftless-dev/driftless/runner/powershell"
	"github.com/driftless-dev/driftless/transport"

	mzwinrm "github.com/masterzen/winrm"

	"github.com/driftless-dev/driftless/internal/winstub"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/winrm/winrmtest"
)

// psConn runs the runner's PowerShell through github.com/masterzen/winrm
// (the runner cannot import driftless's winrm package, which imports it).
type psConn struct{ c *mzwinrm.Client }

func (c psConn) Run(ctx context.Context, cmd *transport.Command) (int, error) {
	stdout, stderr := cmd.Stdout, cmd.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	line := "powershell.exe -NoProfile -NonInteractive -EncodedCommand " + winrmtest.EncodeScript(cmd.Script)
	return c.c.RunWithContextWithInput(ctx, line, stdout, stderr, cmd.Stdin)
}
func (psConn) Close() error           { return nil }
func (psConn) Shell() transport.Shell { return transport.ShellPowerShell }

// newWinHost is a winstub host behind a WinRM test server, and a
// hostRun whose connection reaches it.
func newWinHost(t *testing.T) (*winstub.Host, *hostRun, *winrmtest.Server) {
	t.Helper()
	w := winstub.New()
	exec := w.Handler()
	srv, err := winrmtest.New(winrmtest.Options{TLS: true, Handler: func(ctx context.Context, p *winrmtest.Process) int {
		if p.Script != powershell.StdinScript {
			fmt.Fprintf(p.Stderr, "not the stdin bootstrap: %q", p.Script)
			return 1
		}
		return exec(ctx, p)
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	params := mzwinrm.NewParameters("PT10S", "en-US", 153600)
	params.TransportDecorator = func() mzwinrm.Transporter { return &mzwinrm.ClientNTLM{} }
	c, err := mzwinrm.NewClientWithParameters(mzwinrm.NewEndpoint(srv.Host, srv.Port, true, false, srv.CAPEM(), nil, nil, 20*time.Second),
		winrmtest.DefaultUser, winrmtest.DefaultPassword, params)
	if err != nil {
		t.Fatal(err)
	}
	return w, &hostRun{conn: psConn{c}, red: &plan.Redactor{}}, srv
}

// runPS runs a script as host.go does for a PowerShell connection: the
// bootstrap as the command, the script on stdin.
func runPS(t *testing.T, h *hostRun, marker, script string) []frame.Frame {
	t.Helper()
	fw := frame.NewWriter(marker)
	var stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, err := h.conn.Run(ctx, &transport.Command{Script: powershell.StdinScript, Stdin: powershell.Stdin(script), Stdout: fw, Stderr: &stderr})
	if err != nil || code != 0 {
		t.Fatalf("run: %d %v %s", code, err, stderr.String())
	}
	return fw.Frames
}

func TestPSCheckAndApplyRoundTrip(t *testing.T) {
	w, h, srv := newWinHost(t)
	big := bytes.Repeat([]byte("0123456789abcdef\r\n"), 20000) // 360 KB: more than a diff keeps
	w.Files[`C:\app\app.toml`] = []byte("port = 80\r\nname = ✓\r\n")
	w.Files[`C:\Windows\System32\drivers\etc\hosts`] = []byte("127.0.0.1 localhost\n10.0.0.4 db\n")
	w.Dirs[`C:\Windows\System32\drivers\etc`] = true
	w.Files[`C:\app\owned.txt`] = []byte("same")
	w.Files[`C:\app\big.txt`] = big
	var ran []string
	w.Step = func(tag, script string, env map[string]string, wd string) (int, string, string) {
		ran = append(ran, tag)
		if env["DL_PARAM_port"] != "8080" || env["DL_PARAM_motd"] != "it's ok" || wd != `C:\app` {
			return 99, "", fmt.Sprintf("env %v wd %q", env, wd)
		}
		switch {
		case tag == "run":
			w.Files[`C:\app\.installed`] = []byte{}
			return 0, "installed ✓\n", ""
		case w.Files[`C:\app\.installed`] != nil:
			return 0, "", ""
		}
		return 1, "not yet ✓\n", "warning: no app\n"
	}
	steps := pstest.Steps()
	h.steps = steps
	h.results = make([]journal.StepResult, len(steps))

	// Check.
	frames := runPS(t, h, "@@DL-c0ffee", powershell.CheckScript("@@DL-c0ffee", steps))
	per := frame.ByStep(frames)
	if f := per[-1]; len(f) != 1 || strings.Join(f[0].Fields, " ") != "Windows S-1-5-21-1-500" {
		t.Fatalf("facts %+v", f)
	}
	drifted := map[int]plan.ApplyStep{}
	for _, i := range []int{0, 1, 2, 6, 7} {
		a, d, ok := h.evaluate(steps[i], per[i])
		if !ok {
			t.Fatalf("step %d: %+v", i, h.results[i])
		}
		if d {
			drifted[i] = a
		}
	}
	if len(drifted) != 4 {
		t.Errorf("drifted %v, want steps 0, 1, 2 and 7 (6 is owned by the same account)", drifted)
	}
	if d := h.results[0].Differ; !strings.Contains(d, "-port = 80\r\n+port = 8080\r\n") {
		t.Errorf("file diff:\n%s", d)
	}
	if d := h.results[1].Differ; d != "missing" {
		t.Errorf("directory differ %q", d)
	}
	if d := h.results[2].Differ; !strings.Contains(d, "-10.0.0.4 db\n+10.0.0.5 db\n") {
		t.Errorf("line diff:\n%s", d)
	}
	if d := h.results[7].Differ; d != fmt.Sprintf("content differs (%d bytes, want 10)", len(big)) {
		t.Errorf("big file differ %q", d)
	}
	if cur := frame.Last(per[7], "cur"); cur == nil || len(cur.Payload) != plan.MaxDiffBytes || cur.Size != int64(len(big)) {
		t.Errorf("big file payload: %+v", cur)
	}
	check := frame.Last(per[3], "check")
	if frame.Code(check) != 1 {
		t.Fatalf("check frames %+v", per[3])
	}
	r := eval.Check(steps[3], per[3], h.evalHost()).Out // the check's output
	if r == nil || r.Stdout != "not yet ✓\n" || r.Stderr != "warning: no app\n" {
		t.Errorf("check output %+v", r)
	}
	for _, i := range []int{4, 5} {
		if f := frame.Last(per[i], "skip"); f == nil || f.Fields[0] != "platform" {
			t.Errorf("step %d: %+v", i, per[i])
		}
	}

	// Apply what drifted, and run the powershell step.
	todo := []plan.ApplyStep{drifted[0], drifted[1], drifted[2], {Step: steps[3]}}
	started := time.Now()
	frames = runPS(t, h, "@@DL-beef", powershell.ApplyScript("@@DL-beef", todo))
	per = frame.ByStep(frames)
	for _, a := range todo {
		if a.Step.Action == "powershell" {
			// applied reads a powershell step's frames as a shell step's.
			s := *a.Step
			s.Action = "shell"
			a.Step = &s
		}
		h.applied(a, per[a.Step.Idx], started)
	}
	for _, i := range []int{0, 1, 2} {
		if r := h.results[i]; r.Status != journal.StatusCorrected {
			t.Errorf("step %d: %s %s", i, r.Status, r.Error)
		}
	}
	if r := h.results[3]; r.Status != journal.StatusCorrected || r.Stdout != "installed ✓\n" {
		t.Errorf("powershell step: %+v", r)
	}
	if strings.Join(ran, " ") != "check run verify" {
		t.Errorf("ran %s", ran)
	}
	if got := string(w.Files[`C:\app\app.toml`]); got != "port = 8080\r\nname = ✓\r\n" {
		t.Errorf("app.toml = %q", got)
	}
	if got := string(w.Files[`C:\Windows\System32\drivers\etc\hosts`]); got != "127.0.0.1 localhost\n10.0.0.5 db\n" {
		t.Errorf("hosts = %q", got)
	}
	if !w.Dirs[winstub.Profile+`\app/logs`] {
		t.Error("logs directory not created")
	}

	// Both scripts went on stdin, never on the command line.
	for _, c := range srv.Commands() {
		if c.Script != powershell.StdinScript || len(c.Stdin) == 0 {
			t.Errorf("command %.60q with %d bytes of stdin", c.Script, len(c.Stdin))
		}
	}
}

func TestPSApplyFailureIsReported(t *testing.T) {
	w, h, _ := newWinHost(t)
	s := &plan.Step{Idx: 0, Name: "cfg", Action: "file", Path: `C:\missing\x.conf`, Content: []byte("x"), ContentText: true, Attempts: 1}
	h.steps = []*plan.Step{s}
	h.results = make([]journal.StepResult, 1)
	started := time.Now()
	todo := []plan.ApplyStep{{Step: s, Write: s.Content}}
	frames := runPS(t, h, "@@DL-1", powershell.ApplyScript("@@DL-1", todo))
	per := frame.ByStep(frames)
	h.applied(todo[0], per[0], started)
	if r := h.results[0]; r.Status != journal.StatusFailed || r.Error != `could not correct: Could not find a part of the path 'C:\missing\x.conf'.` {
		t.Fatalf("result %s: %s", r.Status, r.Error)
	}
	if _, ok := w.Files[`C:\missing\x.conf`]; ok {
		t.Fatal("written")
	}
}
