package sshsim

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/driftless-dev/driftless/internal/connkit"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// DefaultFirstAddr is the first loopback address hosts listen on.
const DefaultFirstAddr = "127.1.0.1"

// DefaultMaxSessions is the number of sessions one connection may have
// open at once unless Options.MaxSessions says otherwise.
const DefaultMaxSessions = 100

// Options configures a simulated fleet.
type Options struct {
	// Hosts is the number of hosts; default 1.
	Hosts int
	// NamePrefix names the hosts: NamePrefix+"1", NamePrefix+"2", ...;
	// default "sim-".
	NamePrefix string
	// AuthorizedKeys may log in (required: there is no other way in).
	AuthorizedKeys []gossh.PublicKey
	// User is the only user name accepted; empty accepts any.
	User string
	// Dir holds one home directory per host (Dir/NAME). Default: a new
	// temporary directory, removed by Close.
	Dir string
	// FirstAddr is the first host's loopback IPv4 address; the others
	// follow it (see the package doc). Default DefaultFirstAddr.
	FirstAddr string
	// Shell runs commands; default /bin/sh.
	Shell string
	// Env is added to every command's environment, after the login
	// variables and before the client's "env" requests ("NAME=value").
	Env []string
	// MaxSessions caps the sessions open at once on one connection; more
	// are refused as OpenSSH does. Default DefaultMaxSessions.
	MaxSessions int
	// Logger receives debug logs (failed handshakes, refused requests);
	// default: none.
	Logger *slog.Logger
}

// Fleet is a running set of simulated hosts.
type Fleet struct {
	// Hosts in name order (sim-1, sim-2, ...).
	Hosts []*Host
	// Dir holds the hosts' home directories.
	Dir string

	opts    Options
	removed bool // Dir was created by Start: Close removes it
	// tmp holds the hosts' temporary directories; Start creates it and
	// Close removes it.
	tmp string

	conns connkit.Set[*serverConn]
	wg    sync.WaitGroup // accept loops and connections

	closeOnce sync.Once
	closeErr  error
}

// Host is one simulated host. Its exported fields say how to reach it.
type Host struct {
	Name string
	Addr string // loopback address it listens on
	Port int
	Home string // its home directory, $HOME and the working directory of its commands
	// TempDir is its own temporary directory, its commands' $TMPDIR: each
	// host has its own, as each machine has its own /tmp and /dev/shm.
	TempDir string

	HostKey gossh.PublicKey // its ed25519 host key

	fleet    *Fleet
	listener net.Listener
	config   *gossh.ServerConfig

	mu       sync.Mutex
	sessions []Session // what it ran (busy.go)

	connections atomic.Int64
	active      atomic.Int64
	execs       atomic.Int64
	keepalives  atomic.Int64
}

// Start starts a fleet and returns once every host listens. On error
// nothing is left running.
func Start(opts Options) (*Fleet, error) {
	if opts.Hosts == 0 {
		opts.Hosts = 1
	}
	if opts.Hosts < 0 {
		return nil, fmt.Errorf("sshsim: %d hosts", opts.Hosts)
	}
	if len(opts.AuthorizedKeys) == 0 {
		return nil, errors.New("sshsim: no authorized keys: nobody could log in")
	}
	if opts.NamePrefix == "" {
		opts.NamePrefix = "sim-"
	}
	if opts.FirstAddr == "" {
		opts.FirstAddr = DefaultFirstAddr
	}
	if opts.Shell == "" {
		opts.Shell = "/bin/sh"
	}
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = DefaultMaxSessions
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	addrs, err := addresses(opts.FirstAddr, opts.Hosts)
	if err != nil {
		return nil, err
	}

	f := &Fleet{opts: opts}
	if opts.Dir == "" {
		dir, err := os.MkdirTemp("", "sshsim-")
		if err != nil {
			return nil, fmt.Errorf("sshsim: %w", err)
		}
		f.Dir, f.removed = dir, true
	} else {
		abs, err := filepath.Abs(opts.Dir)
		if err != nil {
			return nil, fmt.Errorf("sshsim: %w", err)
		}
		f.Dir = abs
	}

	if f.tmp, err = makeTempRoot(); err != nil {
		f.Close()
		return nil, err
	}

	authorized := map[string]bool{}
	for _, k := range opts.AuthorizedKeys {
		authorized[string(k.Marshal())] = true
	}
	fallback := false // only 127.0.0.1 exists here
	for i := range opts.Hosts {
		h := &Host{Name: opts.NamePrefix + strconv.Itoa(i+1), fleet: f}
		h.Home = filepath.Join(f.Dir, h.Name)
		h.TempDir = filepath.Join(f.tmp, h.Name)
		for _, d := range []string{h.Home, h.TempDir} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				f.Close()
				return nil, fmt.Errorf("sshsim: %w", err)
			}
		}
		signer, err := newHostKey()
		if err != nil {
			f.Close()
			return nil, err
		}
		h.HostKey = signer.PublicKey()
		h.config = &gossh.ServerConfig{
			ServerVersion: "SSH-2.0-sshsim",
			PublicKeyCallback: func(c gossh.ConnMetadata, key gossh.PublicKey) (*gossh.Permissions, error) {
				if opts.User != "" && c.User() != opts.User {
					return nil, fmt.Errorf("sshsim: user %q is not %q", c.User(), opts.User)
				}
				if !authorized[string(key.Marshal())] {
					return nil, errors.New("sshsim: key not authorized")
				}
				return &gossh.Permissions{}, nil
			},
		}
		h.config.AddHostKey(signer)

		addr := addrs[i]
		if fallback {
			addr = "127.0.0.1"
		}
		l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
		if err != nil && !fallback && errors.Is(err, syscall.EADDRNOTAVAIL) {
			fallback = true
			addr = "127.0.0.1"
			l, err = net.Listen("tcp", net.JoinHostPort(addr, "0"))
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("sshsim: listen for %s: %w", h.Name, err)
		}
		h.listener = l
		h.Addr = addr
		h.Port = l.Addr().(*net.TCPAddr).Port
		f.Hosts = append(f.Hosts, h)
	}
	for _, h := range f.Hosts {
		f.wg.Add(1)
		go h.serve()
	}
	return f, nil
}

