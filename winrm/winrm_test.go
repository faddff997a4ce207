package winrm_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/transport"

	"github.com/driftless-dev/driftless/winrm"
	"github.com/driftless-dev/driftless/winrm/winrmtest"
)

const prologue = "$ProgressPreference = 'SilentlyContinue'\n"

// echo answers a script with its text on stdout, "err" on stderr and
// exit code 3.
func echo(ctx context.Context, p *winrmtest.Process, script string) int {
	io.WriteString(p.Stdout, script)
	io.WriteString(p.Stderr, "err")
	return 3
}

func run(t *testing.T, c *winrm.Client, cmd *transport.Command) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code, err := c.Run(ctx, cmd)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return code, o.String(), e.String()
}

func TestClientIsAPowerShellConn(t *testing.T) {
	var conn transport.Conn = &winrm.Client{}
	s, ok := conn.(transport.Sheller)
	if !ok || s.Shell() != transport.ShellPowerShell {
		t.Fatalf("Shell() = %v, %v", s, ok)
	}
}

func TestRunSendsEncodedPowerShell(t *testing.T) {
	srv, _ := newHost(t, winrmtest.Options{}, echo)
	c := dial(t, config(t, srv, winrm.AuthNTLM))
	code, stdout, stderr := run(t, c, &transport.Command{Script: "Get-Service WinRM | Select-Object -Expand Status\n"})
	want := prologue + "Get-Service WinRM | Select-Object -Expand Status\n"
	if code != 3 || stdout != want || stderr != "err" {
		t.Fatalf("got %d %q %q", code, stdout, stderr)
	}
	cmds := srv.Commands()
	if len(cmds) != 1 {
		t.Fatalf("%d commands", len(cmds))
	}
	cmd := cmds[0]
	if wantLine := "powershell.exe -NoProfile -NonInteractive -EncodedCommand " + winrmtest.EncodeScript(want); cmd.CommandLine != wantLine {
		t.Errorf("command line\n%s\nwant\n%s", cmd.CommandLine, wantLine)
	}
	if cmd.Script != want || !cmd.PowerShell {
		t.Errorf("script %q", cmd.Script)
	}
	if cmd.Options["WINRS_CONSOLEMODE_STDIN"] != "TRUE" || cmd.Options["WINRS_SKIP_CMD_SHELL"] != "FALSE" {
		t.Errorf("options %v", cmd.Options)
	}
	if len(cmd.Stdin) != 0 {
		t.Errorf("stdin %q", cmd.Stdin)
	}
}

