package connkit_test

import (
	"context"
	"errors"
	"net"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/connkit"
	"github.com/driftless-dev/driftless/transport"
)

func TestCtxErr(t *testing.T) {
	err := connkit.CtxErr("run web-1", context.DeadlineExceeded)
	if !errors.Is(err, transport.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || err.Error() != "run web-1: timed out: context deadline exceeded" {
		t.Errorf("deadline: %v", err)
	}
	err = connkit.CtxErr("run web-1", context.Canceled)
	if errors.Is(err, transport.ErrTimeout) || !errors.Is(err, context.Canceled) || err.Error() != "run web-1: context canceled" {
		t.Errorf("cancel: %v", err)
	}
}

func TestBeginRun(t *testing.T) {
	op, err := connkit.BeginRun(context.Background(), "web-1", &transport.Command{})
	if op != "run web-1" || err != nil {
		t.Errorf("%q %v", op, err)
	}
	if _, err := connkit.BeginRun(context.Background(), "web-1", nil); err == nil || err.Error() != "run web-1: no command" {
		t.Errorf("no command: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := connkit.BeginRun(ctx, "web-1", &transport.Command{}); !errors.Is(err, context.Canceled) {
		t.Errorf("ended context: %v", err)
	}
}

func TestSlots(t *testing.T) {
	s := connkit.NewSlots(1)
	closed := make(chan struct{})
	if err := s.Acquire(context.Background(), closed); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Acquire(ctx, closed); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("full: %v", err)
	}
	close(closed)
	if err := s.Acquire(context.Background(), closed); !errors.Is(err, net.ErrClosed) {
		t.Errorf("closed: %v", err)
	}
	s.Release()
	if err := s.Acquire(context.Background(), nil); err != nil {
		t.Errorf("released: %v", err)
	}
}

func TestEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name, address string
		port          int
		want          string // name address port, or the error
	}{
		{"web-1", "", 0, "web-1 web-1 22"},
		{"", "10.0.0.5", 2222, "10.0.0.5 10.0.0.5 2222"},
		{"web-1", "10.0.0.5", 0, "web-1 10.0.0.5 22"},
		{"", "", 0, "config: no address"},
		{"web-1", "", 70000, "config: port 70000 out of range"},
		{"web-1", "", -1, "config: port -1 out of range"},
	} {
		name, address, port, err := connkit.Endpoint(tc.name, tc.address, tc.port, 22)
		got := name + " " + address + " " + strconv.Itoa(port)
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("Endpoint(%q, %q, %d) = %s, want %s", tc.name, tc.address, tc.port, got, tc.want)
		}
	}
	if connkit.OrDefault(0, 8) != 8 || connkit.OrDefault(-1, 8) != 8 || connkit.OrDefault(3, 8) != 3 ||
		connkit.OrDefault(time.Duration(0), time.Second) != time.Second {
		t.Error("OrDefault")
	}
}

func TestRandom(t *testing.T) {
	if h := connkit.RandomHex(6); !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(h) || h == connkit.RandomHex(6) {
		t.Errorf("RandomHex(6) = %q", h)
	}
	if u := connkit.NewUUID(); !regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`).MatchString(u) {
		t.Errorf("NewUUID() = %q", u)
	}
}

// A Set gives back, on Close, what was added and not removed, and refuses
// what comes after.
func TestSet(t *testing.T) {
	var s connkit.Set[int]
	for _, c := range []int{1, 2, 3} {
		if !s.Add(c) {
			t.Fatalf("Add(%d) refused before Close", c)
		}
	}
	s.Remove(2)
	got := s.Close()
	slices.Sort(got)
	if !slices.Equal(got, []int{1, 3}) {
		t.Errorf("Close gave %v, want [1 3]", got)
	}
	if s.Add(4) {
		t.Error("Add after Close accepted")
	}
	if s.Go(new(sync.WaitGroup), 5, func() { t.Error("Go after Close ran") }) {
		t.Error("Go after Close accepted")
	}
}

// Go serves a connection in a goroutine the WaitGroup counts, and takes
// it out of the set when that returns.
func TestSetGo(t *testing.T) {
	var s connkit.Set[int]
	var wg sync.WaitGroup
	release := make(chan struct{})
	served := make(chan int, 1)
	if !s.Go(&wg, 7, func() { <-release; served <- 7 }) {
		t.Fatal("Go refused before Close")
	}
	close(release)
	wg.Wait()
	if got := <-served; got != 7 {
		t.Errorf("served %d", got)
	}
	if got := s.Close(); len(got) != 0 {
		t.Errorf("a served connection is still in the set: %v", got)
	}
}
