package sshsim_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/transport"

	"github.com/pkg/sftp"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/driftless-dev/driftless/internal/sshsim"
	"github.com/driftless-dev/driftless/ssh"
)

type testFleet struct {
	*sshsim.Fleet
	keyPath string
	signer  gossh.Signer
	kh      string
}

func start(t *testing.T, opts sshsim.Options) *testFleet {
	t.Helper()
	dir := t.TempDir()
	tf := &testFleet{keyPath: filepath.Join(dir, "id_ed25519"), kh: filepath.Join(dir, "known_hosts")}
	var err error
	if tf.signer, err = sshsim.NewClientKey(tf.keyPath); err != nil {
		t.Fatal(err)
	}
	opts.AuthorizedKeys = append(opts.AuthorizedKeys, tf.signer.PublicKey())
	if tf.Fleet, err = sshsim.Start(opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := tf.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := tf.WriteKnownHosts(tf.kh); err != nil {
		t.Fatal(err)
	}
	return tf
}

// dial logs in to h as user, verifying its key against the fleet's
// known_hosts file.
func (tf *testFleet) dial(t *testing.T, h *sshsim.Host, user string) *gossh.Client {
	t.Helper()
	cb, err := knownhosts.New(tf.kh)
	if err != nil {
		t.Fatal(err)
	}
	c, err := gossh.Dial("tcp", h.Address(), &gossh.ClientConfig{
		User: user, Auth: []gossh.AuthMethod{gossh.PublicKeys(tf.signer)}, HostKeyCallback: cb, Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatalf("dial %s: %v", h.Name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// run runs cmd in a new session and returns stdout, stderr and the exit
// status.
func run(t *testing.T, c *gossh.Client, cmd string, env map[string]string) (string, string, int) {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for k, v := range env {
		if err := s.Setenv(k, v); err != nil {
			t.Fatalf("setenv %s: %v", k, err)
		}
	}
	var out, errb bytes.Buffer
	s.Stdout, s.Stderr = &out, &errb
	err = s.Run(cmd)
	var ee *gossh.ExitError
	switch {
	case err == nil:
		return out.String(), errb.String(), 0
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitStatus()
	}
	t.Fatalf("run %q: %v", cmd, err)
	return "", "", -1
}

func TestHostsAddressesKeysAndHomes(t *testing.T) {
	tf := start(t, sshsim.Options{Hosts: 300, NamePrefix: "web-"})
	if len(tf.Hosts) != 300 || len(tf.KnownHosts()) != 300 {
		t.Fatalf("%d hosts, %d known_hosts lines", len(tf.Hosts), len(tf.KnownHosts()))
	}
	seenAddr, seenKey := map[string]bool{}, map[string]bool{}
	for i, h := range tf.Hosts {
		if h.Name != fmt.Sprintf("web-%d", i+1) {
			t.Errorf("host %d is named %s", i, h.Name)
		}
		if seenAddr[h.Address()] || seenKey[string(h.HostKey.Marshal())] {
			t.Errorf("%s: address or host key shared", h.Name)
		}
		seenAddr[h.Address()], seenKey[string(h.HostKey.Marshal())] = true, true
		if strings.HasSuffix(h.Addr, ".0") || strings.HasSuffix(h.Addr, ".255") {
			t.Errorf("%s listens on %s", h.Name, h.Addr)
		}
		for _, d := range []string{h.Home, h.TempDir} {
			if st, err := os.Stat(d); err != nil || !st.IsDir() {
				t.Errorf("%s: %s: %v", h.Name, d, err)
			}
		}
		if seenAddr[h.TempDir] || filepath.Dir(h.Home) != tf.Dir {
			t.Errorf("%s: temporary directory %s shared, or home %s not in %s", h.Name, h.TempDir, h.Home, tf.Dir)
		}
		seenAddr[h.TempDir] = true
	}
	if runtime.GOOS == "linux" && tf.Hosts[299].Addr != "127.1.1.46" {
		// 127.1.0.1..254 are hosts 1..254, then 127.1.1.1.. from host 255.
		t.Errorf("host 300 listens on %s, want 127.1.1.46", tf.Hosts[299].Addr)
	}
	// Each host answers with its own home and key (verified by dial).
	for _, h := range []*sshsim.Host{tf.Hosts[0], tf.Hosts[254], tf.Hosts[299]} {
		out, _, code := run(t, tf.dial(t, h, "deploy"), `printf '%s %s %s %s' "$HOME" "$(pwd)" "$USER" "$TMPDIR"`, nil)
		if want := h.Home + " " + h.Home + " deploy " + h.TempDir; code != 0 || out != want {
			t.Errorf("%s: %q exit %d, want %q", h.Name, out, code, want)
		}
	}
}

func TestExitCodesEnvStdinAndSignals(t *testing.T) {
	tf := start(t, sshsim.Options{Env: []string{"SIM_EXTRA=extra"}})
	c := tf.dial(t, tf.Hosts[0], "u")

	for _, code := range []int{0, 1, 3, 97, 255} {
		if _, _, got := run(t, c, fmt.Sprintf("exit %d", code), nil); got != code {
			t.Errorf("exit %d: got %d", code, got)
		}
	}
	out, errOut, code := run(t, c, `echo "$GREETING $SIM_EXTRA"; echo oops >&2; exit 4`, map[string]string{"GREETING": "hello 'world'"})
	if out != "hello 'world' extra\n" || errOut != "oops\n" || code != 4 {
		t.Errorf("env: %q %q %d", out, errOut, code)
	}

	if out, _, _ := run(t, c, `printf %s "$PATH"`, nil); out != "/usr/local/bin:/usr/bin:/bin:/usr/games" {
		t.Errorf("PATH %q", out)
	}

	// stdin reaches the command, and "shell" reads commands from it.
	s, _ := c.NewSession()
	s.Stdin = strings.NewReader("abc")
	b, err := s.Output("tr a-z A-Z")
	if err != nil || string(b) != "ABC" {
		t.Errorf("stdin: %q %v", b, err)
	}
	s, _ = c.NewSession()
	s.Stdin = strings.NewReader("echo from-shell\nexit 6\n")
	var sb bytes.Buffer
	s.Stdout = &sb
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	var ee *gossh.ExitError
	if err := s.Wait(); !errors.As(err, &ee) || ee.ExitStatus() != 6 || sb.String() != "from-shell\n" {
		t.Errorf("shell: %q %v", sb.String(), err)
	}

	// A signal request reaches the command; the client sees exit-signal.
	s, _ = c.NewSession()
	defer s.Close()
	stdout, _ := s.StdoutPipe()
	if err := s.Start("echo started; exec sleep 30"); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, len("started\n"))
	if _, err := io.ReadFull(stdout, line); err != nil {
		t.Fatal(err)
	}
	if err := s.Signal(gossh.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = s.Wait()
	if !errors.As(err, &ee) || ee.Signal() != "TERM" || ee.ExitStatus() != 128+15 {
		t.Errorf("signal: %v", err)
	}
	if n := tf.Hosts[0].Execs(); n != 10 {
		t.Errorf("%d execs counted, want 10", n)
	}
}

// A command that ends before the server has answered its exec request
// still reports its exit status: the server sends exit-status and closes
// the channel only after the answer (a close first made the client's Run
// fail with EOF, as it did now and then under load).
func TestExitStatusWaitsForTheExecReply(t *testing.T) {
	t.Cleanup(sshsim.DelayReplies("exec", 100*time.Millisecond))
	tf := start(t, sshsim.Options{})
	c := tf.dial(t, tf.Hosts[0], "u")
	for _, code := range []int{0, 97} {
		if out, _, got := run(t, c, fmt.Sprintf("echo hi; exit %d", code), nil); got != code || out != "hi\n" {
			t.Errorf("exit %d: got %d, output %q", code, got, out)
		}
	}
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Run("exit 3"); err == nil || err.Error() != "Process exited with status 3" {
		t.Errorf("exit 3: %v", err)
	}
}

func TestConcurrentSessionsAndConnections(t *testing.T) {
	tf := start(t, sshsim.Options{Hosts: 4, User: "deploy"})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for _, h := range tf.Hosts {
		for range 3 { // three connections per host...
			c := tf.dial(t, h, "deploy")
			for j := range 8 { // ...with eight sessions at once each
				wg.Go(func() {
					s, err := c.NewSession()
					if err != nil {
						errs <- err
						return
					}
					defer s.Close()
					out, err := s.Output(fmt.Sprintf("sleep 0.2; echo %d", j))
					if err != nil || string(out) != fmt.Sprintf("%d\n", j) {
						errs <- fmt.Errorf("%s session %d: %q %v", h.Name, j, out, err)
					}
				})
			}
		}
	}
	began := time.Now()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if took := time.Since(began); took > 15*time.Second { // one after another: 19.2 s
		t.Errorf("96 sessions of 0.2 s took %s: not concurrent", took)
	}
	for _, h := range tf.Hosts {
		if h.Connections() != 3 || h.Active() != 3 || h.Execs() != 24 {
			t.Errorf("%s: %d connections, %d active, %d execs", h.Name, h.Connections(), h.Active(), h.Execs())
		}
	}
	if tf.Connections() != 12 || tf.Execs() != 96 {
		t.Errorf("fleet: %d connections, %d execs", tf.Connections(), tf.Execs())
	}
}

func TestAuthAndHostKeyVerification(t *testing.T) {
	tf := start(t, sshsim.Options{Hosts: 2, User: "deploy"})
	cb, _ := knownhosts.New(tf.kh)
	cfg := &gossh.ClientConfig{User: "root", Auth: []gossh.AuthMethod{gossh.PublicKeys(tf.signer)}, HostKeyCallback: cb}
	if _, err := gossh.Dial("tcp", tf.Hosts[0].Address(), cfg); err == nil {
		t.Error("wrong user logged in")
	}
	other, err := sshsim.NewClientKey(filepath.Join(t.TempDir(), "other"))
	if err != nil {
		t.Fatal(err)
	}
	cfg = &gossh.ClientConfig{User: "deploy", Auth: []gossh.AuthMethod{gossh.PublicKeys(other)}, HostKeyCallback: cb}
	if _, err := gossh.Dial("tcp", tf.Hosts[0].Address(), cfg); err == nil {
		t.Error("unauthorized key logged in")
	}
	// Host 2's key is not host 1's: known_hosts tells them apart.
	line := strings.Replace(tf.Hosts[1].KnownHostsLine(), tf.Hosts[1].Address(), tf.Hosts[0].Address(), 1)
	line = strings.Replace(line, "["+tf.Hosts[1].Addr+"]:"+strconv.Itoa(tf.Hosts[1].Port), "["+tf.Hosts[0].Addr+"]:"+strconv.Itoa(tf.Hosts[0].Port), 1)
	swapped := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(swapped, []byte(line+"\n"), 0o600)
	cb, _ = knownhosts.New(swapped)
	cfg = &gossh.ClientConfig{User: "deploy", Auth: []gossh.AuthMethod{gossh.PublicKeys(tf.signer)}, HostKeyCallback: cb}
	var ke *knownhosts.KeyError
	if _, err := gossh.Dial("tcp", tf.Hosts[0].Address(), cfg); !errors.As(err, &ke) || len(ke.Want) == 0 {
		t.Errorf("another host's key accepted: %v", err)
	}
	if n := tf.Connections(); n != 0 {
		t.Errorf("%d logins counted, want 0", n)
	}
}

func TestKeepalive(t *testing.T) {
	tf := start(t, sshsim.Options{})
	c := tf.dial(t, tf.Hosts[0], "u")
	ok, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
	if err != nil || !ok {
		t.Errorf("keepalive: %v %v", ok, err)
	}
	if ok, _, err := c.SendRequest("tcpip-forward", true, gossh.Marshal(&struct {
		Addr string
		Port uint32
	}{"127.0.0.1", 0})); err != nil || ok {
		t.Errorf("tcpip-forward accepted: %v %v", ok, err)
	}
	if _, err := c.Dial("tcp", "127.0.0.1:1"); err == nil {
		t.Error("direct-tcpip accepted")
	}
	if tf.Hosts[0].Keepalives() != 1 {
		t.Errorf("%d keepalives", tf.Hosts[0].Keepalives())
	}
}

func TestSFTPWriteAndRename(t *testing.T) {
	tf := start(t, sshsim.Options{})
	h := tf.Hosts[0]
	sc, err := sftp.NewClient(tf.dial(t, h, "u"))
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	wd, err := sc.Getwd()
	if err != nil || wd != h.Home {
		t.Errorf("sftp working directory %q %v, want %s", wd, err, h.Home)
	}
	if err := sc.MkdirAll("conf"); err != nil {
		t.Fatal(err)
	}
	f, err := sc.OpenFile("conf/.app.toml.tmp", os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("port = 8080\n")); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := sc.Chmod("conf/.app.toml.tmp", 0o640); err != nil {
		t.Fatal(err)
	}
	if err := sc.PosixRename("conf/.app.toml.tmp", "conf/app.toml"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(h.Home, "conf", "app.toml")
	b, err := os.ReadFile(path)
	st, _ := os.Stat(path)
	if err != nil || string(b) != "port = 8080\n" || st.Mode().Perm() != 0o640 {
		t.Errorf("%s: %q %v %v", path, b, st.Mode(), err)
	}
	if _, err := os.Stat(filepath.Join(h.Home, "conf", ".app.toml.tmp")); !os.IsNotExist(err) {
		t.Errorf("temporary file left: %v", err)
	}
	// Absolute paths are this machine's.
	abs := filepath.Join(t.TempDir(), "abs")
	f, err = sc.Create(abs)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("x"))
	f.Close()
	if b, _ := os.ReadFile(abs); string(b) != "x" {
		t.Errorf("absolute path: %q", b)
	}
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || !bytes.HasPrefix(bytes.TrimSpace(b[i+1:]), []byte("Z"))
}

func waitDead(t *testing.T, what string, pids ...int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Errorf("%s: process %d still runs", what, pid)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// startSleepers starts a command that runs two sleeps (one in the
// background) and returns their pids.
func startSleepers(t *testing.T, s *gossh.Session) []int {
	t.Helper()
	stdout, err := s.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(`sleep 60 & echo $!; sh -c 'echo $$; exec sleep 60'`); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(stdout)
	var pids []int
	for range 2 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read pids: %v", err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil {
			t.Fatalf("pid %q", line)
		}
		pids = append(pids, pid)
	}
	for _, pid := range pids {
		if !alive(pid) {
			t.Fatalf("process %d does not run", pid)
		}
	}
	return pids
}

func TestKillOnChannelCloseAndConnectionLoss(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	tf := start(t, sshsim.Options{})
	c := tf.dial(t, tf.Hosts[0], "u")

	s, _ := c.NewSession()
	pids := startSleepers(t, s)
	s.Close()
	waitDead(t, "session closed", pids...)

	s, _ = c.NewSession()
	pids = startSleepers(t, s)
	c.Close()
	waitDead(t, "connection closed", pids...)

	c = tf.dial(t, tf.Hosts[0], "u")
	s, _ = c.NewSession()
	pids = startSleepers(t, s)
	if err := tf.Close(); err != nil {
		t.Fatal(err)
	}
	waitDead(t, "fleet closed", pids...)
	for _, d := range []string{tf.Dir, filepath.Dir(tf.Hosts[0].TempDir)} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("fleet directory %s left: %v", d, err)
		}
	}
}

// TestDriftlessTransport runs driftless's own SSH transport against the
// simulator: the login's directory, uploads over SFTP, one connection.
// (ssh's TestConformanceSSHSim runs the transport conformance suite
// against it.)
func TestDriftlessTransport(t *testing.T) {
	tf := start(t, sshsim.Options{Hosts: 2})
	h := tf.Hosts[1]
	c, err := ssh.Dial(context.Background(), ssh.Config{Name: h.Name, Address: h.Addr, Port: h.Port, User: "deploy",
		IdentityFiles: []string{tf.keyPath}, KnownHosts: []string{tf.kh}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	var out bytes.Buffer
	code, err := c.Run(context.Background(), &transport.Command{Script: `X='x y'; echo "$X in $(pwd)"; exit 3`, Stdout: &out})
	if err != nil || code != 3 || out.String() != "x y in "+h.Home+"\n" {
		t.Errorf("run: %q %d %v", out.String(), code, err)
	}

	// A script too long for the command line is uploaded over SFTP.
	long := "# " + strings.Repeat("padding ", 25<<10) + "\nprintf 'a = 1\\n' > app.conf\n"
	if code, err := c.Run(context.Background(), &transport.Command{Script: long}); err != nil || code != 0 {
		t.Fatalf("long script: %d %v", code, err)
	}
	if b, err := os.ReadFile(filepath.Join(h.Home, "app.conf")); err != nil || string(b) != "a = 1\n" {
		t.Errorf("long script wrote %q, %v", b, err)
	}
	if h.Connections() != 1 || tf.Hosts[0].Connections() != 0 {
		t.Errorf("connections: %d and %d", h.Connections(), tf.Hosts[0].Connections())
	}
}

func TestStartErrors(t *testing.T) {
	if _, err := sshsim.Start(sshsim.Options{}); err == nil {
		t.Error("a fleet without authorized keys started")
	}
	signer, err := sshsim.NewClientKey(filepath.Join(t.TempDir(), "k"))
	if err != nil {
		t.Fatal(err)
	}
	keys := []gossh.PublicKey{signer.PublicKey()}
	if _, err := sshsim.Start(sshsim.Options{AuthorizedKeys: keys, FirstAddr: "10.0.0.1"}); err == nil {
		t.Error("a non-loopback address was accepted")
	}
	if _, err := sshsim.Start(sshsim.Options{AuthorizedKeys: keys, Hosts: 3, FirstAddr: "127.255.255.253"}); err == nil {
		t.Error("hosts past the end of 127.0.0.0/8 were accepted")
	}
	dir := t.TempDir()
	f, err := sshsim.Start(sshsim.Options{AuthorizedKeys: keys, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("a given Dir was removed: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(f.Hosts[0].TempDir)); !os.IsNotExist(err) {
		t.Errorf("the hosts' temporary directories were left: %v", err)
	}
}

// Each host records its sessions: commands from the request until they
// have ended, SFTP too; Busy counts the hosts running at once.
func TestSessionsRecorded(t *testing.T) {
	tf := start(t, sshsim.Options{Hosts: 3})
	before := time.Now()
	var wg sync.WaitGroup
	for _, h := range tf.Hosts[:2] {
		c := tf.dial(t, h, "u")
		for range 2 { // two at once on each of two hosts
			wg.Go(func() {
				s, err := c.NewSession()
				if err == nil {
					err = s.Run("sleep 0.3")
					s.Close()
				}
				if err != nil {
					t.Errorf("%s: %v", h.Name, err)
				}
			})
		}
	}
	wg.Wait()
	afterSleeps := time.Now()
	c := tf.dial(t, tf.Hosts[2], "u")
	sc, err := sftp.NewClient(c)
	if err != nil {
		t.Fatal(err)
	}
	sc.Close()
	run(t, c, "exit 3", nil)

	for _, h := range tf.Hosts[:2] {
		ss := h.Sessions()
		if len(ss) != 2 {
			t.Fatalf("%s: %d sessions", h.Name, len(ss))
		}
		for _, s := range ss {
			if took := s.End.Sub(s.Start); s.Kind != "exec" || s.Start.Before(before) || took < 300*time.Millisecond || s.End.After(afterSleeps) {
				t.Errorf("%s: %+v (%s)", h.Name, s, took)
			}
		}
	}
	ss := tf.Hosts[2].Sessions()
	if len(ss) != 2 || ss[0].Kind != "sftp" || ss[1].Kind != "exec" || ss[0].End.After(ss[1].Start) || ss[0].Start.Before(afterSleeps) {
		t.Errorf("%s: %+v", tf.Hosts[2].Name, ss)
	}
	b := tf.Busy(before)
	if b.Most != 2 || b.Sessions != 6 || b.Hosts != 3 || b.First.Before(before) || !b.Last.Equal(ss[1].End) {
		t.Errorf("Busy = %+v", b)
	}
	if b := tf.Busy(afterSleeps); b.Most != 1 || b.Sessions != 2 || b.Hosts != 1 {
		t.Errorf("Busy since the sleeps = %+v", b)
	}
}
