package runner

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/pwsh"
	"github.com/driftless-dev/driftless/runner/frame"
	"github.com/driftless-dev/driftless/transport"

	mzwinrm "github.com/masterzen/winrm"

	"github.com/driftless-dev/driftless/internal/winstub"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/winrm/winrmtest"
)

// psSteps is a plan with every action the PowerShell scripts handle.
func psSteps() []*step {
	env := map[string]string{"DL_PARAM_port": "8080", "DL_PARAM_motd": "it's ok"}
	return []*step{
		{idx: 0, name: "config", action: "file", path: `C:\app\app.toml`, content: []byte("port = 8080\r\nname = ✓\r\n"), contentText: true, attempts: 1},
		{idx: 1, name: "logs", action: "directory", path: "~/app/logs", attempts: 1},
		{idx: 2, name: "hosts", action: "line", path: `C:\Windows\System32\drivers\etc\hosts`, line: "10.0.0.5 db", lineRe: `\sdb$`, attempts: 1},
		{idx: 3, name: "installed", action: "powershell", run: "Install-App -Port $env:DL_PARAM_port", check: "if (Test-Path C:\\app\\.installed) { exit 0 }\nWrite-Output 'not yet ✓'\nexit 1",
			hasCheck: true, env: env, workdir: `C:\app`, timeout: 90 * time.Second, attempts: 2},
		{idx: 4, name: "linux-only", action: "powershell", run: "uname", platform: "Linux", attempts: 1, timeout: time.Hour},
		{idx: 5, name: "sh", action: "shell", run: "echo hi", attempts: 1, timeout: time.Hour},
		{idx: 6, name: "owned", action: "file", path: `C:\app\owned.txt`, content: []byte("same"), contentText: true, owner: "Administrators", attempts: 1},
		{idx: 7, name: "big", action: "file", path: `C:\app\big.txt`, content: []byte("small now\n"), contentText: true, attempts: 1},
	}
}

func TestCheckScriptPSContent(t *testing.T) {
	script := checkScriptPS("@@DL-0011223344556677", psSteps())
	for _, want := range []string{
		"$DLM = '@@DL-0011223344556677'\n$ErrorActionPreference = 'Stop'\n",
		"dl_frame '-' 'facts' ('{0} {1}' -f $dl_os, $dl_uid)\n",
		// file: stat, and the old content only when it differs
		"$p = 'C:\\app\\app.toml'\ndl_stat '0' 'stat' $p $false '' ''\n" +
			"if ([IO.File]::Exists($p) -and ((dl_sha $p) -ne '" + sha([]byte("port = 8080\r\nname = ✓\r\n")) + "')) { dl_payload '0' 'cur' $p 262144 }\n",
		// directory under the profile
		"$p = [IO.Path]::Combine($env:USERPROFILE, 'app/logs')\ndl_stat '1' 'stat' $p $true '' ''\n",
		// line: the whole file, up to 8 MiB
		"dl_stat '2' 'stat' $p $false '' ''\nif ([IO.File]::Exists($p)) { dl_payload '2' 'cur' $p 8388608 }\n",
		// powershell: the check runs with the step's environment, directory and timeout
		"$dl_v = @{}\n$dl_v['DL_PARAM_motd'] = 'it''s ok'\n$dl_v['DL_PARAM_port'] = '8080'\ndl_run '3' 'check' " + psStepScript(psSteps()[3].check) + " $dl_v ('C:\\app') 90\n",
		// platform precondition on the host
		"if ($dl_os -eq 'Linux') {\ntry {\n} catch { dl_fail '4' $_ }\n} else { dl_frame '4' 'skip' 'platform' }\n",
		// sh steps are skipped on Windows
		"try {\ndl_frame '5' 'skip' 'platform'\n} catch { dl_fail '5' $_ }\n",
		// the owner the step wants is what the host compares with
		"dl_stat '6' 'stat' $p $false 'Administrators' ''\n",
		"} finally {\n\ttry { [IO.Directory]::Delete($dl_t, $true) } catch { }\n}\nexit 0\n",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("check script lacks\n%s", want)
		}
	}
	// Steps that failed to render or are skipped here are not checked.
	bad := []*step{{idx: 0, action: "file", path: `C:\x`, err: errors.New("no")}, {idx: 1, action: "file", path: `C:\y`, skip: "precondition false"}}
	if s := checkScriptPS("@@DL-0", bad); strings.Contains(s, `C:\x`) || strings.Contains(s, `C:\y`) {
		t.Error("a failed or skipped step is checked")
	}
}

