package runner_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/configtest"
	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner"
	"github.com/driftless-dev/driftless/ssh"
	"github.com/driftless-dev/driftless/transport"
)

// While a host runs, the steps it ended are in the journal (the host
// still InProgress); when the run is cancelled they keep their status,
// the step running is Cancelled and the one not started Skipped
// (cancelled). The document: a file corrected by the check script, a
// script step that writes and sleeps, one that sleeps long, and a file
// never reached.
func TestCancelKeepsTheStepsThatEnded(t *testing.T) {
	f := newFleet(t, 1, "[associations.c]\ndocument = \"c\"\ntargets = [\"*\"]\n", "c.toml", configtest.Doc(testDocs, "cancel.toml"))
	j, err := journal.Open(filepath.Join(f.dir, "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	dial := func(ctx context.Context, h *inventory.Host) (transport.Conn, error) {
		return ssh.Dial(ctx, ssh.Config{Name: h.Name, Address: h.Address, Port: h.Port, User: h.User,
			IdentityFiles: h.IdentityFiles, KnownHosts: h.KnownHosts, HostKeyPolicy: h.HostKeyPolicy})
	}
	r := runner.New(runner.Options{Config: f.cfg, Dial: dial, Journal: j})
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type out struct {
		res *runner.RunResult
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := r.Run(ctx, runner.Job{Assoc: f.cfg.Associations[0]})
		done <- out{res, err}
	}()
	home := f.hosts[0].Home
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(home, "long")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("step long never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // more than the journal may lose
	// Read as another process would: without waiting for this one.
	other, err := journal.Open(filepath.Join(f.dir, "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	_, hosts, err := other.Show(context.Background(), 1, "")
	other.Close()
	if err != nil || len(hosts) != 1 || hosts[0].Status != journal.StatusInProgress || statuses(hosts[0]) != "conf=Corrected write=Corrected" {
		t.Errorf("journal while step long runs: %+v %v", hosts, err)
	}

	cancel()
	o := <-done
	if o.err != nil {
		t.Fatal(o.err)
	}
	h := o.res.Hosts[0]
	if got, want := statuses(h), "conf=Corrected write=Corrected long=Cancelled never=Skipped"; got != want || h.Status != journal.StatusCancelled {
		t.Fatalf("%s %s, want Cancelled %s", h.Status, got, want)
	}
	if s := h.Steps[3]; s.SkipReason != journal.SkipCancelled || s.Error != "not started: the run was interrupted" {
		t.Errorf("never: %q %q", s.SkipReason, s.Error)
	}
	if s := h.Steps[2]; s.Error != "cancelled while it ran: the run was interrupted" {
		t.Errorf("long: %q", s.Error)
	}
	if o.res.Run.Status != journal.StatusCancelled {
		t.Errorf("run %s", o.res.Run.Status)
	}
	// The journal holds the host's result, which replaced its progress.
	_, hosts, err = j.Show(context.Background(), o.res.Run.ID, "")
	if err != nil || len(hosts) != 1 || statuses(hosts[0]) != statuses(h) {
		t.Errorf("journal after: %+v %v", hosts, err)
	}
}

// When the association's timeout ends the host, the steps that ended keep
// their status, the running one is TimedOut, the rest Skipped (cancelled).
func TestAssociationTimeoutKeepsTheStepsThatEnded(t *testing.T) {
	doc := "[[steps]]\nname = \"conf\"\naction = \"file\"\npath = \"~/conf\"\ncontent = \"on\\n\"\n" +
		"[[steps]]\nname = \"slow\"\naction = \"shell\"\nrun = \"sleep 30\"\n" +
		"[[steps]]\nname = \"never\"\naction = \"file\"\npath = \"~/never\"\ncontent = \"no\\n\"\n"
	f := newFleet(t, 1, "[associations.c]\ndocument = \"c\"\ntargets = [\"*\"]\ntimeout = \"2s\"\n", "c.toml", doc)
	res := f.run(t, false, nil)
	h := res.Hosts[0]
	if got, want := statuses(h), "conf=Corrected slow=TimedOut never=Skipped"; got != want || h.Status != journal.StatusTimedOut {
		t.Fatalf("%s %s, want TimedOut %s", h.Status, got, want)
	}
	if s := h.Steps[1]; s.Error != "the association's timeout (2s) expired while it ran" {
		t.Errorf("slow: %q", s.Error)
	}
	if s := h.Steps[2]; s.SkipReason != journal.SkipCancelled || s.Error != "not started: the association's timeout (2s) expired" {
		t.Errorf("never: %q %q", s.SkipReason, s.Error)
	}
	if b, _ := os.ReadFile(filepath.Join(f.hosts[0].Home, "conf")); string(b) != "on\n" {
		t.Errorf("conf = %q", b)
	}
}
