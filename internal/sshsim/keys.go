package sshsim

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"

	gossh "golang.org/x/crypto/ssh"
)

// NewClientKey generates an ed25519 client key and writes it,
// unencrypted and in OpenSSH format, to path (mode 0600), with its public
// key in path+".pub" (authorized_keys format). The returned signer's
// PublicKey goes into Options.AuthorizedKeys; path is an identity file for
// any SSH client.
func NewClientKey(path string) (gossh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sshsim: client key: %w", err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "sshsim-client")
	if err != nil {
		return nil, fmt.Errorf("sshsim: client key: %w", err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("sshsim: client key: %w", err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, fmt.Errorf("sshsim: %w", err)
	}
	if err := os.WriteFile(path+".pub", gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o644); err != nil {
		return nil, fmt.Errorf("sshsim: %w", err)
	}
	return signer, nil
}
