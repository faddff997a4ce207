package runner_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner"
	"github.com/driftless-dev/driftless/transport"
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

// asConn is what a Dialer returns for a connection c dialled with err:
// c, or nil (not a nil *T in the interface) and err.
func asConn[C transport.Conn](c C, err error) (transport.Conn, error) {
	if err != nil {
		return nil, err
	}
	return c, nil
}

// runRebootJob runs the first association of cfg, dialled by dial, with
// rebootCommand (empty: the runner's own) and a short reboot poll, and
// fails t unless the host's run succeeded as before=Success
// update=Compliant after=Corrected. It returns the result and when the
// run started; the runner is closed when the test ends.
func runRebootJob(t *testing.T, cfg *config.Config, j *journal.Journal, dial runner.Dialer, rebootCommand string) (*runner.RunResult, time.Time) {
	t.Helper()
	r := runner.New(runner.Options{Config: cfg, Dial: dial, Journal: j, RebootCommand: rebootCommand, RebootPoll: 300 * time.Millisecond, RebootTimeout: 30 * time.Second})
	t.Cleanup(func() { r.Close() })
	start := time.Now()
	res, err := r.Run(context.Background(), runner.Job{Assoc: cfg.Associations[0]})
	if err != nil {
		t.Fatal(err)
	}
	hr := res.Hosts[0]
	if hr.Status != journal.StatusSuccess || statuses(hr) != "before=Success update=Compliant after=Corrected" {
		t.Fatalf("%s %s: %s", hr.Status, hr.Error, statuses(hr))
	}
	return res, start
}

// checkRebootDetail checks that the journal explains the reboot of host in
// run id: step "update" exited code, and the document ran again.
func checkRebootDetail(t *testing.T, j *journal.Journal, id int64, host, code string) {
	t.Helper()
	_, hosts, err := j.Show(context.Background(), id, host)
	if err != nil || !strings.Contains(hosts[0].Detail, `reboot 1: step "update" exited `+code) || !strings.Contains(hosts[0].Detail, "document run again") {
		t.Errorf("journal detail: %q %v", hosts[0].Detail, err)
	}
}
