package runner_test

import (
	"net"
	"sync"
	"testing"
	"time"
)

// rebootable is the network side of a test host that reboots: it serves
// each accepted connection with handle, and can go down (its listener and
// every connection closed, so that new connections are refused) and come
// back on the same address, counting its boots.
type rebootable struct {
	t      *testing.T
	addr   string
	handle func(c net.Conn)
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
	boots  int
}

// serve accepts connections on ln until it is closed.
func (r *rebootable) serve(ln net.Listener) {
	r.mu.Lock()
	r.ln = ln
	r.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.track(c)
			go r.handle(c)
		}
	}()
}

// track adds connections that going down closes.
func (r *rebootable) track(cs ...net.Conn) {
	r.mu.Lock()
	r.conns = append(r.conns, cs...)
	r.mu.Unlock()
}

func (r *rebootable) down() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ln != nil {
		r.ln.Close()
		r.ln = nil
	}
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = nil
}

// reboot goes down now and comes back after d.
func (r *rebootable) reboot(d time.Duration) {
	r.down()
	time.AfterFunc(d, func() {
		ln, err := net.Listen("tcp", r.addr)
		if err != nil {
			r.t.Errorf("come back: %v", err)
			return
		}
		r.mu.Lock()
		r.boots++
		r.mu.Unlock()
		r.serve(ln)
	})
}

// bootCount is how many times the host came back.
func (r *rebootable) bootCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.boots
}