func TestRunStreamsOutput(t *testing.T) {
	release := make(chan struct{})
	srv, _ := newHost(t, winrmtest.Options{}, func(ctx context.Context, p *winrmtest.Process, _ string) int {
		io.WriteString(p.Stdout, "first ")
		select {
		case <-release:
		case <-ctx.Done():
			return 1
		}
		io.WriteString(p.Stdout, "second")
		return 0
	})
	c := dial(t, config(t, srv, winrm.AuthNTLM))
	out := &notifyWriter{seen: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := c.Run(context.Background(), &transport.Command{Script: "x", Stdout: out})
		done <- err
	}()
	select {
	case <-out.seen:
	case <-time.After(10 * time.Second):
		t.Fatal("no output while the command runs")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "first second" {
		t.Fatalf("stdout %q", got)
	}
}

type notifyWriter struct {
	mu   sync.Mutex
	b    bytes.Buffer
	seen chan struct{}
	once sync.Once
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.once.Do(func() { close(w.seen) })
	return w.b.Write(p)
}

func (w *notifyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestRunStdin(t *testing.T) {
	srv, _ := newHost(t, winrmtest.Options{}, func(ctx context.Context, p *winrmtest.Process, _ string) int {
		in, _ := io.ReadAll(p.Stdin)
		fmt.Fprintf(p.Stdout, "%d:%s", len(in), in[:10])
		return 0
	})
	c := dial(t, config(t, srv, winrm.AuthNTLM))
	in := bytes.Repeat([]byte("0123456789"), 20000) // several Sends
	code, stdout, _ := run(t, c, &transport.Command{Script: "$input", Stdin: bytes.NewReader(in)})
	if code != 0 || stdout != "200000:0123456789" {
		t.Fatalf("%d %q", code, stdout)
	}
	if cmd := srv.Commands()[0]; cmd.Options["WINRS_CONSOLEMODE_STDIN"] != "FALSE" || !bytes.Equal(cmd.Stdin, in) {
		t.Fatalf("options %v, stdin %d bytes", cmd.Options, len(cmd.Stdin))
	}
}

func TestRunLongScriptIsPushedFirst(t *testing.T) {
	var ran atomic.Value
	srv, host := newHost(t, winrmtest.Options{}, func(ctx context.Context, p *winrmtest.Process, script string) int {
		ran.Store(script)
		io.WriteString(p.Stdout, "ok")
		return 5
	})
	c := dial(t, config(t, srv, winrm.AuthNTLM))
	script := "# " + strings.Repeat("x", 5000) + "\nWrite-Output 'héllo'\n" // > 8 KiB once encoded
	code, stdout, _ := run(t, c, &transport.Command{Script: script})
	if code != 5 || stdout != "ok" {
		t.Fatalf("%d %q", code, stdout)
	}
	want := prologue + script
	if got, _ := ran.Load().(string); got != want {
		t.Fatalf("the host ran %.80q..., want %.80q...", got, want)
	}
	cmds := srv.Commands()
	if len(cmds) != 2 {
		t.Fatalf("%d commands, want a put and the bootstrap", len(cmds))
	}
	if !strings.HasPrefix(cmds[0].Script, "begin {") || string(cmds[0].Stdin) == "" {
		t.Errorf("first command is not a put: %.60q", cmds[0].Script)
	}
	for _, cmd := range cmds {
		if len(cmd.CommandLine) > 8191 {
			t.Errorf("command line of %d characters", len(cmd.CommandLine))
		}
	}
	if !strings.Contains(cmds[1].Script, "$input | . $__dl_block") || !strings.Contains(cmds[1].Script, "[IO.File]::Delete($__dl_file)") {
		t.Errorf("bootstrap:\n%s", cmds[1].Script)
	}
	if n := host.fileCount(); n != 0 {
		t.Errorf("%d files left on the host", n)
	}
}

func TestRunCancelTerminatesAndDeletesShell(t *testing.T) {
	started := make(chan struct{})
	srv, _ := newHost(t, winrmtest.Options{}, func(ctx context.Context, p *winrmtest.Process, _ string) int {
		close(started)
		<-ctx.Done()
		return 1
	})
	c := dial(t, config(t, srv, winrm.AuthNTLM))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		for !slices.Contains(srv.Operations(), winrmtest.OpReceive) {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	code, err := c.Run(ctx, &transport.Command{Script: "Start-Sleep 3600"})
	if code != -1 || !errors.Is(err, context.Canceled) || errors.Is(err, transport.ErrTimeout) {
		t.Fatalf("code %d err %v", code, err)
	}
	sigs := srv.Signals()
	cmd := srv.Commands()[0]
	if len(sigs) != 1 || sigs[0].Code != winrmtest.SignalTerminate || sigs[0].CommandID != cmd.ID {
		t.Fatalf("signals %+v", sigs)
	}
	if del := srv.Deleted(); len(del) != 1 || del[0] != cmd.ShellID {
		t.Fatalf("deleted %v, want shell %s", del, cmd.ShellID)
	}
}

func TestCancelDoesNotWaitForASilentHost(t *testing.T) {
	silent := func(op string) bool { return op == winrmtest.OpSignal || op == winrmtest.OpDelete }
	srv, _ := newHost(t, winrmtest.Options{Stall: silent}, func(ctx context.Context, p *winrmtest.Process, _ string) int {
		<-ctx.Done()
		return 1
	})
	cfg := config(t, srv, winrm.AuthNTLM)
	cfg.ConnectTimeout = 300 * time.Millisecond
	c := dial(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Run(ctx, &transport.Command{Script: "Start-Sleep 3600"})
	if took := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || took > 2*time.Second {
		t.Fatalf("took %s: %v", took, err)
	}
	start = time.Now()
	c.Close()
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Close took %s", took)
	}
}

func TestRunDeadlineIsTimeout(t *testing.T) {
	srv, _ := newHost(t, winrmtest.Options{}, func(ctx context.Context, p *winrmtest.Process, _ string) int {
		<-ctx.Done()
		return 1
	})
	c := dial(t, config(t, srv, winrm.AuthBasic))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := c.Run(ctx, &transport.Command{Script: "Start-Sleep 3600"})
	if !errors.Is(err, transport.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if len(srv.Signals()) != 1 || len(srv.Deleted()) != 1 {
		t.Fatalf("signals %v deleted %v", srv.Signals(), srv.Deleted())
	}
}

func TestRunPollsAgainAfterReceiveTimeout(t *testing.T) {
	srv, _ := newHost(t, winrmtest.Options{ReceiveTimeout: 50 * time.Millisecond}, func(ctx context.Context, p *winrmtest.Process, _ string) int {
		time.Sleep(400 * time.Millisecond)
		io.WriteString(p.Stdout, "done")
		return 0
	})
	c := dial(t, config(t, srv, winrm.AuthNTLM))
	code, stdout, _ := run(t, c, &transport.Command{Script: "Start-Sleep 1"})
	if code != 0 || stdout != "done" {
		t.Fatalf("%d %q", code, stdout)
	}
	if n := srv.Count(winrmtest.OpReceive); n < 3 {
		t.Fatalf("%d Receives", n)
	}
}

func TestRunReusesShells(t *testing.T) {
	srv, _ := newHost(t, winrmtest.Options{}, echo)
	c := dial(t, config(t, srv, winrm.AuthNTLM))
	for range 3 {
		run(t, c, &transport.Command{Script: "1"})
	}
	if creates := srv.Count(winrmtest.OpCreate); creates != 1 {
		t.Fatalf("%d shells created for 3 sequential commands: %v", creates, srv.Operations())
	}
	// The host forgets the shell (restart, idle timeout): a new one.
	srv.DropShells()
	if code, _, _ := run(t, c, &transport.Command{Script: "1"}); code != 3 {
		t.Fatalf("code %d after the shell was lost", code)
	}
	c.Close()
	if srv.OpenShells() != 0 {
		t.Fatalf("%d shells open after Close", srv.OpenShells())
	}
	if _, err := c.Run(context.Background(), &transport.Command{Script: "1"}); !errors.Is(err, transport.ErrConnLost) {
		t.Fatalf("Run after Close: %v", err)
	}
}

func TestRunConcurrentWithinMaxShells(t *testing.T) {
	var cur, peak atomic.Int32
	srv, _ := newHost(t, winrmtest.Options{}, func(ctx context.Context, p *winrmtest.Process, script string) int {
		n := cur.Add(1)
		defer cur.Add(-1)
		for {
			old := peak.Load()
			if n <= old || peak.CompareAndSwap(old, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		io.WriteString(p.Stdout, script[len(prologue):])
		return 0
	})
	cfg := config(t, srv, winrm.AuthNTLM)
	cfg.MaxShells = 3
	c := dial(t, cfg)
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			var out bytes.Buffer
			want := fmt.Sprintf("script %d", i)
			code, err := c.Run(context.Background(), &transport.Command{Script: want, Stdout: &out})
			if err != nil || code != 0 || out.String() != want {
				t.Errorf("run %d: %d %q %v", i, code, out.String(), err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 3 || p < 2 {
		t.Fatalf("peak of %d commands at once, want 2..3", p)
	}
}

func TestRunCLIXMLStderrIsPlainText(t *testing.T) {
	clixml := "#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">" +
		"<Obj S=\"progress\" RefId=\"0\"><TN RefId=\"0\"><T>System.Management.Automation.PSCustomObject</T></TN><MS><I64 N=\"SourceId\">1</I64></MS></Obj>" +
		"<S S=\"Error\">Get-Item : Cannot find path 'C:\\nope' because it does not exist._x000D__x000A_</S>" +
		"<S S=\"Error\">At line:1 char:1 – ok_x000D__x000A_</S></Objs>"
	srv, _ := newHost(t, winrmtest.Options{}, func(ctx context.Context, p *winrmtest.Process, _ string) int {
		io.WriteString(p.Stderr, clixml[:5]) // in pieces, as Receives cut it
		io.WriteString(p.Stderr, clixml[5:])
		return 1
	})
	c := dial(t, config(t, srv, winrm.AuthNTLM))
	code, _, stderr := run(t, c, &transport.Command{Script: "Get-Item C:\\nope"})
	want := "Get-Item : Cannot find path 'C:\\nope' because it does not exist.\r\nAt line:1 char:1 – ok\r\n"
	if code != 1 || stderr != want {
		t.Fatalf("%d %q", code, stderr)
	}
}

// A long script travels in chunks: base64 lines of 48 KiB on the put
// command's stdin, then a checksum line.
func TestRunLongScriptInChunks(t *testing.T) {
	var ran atomic.Value
	srv, host := newHost(t, winrmtest.Options{}, func(ctx context.Context, p *winrmtest.Process, script string) int {
		ran.Store(script)
		return 0
	})
	c := dial(t, config(t, srv, winrm.AuthNTLM))
	script := "# " + strings.Repeat("it's ", 40<<10) + "\n" // 200 KiB
	if code, _, _ := run(t, c, &transport.Command{Script: script}); code != 0 {
		t.Fatalf("code %d", code)
	}
	if got, _ := ran.Load().(string); got != prologue+script {
		t.Fatalf("the host ran %d bytes, want %d", len(got), len(prologue+script))
	}
	cmd := srv.Commands()[0]
	lines := strings.Split(strings.TrimSuffix(string(cmd.Stdin), "\r\n"), "\r\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[5], "=") {
		t.Fatalf("%d stdin lines (want 5 chunks and a checksum): last %.80q", len(lines), lines[len(lines)-1])
	}
	if cmd.Options["WINRS_CONSOLEMODE_STDIN"] != "FALSE" {
		t.Errorf("options %v", cmd.Options)
	}
	for _, want := range []string{"[IO.File]::Move($dl_tmp, $dl_path)", "[IO.File]::Delete($dl_tmp)", "checksum mismatch"} {
		if !strings.Contains(cmd.Script, want) {
			t.Errorf("put script lacks %s", want)
		}
	}
	if n := host.fileCount(); n != 0 {
		t.Errorf("%d files left on the host", n)
	}
}

// A long script whose upload does not verify is not run.
func TestRunLongScriptRefusesWhatDoesNotVerify(t *testing.T) {
	var ran atomic.Bool
	srv, host := newHost(t, winrmtest.Options{}, func(context.Context, *winrmtest.Process, string) int {
		ran.Store(true)
		return 0
	})
	host.corrupt = true
	c := dial(t, config(t, srv, winrm.AuthBasic))
	_, err := c.Run(context.Background(), &transport.Command{Script: "# " + strings.Repeat("x", 10000) + "\n"})
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") || !strings.HasPrefix(err.Error(), "run win-1: ") {
		t.Fatalf("err %v", err)
	}
	if ran.Load() || host.fileCount() != 0 {
		t.Fatalf("the script ran (%v) or was kept (%d files)", ran.Load(), host.fileCount())
	}
}

func TestDialAuthMethods(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tls   bool
		auth  string
		user  string
		allow int
	}{
		{"http-ntlm", false, winrm.AuthNTLM, "", winrmtest.AuthNTLM},
		{"http-basic", false, winrm.AuthBasic, "", winrmtest.AuthBasic},
		{"https-ntlm", true, winrm.AuthNTLM, "", 0},
		{"https-basic", true, winrm.AuthBasic, "", 0},
		{"ntlm-domain-user", false, winrm.AuthNTLM, `WIN-TEST\Administrator`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := newHost(t, winrmtest.Options{TLS: tc.tls, Auth: tc.allow}, echo)
			cfg := config(t, srv, tc.auth)
			if tc.user != "" {
				cfg.User = tc.user
			}
			c := dial(t, cfg)
			if code, _, _ := run(t, c, &transport.Command{Script: "1"}); code != 3 {
				t.Fatalf("code %d", code)
			}
			for _, s := range srv.AuthSchemes() {
				if tc.auth == winrm.AuthNTLM && s == "Basic" {
					t.Fatalf("NTLM client sent Basic: %v", srv.AuthSchemes())
				}
			}
		})
	}
}

func TestDialWrongPassword(t *testing.T) {
	for _, auth := range []string{winrm.AuthNTLM, winrm.AuthBasic} {
		srv, _ := newHost(t, winrmtest.Options{TLS: true}, echo)
		cfg := config(t, srv, auth)
		cfg.Password = "wrong"
		_, err := winrm.Dial(context.Background(), cfg)
		want := fmt.Sprintf("dial win-1: authentication failed: WinRM: 401 from win-1:%d — check user/password_env and auth = ntlm|basic (user Administrator, auth = %s; the host offers Negotiate, Basic)", srv.Port, auth)
		if !errors.Is(err, transport.ErrAuth) || err.Error() != want {
			t.Errorf("%s:\n%v\nwant\n%s", auth, err, want)
		}
	}
}

func TestNTLMNeverFallsBackToBasic(t *testing.T) {
	srv, _ := newHost(t, winrmtest.Options{Auth: winrmtest.AuthBasic}, echo)
	_, err := winrm.Dial(context.Background(), config(t, srv, winrm.AuthNTLM))
	if !errors.Is(err, transport.ErrAuth) || !strings.Contains(err.Error(), "the host does not offer NTLM") ||
		!strings.Contains(err.Error(), "AllowUnencrypted") {
		t.Fatalf("err %v", err)
	}
	for _, s := range srv.AuthSchemes() {
		if s != "" {
			t.Fatalf("credentials were sent: %v", srv.AuthSchemes())
		}
	}
	srv, _ = newHost(t, winrmtest.Options{Auth: winrmtest.AuthNTLM}, echo)
	_, err = winrm.Dial(context.Background(), config(t, srv, winrm.AuthBasic))
	if !errors.Is(err, transport.ErrAuth) || !strings.Contains(err.Error(), "does not accept Basic") {
		t.Fatalf("err %v", err)
	}
}

func tlsServer(t *testing.T, hosts []string, notAfter time.Time) (*winrmtest.Server, *winrmtest.CA) {
	t.Helper()
	ca, err := winrmtest.NewCA("Test Root")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue(hosts, notAfter.Add(-48*time.Hour), notAfter)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := newHost(t, winrmtest.Options{TLS: true, Certificate: &cert}, echo)
	return srv, ca
}

func TestTLSFailuresAreClear(t *testing.T) {
	good := time.Now().Add(24 * time.Hour)
	t.Run("unknown-authority", func(t *testing.T) {
		srv, _ := tlsServer(t, []string{"127.0.0.1"}, good)
		_, err := winrm.Dial(context.Background(), config(t, srv, winrm.AuthNTLM))
		if !errors.Is(err, winrm.ErrTLS) || !errors.Is(err, transport.ErrUnreachable) ||
			!strings.Contains(err.Error(), "is signed by an unknown authority (issued by CN=Test Root,O=winrmtest): set winrm.ca_file to the CA that signed it") {
			t.Fatalf("err %v", err)
		}
		if len(srv.AuthSchemes()) != 0 {
			t.Fatal("a request got through")
		}
	})
	for _, tc := range []struct {
		name     string
		hosts    []string
		notAfter time.Time
		want     string
	}{
		{"wrong-name", []string{"win-2.example.com"}, good, "is for win-2.example.com, not 127.0.0.1"},
		{"expired", []string{"127.0.0.1"}, time.Now().Add(-time.Hour), "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, ca := tlsServer(t, tc.hosts, tc.notAfter)
			cfg := config(t, srv, winrm.AuthNTLM)
			cfg.CAFile = writeFile(t, "ca.pem", ca.PEM)
			_, err := winrm.Dial(context.Background(), cfg)
			if !errors.Is(err, winrm.ErrTLS) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v", err)
			}
		})
	}
	t.Run("insecure-skip-verify", func(t *testing.T) {
		srv, _ := tlsServer(t, []string{"win-2.example.com"}, time.Now().Add(-time.Hour))
		cfg := config(t, srv, winrm.AuthNTLM)
		cfg.InsecureSkipVerify = true
		c := dial(t, cfg)
		if code, _, _ := run(t, c, &transport.Command{Script: "1"}); code != 3 {
			t.Fatal(code)
		}
	})
	for _, tc := range []struct {
		name string
		tls  bool
		auth string
		set  func(t *testing.T, cfg *winrm.Config)
		is   error // nil: any error
		want string
	}{
		{"https-to-http-port", false, winrm.AuthNTLM, func(t *testing.T, cfg *winrm.Config) { cfg.HTTPS = true },
			winrm.ErrTLS, "does not answer TLS"},
		{"http-to-https-port", true, winrm.AuthBasic, func(t *testing.T, cfg *winrm.Config) { cfg.HTTPS, cfg.CAFile = false, "" },
			transport.ErrUnreachable, "if the port speaks HTTPS, set https = true"},
		{"bad-ca-file", true, winrm.AuthBasic, func(t *testing.T, cfg *winrm.Config) {
			cfg.CAFile = writeFile(t, "ca.pem", []byte("not a certificate"))
		}, nil, "no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := newHost(t, winrmtest.Options{TLS: tc.tls}, echo)
			cfg := config(t, srv, tc.auth)
			tc.set(t, &cfg)
			_, err := winrm.Dial(context.Background(), cfg)
			if err == nil || tc.is != nil && !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v", err)
			}
		})
	}
}

func TestDialRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	_, err = winrm.Dial(context.Background(), winrm.Config{Name: "win-1", Address: "127.0.0.1", Port: port, User: "u", Password: "p"})
	if !errors.Is(err, transport.ErrUnreachable) || errors.Is(err, transport.ErrTimeout) ||
		!strings.Contains(err.Error(), fmt.Sprintf("win-1:%d refused the connection", port)) {
		t.Fatalf("err %v", err)
	}
}

