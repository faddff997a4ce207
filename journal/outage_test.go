package journal

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/pgtest"
)

// PostgreSQL restarting under a run loses no record: the writer keeps
// the batch and tries again until the server is back, RecordHost goes on
// queueing meanwhile, and FinishRun returns once everything is written.
func TestPostgresRestartLosesNothing(t *testing.T) {
	srv := pgtest.Start(t)
	ctx := context.Background()
	j := openT(t, srv.NewDB(t))
	id := startRunT(t, j, "web", ModeApply, base)
	for i := range 5 {
		recordT(t, j, fiveSteps(id, fmt.Sprintf("web-%d", i), base))
	}
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for i := 5; i < 10; i++ { // queued while the server is down
		recordT(t, j, fiveSteps(id, fmt.Sprintf("web-%d", i), base))
	}
	finished := make(chan error, 1)
	go func() { finished <- j.FinishRun(ctx, id, StatusSuccess, nil, base.Add(time.Minute)) }()
	select {
	case err := <-finished:
		t.Fatalf("FinishRun returned while PostgreSQL was down: %v", err)
	case <-time.After(3 * time.Second):
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-finished:
		if err != nil {
			t.Fatalf("FinishRun after the restart: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("FinishRun did not return after PostgreSQL came back")
	}
	run, hosts, err := j.Show(ctx, id, "")
	if err != nil || run.Status != StatusSuccess || len(hosts) != 10 || run.Counts[StatusSuccess] != 10 {
		t.Fatalf("after the restart: run %+v, %d hosts, %v", run, len(hosts), err)
	}
	for _, h := range hosts {
		if len(h.Steps) != 5 {
			t.Errorf("%s: %d steps, want 5", h.Host, len(h.Steps))
		}
	}
	if j.Failure() != nil {
		t.Errorf("the journal says a write failed: %v", j.Failure())
	}
}

// A server that stays away longer than the writer waits: the records are
// given up, and the journal says so (Failure wraps ErrWriteFailed).
func TestPostgresGoneForGood(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the writer to give up")
	}
	old := pgOutageWait
	pgOutageWait = 2 * time.Second
	t.Cleanup(func() { pgOutageWait = old })
	srv := pgtest.Start(t)
	ctx := context.Background()
	j := openT(t, srv.NewDB(t))
	id := startRunT(t, j, "web", ModeApply, base)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	recordT(t, j, fiveSteps(id, "web-1", base))
	err := j.FinishRun(ctx, id, StatusSuccess, nil, base.Add(time.Minute))
	if err == nil || !errors.Is(j.Failure(), ErrWriteFailed) {
		t.Fatalf("FinishRun = %v, Failure = %v: want both to say the records were lost", err, j.Failure())
	}
}
