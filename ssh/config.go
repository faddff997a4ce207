package ssh

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/driftless-dev/driftless/internal/connkit"
)

// Host key policies.
const (
	// PolicyStrict refuses hosts whose key is not in known_hosts.
	PolicyStrict = "strict"
	// PolicyAcceptNew records the key of a host that known_hosts does not
	// know yet, and refuses a key that differs from a recorded one.
	PolicyAcceptNew = "accept-new"
)

// BecomeSudo is the only privilege escalation method.
const BecomeSudo = "sudo"

// Defaults applied by Dial to zero fields.
const (
	DefaultPort              = 22
	DefaultConnectTimeout    = 10 * time.Second
	DefaultKeepaliveInterval = 15 * time.Second
	// DefaultMaxSessions leaves room under OpenSSH's default MaxSessions
	// (10) for the SFTP channel.
	DefaultMaxSessions = 8
)

// Config says how to reach and log in to one host. Secrets in it
// (Password, BecomePassword) are never logged or put in errors.
type Config struct {
	// Name is the inventory host name, used in errors ("dial web-1: ...")
	// and logs. Default: Address.
	Name string
	// Address is the host name or IP address to connect to. Default: Name.
	Address string
	Port    int    // default 22
	User    string // default: the local user's name

	// IdentityFiles are private key files (already ~-expanded) that the
	// user configured: one that is missing or unreadable is an error.
	IdentityFiles []string
	// DefaultIdentityFiles are tried when they exist (~/.ssh/id_ed25519
	// and friends, when the user configured none); missing ones are
	// skipped silently, and so are encrypted ones when Passphrase is nil.
	DefaultIdentityFiles []string
	// Agent uses the keys of the ssh-agent at AgentSocket (default
	// $SSH_AUTH_SOCK), when there is one.
	Agent       bool
	AgentSocket string
	// Password enables password (and keyboard-interactive) authentication.
	Password string
	// Passphrase returns the passphrase of an encrypted identity file.
	// It is not called for a key whose public half the agent holds.
	Passphrase func(file string) ([]byte, error)

	// KnownHosts are known_hosts files; missing ones count as empty.
	// accept-new appends to the first (creating it 0600, its directory
	// 0700).
	KnownHosts []string
	// HostKeyPolicy is PolicyStrict (default) or PolicyAcceptNew.
	HostKeyPolicy string
	// OnHostKeyAdded is called after accept-new recorded a key, with the
	// host as written in known_hosts ("10.0.0.5" or "[10.0.0.5]:2222").
	OnHostKeyAdded func(host string, key gossh.PublicKey)

	// ConnectTimeout bounds the TCP connection, the SSH handshake and
	// authentication, for each hop. Default 10s.
	ConnectTimeout time.Duration
	// KeepaliveInterval is the time between keepalive@openssh.com
	// requests; after three intervals without an answer the connection
	// is closed and operations in flight fail with transport.ErrConnLost.
	// Default 15s; negative disables keepalives.
	KeepaliveInterval time.Duration

	// Jump is the ProxyJump chain, dialed first to last; each hop is
	// verified and authenticated with its own settings (its Jump, if any,
	// is dialed before it; its Become is ignored).
	Jump []Config

	// Become is "" or "sudo": scripts and files run and are written as
	// root through sudo.
	Become string
	// BecomePassword is given to sudo when, and only when, it asks.
	BecomePassword string

	// MaxSessions caps the sessions (concurrent Runs) open at once on
	// the connection; more Runs wait for a free one. Default 8.
	MaxSessions int

	// Logger receives debug logs (keys "host", ...); default
	// slog.Default().
	Logger *slog.Logger
}

// withDefaults returns cfg with its zero fields defaulted, or an error
// saying what is wrong with it.
func (cfg Config) withDefaults() (Config, error) {
	var err error
	if cfg.Name, cfg.Address, cfg.Port, err = connkit.Endpoint(cfg.Name, cfg.Address, cfg.Port, DefaultPort); err != nil {
		return cfg, err
	}
	if cfg.User == "" {
		cfg.User = localUser()
		if cfg.User == "" {
			return cfg, errors.New("config: no user, and the local user name is unknown")
		}
	}
	switch cfg.HostKeyPolicy {
	case "":
		cfg.HostKeyPolicy = PolicyStrict
	case PolicyStrict:
	case PolicyAcceptNew:
		if len(cfg.KnownHosts) == 0 {
			return cfg, errors.New("config: host_key_policy accept-new needs a known_hosts file to record keys in")
		}
	default:
		return cfg, fmt.Errorf("config: host_key_policy %q: want %q or %q", cfg.HostKeyPolicy, PolicyStrict, PolicyAcceptNew)
	}
	switch cfg.Become {
	case "", BecomeSudo:
	default:
		return cfg, fmt.Errorf("config: become %q: want \"\" or %q", cfg.Become, BecomeSudo)
	}
	cfg.ConnectTimeout = connkit.OrDefault(cfg.ConnectTimeout, DefaultConnectTimeout)
	cfg.KeepaliveInterval = cmp.Or(cfg.KeepaliveInterval, DefaultKeepaliveInterval) // negative: none
	cfg.MaxSessions = connkit.OrDefault(cfg.MaxSessions, DefaultMaxSessions)
	cfg.Logger = cmp.Or(cfg.Logger, slog.Default())
	return cfg, nil
}

// hops flattens a jump chain: each hop's own chain comes before it.
func hops(chain []Config) []Config {
	var out []Config
	for _, h := range chain {
		out = append(out, hops(h.Jump)...)
		h.Jump = nil
		h.Become, h.BecomePassword = "", ""
		out = append(out, h)
	}
	return out
}

func localUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}
