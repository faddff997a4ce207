package ssh

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/configtest"
	"github.com/driftless-dev/driftless/internal/pwsh"
	"github.com/driftless-dev/driftless/transport"
	"github.com/driftless-dev/driftless/transport/transporttest"

	"github.com/pkg/sftp"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/driftless-dev/driftless/internal/sshtest"
	"github.com/driftless-dev/driftless/internal/winstub"
	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner"
	"github.com/driftless-dev/driftless/winrm/winrmtest"
)

// winBanner is the identification string of OpenSSH for Windows.
const winBanner = "SSH-2.0-OpenSSH_for_Windows_9.5"

// psRunFunc runs a decoded PowerShell script (after the prologue and the
// $env: lines) on winSSH.
type psRunFunc func(ctx context.Context, script string, env map[string]string, stdin io.Reader, stdout, stderr io.Writer) int

// winSSH is an in-process SSH server that answers like OpenSSH for
// Windows: its banner says so, and its exec requests must be the encoded
// PowerShell command line driftless sends; the scripts run on a winstub
// host (the runner's) or on a test's run function. It serves SFTP from a
// directory.
type winSSH struct {
	t       *testing.T
	addr    string
	port    int
	key     gossh.PublicKey
	keyPath string // the client's private key
	host    *winstub.Host
	sftpDir string
	run     psRunFunc

	mu       sync.Mutex
	commands []string
	scripts  []string
	signals  []string
	ended    int // sessions closed by the client while their command ran
}

func startWinSSH(t *testing.T, banner string) *winSSH {
	t.Helper()
	keyPath, clientKey := sshtest.NewClientKey(t)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	s := &winSSH{t: t, key: signer.PublicKey(), keyPath: keyPath, host: winstub.New(), sftpDir: t.TempDir()}
	cfg := &gossh.ServerConfig{
		ServerVersion: banner,
		PublicKeyCallback: func(_ gossh.ConnMetadata, k gossh.PublicKey) (*gossh.Permissions, error) {
			if bytes.Equal(k.Marshal(), clientKey.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	cfg.AddHostKey(signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s.addr = ln.Addr().String()
	_, p, _ := net.SplitHostPort(s.addr)
	s.port, _ = strconv.Atoi(p)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c, cfg)
		}
	}()
	return s
}

func (s *winSSH) serve(c net.Conn, cfg *gossh.ServerConfig) {
	defer c.Close()
	_, chans, reqs, err := gossh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go gossh.DiscardRequests(reqs)
	sshtest.ServeSessions(chans, func(ch gossh.Channel, creqs <-chan *gossh.Request) { go s.session(ch, creqs) })
}

func (s *winSSH) session(ch gossh.Channel, reqs <-chan *gossh.Request) {
	defer ch.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	started := false
	for r := range reqs {
		switch {
		case r.Type == "exec" && !started:
			started = true
			n := binary.BigEndian.Uint32(r.Payload)
			line := string(r.Payload[4 : 4+n])
			r.Reply(true, nil)
			go func() {
				defer close(done)
				code := s.exec(ctx, line, ch, ch, ch.Stderr())
				ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, uint32(code)))
				ch.Close()
			}()
		case r.Type == "subsystem" && !started && string(r.Payload[4:]) == "sftp":
			started = true
			r.Reply(true, nil)
			srv, err := sftp.NewServer(ch, sftp.WithServerWorkingDirectory(s.sftpDir))
			if err != nil {
				return
			}
			go func() { defer close(done); srv.Serve(); ch.Close() }()
		case r.Type == "signal":
			s.mu.Lock()
			s.signals = append(s.signals, string(r.Payload[4:]))
			s.mu.Unlock()
		default:
			if r.WantReply {
				r.Reply(false, nil)
			}
		}
	}
	// The client closed the channel.
	select {
	case <-done:
	default:
		s.mu.Lock()
		s.ended++
		s.mu.Unlock()
		cancel()
		<-done
	}
}

