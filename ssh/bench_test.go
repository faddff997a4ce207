package ssh

import (
	"crypto/ed25519"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/internal/sshtest"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// fleetKnownHosts writes the known_hosts file of a fleet of n hosts
// (host i at fleetAddr(i)) and returns it with the hosts' keys.
func fleetKnownHosts(b *testing.B, n int) (string, []gossh.PublicKey) {
	file := filepath.Join(b.TempDir(), "known_hosts")
	var sb strings.Builder
	keys := make([]gossh.PublicKey, n)
	for i := range n {
		seed := make([]byte, ed25519.SeedSize)
		seed[0], seed[1] = byte(i), byte(i>>8)
		k, err := gossh.NewPublicKey(ed25519.NewKeyFromSeed(seed).Public())
		if err != nil {
			b.Fatal(err)
		}
		keys[i] = k
		sb.WriteString(knownhosts.Line([]string{fleetAddr(i)}, k) + "\n")
	}
	if err := os.WriteFile(file, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	return file, keys
}

func fleetAddr(i int) string { return fmt.Sprintf("127.3.%d.%d:2222", i/250, i%250+1) }

// BenchmarkLoadKnownHosts is the host-key setup of one dial against a
// known_hosts file of a 2,000-host fleet (every dial does it).
func BenchmarkLoadKnownHosts(b *testing.B) {
	file, _ := fleetKnownHosts(b, 2000)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := loadKnownHosts([]string{file}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadEncryptedIdentity is the key set-up of one dial with a
// passphrase-protected key (every dial of a fleet does it).
func BenchmarkLoadEncryptedIdentity(b *testing.B) {
	key, _ := sshtest.NewEncryptedClientKey(b, "open sesame")
	pass := func(string) ([]byte, error) { return []byte("open sesame"), nil }
	none := func(gossh.PublicKey) bool { return false }
	b.ReportAllocs()
	for b.Loop() {
		if ss, err := loadIdentity(key, pass, none); err != nil || len(ss) == 0 {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyHostKey is all the host-key work of one dial in a
// 2,000-host fleet sharing one known_hosts file: the verifier's set-up
// (which key types are known for the host) and the check of the key
// the host presents, for hosts all over the file.
func BenchmarkVerifyHostKey(b *testing.B) {
	file, keys := fleetKnownHosts(b, 2000)
	remote := &net.TCPAddr{IP: net.IPv4(127, 3, 0, 1), Port: 2222}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i = (i + 769) % len(keys)
		addr := fleetAddr(i)
		v, err := newVerifier(Config{KnownHosts: []string{file}}, addr)
		if err != nil {
			b.Fatal(err)
		}
		if err := v.check(addr, remote, keys[i]); err != nil || len(v.knownTypes) != 1 {
			b.Fatal(err, v.knownTypes)
		}
	}
}
