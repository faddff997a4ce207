package sshtest_test

import (
	"bytes"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/sshtest"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// connect logs in to h with its client key, verifying its known_hosts line.
func connect(t *testing.T, h *sshtest.Host) *gossh.Client {
	t.Helper()
	kh := filepath.Join(t.TempDir(), "known_hosts")
	sshtest.WriteKnownHosts(t, kh, h)
	cb, err := knownhosts.New(kh)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(h.ClientKeyPath)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.ParsePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	c, err := gossh.Dial("tcp", h.Address(), &gossh.ClientConfig{
		User:            h.User,
		Auth:            []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: cb,
		Timeout:         10 * time.Second,
	})
	if err != nil {
		t.Fatalf("log in to %s: %v", h.Name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func output(t *testing.T, c *gossh.Client, cmd string) (string, string, error) {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out, errOut bytes.Buffer
	s.Stdout, s.Stderr = &out, &errOut
	err = s.Run(cmd)
	return out.String(), errOut.String(), err
}

func TestHostsHaveTheirOwnHome(t *testing.T) {
	t.Parallel()
	a := sshtest.StartSSHD(t, sshtest.Options{Name: "a"})
	b := sshtest.StartSSHD(t, sshtest.Options{Name: "b", Addr: "127.0.0.2"})
	if a.Home == b.Home || a.Addr == b.Addr && a.Port == b.Port {
		t.Fatalf("hosts share a home or an address: %+v %+v", a, b)
	}
	ca, cb := connect(t, a), connect(t, b)
	if out, _, err := output(t, ca, `echo hello > "$HOME/mark"; echo "$HOME"`); err != nil || out != a.Home+"\n" {
		t.Fatalf("a: %q, %v", out, err)
	}
	if got, err := os.ReadFile(filepath.Join(a.Home, "mark")); err != nil || string(got) != "hello\n" {
		t.Errorf("file written on a: %q, %v", got, err)
	}
	if out, _, _ := output(t, cb, `ls -A "$HOME"`); strings.Contains(out, "mark") {
		t.Error("b sees a's file")
	}
	if os.Geteuid() == 0 {
		if a.User == b.User || !strings.HasPrefix(a.User, "dl-") {
			t.Errorf("users %q and %q: want one dl- user per host", a.User, b.User)
		}
		if out, _, _ := output(t, ca, "pwd"); out != a.Home+"\n" {
			t.Errorf("a's session starts in %q, want %s", out, a.Home)
		}
	}
}

func TestConnectionCount(t *testing.T) {
	t.Parallel()
	h := sshtest.StartSSHD(t, sshtest.Options{})
	if n := h.ConnectionCount(); n != 0 {
		t.Fatalf("before any login: %d", n)
	}
	c := connect(t, h)
	for range 3 {
		if _, _, err := output(t, c, "true"); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.ConnectionCount(); n != 1 {
		t.Errorf("one connection, three sessions: ConnectionCount = %d", n)
	}
	connect(t, h)
	if n := h.ConnectionCount(); n != 2 {
		t.Errorf("two connections: ConnectionCount = %d", n)
	}
	if line := h.KnownHostsLine(); !strings.HasPrefix(line, "["+h.Addr+"]:") {
		t.Errorf("KnownHostsLine = %q", line)
	}
}

func TestDropConnections(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc")
	}
	h := sshtest.StartSSHD(t, sshtest.Options{})
	c := connect(t, h)
	done := make(chan error, 1)
	go func() {
		s, err := c.NewSession()
		if err != nil {
			done <- err
			return
		}
		done <- s.Run("sleep 60")
	}()
	time.Sleep(300 * time.Millisecond)
	h.DropConnections()
	select {
	case err := <-done:
		if err == nil {
			t.Error("session ended cleanly after DropConnections")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("connection survived DropConnections")
	}
	connect(t, h) // still listening
}

func TestPerHostUserIsRemoved(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("per-host users need root")
	}
	t.Parallel()
	var name string
	t.Run("host", func(t *testing.T) {
		h := sshtest.StartSSHD(t, sshtest.Options{PerHostUser: true})
		name = h.User
		if _, err := user.Lookup(name); err != nil {
			t.Fatalf("user %s: %v", name, err)
		}
		c := connect(t, h)
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		// A process left running does not stop the cleanup.
		if err := s.Start("sleep 60 & exit 0"); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := user.Lookup(name); err == nil {
		t.Errorf("user %s still exists after the test", name)
	}
}

func TestPasswordOption(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	t.Parallel()
	h := sshtest.StartSSHD(t, sshtest.Options{Password: "pw"})
	c, err := gossh.Dial("tcp", h.Address(), &gossh.ClientConfig{
		User:            h.User,
		Auth:            []gossh.AuthMethod{gossh.Password("pw")},
		HostKeyCallback: gossh.FixedHostKey(h.HostKey),
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestFakeSudo(t *testing.T) {
	t.Parallel()
	h := sshtest.StartSSHD(t, sshtest.Options{Sudo: true, SudoPassword: "right"})
	c := connect(t, h)
	out, errOut, err := output(t, c, `printf 'right\nstdin\n' | sudo -S -p 'PW:' sh -c 'echo "$SUDO_USER"; cat'`)
	if err != nil || out != h.User+"\nstdin\n" || errOut != "PW:" {
		t.Errorf("right password: out %q, stderr %q, %v", out, errOut, err)
	}
	out, errOut, err = output(t, c, `printf 'a\nb\nc\n' | sudo -S -p 'PW:' echo ran`)
	if err == nil || out != "" || strings.Count(errOut, "Sorry, try again.") != 2 || !strings.Contains(errOut, "3 incorrect") {
		t.Errorf("wrong password: out %q, stderr %q, %v", out, errOut, err)
	}
	if _, errOut, err = output(t, c, `sudo -n true`); err == nil || !strings.Contains(errOut, "password is required") {
		t.Errorf("sudo -n: stderr %q, %v", errOut, err)
	}

	free := sshtest.StartSSHD(t, sshtest.Options{Sudo: true, Addr: "127.0.0.2"})
	if out, _, err := output(t, connect(t, free), `echo keep | sudo -S -p 'PW:' cat`); err != nil || out != "keep\n" {
		t.Errorf("no password needed: %q, %v", out, err)
	}
}

func TestFaulty(t *testing.T) {
	t.Parallel()
	f := sshtest.StartFaulty(t, sshtest.FaultNone)
	c, err := gossh.Dial("tcp", f.Address(), &gossh.ClientConfig{
		User:              "anyone",
		Auth:              []gossh.AuthMethod{gossh.Password("anything")},
		HostKeyCallback:   gossh.FixedHostKey(f.HostKey),
		HostKeyAlgorithms: []string{f.HostKey.Type()},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out, _, err := output(t, c, "echo hi")
	if err != nil || out != "echo hi\n" {
		t.Errorf("FaultNone: %q, %v", out, err)
	}
	if f.Accepted() != 1 || f.Logins() != 1 {
		t.Errorf("Accepted %d, Logins %d", f.Accepted(), f.Logins())
	}

	hang := sshtest.StartFaulty(t, sshtest.FaultHangBanner)
	conn, err := net.Dial("tcp", hang.Address())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, err := conn.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("FaultHangBanner said something: %d, %v", n, err)
	}
}
