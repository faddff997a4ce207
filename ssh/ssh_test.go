package ssh_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/driftless-dev/driftless/internal/sshsim"
	"github.com/driftless-dev/driftless/internal/sshtest"
	"github.com/driftless-dev/driftless/ssh"
	"github.com/driftless-dev/driftless/transport"
	"github.com/driftless-dev/driftless/transport/transporttest"
)

// knownHosts writes a known_hosts file with the hosts' keys and returns
// its path.
func knownHosts(t *testing.T, hosts ...*sshtest.Host) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "known_hosts")
	sshtest.WriteKnownHosts(t, path, hosts...)
	return path
}

// config is the Config a user would write for h.
func config(h *sshtest.Host, kh string) ssh.Config {
	return ssh.Config{
		Name:           h.Name,
		Address:        h.Addr,
		Port:           h.Port,
		User:           h.User,
		IdentityFiles:  []string{h.ClientKeyPath},
		KnownHosts:     []string{kh},
		ConnectTimeout: 10 * time.Second,
	}
}

func dial(t *testing.T, cfg ssh.Config) *ssh.Client {
	t.Helper()
	return transporttest.Dial(t, func(ctx context.Context) (*ssh.Client, error) { return ssh.Dial(ctx, cfg) })
}

// startAndDial starts an sshd and connects to it.
func startAndDial(t *testing.T, opts sshtest.Options) (*sshtest.Host, *ssh.Client) {
	t.Helper()
	h := sshtest.StartSSHD(t, opts)
	return h, dial(t, config(h, knownHosts(t, h)))
}

type result struct {
	code           int
	stdout, stderr string
	err            error
}

func run(ctx context.Context, c transport.Conn, cmd *transport.Command) result {
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	code, err := c.Run(ctx, cmd)
	return result{code, out.String(), errOut.String(), err}
}

func mustRun(t *testing.T, c transport.Conn, script string) string {
	t.Helper()
	r := run(context.Background(), c, &transport.Command{Script: script})
	if r.err != nil || r.code != 0 {
		t.Fatalf("run %q: code %d, err %v, stderr %q", script, r.code, r.err, r.stderr)
	}
	return r.stdout
}

func wantErr(t *testing.T, err error, targets ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %v", targets)
	}
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Errorf("err = %v\nwant errors.Is(err, %v)", err, target)
		}
	}
}

func isRoot() bool { return os.Geteuid() == 0 }

func TestRunOutputAndExitCode(t *testing.T) {
	t.Parallel()
	h, c := startAndDial(t, sshtest.Options{Name: "web-1"})
	r := run(context.Background(), c, &transport.Command{
		Script: "echo out; echo err >&2; echo \"home=$HOME\"; exit 7",
	})
	if r.err != nil || r.code != 7 {
		t.Fatalf("code %d, err %v; want 7, nil", r.code, r.err)
	}
	if want := "out\nhome=" + h.Home + "\n"; r.stdout != want {
		t.Errorf("stdout = %q, want %q", r.stdout, want)
	}
	if r.stderr != "err\n" {
		t.Errorf("stderr = %q, want %q", r.stderr, "err\n")
	}
	if isRoot() {
		if got := mustRun(t, c, "pwd; id -un"); got != h.Home+"\n"+h.User+"\n" {
			t.Errorf("pwd; id -un = %q, want the host's home and user", got)
		}
	}
	// Multi-line scripts with quotes of both kinds run as written.
	script := "x='it'\"'\"'s'\nif [ \"$x\" = \"it's\" ]; then\n  echo \"ok: $x\"\nfi\n"
	if got := mustRun(t, c, script); got != "ok: it's\n" {
		t.Errorf("multi-line script: %q", got)
	}
}

