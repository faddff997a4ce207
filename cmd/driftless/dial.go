package main

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/driftless-dev/driftless/transport"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/term"

	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/local"
	"github.com/driftless-dev/driftless/ssh"
	"github.com/driftless-dev/driftless/winrm"
)

// dialer connects to hosts by their transport, and remembers what the
// user should know about each (a host key recorded under accept-new).
type dialer struct {
	mu    sync.Mutex
	notes map[string]string
	// passphrase caches key passphrases asked once per file.
	passMu sync.Mutex
	pass   map[string][]byte
	// early is a dial started before the run (prefetch), taken by the
	// first dial of its host.
	early     map[string]*earlyDial
	stopEarly context.CancelFunc
}

// earlyDial is a dial in progress or done; done is closed when conn and
// err are set.
type earlyDial struct {
	done chan struct{}
	conn transport.Conn
	err  error
}

// prefetch starts dialing h now, while the caller does something else
// (opens the journal): the run's first dial of h takes this one. Only the
// first host a run starts is dialed early, so that max_concurrency holds.
func (d *dialer) prefetch(ctx context.Context, h *inventory.Host) {
	ctx, cancel := context.WithCancel(ctx)
	e := &earlyDial{done: make(chan struct{})}
	d.mu.Lock()
	if d.early == nil {
		d.early = map[string]*earlyDial{}
	}
	d.early[h.Name] = e
	d.stopEarly = cancel
	d.mu.Unlock()
	go func() {
		defer close(e.done)
		e.conn, e.err = d.connect(ctx, h)
	}()
}

// closeEarly ends the dials started early that no run took.
func (d *dialer) closeEarly() {
	d.mu.Lock()
	left, stop := d.early, d.stopEarly
	d.early = nil
	d.mu.Unlock()
	if stop != nil {
		stop()
	}
	for _, e := range left {
		<-e.done
		if e.conn != nil {
			_ = e.conn.Close()
		}
	}
}

func newDialer() *dialer { return &dialer{notes: map[string]string{}, pass: map[string][]byte{}} }

func (d *dialer) note(host string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.notes[host]
}

// dial connects to h, or takes the dial prefetch started.
func (d *dialer) dial(ctx context.Context, h *inventory.Host) (transport.Conn, error) {
	d.mu.Lock()
	e := d.early[h.Name]
	delete(d.early, h.Name)
	d.mu.Unlock()
	if e == nil {
		return d.connect(ctx, h)
	}
	if ctx.Err() == nil {
		select {
		case <-e.done:
			return e.conn, e.err
		case <-ctx.Done():
		}
	}
	// The run ended first: the early connection is closed once made.
	go func() {
		if <-e.done; e.conn != nil {
			_ = e.conn.Close()
		}
	}()
	return nil, fmt.Errorf("dial %s: %w", h.Name, ctx.Err())
}

func (d *dialer) connect(ctx context.Context, h *inventory.Host) (transport.Conn, error) {
	switch h.Transport {
	case inventory.Local:
		return local.New(h.Name), nil
	case inventory.SSH:
		cfg, err := d.sshConfig(h)
		if err != nil {
			return nil, err
		}
		return asConn(ssh.Dial(ctx, cfg))
	case inventory.WinRM:
		cfg, err := winrmConfig(h)
		if err != nil {
			return nil, err
		}
		return asConn(winrm.Dial(ctx, cfg))
	}
	return nil, fmt.Errorf("dial %s: unknown transport %q", h.Name, h.Transport)
}

// asConn is what a transport's Dial returned, as a transport.Conn: on an
// error a nil interface, not a typed nil in the interface.
func asConn[C transport.Conn](c C, err error) (transport.Conn, error) {
	if err != nil {
		return nil, err
	}
	return c, nil
}

