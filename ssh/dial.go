package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/driftless-dev/driftless/transport"

	gossh "golang.org/x/crypto/ssh"
)

// clientVersion is the SSH identification string sent to servers.
const clientVersion = "SSH-2.0-driftless"

// Dial connects to the host cfg describes (through its jump hosts),
// verifies its host key and logs in. The context bounds the whole dial;
// cfg.ConnectTimeout bounds each hop.
//
// Errors wrap transport.ErrUnreachable (refused, no route, DNS, handshake
// failure), transport.ErrTimeout (with ErrUnreachable when ConnectTimeout
// expired, alone when ctx's deadline did), transport.ErrAuth,
// transport.ErrHostKeyUnknown or transport.ErrHostKeyChanged, or ctx.Err().
// They start with "dial NAME: ", plus "jump HOP: " when a hop failed.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", cfg.Name, err)
	}
	var chain []*gossh.Client
	closeChain := func() {
		for i := len(chain) - 1; i >= 0; i-- {
			chain[i].Close()
		}
	}
	var via *gossh.Client
	for _, hop := range hops(cfg.Jump) {
		if hop.Logger == nil {
			hop.Logger = cfg.Logger
		}
		if hop.ConnectTimeout == 0 {
			hop.ConnectTimeout = cfg.ConnectTimeout
		}
		hop, err := hop.withDefaults()
		if err == nil {
			via, err = dialHop(ctx, via, hop)
		}
		if err != nil {
			closeChain()
			return nil, fmt.Errorf("dial %s: jump %s: %w", cfg.Name, hop.Name, err)
		}
		chain = append(chain, via)
	}
	conn, err := dialHop(ctx, via, cfg)
	if err != nil {
		closeChain()
		return nil, fmt.Errorf("dial %s: %w", cfg.Name, err)
	}
	cfg.Logger.Debug("ssh connected", "host", cfg.Name, "address", cfg.Address, "port", cfg.Port,
		"user", cfg.User, "jumps", len(chain))
	return newClient(cfg, conn, chain), nil
}

// dialHop connects to one host, directly or through via, and logs in.
func dialHop(ctx context.Context, via *gossh.Client, cfg Config) (*gossh.Client, error) {
	addr := net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port))
	v, err := newVerifier(cfg, addr)
	if err != nil {
		return nil, err
	}
	a, err := newAuth(cfg)
	if err != nil {
		return nil, err
	}
	defer a.close()
	cc := &gossh.ClientConfig{
		User:              cfg.User,
		Auth:              a.methods,
		HostKeyCallback:   v.check,
		HostKeyAlgorithms: v.algorithms,
		ClientVersion:     clientVersion,
	}

	dctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	var conn net.Conn
	if via == nil {
		conn, err = (&net.Dialer{}).DialContext(dctx, "tcp", addr)
	} else {
		conn, err = via.DialContext(dctx, "tcp", addr)
	}
	if err != nil {
		if cerr := dialContextErr(ctx, dctx, cfg.ConnectTimeout, "connect to "+addr); cerr != nil {
			return nil, cerr
		}
		if via != nil {
			return nil, fmt.Errorf("%w: connect to %s through the jump host: %w", transport.ErrUnreachable, addr, err)
		}
		return nil, fmt.Errorf("%w: %w", transport.ErrUnreachable, err)
	}

	// The handshake has no context: closing the connection ends it.
	stop := context.AfterFunc(dctx, func() { conn.Close() })
	sc, chans, reqs, err := gossh.NewClientConn(&readAheadConn{Conn: conn}, addr, cc)
	if !stop() {
		if err == nil {
			sc.Close()
		}
		return nil, dialContextErr(ctx, dctx, cfg.ConnectTimeout, "ssh handshake with "+addr)
	}
	if err != nil {
		return nil, handshakeErr(err, addr, cfg, v, a)
	}
	return gossh.NewClient(sc, chans, reqs), nil
}

// dialContextErr explains an interrupted dial: the caller's context
// (cancelled, or its deadline), or ConnectTimeout. It returns nil when
// neither context is done.
func dialContextErr(parent, dctx context.Context, timeout time.Duration, what string) error {
	if err := parent.Err(); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%s: %w: %w", what, transport.ErrTimeout, err)
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	if dctx.Err() != nil {
		return fmt.Errorf("%w: %w: %s: no answer within %s (connect_timeout)",
			transport.ErrUnreachable, transport.ErrTimeout, what, timeout)
	}
	return nil
}

// handshakeErr classifies a failed SSH handshake.
func handshakeErr(err error, addr string, cfg Config, v *verifier, a *auth) error {
	if v.err != nil {
		return v.err
	}
	msg := err.Error()
	if strings.Contains(msg, "no common algorithm for host key") && len(v.knownTypes) > 0 {
		return fmt.Errorf("%w: %s offers none of the host key types known_hosts has for it (%s): %w",
			transport.ErrHostKeyChanged, addr, strings.Join(v.knownTypes, ", "), err)
	}
	if v.verified {
		if strings.Contains(msg, "unable to authenticate") || strings.Contains(msg, "uthentication") {
			return fmt.Errorf("%w: %s@%s refused %s: %w", transport.ErrAuth, cfg.User, addr, a.describe(), err)
		}
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: %s closed the connection during authentication as %s: %w",
				transport.ErrUnreachable, addr, cfg.User, err)
		}
	}
	return fmt.Errorf("%w: ssh handshake with %s: %w", transport.ErrUnreachable, addr, err)
}

// readAheadConn serves small reads from a buffer it fills with one read
// of the connection. x/crypto reads the server's identification line a
// byte at a time (it must not read past it before its own buffered
// reader takes over): a system call and a trip through the poller per
// byte, about 20 per connection. Everything read ahead is returned, in
// order, before the connection is read again; the larger reads that
// follow the identification go to the connection directly.
type readAheadConn struct {
	net.Conn
	buf   []byte // read ahead, not yet returned
	ahead [readAhead]byte
}

// readAhead is the size of the read-ahead buffer: the identification
// line (at most 255 bytes) and the start of the server's key exchange.
const readAhead = 512

func (c *readAheadConn) Read(p []byte) (int, error) {
	if len(c.buf) > 0 {
		n := copy(p, c.buf)
		c.buf = c.buf[n:]
		return n, nil
	}
	if len(p) >= readAhead {
		return c.Conn.Read(p)
	}
	n, err := c.Conn.Read(c.ahead[:])
	if n == 0 {
		return 0, err
	}
	m := copy(p, c.ahead[:n])
	c.buf = c.ahead[m:n]
	return m, nil
}