func TestManyRunsShareOneConnection(t *testing.T) {
	t.Parallel()
	h, c := startAndDial(t, sshtest.Options{})
	for i := range 10 {
		if got := mustRun(t, c, fmt.Sprintf("echo %d", i)); got != fmt.Sprintf("%d\n", i) {
			t.Fatalf("run %d: %q", i, got)
		}
	}
	// Concurrent runs, more than MaxSessions at once, and long scripts
	// (uploaded over the SFTP channel).
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 14 {
		wg.Go(func() {
			r := run(context.Background(), c, &transport.Command{Script: fmt.Sprintf("sleep 0.2; echo %d", i)})
			if r.err != nil || r.stdout != fmt.Sprintf("%d\n", i) {
				errs <- fmt.Errorf("concurrent run %d: %+v", i, r)
			}
		})
	}
	for i := range 4 {
		wg.Go(func() {
			r := run(context.Background(), c, &transport.Command{Script: longScript(fmt.Sprintf("echo long %d", i))})
			if r.err != nil || r.stdout != fmt.Sprintf("long %d\n", i) {
				errs <- fmt.Errorf("concurrent long script %d: %+v", i, r)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := h.ConnectionCount(); n != 1 {
		t.Errorf("ConnectionCount = %d, want 1", n)
	}
}

// processes returns the pids whose command line contains all of args
// (the sshd runs on this machine).
func processes(args ...string) []string {
	entries, _ := os.ReadDir("/proc")
	var pids []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(cmdline) == 0 {
			continue
		}
		parts := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		match := true
		for _, a := range args {
			found := false
			for _, p := range parts {
				found = found || p == a
			}
			match = match && found
		}
		if match {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// uniqueSleep returns a sleep duration no other process uses.
func uniqueSleep(t *testing.T) string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("300.%06d", n.Int64())
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// longScript is tail after 200 KiB of comments: too long for the command
// line, so Run uploads it first.
func longScript(tail string) string {
	var b strings.Builder
	for b.Len() < 200<<10 {
		b.WriteString("# padding padding padding padding padding padding padding 'quote'\n")
	}
	b.WriteString(tail + "\n")
	return b.String()
}

func TestRunLongScript(t *testing.T) {
	t.Parallel()
	h, c := startAndDial(t, sshtest.Options{})
	r := run(context.Background(), c, &transport.Command{Script: longScript(`V=ok; echo "long $V"`), Stdin: strings.NewReader("in")})
	if r.err != nil || r.code != 0 || r.stdout != "long ok\n" {
		t.Fatalf("got code %d err %v stdout %q stderr %q", r.code, r.err, r.stdout, r.stderr)
	}
	left, _ := filepath.Glob(filepath.Join(h.Home, ".driftless-script-*"))
	if len(left) != 0 {
		t.Errorf("uploaded script left behind: %v", left)
	}
}

func TestStrictRefusesUnknownHostKey(t *testing.T) {
	t.Parallel()
	h := sshtest.StartSSHD(t, sshtest.Options{})
	other := sshtest.StartSSHD(t, sshtest.Options{Addr: "127.0.0.2"})
	kh := knownHosts(t, other) // knows another host only
	_, err := ssh.Dial(context.Background(), config(h, kh))
	wantErr(t, err, transport.ErrHostKeyUnknown)
	msg := err.Error()
	for _, want := range []string{"host key", gossh.FingerprintSHA256(h.HostKey),
		fmt.Sprintf("ssh-keyscan -p %d %s >> ", h.Port, h.Addr), "dial host:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if errors.Is(err, transport.ErrHostKeyChanged) || errors.Is(err, transport.ErrAuth) {
		t.Errorf("error has the wrong kind too: %v", err)
	}
	// No known_hosts file at all: same.
	_, err = ssh.Dial(context.Background(), config(h, filepath.Join(t.TempDir(), "none")))
	wantErr(t, err, transport.ErrHostKeyUnknown)
	if h.ConnectionCount() != 0 {
		t.Error("the client logged in to an unverified host")
	}
}

func TestAcceptNewRecordsThenStrictAccepts(t *testing.T) {
	t.Parallel()
	h := sshtest.StartSSHD(t, sshtest.Options{})
	kh := filepath.Join(t.TempDir(), "new-dir", "known_hosts")
	cfg := config(h, kh)
	cfg.HostKeyPolicy = ssh.PolicyAcceptNew
	var mu sync.Mutex
	var added []string
	cfg.OnHostKeyAdded = func(host string, key gossh.PublicKey) {
		mu.Lock()
		defer mu.Unlock()
		added = append(added, host+" "+gossh.FingerprintSHA256(key))
	}
	c := dial(t, cfg)
	if got := mustRun(t, c, "echo hi"); got != "hi\n" {
		t.Fatalf("run: %q", got)
	}
	data, err := os.ReadFile(kh)
	if err != nil {
		t.Fatal(err)
	}
	if want := h.KnownHostsLine() + "\n"; string(data) != want {
		t.Errorf("known_hosts = %q, want %q", data, want)
	}
	host := fmt.Sprintf("[%s]:%d", h.Addr, h.Port)
	if len(added) != 1 || added[0] != host+" "+gossh.FingerprintSHA256(h.HostKey) {
		t.Errorf("OnHostKeyAdded calls = %q", added)
	}
	for path, want := range map[string]fs.FileMode{kh: 0o600, filepath.Dir(kh): 0o700} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %v", path, fi.Mode().Perm(), err, want)
		}
	}

	// Now known: strict accepts it, accept-new adds nothing.
	strict := config(h, kh)
	dial(t, strict)
	dial(t, cfg)
	if again, _ := os.ReadFile(kh); string(again) != string(data) || len(added) != 1 {
		t.Errorf("second accept-new dial changed known_hosts or called OnHostKeyAdded: %q, %q", again, added)
	}

	// Hosts dialed in parallel with accept-new share the file.
	hosts := []*sshtest.Host{
		sshtest.StartSSHD(t, sshtest.Options{Addr: "127.0.0.2"}),
		sshtest.StartSSHD(t, sshtest.Options{Addr: "127.0.0.3"}),
		sshtest.StartSSHD(t, sshtest.Options{Addr: "127.0.0.4"}),
	}
	var wg sync.WaitGroup
	for _, o := range hosts {
		ocfg := config(o, kh)
		ocfg.HostKeyPolicy = ssh.PolicyAcceptNew
		for range 2 {
			wg.Go(func() {
				c, err := ssh.Dial(context.Background(), ocfg)
				if err != nil {
					t.Error(err)
					return
				}
				c.Close()
			})
		}
	}
	wg.Wait()
	data, _ = os.ReadFile(kh)
	if n := strings.Count(string(data), "\n"); n != 4 {
		t.Errorf("known_hosts has %d lines, want 4:\n%s", n, data)
	}
}

func TestChangedHostKeyIsRefused(t *testing.T) {
	t.Parallel()
	h := sshtest.StartSSHD(t, sshtest.Options{})
	_, pub := sshtest.NewClientKey(t) // any other ed25519 key
	kh := filepath.Join(t.TempDir(), "known_hosts")
	stale := knownhosts.Line([]string{h.Address()}, pub)
	sshtest.WriteKnownHostsLines(t, kh, "# comment", stale)

	for _, policy := range []string{ssh.PolicyStrict, ssh.PolicyAcceptNew} {
		cfg := config(h, kh)
		cfg.HostKeyPolicy = policy
		cfg.OnHostKeyAdded = func(string, gossh.PublicKey) { t.Error("OnHostKeyAdded called for a changed key") }
		_, err := ssh.Dial(context.Background(), cfg)
		wantErr(t, err, transport.ErrHostKeyChanged)
		if err != nil && (!strings.Contains(err.Error(), "host key") || !strings.Contains(err.Error(), "known_hosts:2")) {
			t.Errorf("%s: message should say host key and name the line:\n%v", policy, err)
		}
	}
	if data, _ := os.ReadFile(kh); string(data) != "# comment\n"+stale+"\n" {
		t.Errorf("known_hosts was modified: %q", data)
	}
	if h.ConnectionCount() != 0 {
		t.Error("the client logged in to a host with a changed key")
	}
}

func TestHashedKnownHostsEntry(t *testing.T) {
	t.Parallel()
	h := sshtest.StartSSHD(t, sshtest.Options{})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	hashed := knownhosts.HashHostname(knownhosts.Normalize(h.Address()))
	sshtest.WriteKnownHostsLines(t, kh, hashed+" "+strings.TrimSpace(string(gossh.MarshalAuthorizedKey(h.HostKey))))
	c := dial(t, config(h, kh))
	if got := mustRun(t, c, "echo ok"); got != "ok\n" {
		t.Errorf("run: %q", got)
	}
}

// A host with several host keys presents the type known_hosts has, not
// the client's favourite.
func TestHostKeyAlgorithmFollowsKnownHosts(t *testing.T) {
	t.Parallel()
	f := sshtest.StartFaulty(t, sshtest.FaultNone)
	key, _ := sshtest.NewClientKey(t)
	for _, line := range []string{f.KnownHostsLine(), f.AltKnownHostsLine()} {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		sshtest.WriteKnownHostsLines(t, kh, line)
		c, err := ssh.Dial(context.Background(), ssh.Config{
			Name: "multi", Address: f.Addr, Port: f.Port, User: "u",
			IdentityFiles: []string{key}, KnownHosts: []string{kh},
		})
		if err != nil {
			t.Fatalf("known_hosts has %q: %v", strings.Fields(line)[1], err)
		}
		c.Close()
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	key, _ := sshtest.NewClientKey(t)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	_, err = ssh.Dial(context.Background(), ssh.Config{Name: "gone", Address: "127.0.0.1", Port: port,
		User: "u", IdentityFiles: []string{key}, KnownHosts: []string{kh}})
	wantErr(t, err, transport.ErrUnreachable)
	if errors.Is(err, transport.ErrTimeout) || !strings.HasPrefix(err.Error(), "dial gone: ") {
		t.Errorf("closed port: %v", err)
	}

	_, err = ssh.Dial(context.Background(), ssh.Config{Name: "nxdomain", Address: "no-such-host.invalid",
		User: "u", IdentityFiles: []string{key}, KnownHosts: []string{kh}, ConnectTimeout: 3 * time.Second})
	wantErr(t, err, transport.ErrUnreachable)
}

func TestConnectTimeout(t *testing.T) {
	t.Parallel()
	key, _ := sshtest.NewClientKey(t)
	for _, mode := range []sshtest.FaultMode{sshtest.FaultHangBanner, sshtest.FaultHangAuth} {
		f := sshtest.StartFaulty(t, mode)
		kh := filepath.Join(t.TempDir(), "known_hosts")
		sshtest.WriteKnownHostsLines(t, kh, f.KnownHostsLine())
		cfg := ssh.Config{Name: "slow", Address: f.Addr, Port: f.Port, User: "u",
			IdentityFiles: []string{key}, KnownHosts: []string{kh}, ConnectTimeout: 300 * time.Millisecond}
		start := time.Now()
		_, err := ssh.Dial(context.Background(), cfg)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%v: Dial took %v with a 300ms timeout", mode, d)
		}
		wantErr(t, err, transport.ErrTimeout, transport.ErrUnreachable)

		// The caller's context is obeyed too, and a cancel is not a
		// timeout.
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		cfg.ConnectTimeout = time.Minute
		_, err = ssh.Dial(ctx, cfg)
		wantErr(t, err, context.Canceled)
		if errors.Is(err, transport.ErrTimeout) || errors.Is(err, transport.ErrUnreachable) {
			t.Errorf("%v: cancelled dial: %v", mode, err)
		}
	}
}

func TestWrongClientKey(t *testing.T) {
	t.Parallel()
	h := sshtest.StartSSHD(t, sshtest.Options{})
	kh := knownHosts(t, h)
	cfg := config(h, kh)
	wrong, _ := sshtest.NewClientKey(t)
	cfg.IdentityFiles = []string{wrong}
	_, err := ssh.Dial(context.Background(), cfg)
	wantErr(t, err, transport.ErrAuth)
	if err != nil && !strings.Contains(err.Error(), h.User+"@") {
		t.Errorf("message should name the user: %v", err)
	}

	// An explicit identity file that does not exist is an error...
	cfg.IdentityFiles = []string{filepath.Join(t.TempDir(), "id_missing")}
	_, err = ssh.Dial(context.Background(), cfg)
	wantErr(t, err, transport.ErrAuth, fs.ErrNotExist)
	// ...a missing default one is skipped.
	cfg.IdentityFiles = nil
	cfg.DefaultIdentityFiles = []string{filepath.Join(t.TempDir(), "id_ed25519"), h.ClientKeyPath}
	dial(t, cfg)
}

func TestPasswordAuth(t *testing.T) {
	t.Parallel()
	h := sshtest.StartSSHD(t, sshtest.Options{Password: "s3cret 'pw'"})
	cfg := config(h, knownHosts(t, h))
	cfg.IdentityFiles = nil
	cfg.Password = "s3cret 'pw'"
	c := dial(t, cfg)
	if got := mustRun(t, c, "id -un"); got != h.User+"\n" {
		t.Errorf("id -un = %q", got)
	}
	cfg.Password = "wrong"
	_, err := ssh.Dial(context.Background(), cfg)
	wantErr(t, err, transport.ErrAuth)
	if err != nil && strings.Contains(err.Error(), "wrong") {
		t.Errorf("the password appears in the error: %v", err)
	}
}

func TestEncryptedKey(t *testing.T) {
	t.Parallel()
	key, _ := sshtest.NewEncryptedClientKey(t, "open sesame")
	h := sshtest.StartSSHD(t, sshtest.Options{ClientKeyPath: key})
	cfg := config(h, knownHosts(t, h))
	var asked []string
	cfg.Passphrase = func(file string) ([]byte, error) {
		asked = append(asked, file)
		return []byte("open sesame"), nil
	}
	c := dial(t, cfg)
	mustRun(t, c, "true")
	if len(asked) != 1 || asked[0] != key {
		t.Errorf("Passphrase called for %q, want [%s]", asked, key)
	}
	// The decrypted key is kept: the next dial (the next host of a fleet)
	// neither asks nor decrypts again.
	mustRun(t, dial(t, cfg), "true")
	if len(asked) != 1 {
		t.Errorf("Passphrase called %d times for two dials", len(asked))
	}

	// The same key under another name has not been decrypted yet.
	data, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "id_other")
	if err := os.WriteFile(other, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.IdentityFiles = []string{other}
	cfg.Passphrase = func(string) ([]byte, error) { return []byte("guess"), nil }
	_, err = ssh.Dial(context.Background(), cfg)
	wantErr(t, err, transport.ErrAuth)
	if err != nil && !strings.Contains(err.Error(), "wrong passphrase") {
		t.Errorf("err = %v, want it to say wrong passphrase", err)
	}
	cfg.Passphrase = nil
	_, err = ssh.Dial(context.Background(), cfg)
	wantErr(t, err, transport.ErrAuth)
}

// startAgent serves an in-process ssh-agent holding keys on a unix socket.
func startAgent(t *testing.T, keys ...any) string {
	t.Helper()
	keyring := agent.NewKeyring()
	for _, k := range keys {
		if err := keyring.Add(agent.AddedKey{PrivateKey: k}); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = agent.ServeAgent(keyring, conn)
			}()
		}
	}()
	return sock
}

func TestAgentAuth(t *testing.T) {
	t.Parallel()
	pubRaw, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := gossh.NewPublicKey(pubRaw)
	// The agent also holds an encrypted key file's key: its passphrase is
	// then never asked for.
	encPath, encPub := sshtest.NewEncryptedClientKey(t, "pp")
	encData, _ := os.ReadFile(encPath)
	encPriv, err := gossh.ParseRawPrivateKeyWithPassphrase(encData, []byte("pp"))
	if err != nil {
		t.Fatal(err)
	}
	sock := startAgent(t, priv, encPriv)

	h := sshtest.StartSSHD(t, sshtest.Options{AuthorizedKeys: []gossh.PublicKey{pub}})
	cfg := config(h, knownHosts(t, h))
	cfg.IdentityFiles = nil
	cfg.Agent = true
	cfg.AgentSocket = sock
	c := dial(t, cfg)
	if got := mustRun(t, c, "echo agent"); got != "agent\n" {
		t.Errorf("run: %q", got)
	}

	h2 := sshtest.StartSSHD(t, sshtest.Options{AuthorizedKeys: []gossh.PublicKey{encPub}, Addr: "127.0.0.2"})
	cfg2 := config(h2, knownHosts(t, h2))
	cfg2.IdentityFiles = []string{encPath}
	cfg2.Agent = true
	cfg2.AgentSocket = sock
	cfg2.Passphrase = func(string) ([]byte, error) {
		t.Error("Passphrase called for a key the agent holds")
		return nil, errors.New("no")
	}
	dial(t, cfg2)

	// Agent off: no credentials at all is an authentication error.
	cfg.Agent = false
	_, err = ssh.Dial(context.Background(), cfg)
	wantErr(t, err, transport.ErrAuth)
}

func TestJumpHost(t *testing.T) {
	t.Parallel()
	key, _ := sshtest.NewClientKey(t)
	bastion := sshtest.StartSSHD(t, sshtest.Options{Name: "bastion", Addr: "127.0.0.2", ClientKeyPath: key})
	target := sshtest.StartSSHD(t, sshtest.Options{Name: "db-1", Addr: "127.0.0.3", ClientKeyPath: key})
	bastionKH := knownHosts(t, bastion)
	targetKH := knownHosts(t, target)

	cfg := config(target, targetKH)
	cfg.Jump = []ssh.Config{config(bastion, bastionKH)}
	c := dial(t, cfg)
	if got := mustRun(t, c, `echo "${SSH_CONNECTION%% *}"`); got != "127.0.0.1\n" && got != "127.0.0.2\n" {
		t.Errorf("target sees the client as %q", got)
	}
	if got := mustRun(t, c, "id -un"); got != target.User+"\n" {
		t.Errorf("logged in as %q, want %s", got, target.User)
	}
	// A long script goes over an SFTP channel through the jump too.
	if got := mustRun(t, c, longScript("id -un")); got != target.User+"\n" {
		t.Errorf("long script via the jump: %q, want %s", got, target.User)
	}
	if b, tg := bastion.ConnectionCount(), target.ConnectionCount(); b != 1 || tg != 1 {
		t.Errorf("ConnectionCount bastion %d, target %d; want 1, 1", b, tg)
	}

	// Each hop is verified with its own known_hosts.
	bad := cfg
	bad.Jump = []ssh.Config{config(bastion, targetKH)}
	_, err := ssh.Dial(context.Background(), bad)
	wantErr(t, err, transport.ErrHostKeyUnknown)
	if err != nil && !strings.Contains(err.Error(), "jump bastion") {
		t.Errorf("error should name the hop: %v", err)
	}
	bad = cfg
	bad.KnownHosts = []string{bastionKH}
	_, err = ssh.Dial(context.Background(), bad)
	wantErr(t, err, transport.ErrHostKeyUnknown)

	// A bastion that refuses forwarding makes the target unreachable.
	closed := sshtest.StartSSHD(t, sshtest.Options{Name: "closed", Addr: "127.0.0.4", ClientKeyPath: key,
		Config: []string{"AllowTcpForwarding no"}})
	bad = cfg
	bad.Jump = []ssh.Config{config(closed, knownHosts(t, closed))}
	_, err = ssh.Dial(context.Background(), bad)
	wantErr(t, err, transport.ErrUnreachable)
}

func TestConnectionLost(t *testing.T) {
	t.Parallel()
	key, _ := sshtest.NewClientKey(t)
	dialFaulty := func(mode sshtest.FaultMode, keepalive time.Duration) *ssh.Client {
		f := sshtest.StartFaulty(t, mode)
		kh := filepath.Join(t.TempDir(), "known_hosts")
		sshtest.WriteKnownHostsLines(t, kh, f.KnownHostsLine())
		return dial(t, ssh.Config{Name: mode.String(), Address: f.Addr, Port: f.Port, User: "u",
			IdentityFiles: []string{key}, KnownHosts: []string{kh}, KeepaliveInterval: keepalive})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	r := run(ctx, dialFaulty(sshtest.FaultDropDuringRun, 0), &transport.Command{Script: "work"})
	wantErr(t, r.err, transport.ErrConnLost)
	if r.stdout != "started\n" {
		t.Errorf("stdout = %q, want what came before the drop", r.stdout)
	}

	r = run(ctx, dialFaulty(sshtest.FaultNoExitStatus, 0), &transport.Command{Script: "work"})
	wantErr(t, r.err, transport.ErrConnLost)

	c := dialFaulty(sshtest.FaultDropAfterAuth, 0)
	r = run(ctx, c, &transport.Command{Script: "work"})
	wantErr(t, r.err, transport.ErrConnLost)
	r = run(ctx, c, &transport.Command{Script: longScript("work")}) // SFTP upload
	wantErr(t, r.err, transport.ErrConnLost)

	// A peer that stops answering is found by keepalives.
	start := time.Now()
	r = run(ctx, dialFaulty(sshtest.FaultStall, 100*time.Millisecond), &transport.Command{Script: "work"})
	wantErr(t, r.err, transport.ErrConnLost)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("stalled peer detected after %v", d)
	}
	if r.err != nil && !strings.Contains(r.err.Error(), "keepalive") {
		t.Errorf("error should say keepalives went unanswered: %v", r.err)
	}
}

func TestHostCrashDuringRun(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("DropConnections needs /proc")
	}
	h, c := startAndDial(t, sshtest.Options{})
	done := make(chan result, 1)
	s := uniqueSleep(t)
	go func() { done <- run(context.Background(), c, &transport.Command{Script: "echo begun; sleep " + s}) }()
	waitFor(t, "remote sleep", func() bool { return len(processes("sleep", s)) == 1 })
	h.DropConnections()
	select {
	case r := <-done:
		wantErr(t, r.err, transport.ErrConnLost)
		if r.stdout != "begun\n" {
			t.Errorf("stdout = %q", r.stdout)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not notice the lost connection")
	}
	r := run(context.Background(), c, &transport.Command{Script: "true"})
	wantErr(t, r.err, transport.ErrConnLost)
}

func TestCloseThenUse(t *testing.T) {
	t.Parallel()
	_, c := startAndDial(t, sshtest.Options{})
	mustRun(t, c, longScript("true")) // opens the SFTP channel, which Close closes too
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	r := run(context.Background(), c, &transport.Command{Script: longScript("true")})
	wantErr(t, r.err, transport.ErrConnLost)
}

func TestBecomeSudo(t *testing.T) {
	t.Parallel()
	const password = "pa ss'word"
	h := sshtest.StartSSHD(t, sshtest.Options{Sudo: true, SudoPassword: password})
	kh := knownHosts(t, h)
	cfg := config(h, kh)
	cfg.Become = ssh.BecomeSudo
	cfg.BecomePassword = password
	c := dial(t, cfg)

	r := run(context.Background(), c, &transport.Command{
		Script: "V=\"it's\"; echo \"sudo_user=$SUDO_USER v=$V\"; cat; echo err >&2; exit 4",
		Stdin:  strings.NewReader("stdin data\n"),
	})
	if r.err != nil || r.code != 4 {
		t.Fatalf("code %d, err %v, stderr %q", r.code, r.err, r.stderr)
	}
	if want := "sudo_user=" + h.User + " v=it's\nstdin data\n"; r.stdout != want {
		t.Errorf("stdout = %q, want %q", r.stdout, want)
	}
	if r.stderr != "err\n" {
		t.Errorf("stderr = %q, want only the script's", r.stderr)
	}

	// Wrong password, or none: ErrAuth, and the password never shows.
	for _, pw := range []string{"wrong", ""} {
		bad := cfg
		bad.BecomePassword = pw
		c := dial(t, bad)
		r := run(context.Background(), c, &transport.Command{Script: "echo ran"})
		wantErr(t, r.err, transport.ErrAuth)
		if strings.Contains(r.stdout, "ran") {
			t.Errorf("password %q: the script ran", pw)
		}
		for _, s := range []string{r.stdout, r.stderr, fmt.Sprint(r.err)} {
			if pw != "" && strings.Contains(s, pw) || strings.Contains(s, "driftless-sudo") {
				t.Errorf("password or prompt leaked: %q", s)
			}
		}
	}
}

// When sudo asks for no password, the configured one must not reach the
// script's stdin.
func TestBecomeSudoWithoutPrompt(t *testing.T) {
	t.Parallel()
	h := sshtest.StartSSHD(t, sshtest.Options{Sudo: true})
	cfg := config(h, knownHosts(t, h))
	cfg.Become = ssh.BecomeSudo
	cfg.BecomePassword = "unused-secret"
	c := dial(t, cfg)
	r := run(context.Background(), c, &transport.Command{Script: "cat", Stdin: strings.NewReader("only this")})
	if r.err != nil || r.code != 0 || r.stdout != "only this" {
		t.Fatalf("got %+v", r)
	}
	r = run(context.Background(), c, &transport.Command{Script: "cat; echo end"})
	if r.err != nil || r.stdout != "end\n" {
		t.Fatalf("got %+v", r)
	}
}

// TestKeepalivesRepeat checks that keepalives go on every interval on a
// healthy connection, which stays usable, and stop when it is closed.
func TestKeepalivesRepeat(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := filepath.Join(dir, "id")
	signer, err := sshsim.NewClientKey(key)
	if err != nil {
		t.Fatal(err)
	}
	fl, err := sshsim.Start(sshsim.Options{AuthorizedKeys: []gossh.PublicKey{signer.PublicKey()}, Dir: filepath.Join(dir, "homes"),
		FirstAddr: "127.1.13.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	h := fl.Hosts[0]
	kh := filepath.Join(dir, "known_hosts")
	sshtest.WriteKnownHostsLines(t, kh, fl.KnownHosts()...)
	c := dial(t, ssh.Config{Name: h.Name, Address: h.Addr, Port: h.Port, User: "u", IdentityFiles: []string{key},
		KnownHosts: []string{kh}, KeepaliveInterval: 20 * time.Millisecond})
	waitFor(t, "five keepalives", func() bool { return h.Keepalives() >= 5 })
	if out := mustRun(t, c, "echo alive"); out != "alive\n" {
		t.Errorf("after keepalives: %q", out)
	}
	c.Close()
	n := h.Keepalives()
	time.Sleep(100 * time.Millisecond)
	if m := h.Keepalives(); m != n {
		t.Errorf("%d keepalives after Close", m-n)
	}
}