var reEnvLine = regexp.MustCompile(`^\$env:(\w+) = '((?:[^']|'')*)'$`)

// exec checks the command line as Windows would run it, decodes the
// script and runs it.
func (s *winSSH) exec(ctx context.Context, line string, stdin io.Reader, stdout, stderr io.Writer) int {
	s.mu.Lock()
	s.commands = append(s.commands, line)
	s.mu.Unlock()
	const want = "powershell -NoProfile -NonInteractive -EncodedCommand "
	if !strings.HasPrefix(line, want) || strings.Count(line, " ") != 4 {
		fmt.Fprintf(stderr, "'%s' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n", strings.Fields(line)[0])
		return 1
	}
	script, ok, err := winrmtest.DecodeCommandLine(line)
	if !ok || err != nil {
		fmt.Fprintf(stderr, "-EncodedCommand: %v", err)
		return 1
	}
	return s.script(ctx, script, stdin, stdout, stderr)
}

var reFileBootstrap = regexp.MustCompile(`(?m)^\$__dl_block = \[ScriptBlock\]::Create\(\[IO\.File\]::ReadAllText\('([^']*)'\)\)\n\$input \| \. \$__dl_block\n$`)

func (s *winSSH) script(ctx context.Context, script string, stdin io.Reader, stdout, stderr io.Writer) int {
	s.mu.Lock()
	s.scripts = append(s.scripts, script)
	s.mu.Unlock()
	rest, ok := strings.CutPrefix(script, pwsh.Prologue)
	if !ok {
		fmt.Fprint(stderr, "no prologue")
		return 1
	}
	if m := reFileBootstrap.FindStringSubmatch(rest); m != nil {
		// An uploaded script: the path is a Windows one for the SFTP
		// path; here both are the same file.
		b, err := os.ReadFile(strings.ReplaceAll(m[1], `\`, "/"))
		if err != nil {
			fmt.Fprintf(stderr, "ReadAllText: %v", err)
			return 1
		}
		return s.script(ctx, string(b), stdin, stdout, stderr)
	}
	env := map[string]string{}
	for {
		l, after, ok := strings.Cut(rest, "\n")
		m := reEnvLine.FindStringSubmatch(l)
		if !ok || m == nil {
			break
		}
		v := m[2]
		for _, q := range []string{"'", "‘", "’", "‚", "‛"} { // PowerShell's single quotes, doubled
			v = strings.ReplaceAll(v, q+q, q)
		}
		env[m[1]] = v
		rest = after
	}
	if s.run != nil {
		return s.run(ctx, rest, env, stdin, stdout, stderr)
	}
	// The runner's scripts: the bootstrap reads the script from stdin.
	if !strings.Contains(rest, "@($input)") {
		fmt.Fprintf(stderr, "not the runner's stdin bootstrap: %.60q", rest)
		return 1
	}
	in, _ := io.ReadAll(stdin)
	if err := s.host.ExecStdin(in, stdout); err != nil {
		fmt.Fprint(stderr, err)
		return 1
	}
	return 0
}

func (s *winSSH) config() Config {
	kh := filepath.Join(s.t.TempDir(), "known_hosts")
	os.WriteFile(kh, []byte(knownhosts.Line([]string{knownhosts.Normalize(s.addr)}, s.key)+"\n"), 0o600)
	return Config{Name: "win-1", Address: "127.0.0.1", Port: s.port, User: "Administrator", IdentityFiles: []string{s.keyPath},
		KnownHosts: []string{kh}, ConnectTimeout: 10 * time.Second}
}

func dialWin(t *testing.T, cfg Config) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestWindowsDetection(t *testing.T) {
	for banner, windows := range map[string]bool{
		"SSH-2.0-OpenSSH_for_Windows_9.5":        true,
		"SSH-2.0-OpenSSH_for_Windows_8.1":        true,
		"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13": false,
		"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3": false,
	} {
		if got := windowsServer([]byte(banner)); got != windows {
			t.Errorf("%s: windows %v", banner, got)
		}
	}
	for in, want := range map[string]string{"/C:/Users/Administrator/.driftless-script-1": `C:\Users\Administrator\.driftless-script-1`, "/home/x/f": `\home\x\f`} {
		if got := windowsPath(in); got != want {
			t.Errorf("windowsPath(%q) = %q", in, got)
		}
	}
	// Over the wire: the banner is read during the handshake.
	win := dialWin(t, startWinSSH(t, winBanner).config())
	if !win.Windows() || win.Shell() != transport.ShellPowerShell {
		t.Errorf("Windows server: %v %s", win.Windows(), win.Shell())
	}
	lin := dialWin(t, startWinSSH(t, "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13").config())
	if lin.Windows() || lin.Shell() != transport.ShellPOSIX {
		t.Errorf("Linux server: %v %s", lin.Windows(), lin.Shell())
	}
}

func TestWindowsRun(t *testing.T) {
	s := startWinSSH(t, winBanner)
	s.run = func(ctx context.Context, script string, env map[string]string, stdin io.Reader, stdout, stderr io.Writer) int {
		switch script {
		case "echo":
			in, _ := io.ReadAll(stdin)
			fmt.Fprintf(stdout, "%s|%s|%s", env["DL_PARAM_motd"], env["b"], in)
			return 3010
		case "fail":
			// PowerShell's serialized error stream.
			io.WriteString(stderr, "#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><S S=\"Error\">Cannot find path 'C:\\nope' because it does not exist._x000D__x000A_</S></Objs>")
			return 1
		}
		return 2
	}
	c := dialWin(t, s.config())
	ctx := context.Background()
	var out, errOut bytes.Buffer
	code, err := c.Run(ctx, &transport.Command{Script: "$env:DL_PARAM_motd = 'it''s ‘‘fine’’ $(x)'\n$env:b = '2'\necho",
		Stdin: strings.NewReader("from stdin ✓"), Stdout: &out, Stderr: &errOut})
	if err != nil || code != 3010 || out.String() != "it's ‘fine’ $(x)|2|from stdin ✓" {
		t.Fatalf("run: %d %v %q %q", code, err, out.String(), errOut.String())
	}
	out.Reset()
	code, err = c.Run(ctx, &transport.Command{Script: "fail", Stdout: &out, Stderr: &errOut})
	if err != nil || code != 1 || errOut.String() != "Cannot find path 'C:\\nope' because it does not exist.\r\n" {
		t.Fatalf("fail: %d %v %q", code, err, errOut.String())
	}
	// The command lines were exactly the encoded form; the scripts start
	// with the prologue and quote values.
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.commands {
		if !regexp.MustCompile(`^powershell -NoProfile -NonInteractive -EncodedCommand [A-Za-z0-9+/]+=*$`).MatchString(l) {
			t.Errorf("command line %q", l)
		}
	}
	if want := pwsh.Prologue + "$env:DL_PARAM_motd = 'it''s ‘‘fine’’ $(x)'\n$env:b = '2'\necho"; s.scripts[0] != want {
		t.Errorf("script %q, want %q", s.scripts[0], want)
	}
}

// A script too long for cmd.exe's command line is uploaded over SFTP
// and read by a short bootstrap; the file goes afterwards.
func TestWindowsLongScript(t *testing.T) {
	s := startWinSSH(t, winBanner)
	long := "# " + strings.Repeat("x", 20000) + "\nlong"
	s.run = func(ctx context.Context, script string, env map[string]string, stdin io.Reader, stdout, stderr io.Writer) int {
		if script != long {
			return 2
		}
		in, _ := io.ReadAll(stdin)
		fmt.Fprintf(stdout, "%s %s", env["K"], in)
		return 0
	}
	c := dialWin(t, s.config())
	var out bytes.Buffer
	code, err := c.Run(context.Background(), &transport.Command{Script: "$env:K = 'v'\n" + long, Stdin: strings.NewReader("in"), Stdout: &out})
	if err != nil || code != 0 || out.String() != "v in" {
		t.Fatalf("%d %v %q", code, err, out.String())
	}
	s.mu.Lock()
	line := s.commands[0]
	s.mu.Unlock()
	if len(line) > maxPSCommandLen {
		t.Errorf("command line of %d characters", len(line))
	}
	left, _ := filepath.Glob(filepath.Join(s.sftpDir, ".driftless-script-*"))
	if len(left) != 0 {
		t.Errorf("uploaded scripts left: %v", left)
	}
}

// Cancelling closes the session at once: OpenSSH for Windows does not
// deliver signals.
func TestWindowsCancel(t *testing.T) {
	s := startWinSSH(t, winBanner)
	running := make(chan struct{})
	s.run = func(ctx context.Context, script string, env map[string]string, stdin io.Reader, stdout, stderr io.Writer) int {
		close(running)
		<-ctx.Done() // until the session closes
		return 1
	}
	c := dialWin(t, s.config())
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-running; cancel() }()
	start := time.Now()
	_, err := c.Run(ctx, &transport.Command{Script: "Start-Sleep -Seconds 3600"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if d := time.Since(start); d > killGrace {
		t.Errorf("cancel took %s", d)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		ended, signals := s.ended, strings.Join(s.signals, " ")
		s.mu.Unlock()
		if ended == 1 {
			if signals != "KILL" {
				t.Errorf("signals %q", signals)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the session was not closed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The connection is still good.
	s.run = nil
	if code, err := c.Run(context.Background(), &transport.Command{Script: "not the bootstrap"}); err != nil || code != 1 {
		t.Errorf("after cancel: %d %v", code, err)
	}
}

// OpenSSH for Windows, played by winSSH running the suite's PowerShell
// scripts with transporttest.PowerShell, passes the conformance suite.
func TestWindowsConformance(t *testing.T) {
	s := startWinSSH(t, winBanner)
	ps := transporttest.NewPowerShell()
	s.run = func(ctx context.Context, script string, _ map[string]string, stdin io.Reader, stdout, stderr io.Writer) int {
		return ps.Run(ctx, script, stdin, stdout, stderr)
	}
	cfg := s.config()
	transporttest.Run(t, transporttest.Factory{
		New:    func(t *testing.T) transport.Conn { return dialWin(t, cfg) },
		Cannot: map[transporttest.Capability]string{transporttest.Signals: "Windows has no signals"},
	})
}

func TestWindowsBecomeSudo(t *testing.T) {
	s := startWinSSH(t, winBanner)
	cfg := s.config()
	cfg.Become = BecomeSudo
	c := dialWin(t, cfg)
	_, err := c.Run(context.Background(), &transport.Command{Script: "whoami"})
	if !errors.Is(err, ErrBecomeWindows) || !strings.Contains(err.Error(), `run win-1: become = "sudo" does not apply to Windows hosts: log in as an administrator instead (SSH-2.0-OpenSSH_for_Windows_9.5)`) {
		t.Fatalf("err %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.commands) != 0 {
		t.Errorf("commands ran: %q", s.commands)
	}
}

const winSSHDoc = `
[parameters.port]
type = "String"
default = "8080"

[[steps]]
name = "config"
action = "file"
path = 'C:\app\app.toml'
content = "port = {{ port }}\n"

[[steps]]
name = "logs"
action = "directory"
path = "~/app/logs"

[[steps]]
name = "posix"
action = "shell"
run = "touch /tmp/x"

[[steps]]
name = "installed"
action = "powershell"
check = 'if (Test-Path C:\app\.installed) { exit 0 }; exit 1'
run = 'New-Item -ItemType File C:\app\.installed'

[[steps]]
name = "spooler"
action = "service"
service = "Spooler"
state = "running"
`

// The runner drives a Windows host over SSH as over WinRM: PowerShell
// scripts, statuses in the results and the journal.
func TestWindowsRunner(t *testing.T) {
	s := startWinSSH(t, winBanner)
	w := s.host
	w.Files[`C:\app\app.toml`] = []byte("port = 80\n")
	w.Services["Spooler"] = &[2]bool{false, true}
	w.Step = func(tag, script string, env map[string]string, wd string) (int, string, string) {
		switch {
		case tag == "run":
			w.Files[`C:\app\.installed`] = []byte{}
			return 0, "installed on port " + env["DL_PARAM_port"] + "\r\n", ""
		case w.Files[`C:\app\.installed`] != nil:
			return 0, "", ""
		}
		return 1, "", ""
	}
	cfgSSH := s.config()
	cfg, j := configtest.Dir(t, t.TempDir(), map[string]string{
		"inventory.toml": fmt.Sprintf("[hosts.win-1]\naddress = \"127.0.0.1\"\nport = %d\nuser = \"Administrator\"\nidentity_files = [%q]\nknown_hosts = [%q]\nssh_config = false\n",
			s.port, s.keyPath, cfgSSH.KnownHosts[0]),
		"documents/win.toml": winSSHDoc,
		"associations.toml":  "[associations.win]\ndocument = \"win\"\ntargets = [\"*\"]\n",
	})
	dial := func(ctx context.Context, h *inventory.Host) (transport.Conn, error) {
		c, err := Dial(ctx, Config{Name: h.Name, Address: h.Address, Port: h.Port, User: h.User, IdentityFiles: h.IdentityFiles,
			KnownHosts: h.KnownHosts, HostKeyPolicy: h.HostKeyPolicy, ConnectTimeout: 10 * time.Second})
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	statuses := func(h journal.HostResult) string {
		var out []string
		for _, st := range h.Steps {
			out = append(out, st.Name+"="+string(st.Status))
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		check  bool
		status journal.Status
		steps  string
	}{
		{true, journal.StatusSuccess, "config=Drifted logs=Drifted posix=Skipped installed=Drifted spooler=Drifted"},
		{false, journal.StatusSuccess, "config=Corrected logs=Corrected posix=Skipped installed=Corrected spooler=Corrected"},
		{true, journal.StatusSuccess, "config=Compliant logs=Compliant posix=Skipped installed=Compliant spooler=Compliant"},
	} {
		r := runner.New(runner.Options{Config: cfg, Dial: dial, Journal: j})
		res, err := r.Run(context.Background(), runner.Job{Assoc: cfg.Associations[0], Check: tc.check})
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		hr := res.Hosts[0]
		if hr.Status != tc.status || statuses(hr) != tc.steps {
			t.Fatalf("check=%v: %s %s: %s", tc.check, hr.Status, hr.Error, statuses(hr))
		}
		if tc.check {
			continue
		}
		_, hosts, err := j.Show(context.Background(), res.Run.ID, "win-1")
		if err != nil {
			t.Fatal(err)
		}
		steps := hosts[0].Steps
		if steps[3].Stdout != "installed on port 8080\r\n" || steps[2].Error != "the shell action does not run on Windows" {
			t.Errorf("journal: installed %q, posix %q", steps[3].Stdout, steps[2].Error)
		}
	}
	if got, _ := w.File(`C:\app\app.toml`); got != "port = 8080\n" {
		t.Errorf("app.toml %q", got)
	}
	if w.Service("Spooler") != [2]bool{true, true} {
		t.Error("Spooler not started")
	}
	// Every script went as the stdin bootstrap: nothing of the
	// document on a command line.
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.scripts) != 4 { // check, check+apply, check
		t.Errorf("%d scripts ran", len(s.scripts))
	}
	for _, sc := range s.scripts {
		if !strings.Contains(sc, "@($input)") || strings.Contains(sc, "app.toml") {
			t.Errorf("script %.80q", sc)
		}
	}
}
