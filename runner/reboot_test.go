package runner_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner"
	"github.com/driftless-dev/driftless/transport"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/driftless-dev/driftless/internal/configtest"
	"github.com/driftless-dev/driftless/internal/sshtest"
	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/ssh"
)

// rebootHost is an in-process SSH host that can "reboot": drop every
// connection, refuse connections for a while, and come back on the same
// address with the same host key. Commands run with /bin/sh in its home.
type rebootHost struct {
	rebootable
	home   string
	cfg    *gossh.ServerConfig
	key    gossh.PublicKey
	logins int
}

func startRebootHost(t *testing.T, client gossh.PublicKey) *rebootHost {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	h := &rebootHost{rebootable: rebootable{t: t, boots: 1}, home: t.TempDir(), key: signer.PublicKey()}
	h.handle = h.serveSSH
	h.cfg = &gossh.ServerConfig{PublicKeyCallback: func(_ gossh.ConnMetadata, k gossh.PublicKey) (*gossh.Permissions, error) {
		if string(k.Marshal()) == string(client.Marshal()) {
			return nil, nil
		}
		return nil, fmt.Errorf("unknown key")
	}}
	h.cfg.AddHostKey(signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.addr = ln.Addr().String()
	h.serve(ln)
	t.Cleanup(func() { h.down() })
	return h
}

func (h *rebootHost) serveSSH(c net.Conn) {
	sc, chans, reqs, err := gossh.NewServerConn(c, h.cfg)
	if err != nil {
		return
	}
	h.mu.Lock()
	h.logins++
	h.mu.Unlock()
	go func() {
		for r := range reqs {
			r.Reply(r.Type == "keepalive@openssh.com", nil)
		}
	}()
	sshtest.ServeSessions(chans, func(ch gossh.Channel, creqs <-chan *gossh.Request) { go h.session(ch, creqs) })
	sc.Close()
}

func (h *rebootHost) session(ch gossh.Channel, reqs <-chan *gossh.Request) {
	defer ch.Close()
	for r := range reqs {
		if r.Type != "exec" {
			r.Reply(false, nil)
			continue
		}
		n := binary.BigEndian.Uint32(r.Payload)
		command := string(r.Payload[4 : 4+n])
		r.Reply(true, nil)
		cmd := exec.Command("/bin/sh", "-c", command)
		cmd.Dir = h.home
		cmd.Env = []string{"HOME=" + h.home, "PATH=" + os.Getenv("PATH"), "FAKE_REBOOT=" + filepath.Join(h.home, ".reboot")}
		cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, ch.Stderr()
		code := 0
		if err := cmd.Run(); err != nil {
			code = 255
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
		}
		// The "reboot" command only leaves a mark; the host goes
		// down once the session that asked has ended.
		if _, err := os.Stat(filepath.Join(h.home, ".reboot")); err == nil {
			os.Remove(filepath.Join(h.home, ".reboot"))
			ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, uint32(code)))
			ch.Close()
			go func() { time.Sleep(300 * time.Millisecond); h.reboot(3 * time.Second) }()
			return
		}
		ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, uint32(code)))
		return
	}
}

// rebootFleet starts a rebootHost, "box", and returns it with a config
// dir whose document docText, the file documents/file (name.toml or
// name.yaml), is run by an association on box, its journal, and a
// dialer.
func rebootFleet(t *testing.T, file, docText string) (*rebootHost, *config.Config, *journal.Journal, runner.Dialer) {
	t.Helper()
	keyPath, pub := sshtest.NewClientKey(t)
	h := startRebootHost(t, pub)
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	os.WriteFile(kh, []byte(knownhosts.Line([]string{knownhosts.Normalize(h.addr)}, h.key)+"\n"), 0o600)
	host, port, _ := net.SplitHostPort(h.addr)
	inv := fmt.Sprintf("[hosts.box]\naddress = %q\nport = %s\nuser = \"u\"\nidentity_files = [%q]\nknown_hosts = [%q]\nssh_config = false\n", host, port, keyPath, kh)
	name := strings.TrimSuffix(file, filepath.Ext(file))
	cfg, j := configtest.Dir(t, dir, map[string]string{"inventory.toml": inv, "documents/" + file: docText,
		"associations.toml": fmt.Sprintf("[associations.a]\ndocument = %q\ntargets = [\"*\"]\n", name)})
	dial := func(ctx context.Context, h *inventory.Host) (transport.Conn, error) {
		return asConn(ssh.Dial(ctx, ssh.Config{Name: h.Name, Address: h.Address, Port: h.Port, User: h.User, IdentityFiles: h.IdentityFiles,
			KnownHosts: h.KnownHosts, HostKeyPolicy: h.HostKeyPolicy, ConnectTimeout: time.Second, KeepaliveInterval: 500 * time.Millisecond}))
	}
	return h, cfg, j, dial
}

// A step that exits 194 reboots the host; the runner waits for it to go
// down and come back, runs the document again from the start, and the
// journal tells the story.
func TestRebootAndRerun(t *testing.T) {
	h, cfg, j, dial := rebootFleet(t, "kernel.toml", configtest.Doc(testDocs, "kernel.toml"))
	res, start := runRebootJob(t, cfg, j, dial, `touch "$FAKE_REBOOT"`)
	if h.bootCount() != 2 || time.Since(start) < 3*time.Second {
		t.Errorf("boots = %d after %s", h.bootCount(), time.Since(start))
	}
	runs, _ := os.ReadFile(filepath.Join(h.home, "runs"))
	if string(runs) != "run\nrun\n" {
		t.Errorf("the document did not run again from the start: %q", runs)
	}
	checkRebootDetail(t, j, res.Run.ID, "box", "194")
}
