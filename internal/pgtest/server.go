package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Superuser is the name of the servers' superuser, the user of every URL
// (trust authentication: no password).
const Superuser = "postgres"

// Timeouts of the server's own operations.
const (
	initTimeout  = 2 * time.Minute  // initdb
	readyTimeout = time.Minute      // from starting postgres to a first connection
	stopTimeout  = 30 * time.Second // a fast shutdown, before it is killed
)

// settings make a throwaway server fast and private: no TCP, no waiting
// for the disk, dynamic shared memory in files of the data directory
// (removed with it even after a SIGKILL), and a write-ahead log kept
// small (it may live in memory, see tempRoot). Log lines of a session
// name its database, so that a failed test can be shown its own.
var settings = []string{
	"log_line_prefix=%m [%p] %q%d: ",
	"listen_addresses=",
	"fsync=off",
	"full_page_writes=off",
	"synchronous_commit=off",
	"dynamic_shared_memory_type=mmap",
	"max_wal_size=256MB",
	"min_wal_size=32MB",
}

// Server is a throwaway PostgreSQL server listening only on a unix socket
// in a directory of its own. Its exported fields describe it; they do not
// change while it lives, Stop and Start included. Its methods may be
// called from any goroutine.
type Server struct {
	// BinDir holds the server programs (/usr/lib/postgresql/15/bin) and
	// Major is their major version.
	BinDir string
	Major  int
	// SocketDir is the URL's host: the directory of the server's unix
	// socket, SocketDir/.s.PGSQL.<Port>. There is no TCP listener.
	SocketDir string
	Port      int
	// DataDir is the data directory (PGDATA), owned by the server's user.
	DataDir string
	// LogPath is the server's log, appended to by every start.
	LogPath string
	// User is the unix user the server runs as (postgres, when the tests
	// run as root).
	User string

	acct     account
	shared   bool
	settings []string
	release  func()

	mu      sync.Mutex // guards the process
	cmd     *exec.Cmd
	exited  chan struct{}
	dbSeq   atomic.Int64
	adminMu sync.Mutex
	admin   *pgx.Conn
}

// Start starts a server of the test's own, with extra settings given as
// "name=value" (postgres -c), and returns once it accepts connections. It
// is shut down and its directory removed when the test ends, however it
// ends. Use it when a test stops, kills or reconfigures the server;
// otherwise NewDB is faster.
//
// When PostgreSQL is not installed the test is skipped, or fails when
// Required (CI), naming the package to install.
func Start(t testing.TB, settings ...string) *Server {
	t.Helper()
	s, err := prepare(settings)
	if errors.Is(err, ErrUnavailable) {
		unavailable(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pgtest: end of %s:\n%s", s.LogPath, s.logTail())
		}
		if err := s.destroy(); err != nil {
			t.Error(err)
		}
	})
	if err := s.init(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// prepare finds the programs and the user and creates the server's
// directory; nothing runs yet.
func prepare(extra []string) (*Server, error) {
	inst, err := findServer(BinGlob)
	if err != nil {
		return nil, err
	}
	acct, err := serverAccount()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, release, err := newServerDir(acct)
	if err != nil {
		return nil, err
	}
	return &Server{
		BinDir:    inst.binDir,
		Major:     inst.major,
		SocketDir: dir,
		Port:      port,
		DataDir:   filepath.Join(dir, "data"),
		LogPath:   filepath.Join(dir, "postgres.log"),
		User:      acct.name,
		acct:      acct,
		settings:  append(append([]string(nil), settings...), extra...),
		release:   release,
	}, nil
}

// freePort returns a port number that no TCP listener on loopback had a
// moment ago. The server only uses it to name its socket, but clients
// and logs show it, and distinct servers should not share one.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: pick a port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// init creates the cluster with initdb: UTF8, C collation (byte order,
// as SQLite compares), trust authentication.
func (s *Server) init() error {
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(s.BinDir, "initdb"),
		"-D", s.DataDir, "-A", "trust", "-U", Superuser, "-E", "UTF8", "--locale=C", "--no-sync")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	s.prepareCmd(cmd, syscall.SIGKILL)
	if err := startProcess(cmd); err != nil {
		return fmt.Errorf("pgtest: start initdb: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("pgtest: initdb %s as %s: %w\n%s", s.DataDir, s.User, err, out.Bytes())
	}
	return nil
}

// prepareCmd runs cmd in the server directory, as the server's user,
// without the PG* variables of the test's environment.
func (s *Server) prepareCmd(cmd *exec.Cmd, deathSig syscall.Signal) {
	cmd.Dir = s.SocketDir
	cmd.SysProcAttr = sysProcAttr(s.acct, deathSig)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "LC_ALL=C")
}

