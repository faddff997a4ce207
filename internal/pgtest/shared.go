package pgtest

import (
	"errors"
	"os"
	"sync"
	"testing"
)

// The shared server: one per test binary, started by the first Shared.
// It was started (or failed to) when srv or err is set.
var shared struct {
	mu  sync.Mutex
	srv *Server
	err error
}

// Shared returns the test binary's shared server, starting it on first
// use (about a second; the later calls return at once). Tests use it
// through NewDB, each with databases of its own; it cannot be stopped or
// killed (Stop and Kill return an error), use Start for that.
//
// It runs until StopShared, which Main calls after the tests. A binary
// without such a TestMain leaves it to the parent-death signal: the
// server stops when the binary exits, and the next test binary removes
// its directory.
//
// When PostgreSQL is not installed the test is skipped, or fails when
// Required (CI), naming the package to install.
func Shared(t testing.TB) *Server {
	t.Helper()
	s, err := startShared()
	if errors.Is(err, ErrUnavailable) {
		unavailable(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func startShared() (*Server, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv == nil && shared.err == nil {
		if shared.srv, shared.err = StartServer(); shared.srv != nil {
			shared.srv.shared = true
		}
	}
	return shared.srv, shared.err
}

// NewDB creates an empty database on the shared server for the test and
// returns its URL; see Server.NewDB.
func NewDB(t testing.TB) string {
	t.Helper()
	return Shared(t).NewDB(t)
}

// StopShared shuts the shared server down, if one was started, and
// removes its directory; a later Shared starts a new one.
func StopShared() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	s := shared.srv
	shared.srv, shared.err = nil, nil
	if s == nil {
		return nil
	}
	return s.destroy()
}

// Main runs the tests and then stops the shared server. A package whose
// tests use NewDB or Shared calls it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) { os.Exit(Tests{m}.Run()) }

// Tests are a test binary's tests whose Run stops the shared server after
// them, for a TestMain that exits by other means than Main
// (testscript.Main takes Tests{m}).
type Tests struct{ M *testing.M }

// Run runs the tests, then stops the shared server, and returns the exit
// code: the tests', or 1 when they passed and the server could not be
// stopped (the error is written to stderr).
func (t Tests) Run() int {
	code := t.M.Run()
	if err := StopShared(); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		if code == 0 {
			code = 1
		}
	}
	return code
}
