package main

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/driftless-dev/driftless/internal/connkit"
)

// delayProxy forwards TCP connections from its listener to one target,
// holding every byte back for half the round-trip time in each direction:
// a network with that RTT and plenty of bandwidth. Connecting costs half
// an RTT here instead of one: the kernel completes the handshake with the
// proxy at once, and the proxy dials the target half an RTT later.
type delayProxy struct {
	l      net.Listener
	target string
	oneWay time.Duration

	conns connkit.Set[net.Conn]
	wg    sync.WaitGroup
}

// startProxy listens on addr (port 0 picks one) and forwards to target
// with the given round-trip time.
func startProxy(addr, target string, rtt time.Duration) (*delayProxy, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	p := &delayProxy{l: l, target: target, oneWay: rtt / 2}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr and Port are where clients connect.
func (p *delayProxy) Addr() string { return p.l.Addr().(*net.TCPAddr).IP.String() }
func (p *delayProxy) Port() int    { return p.l.Addr().(*net.TCPAddr).Port }

func (p *delayProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if !p.conns.Go(&p.wg, c, func() { p.forward(c) }) {
			c.Close()
			return
		}
	}
}

// forward connects c to the target, one one-way delay later (when the
// client's SYN would arrive), and copies both ways.
func (p *delayProxy) forward(c net.Conn) {
	defer c.Close()
	time.Sleep(p.oneWay)
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	if !p.conns.Add(up) {
		up.Close()
		return
	}
	defer p.conns.Remove(up)
	defer up.Close()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pipe(up, c) }()
	go func() { defer wg.Done(); p.pipe(c, up) }()
	wg.Wait()
}

// chunk is data read at one moment, due for delivery at another.
type chunk struct {
	b   []byte
	due time.Time
}

// pipe copies src to dst, delivering each read oneWay after it was
// read; it half-closes dst when src ends, and closes both on an error.
func (p *delayProxy) pipe(dst, src net.Conn) {
	queue := make(chan chunk, 256)
	go func() {
		defer close(queue)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				queue <- chunk{b: buf[:n], due: time.Now().Add(p.oneWay)}
			}
			if err != nil {
				return
			}
		}
	}()
	for ch := range queue {
		if d := time.Until(ch.due); d > 0 {
			time.Sleep(d)
		}
		if _, err := dst.Write(ch.b); err != nil {
			dst.Close()
			src.Close()
			for range queue {
			}
			return
		}
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite()
	} else {
		dst.Close()
	}
}

// Close stops the proxy and its connections.
func (p *delayProxy) Close() {
	for _, c := range p.conns.Close() {
		c.Close()
	}
	p.l.Close()
	p.wg.Wait()
}

// proxied puts a delay proxy in front of each host, listening on the
// host's own loopback address, and returns the hosts as reached through
// them.
func proxied(hosts []host, rtt time.Duration) ([]host, func(), error) {
	var proxies []*delayProxy
	stop := func() {
		for _, p := range proxies {
			p.Close()
		}
	}
	out := make([]host, len(hosts))
	for i, h := range hosts {
		p, err := startProxy(net.JoinHostPort(h.Addr, "0"), net.JoinHostPort(h.Addr, strconv.Itoa(h.Port)), rtt)
		if err != nil {
			stop()
			return nil, nil, err
		}
		proxies = append(proxies, p)
		out[i] = h
		out[i].Addr, out[i].Port = p.Addr(), p.Port()
	}
	return out, stop, nil
}