// URL is the connection URL of database db:
// postgres://postgres@/DB?host=SOCKETDIR&port=PORT&sslmode=disable.
func (s *Server) URL(db string) string {
	host := strings.ReplaceAll(url.QueryEscape(s.SocketDir), "%2F", "/")
	return fmt.Sprintf("postgres://%s@/%s?host=%s&port=%d&sslmode=disable",
		Superuser, url.PathEscape(db), host, s.Port)
}

// Start starts the stopped server again on the same data directory,
// socket and port, so every URL it gave keeps working, and returns once
// it accepts connections (after crash recovery, following Kill). It is an
// error when the server runs.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("pgtest: Start: the server is running")
	}
	logf, err := os.OpenFile(s.LogPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("pgtest: server log: %w", err)
	}
	defer logf.Close()
	args := []string{"-D", s.DataDir, "-p", strconv.Itoa(s.Port), "-k", s.SocketDir}
	for _, kv := range s.settings {
		args = append(args, "-c", kv)
	}
	cmd := exec.Command(filepath.Join(s.BinDir, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// SIGQUIT is an immediate shutdown: the postmaster stops its backends
	// and removes its shared memory.
	s.prepareCmd(cmd, syscall.SIGQUIT)
	if err := startProcess(cmd); err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	if err := s.waitReady(exited); err != nil {
		_ = s.killLocked()
		return err
	}
	return nil
}

// waitReady waits until the server accepts a connection.
func (s *Server) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, s.URL("postgres"))
		cancel()
		if err == nil {
			return conn.Close(context.Background())
		}
		select {
		case <-exited:
			return fmt.Errorf("pgtest: postgres exited at start: %s\n%s", s.cmd.ProcessState, s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgtest: postgres accepts no connection after %s: %w\n%s", readyTimeout, err, s.logTail())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop shuts the server down the way pg_ctl -m fast stop does (SIGINT:
// open transactions are rolled back, connections closed, a checkpoint
// written) and returns once it has exited. Stopping a stopped server
// does nothing. The shared server cannot be stopped.
func (s *Server) Stop() error { return s.control("Stop", s.stopLocked) }

// control runs a Stop or Kill, which other tests' databases on the
// shared server would not survive.
func (s *Server) control(op string, f func() error) error {
	if s.shared {
		return fmt.Errorf("pgtest: %s: not on the shared server, which other tests use (use pgtest.Start)", op)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return f()
}

func (s *Server) stopLocked() error {
	if s.cmd == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
		s.cmd = nil
		return nil
	case <-time.After(stopTimeout):
	}
	err := s.killLocked()
	return errors.Join(fmt.Errorf("pgtest: postgres did not stop in %s: killed\n%s", stopTimeout, s.logTail()), err)
}

// Kill crashes the server: SIGKILL to the postmaster, then to what it
// leaves running (backends, checkpointer...), all at once as in a crash
// of the server (what it wrote to files stays: the machine does not
// crash). It returns once they are all gone, their shared memory and
// postmaster.pid removed; Start then recovers from the WAL. Killing a
// stopped server does nothing. The shared server cannot be killed.
func (s *Server) Kill() error { return s.control("Kill", s.killLocked) }

func (s *Server) killLocked() error {
	if s.cmd == nil {
		return nil
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
	err := killLeftovers(s.DataDir, 10*time.Second)
	pidFile := filepath.Join(s.DataDir, "postmaster.pid")
	removeSharedMemory(pidFile)
	if rerr := os.Remove(pidFile); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		err = errors.Join(err, fmt.Errorf("pgtest: remove stale %s: %w", pidFile, rerr))
	}
	return err
}

// PID is the postmaster's process id, 0 when the server is stopped.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Running reports whether the server was started and has not been
// stopped or killed (through its methods).
func (s *Server) Running() bool { return s.PID() != 0 }

// destroy stops the server (killing it if it will not stop) and removes
// its directory.
func (s *Server) destroy() error {
	s.closeAdmin()
	s.mu.Lock()
	err := s.stopLocked()
	s.mu.Unlock()
	s.release()
	return err
}

// logTail is the end of the server's log, for error messages.
func (s *Server) logTail() string {
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		return "(no server log: " + err.Error() + ")"
	}
	const max = 4000
	if len(b) > max {
		b = b[len(b)-max:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}
