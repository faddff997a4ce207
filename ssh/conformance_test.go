package ssh_test

import (
	"path/filepath"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/driftless-dev/driftless/internal/sshsim"
	"github.com/driftless-dev/driftless/internal/sshtest"
	"github.com/driftless-dev/driftless/ssh"
	"github.com/driftless-dev/driftless/transport"
	"github.com/driftless-dev/driftless/transport/transporttest"
)

// The transport passes the conformance suite against the in-process SSH
// server, against real OpenSSH sshd (MaxSessions 10), and through sudo.
//
// The in-process server keeps its default MaxSessions: it counts a
// session as closed only once the goroutine serving it has ended, which
// may come after the client opened the next one, so a cap as low as
// OpenSSH's refuses sessions that sshd would accept.

func TestConformanceSSHSim(t *testing.T) {
	t.Parallel()
	key := filepath.Join(t.TempDir(), "id_ed25519")
	signer, err := sshsim.NewClientKey(key)
	if err != nil {
		t.Fatal(err)
	}
	fleet, err := sshsim.Start(sshsim.Options{AuthorizedKeys: []gossh.PublicKey{signer.PublicKey()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fleet.Close() })
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := fleet.WriteKnownHosts(kh); err != nil {
		t.Fatal(err)
	}
	h := fleet.Hosts[0]
	cfg := ssh.Config{Name: h.Name, Address: h.Addr, Port: h.Port, User: "deploy", IdentityFiles: []string{key}, KnownHosts: []string{kh}}
	transporttest.Run(t, transporttest.Factory{
		New: func(t *testing.T) transport.Conn { return dial(t, cfg) },
	})
}

func TestConformanceSSHD(t *testing.T) {
	t.Parallel()
	h := sshtest.StartSSHD(t, sshtest.Options{})
	cfg := config(h, knownHosts(t, h))
	transporttest.Run(t, transporttest.Factory{
		New: func(t *testing.T) transport.Conn { return dial(t, cfg) },
	})
}

func TestConformanceSSHDSudo(t *testing.T) {
	t.Parallel()
	const password = "pa ss'word"
	h := sshtest.StartSSHD(t, sshtest.Options{Sudo: true, SudoPassword: password})
	cfg := config(h, knownHosts(t, h))
	cfg.Become, cfg.BecomePassword = ssh.BecomeSudo, password
	transporttest.Run(t, transporttest.Factory{
		New: func(t *testing.T) transport.Conn { return dial(t, cfg) },
	})
}
