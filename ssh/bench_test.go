package ssh

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/internal/sshtest"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// BenchmarkLoadKnownHosts is the host-key setup of one dial against a
// known_hosts file of a 2,000-host fleet (every dial does it).
func BenchmarkLoadKnownHosts(b *testing.B) {
	file := filepath.Join(b.TempDir(), "known_hosts")
	var sb strings.Builder
	for i := range 2000 {
		seed := make([]byte, ed25519.SeedSize)
		seed[0], seed[1] = byte(i), byte(i>>8)
		k, err := gossh.NewPublicKey(ed25519.NewKeyFromSeed(seed).Public())
		if err != nil {
			b.Fatal(err)
		}
		sb.WriteString(knownhosts.Line([]string{fmt.Sprintf("[127.3.%d.%d]:2222", i/250, i%250+1)}, k) + "\n")
	}
	if err := os.WriteFile(file, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
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
