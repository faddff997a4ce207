package runner_test

import (
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/journal"
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

// configDir writes a config dir of files (name: content, under dir) and
// returns it loaded, with a journal in it.
func configDir(t *testing.T, dir string, files map[string]string) (*config.Config, *journal.Journal) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, list := config.Load(config.Options{Dir: dir})
	if err := list.Err(); err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(filepath.Join(dir, "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return cfg, j
}
