// Package connkit holds what driftless's transports (ssh, winrm, local)
// and their test servers share: the error for an ended context, the
// semaphore that caps sessions on one connection, the defaults and
// checks of a host's address, random names, and the set of connections a
// server closes when it stops.
package connkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/driftless-dev/driftless/transport"
)

// CtxErr wraps a context error for op, adding transport.ErrTimeout for an
// expired deadline:
//
//	run web-1: timed out: context deadline exceeded
func CtxErr(op string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w: %w", op, transport.ErrTimeout, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// BeginRun is what every Run does first: it returns the op that names
// the run in errors ("run web-1"), and an error when there is no command
// or ctx has ended already.
func BeginRun(ctx context.Context, host string, cmd *transport.Command) (op string, err error) {
	op = "run " + host
	if cmd == nil {
		return op, fmt.Errorf("%s: no command", op)
	}
	if err := ctx.Err(); err != nil {
		return op, CtxErr(op, err)
	}
	return op, nil
}

// Slots is a counting semaphore: sessions open on one connection,
// commands running on one host.
type Slots chan struct{}

// NewSlots returns n free slots.
func NewSlots(n int) Slots { return make(Slots, n) }

// Acquire takes a slot, waiting for one. It gives up with ctx's error
// when ctx ends first, and with net.ErrClosed when closed is closed first.
func (s Slots) Acquire(ctx context.Context, closed <-chan struct{}) error {
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-closed:
		return net.ErrClosed
	}
}

// Release gives a slot back.
func (s Slots) Release() { <-s }

// Set is the connections a server has open, so that stopping it can
// close them all: once Close has been called, Add refuses. The zero value
// is an empty set.
type Set[C comparable] struct {
	mu     sync.Mutex
	conns  map[C]struct{}
	closed bool
}

// Add adds c and reports true, or reports false once Close has been
// called (the caller closes c then).
func (s *Set[C]) Add(c C) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.conns == nil {
		s.conns = map[C]struct{}{}
	}
	s.conns[c] = struct{}{}
	return true
}

// Go adds c and serves it: serve runs in a goroutine that wg counts,
// and c is removed when it returns. Once Close has been called it reports
// false and runs nothing (the caller closes c then).
func (s *Set[C]) Go(wg *sync.WaitGroup, c C, serve func()) bool {
	if !s.Add(c) {
		return false
	}
	wg.Go(func() {
		defer s.Remove(c)
		serve()
	})
	return true
}

// Remove takes c out, once it is closed or about to be.
func (s *Set[C]) Remove(c C) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

// Close refuses every later Add and returns the connections in the set
// now, for the caller to close.
func (s *Set[C]) Close() []C {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	out := make([]C, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

// Endpoint defaults a host's name and address from each other and its
// port to defaultPort when zero, and checks that there is an address and
// that the port is in range. Errors start with "config: ".
func Endpoint(name, address string, port, defaultPort int) (string, string, int, error) {
	if address == "" {
		address = name
	}
	if name == "" {
		name = address
	}
	if address == "" {
		return name, address, port, errors.New("config: no address")
	}
	if port == 0 {
		port = defaultPort
	}
	if port < 1 || port > 65535 {
		return name, address, port, fmt.Errorf("config: port %d out of range", port)
	}
	return name, address, port, nil
}

// OrDefault is v when it is positive, else def.
func OrDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// RandomHex is n random bytes in hex: names of temporary files, markers.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// NewUUID is a random (version 4) UUID in upper case, as WS-Management
// writes them.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return strings.ToUpper(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:])
}