// silentListener accepts connections and never answers.
func silentListener(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

func TestDialTimeout(t *testing.T) {
	port := silentListener(t)
	for _, https := range []bool{false, true} {
		start := time.Now()
		_, err := winrm.Dial(context.Background(), winrm.Config{Name: "win-1", Address: "127.0.0.1", Port: port, HTTPS: https,
			User: "u", Password: "p", ConnectTimeout: 300 * time.Millisecond})
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("https=%v: took %s", https, took)
		}
		if !errors.Is(err, transport.ErrUnreachable) || !errors.Is(err, transport.ErrTimeout) || !strings.Contains(err.Error(), "within 300ms (connect_timeout)") {
			t.Errorf("https=%v: err %v", https, err)
		}
	}
	// The caller's deadline is reported as the caller's.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := winrm.Dial(ctx, winrm.Config{Name: "win-1", Address: "127.0.0.1", Port: port, User: "u", Password: "p"})
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, transport.ErrTimeout) {
		t.Errorf("err %v", err)
	}
}

func TestOperationTimeout(t *testing.T) {
	srv, _ := newHost(t, winrmtest.Options{Stall: func(op string) bool { return op == winrmtest.OpReceive }}, echo)
	cfg := config(t, srv, winrm.AuthNTLM)
	cfg.OperationTimeout = time.Second
	c := dial(t, cfg)
	start := time.Now()
	_, err := c.Run(context.Background(), &transport.Command{Script: "1"})
	if !errors.Is(err, transport.ErrConnLost) || !errors.Is(err, transport.ErrTimeout) ||
		!strings.Contains(err.Error(), fmt.Sprintf("no answer from win-1:%d within 1.5s", srv.Port)) {
		t.Fatalf("err %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("took %s", took)
	}
	if len(srv.Signals()) != 1 || len(srv.Deleted()) != 1 {
		t.Fatalf("the command was not cleaned up: signals %v deleted %v", srv.Signals(), srv.Deleted())
	}
}

func TestFaultsInPlainWords(t *testing.T) {
	fault := `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action></s:Header><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:InternalError</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">The WS-Management service cannot process the request because the user has reached the maximum number of shells (30). </s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150859174" Machine="win-1"><f:Message>quota</f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, fault)
	}))
	defer hs.Close()
	port := hs.Listener.Addr().(*net.TCPAddr).Port
	_, err := winrm.Dial(context.Background(), winrm.Config{Name: "win-1", Address: "127.0.0.1", Port: port, User: "u", Password: "p", Auth: winrm.AuthBasic})
	want := fmt.Sprintf("dial win-1: host unreachable: WinRM: win-1:%d answered: The WS-Management service cannot process the request because the user has reached the maximum number of shells (30). (w:InternalError)", port)
	var f *winrm.Fault
	if err == nil || err.Error() != want || !errors.As(err, &f) || f.WSManCode != "2150859174" {
		t.Fatalf("err\n%v\nwant\n%s", err, want)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  winrm.Config
		want string
	}{
		{winrm.Config{}, "no address"},
		{winrm.Config{Address: "h", User: "u", Port: 70000}, "port 70000"},
		{winrm.Config{Address: "h"}, "no user"},
		{winrm.Config{Address: "h", User: "u", Auth: "kerberos"}, `auth "kerberos"`},
		{winrm.Config{Address: "h", User: "u", HTTPS: true, CAFile: "/nonexistent/ca.pem"}, "ca_file"},
	} {
		if _, err := winrm.Dial(context.Background(), tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want %q", tc.cfg, err, tc.want)
		}
	}
}
