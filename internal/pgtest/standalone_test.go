package pgtest

import (
	"errors"
	"os"
	"testing"
)

// StartServer, for programs: a server with the settings given, databases
// created and dropped by name, nothing left after Close; the shared
// server cannot be closed.
func TestStartServerWithoutTest(t *testing.T) {
	t.Parallel()
	if _, err := findServer(BinGlob); errors.Is(err, ErrUnavailable) {
		unavailable(t, err)
	}
	s, err := StartServer("work_mem=8MB")
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			s.Close()
		}
	}()
	u, err := s.CreateDB("bench_check")
	if err != nil {
		t.Fatal(err)
	}
	if u != s.URL("bench_check") {
		t.Errorf("CreateDB gave %s, want %s", u, s.URL("bench_check"))
	}
	conn := connect(t, u)
	if v := show(t, conn, "work_mem"); v != "8MB" {
		t.Errorf("work_mem = %s, want 8MB (StartServer's settings)", v)
	}
	mustExec(t, conn, "CREATE TABLE hosts (name text)")
	if _, err := s.CreateDB("bench_check"); err == nil {
		t.Error("a second database bench_check: no error")
	}
	// Dropped with its connection open, and again: no error.
	if err := s.DropDB("bench_check"); err != nil {
		t.Fatal(err)
	}
	if err := s.DropDB("bench_check"); err != nil {
		t.Errorf("dropping a dropped database: %v", err)
	}
	admin := connect(t, s.URL("postgres"))
	if n := count(t, admin, "SELECT count(*) FROM pg_database WHERE datname = 'bench_check'"); n != 0 {
		t.Errorf("bench_check still exists after DropDB")
	}
	admin.Close(t.Context())
	pid, dir := s.PID(), s.SocketDir
	closed = true
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if processAlive(pid) {
		t.Errorf("postmaster %d still runs after Close", pid)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("server directory %s after Close: %v", dir, err)
	}
	if err := Shared(t).Close(); err == nil {
		t.Error("Close of the shared server: no error")
	}
}
