package sshtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// NewClientKey generates an ed25519 client key and writes it, unencrypted
// and in OpenSSH format, to a new file in t.TempDir() (mode 0600), with the
// public key next to it in path+".pub". It returns the private key's path
// and the public key.
func NewClientKey(t testing.TB) (path string, pub gossh.PublicKey) {
	t.Helper()
	return newClientKey(t, "")
}

// NewEncryptedClientKey is NewClientKey with the private key encrypted
// under passphrase.
func NewEncryptedClientKey(t testing.TB, passphrase string) (path string, pub gossh.PublicKey) {
	t.Helper()
	if passphrase == "" {
		t.Fatal("sshtest: NewEncryptedClientKey needs a passphrase")
	}
	return newClientKey(t, passphrase)
}

func newClientKey(t testing.TB, passphrase string) (string, gossh.PublicKey) {
	t.Helper()
	pubRaw, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("sshtest: generate client key: %v", err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = gossh.MarshalPrivateKey(priv, "driftless-test")
	} else {
		block, err = gossh.MarshalPrivateKeyWithPassphrase(priv, "driftless-test", []byte(passphrase))
	}
	if err != nil {
		t.Fatalf("sshtest: marshal client key: %v", err)
	}
	pub, err := gossh.NewPublicKey(pubRaw)
	if err != nil {
		t.Fatalf("sshtest: client public key: %v", err)
	}
	path := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatalf("sshtest: write client key: %v", err)
	}
	if err := os.WriteFile(path+".pub", gossh.MarshalAuthorizedKey(pub), 0o644); err != nil {
		t.Fatalf("sshtest: write client public key: %v", err)
	}
	return path, pub
}

// newHostKey generates an ed25519 host key and returns it PEM-encoded in
// OpenSSH format with its signer.
func newHostKey(t testing.TB) ([]byte, gossh.Signer) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("sshtest: generate host key: %v", err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "driftless-test-host")
	if err != nil {
		t.Fatalf("sshtest: marshal host key: %v", err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatalf("sshtest: host key signer: %v", err)
	}
	return pem.EncodeToMemory(block), signer
}

// readPublicKey returns the public key of an unencrypted private key file,
// or of path+".pub" when the private key is encrypted.
func readPublicKey(t testing.TB, path string) gossh.PublicKey {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("sshtest: read client key: %v", err)
	}
	signer, err := gossh.ParsePrivateKey(data)
	if err == nil {
		return signer.PublicKey()
	}
	pubData, perr := os.ReadFile(path + ".pub")
	if perr != nil {
		t.Fatalf("sshtest: client key %s: %v (and no readable .pub: %v)", path, err, perr)
	}
	pub, _, _, _, err := gossh.ParseAuthorizedKey(pubData)
	if err != nil {
		t.Fatalf("sshtest: parse %s.pub: %v", path, err)
	}
	return pub
}

// knownHostsLine formats a known_hosts line for addr:port, with the
// "[addr]:port" form for ports other than 22.
func knownHostsLine(addr string, port int, key gossh.PublicKey) string {
	return knownhosts.Line([]string{net.JoinHostPort(addr, strconv.Itoa(port))}, key)
}

// WriteKnownHosts writes a known_hosts file at path holding the key of each
// host (replacing the file), creating its directory if needed.
func WriteKnownHosts(t testing.TB, path string, hosts ...*Host) {
	t.Helper()
	lines := make([]string, 0, len(hosts))
	for _, h := range hosts {
		lines = append(lines, h.KnownHostsLine())
	}
	WriteKnownHostsLines(t, path, lines...)
}

// WriteKnownHostsLines writes lines to a known_hosts file at path,
// replacing it, creating its directory (0700) if needed.
func WriteKnownHostsLines(t testing.TB, path string, lines ...string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatalf("sshtest: known_hosts dir: %v", err)
	}
	content := strings.Join(lines, "\n")
	if content != "" {
		content += "\n"
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("sshtest: write known_hosts: %v", err)
	}
}