func TestApplyScriptPSContent(t *testing.T) {
	steps := psSteps()
	steps[0].onFailure = "continue"
	steps[1].onFailure = "successAndExit"
	steps[2].onSuccessEnd = true
	steps[6].finally = true
	steps[6].group = "Users"
	steps[7].absent = true
	todo := []applyStep{
		{s: steps[0], write: []byte("new ✓\r\n")},
		{s: steps[1]},
		{s: steps[2], write: []byte("10.0.0.5 db\n")},
		{s: steps[3], recheck: true},
		{s: steps[4]},
		{s: steps[6], write: []byte("same")},
		{s: steps[7]},
	}
	script := applyScriptPS("@@DL-00", todo)
	for _, want := range []string{
		"$DLM = '@@DL-00'\n",
		// file: content in base64, written beside the target then replaced; errors reported
		"if ($dl_stop -ne '') { dl_frame '0' 'skip' $dl_stop } else {\n$dl_ok = $true\n[void]$dl_e.Clear()\ntry {\n$p = 'C:\\app\\app.toml'\ntry {\n" +
			"dl_write $p '" + base64.StdEncoding.EncodeToString([]byte("new ✓\r\n")) + "'\ndl_own $p $false '' ''\n" +
			"} catch { [void]$dl_e.AppendLine($_.Exception.Message); $dl_ok = $false }\ndl_result '0' $p $false '' ''\n" +
			"} catch { dl_fail '0' $_; $dl_ok = $false }\n}\n", // continue: no stop
		// directory: created, successAndExit stops the rest as a success
		"if (-not [IO.Directory]::Exists($p)) { [void][IO.Directory]::CreateDirectory($p) }\ndl_own $p $true '' ''\n",
		"dl_result '1' $p $true '' ''\n} catch { dl_fail '1' $_; $dl_ok = $false }\nif ($dl_ok -eq $false) { $dl_stop = 'successAndExit' }\n}\n",
		// onSuccess: exit
		"if ($dl_ok -eq $false) { $dl_stop = 'failed' }\nif ($dl_ok -eq $true) { $dl_stop = 'onSuccess' }\n",
		// powershell: recheck, then attempts, then verify
		"dl_run '3' 'recheck' ", "if ($dl_rc -ne 0) {\n$dl_a = 0\nwhile ($true) {\n$dl_a++\n",
		"dl_run '3' 'run' " + psStepScript(steps[3].run) + " $dl_v ('C:\\app') 90\nif (($dl_rc -eq 0) -or ($dl_a -ge 2) -or ($dl_rc -eq 124)) { break }\n}\nif ($dl_rc -ne 0) { $dl_ok = $false }\n",
		"if ($dl_ok) {\n$dl_v = @{}\n", "dl_run '3' 'verify' ",
		// platform
		"if ($dl_os -ne 'Linux') { dl_frame '4' 'skip' 'platform' } else {\n",
		// finally: runs even after a stop; owner and group
		"if ($true) {\n$dl_ok = $true\n[void]$dl_e.Clear()\ntry {\n$p = 'C:\\app\\owned.txt'\n",
		"dl_own $p $false 'Administrators' 'Users'\n",
		// absent file
		"if ([IO.Directory]::Exists($p)) { throw ('{0} is a directory' -f $p) }\nif ([IO.File]::Exists($p)) { [IO.File]::Delete($p) }\n",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("apply script lacks\n%s", want)
		}
	}
	if strings.Contains(script, "dl_run '3' 'check'") {
		t.Error("apply runs the check under the check's tag")
	}
	dir := applyScriptPS("@@DL-00", []applyStep{{s: &step{idx: 0, action: "directory", path: `C:\d`, absent: true, attempts: 1}}})
	if !strings.Contains(dir, "if ([IO.Directory]::Exists($p)) { [IO.Directory]::Delete($p, $true) } elseif ([IO.File]::Exists($p)) { [IO.File]::Delete($p) }\n") {
		t.Error("absent directory is not removed")
	}
}