// winrmConfig is the WinRM connection of h; the password comes from the
// environment variable that password_env names.
func winrmConfig(h *inventory.Host) (winrm.Config, error) {
	cfg := winrm.Config{
		Name: h.Name, Address: h.Address, Port: h.WinRM.Port, User: h.User,
		HTTPS: h.WinRM.HTTPS, CAFile: h.WinRM.CAFile, InsecureSkipVerify: h.WinRM.InsecureSkipVerify,
		Auth: h.WinRM.Auth, ConnectTimeout: h.ConnectTimeout,
	}
	v, ok := os.LookupEnv(h.PasswordEnv)
	if h.PasswordEnv == "" || !ok {
		return cfg, fmt.Errorf("dial %s: %w: password_env %s is not set", h.Name, transport.ErrAuth, h.PasswordEnv)
	}
	cfg.Password = v
	return cfg, nil
}

func (d *dialer) sshConfig(h *inventory.Host) (ssh.Config, error) {
	cfg := ssh.Config{
		Name: h.Name, Address: h.Address, Port: h.Port, User: h.User,
		Agent: os.Getenv("SSH_AUTH_SOCK") != "", KnownHosts: h.KnownHosts, HostKeyPolicy: h.HostKeyPolicy,
		ConnectTimeout: h.ConnectTimeout, Become: h.Become, Passphrase: d.passphrase,
	}
	if h.IdentityExplicit {
		cfg.IdentityFiles = h.IdentityFiles
	} else {
		cfg.DefaultIdentityFiles = h.IdentityFiles
	}
	if h.PasswordEnv != "" {
		v, ok := os.LookupEnv(h.PasswordEnv)
		if !ok {
			return cfg, fmt.Errorf("dial %s: %w: password_env %s is not set", h.Name, transport.ErrAuth, h.PasswordEnv)
		}
		cfg.Password = v
	}
	if h.Become != "" && h.BecomePassEnv != "" {
		v, ok := os.LookupEnv(h.BecomePassEnv)
		if !ok {
			return cfg, fmt.Errorf("dial %s: become_password_env %s is not set", h.Name, h.BecomePassEnv)
		}
		cfg.BecomePassword = v
	}
	name := h.Name
	cfg.OnHostKeyAdded = func(host string, key gossh.PublicKey) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.notes[name] = fmt.Sprintf("host key %s %s of %s recorded in %s (accept-new)", key.Type(), gossh.FingerprintSHA256(key), host, h.KnownHosts[0])
	}
	for _, hop := range h.Jump {
		hc := ssh.Config{Name: hop.String(), Address: hop.Address, Port: hop.Port, User: hop.User,
			Agent: cfg.Agent, KnownHosts: h.KnownHosts, HostKeyPolicy: h.HostKeyPolicy, ConnectTimeout: h.ConnectTimeout,
			IdentityFiles: cfg.IdentityFiles, DefaultIdentityFiles: cfg.DefaultIdentityFiles, Passphrase: d.passphrase}
		if hop.Host != nil {
			sub, err := d.sshConfig(&inventory.Host{Name: hop.Host.Name, Address: hop.Host.Address, Port: hop.Host.Port, User: hop.Host.User,
				IdentityFiles: hop.Host.IdentityFiles, IdentityExplicit: hop.Host.IdentityExplicit, KnownHosts: hop.Host.KnownHosts,
				HostKeyPolicy: hop.Host.HostKeyPolicy, ConnectTimeout: hop.Host.ConnectTimeout, Transport: inventory.SSH})
			if err != nil {
				return cfg, err
			}
			hc = sub
		}
		cfg.Jump = append(cfg.Jump, hc)
	}
	return cfg, nil
}

// passphrase decrypts an encrypted key: DRIFTLESS_KEY_PASSPHRASE, or a
// prompt when a terminal is there to answer.
func (d *dialer) passphrase(file string) ([]byte, error) {
	if v, ok := os.LookupEnv("DRIFTLESS_KEY_PASSPHRASE"); ok {
		return []byte(v), nil
	}
	d.passMu.Lock()
	defer d.passMu.Unlock()
	if p, ok := d.pass[file]; ok {
		return p, nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, fmt.Errorf("%s is encrypted: set DRIFTLESS_KEY_PASSPHRASE or run on a terminal", file)
	}
	fmt.Fprintf(os.Stderr, "Passphrase for %s: ", file)
	p, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	d.pass[file] = p
	return p, nil
}
