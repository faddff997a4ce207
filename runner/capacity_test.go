package runner_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/sshtest"
	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner"
	"github.com/driftless-dev/driftless/ssh"
	"github.com/driftless-dev/driftless/transport"
)

// spanDoc is a document whose one step records on the host when it
// started and ended (sshtest.SpanScript).
func spanDoc(label, sleep string) string {
	return fmt.Sprintf("[[steps]]\nname = \"span\"\naction = \"shell\"\nrun = %q\n", sshtest.SpanScript(label, sleep))
}

func sshDial(ctx context.Context, h *inventory.Host) (transport.Conn, error) {
	return ssh.Dial(ctx, ssh.Config{Name: h.Name, Address: h.Address, Port: h.Port, User: h.User,
		IdentityFiles: h.IdentityFiles, KnownHosts: h.KnownHosts, HostKeyPolicy: h.HostKeyPolicy})
}

// runAtOnce runs every association of f at the same time, each from its
// own Runner (as ticks of one process would), all sharing capacity.
func runAtOnce(t *testing.T, f *fleet, capacity *runner.Capacity) []*runner.RunResult {
	t.Helper()
	results := make([]*runner.RunResult, len(f.cfg.Associations))
	var wg sync.WaitGroup
	for i, a := range f.cfg.Associations {
		wg.Go(func() {
			r := runner.New(runner.Options{Config: f.cfg, Dial: sshDial, Capacity: capacity})
			defer r.Close()
			res, err := r.Run(context.Background(), runner.Job{Assoc: a})
			if err != nil {
				t.Error(err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	return results
}

// --max-hosts: two associations of 4 hosts each, max_concurrency 10, run
// at once. Counted on the hosts: with a capacity of 3 never more than 3
// ran at once, and 3 did; without one, more did.
func TestCapacityHoldsAcrossAssociations(t *testing.T) {
	assocs := "[associations.a]\ndocument = \"a\"\ntargets = [\"*\"]\nmax_concurrency = \"10\"\n" +
		"[associations.b]\ndocument = \"b\"\ntargets = [\"*\"]\nmax_concurrency = \"10\"\n"
	f := newFleet(t, 4, assocs, "a.toml", spanDoc("a", "1"), "b.toml", spanDoc("b", "1"))
	homes := make([]string, len(f.hosts))
	for i, h := range f.hosts {
		homes[i] = h.Home
	}
	for _, res := range runAtOnce(t, f, runner.NewCapacity(3)) {
		for _, h := range res.Hosts {
			if h.Status != journal.StatusSuccess {
				t.Errorf("%s %s: %s %s", res.Run.Association, h.Host, h.Status, h.Error)
			}
		}
	}
	if most, ran := sshtest.CountAtOnce(t, "capacity 3", homes...); most != 3 || ran != 8 {
		t.Errorf("capacity 3: %d executions, at most %d at once; want 8, at most 3", ran, most)
	}
	runAtOnce(t, f, nil)
	if most, ran := sshtest.CountAtOnce(t, "no capacity", homes...); most <= 3 || ran != 8 {
		t.Errorf("no capacity: %d executions, at most %d at once; want 8, more than 3 at once", ran, most)
	}
}

// A run waiting for a place does not wait forever: cancelled, its hosts
// are Cancelled, not started, while the host holding the place runs on.
func TestCapacityWaitIsCancelled(t *testing.T) {
	assocs := "[associations.slow]\ndocument = \"slow\"\ntargets = [\"web-1\"]\n" +
		"[associations.a]\ndocument = \"a\"\ntargets = [\"*\"]\n"
	f := newFleet(t, 2, assocs, "slow.toml", spanDoc("slow", "3"), "a.toml", spanDoc("a", "0"))
	capacity := runner.NewCapacity(1)
	slowDone := make(chan *runner.RunResult, 1)
	go func() {
		r := runner.New(runner.Options{Config: f.cfg, Dial: sshDial, Capacity: capacity})
		defer r.Close()
		res, _ := r.Run(context.Background(), runner.Job{Assoc: f.cfg.Association("slow")})
		slowDone <- res
	}()
	spans := filepath.Join(f.hosts[0].Home, "spans")
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if b, _ := os.ReadFile(spans); strings.HasPrefix(string(b), "start slow") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("slow never started")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	r := runner.New(runner.Options{Config: f.cfg, Dial: sshDial, Capacity: capacity})
	defer r.Close()
	res, err := r.Run(ctx, runner.Job{Assoc: f.cfg.Association("a")})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-slowDone:
		t.Fatal("the cancelled run waited for the host holding the place")
	default:
	}
	for _, h := range res.Hosts {
		if h.Status != journal.StatusCancelled || h.Detail != "not started: the run was interrupted" {
			t.Errorf("%s: %s %q, want Cancelled, not started", h.Host, h.Status, h.Detail)
		}
	}
	if res := <-slowDone; res.Hosts[0].Status != journal.StatusSuccess {
		t.Errorf("slow: %s %s", res.Hosts[0].Status, res.Hosts[0].Error)
	}
	for _, h := range f.hosts {
		if b, _ := os.ReadFile(filepath.Join(h.Home, "spans")); strings.Contains(string(b), " a ") {
			t.Errorf("%s: a ran: %s", h.Name, b)
		}
	}
}