func TestPSQuoting(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "''",
		"it's":             "'it''s'",
		"‘a’ ‚b‛":          "'‘‘a’’ ‚‚b‛‛'",
		"$(rm -r C:\\) `n": "'$(rm -r C:\\) `n'",
		"two\nlines":       "'two\nlines'",
	} {
		if got := pwsh.Quote(in); got != want {
			t.Errorf("pwsh.Quote(%q) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"~":               "$env:USERPROFILE",
		"~/a b/c":         "[IO.Path]::Combine($env:USERPROFILE, 'a b/c')",
		`~\x`:             "[IO.Path]::Combine($env:USERPROFILE, 'x')",
		`C:\Program Data`: `'C:\Program Data'`,
	} {
		if got := psPath(in); got != want {
			t.Errorf("psPath(%q) = %s, want %s", in, got, want)
		}
	}
	// Names that differ by case would break a hashtable literal.
	if got := psVars(map[string]string{"a": "1", "A": "2"}); got != "$dl_v = @{}\n$dl_v['A'] = '2'\n$dl_v['a'] = '1'\n" {
		t.Errorf("psVars = %q", got)
	}
	b, _ := base64.StdEncoding.DecodeString(strings.Trim(psStepScript("Write-Output 'é'"), "'"))
	if string(b) != "\xef\xbb\xbfWrite-Output 'é'" {
		t.Errorf("step script %q, want UTF-8 with a BOM", b)
	}
	for in, want := range map[string]string{"NT%20AUTHORITY\\SYSTEM": `NT AUTHORITY\SYSTEM`, "100%25": "100%", "root": "root", "bad%zz": "bad%zz"} {
		if got := unescapeField(in); got != want {
			t.Errorf("unescapeField(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPSStdin(t *testing.T) {
	script := strings.Repeat("Write-Output 'ünïcödé ✓'\n", 500)
	in, _ := io.ReadAll(psStdin(script))
	lines := strings.Split(strings.TrimSuffix(string(in), "\r\n"), "\r\n")
	if len(lines) < 3 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines[:len(lines)-1] {
		if len(l) != psStdinLine {
			t.Fatalf("line of %d characters", len(l))
		}
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(lines, ""))
	if err != nil || string(raw) != script {
		t.Fatalf("decoded %d bytes: %v", len(raw), err)
	}
	if !strings.Contains(psStdinScript, "@($input) -join ''") || !strings.Contains(psStdinScript, ". ([ScriptBlock]::Create($dl_src))") {
		t.Fatalf("stdin script:\n%s", psStdinScript)
	}
}

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
		if p.Script != psStdinScript {
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
	return w, &hostRun{conn: psConn{c}, red: &redactor{}}, srv
}

// runPS runs a script as host.go does for a PowerShell connection: the
// bootstrap as the command, the script on stdin.
func runPS(t *testing.T, h *hostRun, marker, script string) []frame.Frame {
	t.Helper()
	fw := frame.NewWriter(marker)
	var stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, err := h.conn.Run(ctx, &transport.Command{Script: psStdinScript, Stdin: psStdin(script), Stdout: fw, Stderr: &stderr})
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
	steps := psSteps()
	h.steps = steps
	h.results = make([]journal.StepResult, len(steps))

	// Check.
	frames := runPS(t, h, "@@DL-c0ffee", checkScriptPS("@@DL-c0ffee", steps))
	per := frame.ByStep(frames)
	if f := per[-1]; len(f) != 1 || strings.Join(f[0].Fields, " ") != "Windows S-1-5-21-1-500" {
		t.Fatalf("facts %+v", f)
	}
	drifted := map[int]applyStep{}
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
	if cur := find(per[7], "cur"); cur == nil || len(cur.Payload) != maxDiffBytes || cur.Size != int64(len(big)) {
		t.Errorf("big file payload: %+v", cur)
	}
	check := find(per[3], "check")
	if codeOf(check) != 1 {
		t.Fatalf("check frames %+v", per[3])
	}
	var r journal.StepResult
	h.output(&r, per[3], frame.Check)
	if r.Stdout != "not yet ✓\n" || r.Stderr != "warning: no app\n" {
		t.Errorf("check output %q %q", r.Stdout, r.Stderr)
	}
	for _, i := range []int{4, 5} {
		if f := find(per[i], "skip"); f == nil || f.Fields[0] != "platform" {
			t.Errorf("step %d: %+v", i, per[i])
		}
	}

	// Apply what drifted, and run the powershell step.
	todo := []applyStep{drifted[0], drifted[1], drifted[2], {s: steps[3]}}
	started := time.Now()
	frames = runPS(t, h, "@@DL-beef", applyScriptPS("@@DL-beef", todo))
	per = frame.ByStep(frames)
	for _, a := range todo {
		if a.s.action == "powershell" {
			// applied reads a powershell step's frames as a shell step's.
			s := *a.s
			s.action = "shell"
			a.s = &s
		}
		h.applied(a, per[a.s.idx], started)
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
		if c.Script != psStdinScript || len(c.Stdin) == 0 {
			t.Errorf("command %.60q with %d bytes of stdin", c.Script, len(c.Stdin))
		}
	}
}

func TestPSApplyFailureIsReported(t *testing.T) {
	w, h, _ := newWinHost(t)
	s := &step{idx: 0, name: "cfg", action: "file", path: `C:\missing\x.conf`, content: []byte("x"), contentText: true, attempts: 1}
	h.steps = []*step{s}
	h.results = make([]journal.StepResult, 1)
	started := time.Now()
	todo := []applyStep{{s: s, write: s.content}}
	frames := runPS(t, h, "@@DL-1", applyScriptPS("@@DL-1", todo))
	per := frame.ByStep(frames)
	h.applied(todo[0], per[0], started)
	if r := h.results[0]; r.Status != journal.StatusFailed || r.Error != `could not correct: Could not find a part of the path 'C:\missing\x.conf'.` {
		t.Fatalf("result %s: %s", r.Status, r.Error)
	}
	if _, ok := w.Files[`C:\missing\x.conf`]; ok {
		t.Fatal("written")
	}
}