// makeTempRoot makes the directory of the hosts' temporary directories:
// in /dev/shm (memory, where a host's driftless scripts put their files
// when TMPDIR is unset) where it can, else in the system's.
func makeTempRoot() (string, error) {
	if dir, err := os.MkdirTemp("/dev/shm", "sshsim-tmp-"); err == nil {
		return dir, nil
	}
	dir, err := os.MkdirTemp("", "sshsim-tmp-")
	if err != nil {
		return "", fmt.Errorf("sshsim: %w", err)
	}
	return dir, nil
}

// addresses returns n consecutive loopback IPv4 addresses from first,
// skipping those ending in .0 and .255.
func addresses(first string, n int) ([]string, error) {
	a, err := netip.ParseAddr(first)
	if err != nil || !a.Is4() || !a.IsLoopback() {
		return nil, fmt.Errorf("sshsim: FirstAddr %q is not a loopback IPv4 address", first)
	}
	out := make([]string, 0, n)
	for len(out) < n {
		if !a.IsValid() || !a.IsLoopback() {
			return nil, fmt.Errorf("sshsim: %d hosts from %s run past 127.255.255.254", n, first)
		}
		if b := a.As4(); b[3] != 0 && b[3] != 255 {
			out = append(out, a.String())
		}
		a = a.Next()
	}
	return out, nil
}

func newHostKey() (gossh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sshsim: host key: %w", err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("sshsim: host key: %w", err)
	}
	return s, nil
}

// Address is "Addr:Port".
func (h *Host) Address() string { return net.JoinHostPort(h.Addr, strconv.Itoa(h.Port)) }

// KnownHostsLine is the known_hosts line for the host's key, in the
// "[addr]:port" form.
func (h *Host) KnownHostsLine() string {
	return knownhosts.Line([]string{h.Address()}, h.HostKey)
}

// Connections is the number of successful logins so far.
func (h *Host) Connections() int { return int(h.connections.Load()) }

// Active is the number of connections open now.
func (h *Host) Active() int { return int(h.active.Load()) }

// Execs is the number of commands started so far (exec and shell
// requests): the round trips a client made to run something.
func (h *Host) Execs() int { return int(h.execs.Load()) }

// Keepalives is the number of keepalive@openssh.com requests answered.
func (h *Host) Keepalives() int { return int(h.keepalives.Load()) }

// KnownHosts returns one known_hosts line per host.
func (f *Fleet) KnownHosts() []string {
	lines := make([]string, len(f.Hosts))
	for i, h := range f.Hosts {
		lines[i] = h.KnownHostsLine()
	}
	return lines
}

// WriteKnownHosts writes KnownHosts to path (mode 0600), replacing it.
func (f *Fleet) WriteKnownHosts(path string) error {
	var b []byte
	for _, l := range f.KnownHosts() {
		b = append(b, l...)
		b = append(b, '\n')
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("sshsim: %w", err)
	}
	return nil
}

// Connections is the number of successful logins so far, on all hosts.
func (f *Fleet) Connections() int { return f.sum((*Host).Connections) }

// Execs is the number of commands started so far, on all hosts.
func (f *Fleet) Execs() int { return f.sum((*Host).Execs) }

// Active is the number of connections open now, on all hosts.
func (f *Fleet) Active() int { return f.sum((*Host).Active) }

// sum adds up count over the hosts.
func (f *Fleet) sum(count func(*Host) int) int {
	n := 0
	for _, h := range f.Hosts {
		n += count(h)
	}
	return n
}

// Close stops the fleet: it closes the listeners and every connection,
// kills the commands still running, waits for all of it to end, and
// removes Dir when Start created it.
func (f *Fleet) Close() error {
	f.closeOnce.Do(func() {
		conns := f.conns.Close()
		for _, h := range f.Hosts {
			h.listener.Close()
		}
		for _, c := range conns {
			c.close()
		}
		f.wg.Wait()
		var errs []error
		if f.tmp != "" {
			errs = append(errs, os.RemoveAll(f.tmp))
		}
		if f.removed {
			errs = append(errs, os.RemoveAll(f.Dir))
		}
		if err := errors.Join(errs...); err != nil {
			f.closeErr = fmt.Errorf("sshsim: %w", err)
		}
	})
	return f.closeErr
}
