package sshsim

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// handshakeTimeout bounds a client's handshake and authentication.
const handshakeTimeout = 30 * time.Second

// serve accepts connections until the listener is closed.
func (h *Host) serve() {
	defer h.fleet.wg.Done()
	for {
		nc, err := h.listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors, or a connection reset before it
			// was accepted: try again shortly, as net/http does.
			h.fleet.opts.Logger.Debug("sshsim accept", "host", h.Name, "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		c := &serverConn{host: h, nc: nc}
		// The accept loop holds a count of wg: Go never raises it from 0.
		if !h.fleet.conns.Go(&h.fleet.wg, c, c.serve) {
			nc.Close()
			continue
		}
	}
}

// serverConn is one client connection to a host.
type serverConn struct {
	host     *Host
	nc       net.Conn
	user     string
	sessions atomic.Int64 // open session channels
}

func (c *serverConn) close() { c.nc.Close() }

func (c *serverConn) serve() {
	h, log := c.host, c.host.fleet.opts.Logger
	defer c.nc.Close()

	_ = c.nc.SetDeadline(time.Now().Add(handshakeTimeout))
	sc, chans, reqs, err := gossh.NewServerConn(c.nc, h.config)
	if err != nil {
		log.Debug("sshsim handshake", "host", h.Name, "remote", c.nc.RemoteAddr().String(), "err", err)
		return
	}
	_ = c.nc.SetDeadline(time.Time{})
	defer sc.Close()
	c.user = sc.User()
	h.connections.Add(1)
	h.active.Add(1)
	defer h.active.Add(-1)

	go c.globalRequests(reqs)
	var wg sync.WaitGroup
	for nch := range chans {
		if nch.ChannelType() != "session" {
			log.Debug("sshsim channel refused", "host", h.Name, "type", nch.ChannelType())
			_ = nch.Reject(gossh.Prohibited, "sshsim serves sessions only")
			continue
		}
		if c.sessions.Add(1) > int64(h.fleet.opts.MaxSessions) {
			c.sessions.Add(-1)
			_ = nch.Reject(gossh.ResourceShortage, "too many sessions")
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.sessions.Add(-1)
			c.session(nch)
		}()
	}
	// The connection is gone: the sessions' channels are closed, which
	// kills what still runs; wait for it to end.
	wg.Wait()
}

// globalRequests answers keepalives and refuses everything else.
func (c *serverConn) globalRequests(reqs <-chan *gossh.Request) {
	for req := range reqs {
		switch req.Type {
		case "keepalive@openssh.com":
			c.host.keepalives.Add(1)
			_ = req.Reply(true, nil)
		default:
			if req.WantReply {
				_ = req.Reply(false, nil)
			}
		}
	}
}
