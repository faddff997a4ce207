package ssh

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"time"

	"github.com/driftless-dev/driftless/transport"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// errNoPassphrase: an encrypted key and no Passphrase callback.
var errNoPassphrase = errors.New("the key is encrypted and no passphrase was given")

// auth holds the authentication methods for one hop.
type auth struct {
	methods []gossh.AuthMethod
	tried   []string // what is offered, for error messages
	closers []io.Closer
}

func (a *auth) close() {
	for _, c := range a.closers {
		c.Close()
	}
}

func (a *auth) describe() string {
	return strings.Join(a.tried, ", ")
}

// newAuth collects the keys and password of cfg. Explicit identity files
// come first, then the agent's keys, then the default identity files,
// each key once.
func newAuth(cfg Config) (*auth, error) {
	a := &auth{}
	var signers []gossh.Signer
	seen := map[string]bool{}
	add := func(ss ...gossh.Signer) int {
		n := 0
		for _, s := range ss {
			k := string(s.PublicKey().Marshal())
			if !seen[k] {
				seen[k] = true
				signers = append(signers, s)
				n++
			}
		}
		return n
	}

	agentSigners := a.agentSigners(cfg)
	inAgent := func(pub gossh.PublicKey) bool {
		for _, s := range agentSigners {
			if string(s.PublicKey().Marshal()) == string(pub.Marshal()) {
				return true
			}
		}
		return false
	}

	var files []string
	for _, f := range cfg.IdentityFiles {
		ss, err := loadIdentity(f, cfg.Passphrase, inAgent)
		if err != nil {
			a.close()
			return nil, fmt.Errorf("%w: identity file %s: %w", transport.ErrAuth, f, err)
		}
		if add(ss...) > 0 {
			files = append(files, tildePath(f))
		}
	}
	if n := add(agentSigners...); n > 0 {
		files = append(files, fmt.Sprintf("%d from ssh-agent", n))
	}
	for _, f := range cfg.DefaultIdentityFiles {
		if _, err := os.Stat(f); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		ss, err := loadIdentity(f, cfg.Passphrase, inAgent)
		if errors.Is(err, errNoPassphrase) {
			cfg.Logger.Debug("skipping encrypted identity file", "host", cfg.Name, "file", f)
			continue
		}
		if err != nil {
			a.close()
			return nil, fmt.Errorf("%w: identity file %s: %w", transport.ErrAuth, f, err)
		}
		if add(ss...) > 0 {
			files = append(files, tildePath(f))
		}
	}

	if len(signers) > 0 {
		a.methods = append(a.methods, gossh.PublicKeys(signers...))
		a.tried = append(a.tried, "publickey ("+strings.Join(files, ", ")+")")
	}
	if cfg.Password != "" {
		pw := cfg.Password
		a.methods = append(a.methods,
			gossh.Password(pw),
			gossh.KeyboardInteractive(func(_, _ string, questions []string, echos []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range questions {
					if !echos[i] {
						answers[i] = pw
					}
				}
				return answers, nil
			}))
		a.tried = append(a.tried, "password")
	}
	if len(a.methods) == 0 {
		a.close()
		return nil, fmt.Errorf("%w: no credentials for %s: no identity file, ssh-agent key or password", transport.ErrAuth, cfg.Name)
	}
	return a, nil
}

// agentSigners returns the agent's keys, or none when there is no agent
// (that is not an error: OpenSSH goes on without it too).
func (a *auth) agentSigners(cfg Config) []gossh.Signer {
	if !cfg.Agent {
		return nil
	}
	sock := cfg.AgentSocket
	if sock == "" {
		sock = os.Getenv("SSH_AUTH_SOCK")
	}
	if sock == "" {
		return nil
	}
	conn, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		cfg.Logger.Debug("ssh-agent unavailable", "host", cfg.Name, "socket", sock, "err", err)
		return nil
	}
	a.closers = append(a.closers, conn)
	signers, err := agent.NewClient(conn).Signers()
	if err != nil {
		cfg.Logger.Debug("ssh-agent: list keys", "host", cfg.Name, "err", err)
		return nil
	}
	return signers
}

// loadIdentity reads a private key file, decrypting it with passphrase
// when needed, plus the certificate in path+"-cert.pub" when there is
// one. It returns no signer, and no error, for an encrypted key whose
// public key the agent holds.
func loadIdentity(path string, passphrase func(string) ([]byte, error), inAgent func(gossh.PublicKey) bool) ([]gossh.Signer, error) {
	// Parsed (and decrypted) keys are kept per version of the files
	// (idCache): decrypting a key (bcrypt) costs about 100 ms of CPU.
	return idCache.get(path, []string{path, path + "-cert.pub"}, func() ([]gossh.Signer, bool, error) {
		signers, err := parseIdentity(path, passphrase, inAgent)
		return signers, len(signers) > 0, err
	})
}

var idCache fileCache[[]gossh.Signer]

// parseIdentity reads a private key, and its certificate when there is
// one beside it.
func parseIdentity(path string, passphrase func(string) ([]byte, error), inAgent func(gossh.PublicKey) bool) ([]gossh.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	signer, err := gossh.ParsePrivateKey(data)
	var missing *gossh.PassphraseMissingError
	if errors.As(err, &missing) {
		if missing.PublicKey != nil && inAgent(missing.PublicKey) {
			return nil, nil
		}
		if passphrase == nil {
			return nil, errNoPassphrase
		}
		pp, perr := passphrase(path)
		if perr != nil {
			return nil, fmt.Errorf("passphrase: %w", perr)
		}
		signer, err = gossh.ParsePrivateKeyWithPassphrase(data, pp)
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, errors.New("wrong passphrase")
		}
	}
	if err != nil {
		return nil, err
	}
	signers := []gossh.Signer{signer}
	if certData, err := os.ReadFile(path + "-cert.pub"); err == nil {
		pub, _, _, _, err := gossh.ParseAuthorizedKey(certData)
		if err != nil {
			return nil, fmt.Errorf("certificate %s-cert.pub: %w", path, err)
		}
		if cert, ok := pub.(*gossh.Certificate); ok {
			cs, err := gossh.NewCertSigner(cert, signer)
			if err != nil {
				return nil, fmt.Errorf("certificate %s-cert.pub: %w", path, err)
			}
			signers = append([]gossh.Signer{cs}, signers...)
		}
	}
	return signers, nil
}
