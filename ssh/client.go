package ssh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/driftless-dev/driftless/internal/connkit"
	"github.com/driftless-dev/driftless/transport"

	"github.com/pkg/sftp"
	gossh "golang.org/x/crypto/ssh"
)

// keepaliveCountMax is how many keepalive intervals may pass without an
// answer before the connection is declared dead (OpenSSH's
// ServerAliveCountMax).
const keepaliveCountMax = 3

// Client is one SSH connection to one host. It implements transport.Conn and
// is safe for concurrent use; every Run shares the connection.
type Client struct {
	cfg      Config
	conn     *gossh.Client
	chain    []*gossh.Client // jump hosts, first dialed first
	sessions connkit.Slots   // open sessions
	windows  bool            // the server says it is for Windows (Windows)

	sftpMu sync.Mutex
	sftp   *sftp.Client

	closeOnce sync.Once
	closed    chan struct{} // closed by Close

	kaMu sync.Mutex
	ka   *time.Timer // the next keepalive; nil without keepalives

	lostMu sync.Mutex
	lost   error // why the connection ended without Close, once it has
}

var _ transport.Conn = (*Client)(nil)

func newClient(cfg Config, conn *gossh.Client, chain []*gossh.Client) *Client {
	c := &Client{
		cfg:      cfg,
		conn:     conn,
		chain:    chain,
		sessions: connkit.NewSlots(cfg.MaxSessions),
		windows:  windowsServer(conn.ServerVersion()),
		closed:   make(chan struct{}),
	}
	go func() {
		err := conn.Wait()
		if err == nil {
			err = errors.New("closed by the host")
		}
		c.markLost(err)
	}()
	if cfg.KeepaliveInterval > 0 {
		c.startKeepalive(cfg.KeepaliveInterval)
	}
	return c
}

// Close closes the SFTP channel, the connection and the jump hosts'
// connections.
func (c *Client) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.kaMu.Lock()
		close(c.closed)
		if c.ka != nil {
			c.ka.Stop()
		}
		c.kaMu.Unlock()
		c.sftpMu.Lock()
		if c.sftp != nil {
			c.sftp.Close()
		}
		c.sftpMu.Unlock()
		err = c.conn.Close()
		for i := len(c.chain) - 1; i >= 0; i-- {
			c.chain[i].Close()
		}
		if errors.Is(err, net.ErrClosed) || c.lostErr() != nil {
			err = nil // already gone
		}
		if err != nil {
			err = fmt.Errorf("close %s: %w", c.cfg.Name, err)
		}
	})
	return err
}

// startKeepalive sends keepalive@openssh.com every interval and closes
// the connection when answers stop. Between keepalives no goroutine
// waits, only a timer: a fleet's connections are many, and mostly end
// before the first keepalive.
func (c *Client) startKeepalive(interval time.Duration) {
	c.kaMu.Lock()
	defer c.kaMu.Unlock()
	c.ka = time.AfterFunc(interval, func() {
		sent := time.Now()
		if !c.keepalive(interval) {
			return
		}
		// The next one when a ticker started with the connection would
		// tick: interval after this one, or at once if the answer took
		// longer.
		c.kaMu.Lock()
		defer c.kaMu.Unlock()
		select {
		case <-c.closed:
		default:
			c.ka.Reset(max(interval-time.Since(sent), 0))
		}
	})
}

// keepalive sends one keepalive and waits for its answer, up to
// keepaliveCountMax intervals. It reports whether the connection is
// still up and open.
func (c *Client) keepalive(interval time.Duration) bool {
	select {
	case <-c.closed:
		return false
	default:
	}
	reply := make(chan error, 1)
	go func() {
		_, _, err := c.conn.SendRequest("keepalive@openssh.com", true, nil)
		reply <- err
	}()
	timer := time.NewTimer(keepaliveCountMax * interval)
	defer timer.Stop()
	select {
	case <-c.closed:
		return false
	case err := <-reply:
		if err != nil {
			c.markLost(fmt.Errorf("keepalive: %w", err))
			c.conn.Close()
			return false
		}
		return true
	case <-timer.C:
		c.markLost(fmt.Errorf("no answer to keepalives for %s", keepaliveCountMax*interval))
		c.cfg.Logger.Debug("ssh keepalive timeout", "host", c.cfg.Name)
		c.conn.Close()
		return false
	}
}

func (c *Client) markLost(err error) {
	select {
	case <-c.closed:
		return // ended by Close: not lost
	default:
	}
	c.lostMu.Lock()
	defer c.lostMu.Unlock()
	if c.lost == nil {
		c.lost = err
	}
}

func (c *Client) lostErr() error {
	c.lostMu.Lock()
	defer c.lostMu.Unlock()
	return c.lost
}

// connLost wraps err for op as transport.ErrConnLost, with the reason the
// connection ended when it is known.
func (c *Client) connLost(op string, err error) error {
	select {
	case <-c.closed:
		return fmt.Errorf("%s: %w: client closed: %w", op, transport.ErrConnLost, err)
	default:
	}
	if lost := c.lostErr(); lost != nil && !errors.Is(err, lost) {
		return fmt.Errorf("%s: %w: %w: %w", op, transport.ErrConnLost, lost, err)
	}
	return fmt.Errorf("%s: %w: %w", op, transport.ErrConnLost, err)
}

// isDown reports whether the connection has ended (closed or lost).
func (c *Client) isDown() bool {
	select {
	case <-c.closed:
		return true
	default:
	}
	return c.lostErr() != nil
}

// acquire takes a session slot (see connkit.Slots).
func (c *Client) acquire(ctx context.Context) error { return c.sessions.Acquire(ctx, c.closed) }

func (c *Client) release() { c.sessions.Release() }

// newSession opens a session, giving up when ctx is done.
func (c *Client) newSession(ctx context.Context) (*gossh.Session, error) {
	type result struct {
		s   *gossh.Session
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := c.conn.NewSession()
		ch <- result{s, err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.s != nil {
				r.s.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// sftpClient returns the connection's SFTP client, opening it on first
// use.
func (c *Client) sftpClient() (*sftp.Client, error) {
	c.sftpMu.Lock()
	defer c.sftpMu.Unlock()
	select {
	case <-c.closed:
		return nil, net.ErrClosed
	default:
	}
	if c.sftp != nil {
		return c.sftp, nil
	}
	sc, err := sftp.NewClient(c.conn, sftp.UseConcurrentWrites(true))
	if err != nil {
		return nil, err
	}
	c.sftp = sc
	return sc, nil
}

// dropSFTP forgets sc after its channel broke while the connection
// lives on, so that the next upload opens a new one.
func (c *Client) dropSFTP(sc *sftp.Client) {
	c.sftpMu.Lock()
	defer c.sftpMu.Unlock()
	if c.sftp == sc {
		c.sftp = nil
		sc.Close()
	}
}
