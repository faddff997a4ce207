package pgtest

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	if os.Getenv("PGTEST_ORPHAN") == "1" {
		orphan() // TestServerDiesWithTestBinary's child
	}
	Main(m)
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func mustExec(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func count(t *testing.T, conn *pgx.Conn, sql string) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

var urlShape = regexp.MustCompile(`^postgres://postgres@/(t_[a-z0-9_]+)\?host=(/[^&]+)&port=(\d+)&sslmode=disable$`)

func TestNewDBSeparateDatabases(t *testing.T) {
	t.Parallel()
	a, b := NewDB(t), NewDB(t)
	s := Shared(t)
	for _, u := range []string{a, b} {
		m := urlShape.FindStringSubmatch(u)
		if m == nil {
			t.Fatalf("URL %q is not postgres://postgres@/DB?host=SOCKETDIR&port=PORT&sslmode=disable", u)
		}
		if m[2] != s.SocketDir || m[3] != strconv.Itoa(s.Port) {
			t.Errorf("URL %q: want host=%s port=%d", u, s.SocketDir, s.Port)
		}
		if _, err := os.Stat(filepath.Join(s.SocketDir, ".s.PGSQL."+m[3])); err != nil {
			t.Errorf("socket of %q: %v", u, err)
		}
	}
	if a == b {
		t.Fatalf("two NewDB gave the same URL %s", a)
	}
	ca, cb := connect(t, a), connect(t, b)
	mustExec(t, ca, "CREATE TABLE runs (id int)")
	mustExec(t, ca, "INSERT INTO runs VALUES (1), (2)")
	if n := count(t, ca, "SELECT count(*) FROM runs"); n != 2 {
		t.Errorf("rows in a: %d, want 2", n)
	}
	if n := count(t, cb, "SELECT count(*) FROM pg_tables WHERE tablename = 'runs'"); n != 0 {
		t.Errorf("table runs of database a is visible in database b")
	}
	var enc, collate string
	if err := ca.QueryRow(context.Background(),
		"SELECT pg_encoding_to_char(encoding), datcollate FROM pg_database WHERE datname = current_database()").
		Scan(&enc, &collate); err != nil {
		t.Fatal(err)
	}
	if enc != "UTF8" || collate != "C" {
		t.Errorf("database encoding %s collation %s, want UTF8 and C", enc, collate)
	}
}

func TestNewDBDroppedAfterTest(t *testing.T) {
	t.Parallel()
	var name string
	t.Run("test", func(t *testing.T) {
		u, err := url.Parse(NewDB(t))
		if err != nil {
			t.Fatal(err)
		}
		name = strings.TrimPrefix(u.Path, "/")
		// An open connection does not keep the database from being dropped.
		mustExec(t, connect(t, u.String()), "CREATE TABLE kept_open (id int)")
	})
	admin := connect(t, Shared(t).URL("postgres"))
	if n := count(t, admin, "SELECT count(*) FROM pg_database WHERE datname = '"+name+"'"); n != 0 {
		t.Errorf("database %s still exists after its test", name)
	}
}

func TestStopThenStartKeepsData(t *testing.T) {
	t.Parallel()
	s := Start(t)
	u := s.NewDB(t)
	ctx := context.Background()
	mustExec(t, connect(t, u), "CREATE TABLE hosts (name text); INSERT INTO hosts VALUES ('web-1')")
	pid := s.PID()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if s.Running() || processAlive(pid) {
		t.Fatalf("postmaster %d still runs after Stop", pid)
	}
	if conn, err := pgx.Connect(ctx, u); err == nil {
		conn.Close(ctx)
		t.Fatal("connected to a stopped server")
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err == nil {
		t.Error("Start of a running server: no error")
	}
	if n := count(t, connect(t, u), "SELECT count(*) FROM hosts WHERE name = 'web-1'"); n != 1 {
		t.Errorf("after Stop and Start, %d rows, want 1", n)
	}
}

func TestKillThenStartRecovers(t *testing.T) {
	t.Parallel()
	// synchronous_commit=on: a committed row survives a crash.
	s := Start(t, "synchronous_commit=on")
	u := s.NewDB(t)
	conn := connect(t, u)
	if v := show(t, conn, "synchronous_commit"); v != "on" {
		t.Fatalf("synchronous_commit = %s, want on (Start's settings)", v)
	}
	mustExec(t, conn, "CREATE TABLE steps (n int); INSERT INTO steps SELECT generate_series(1, 1000)")
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(), "SELECT 1"); err == nil {
		t.Fatal("a connection to a killed server still works")
	}
	if left := processesIn(s.DataDir); len(left) > 0 {
		t.Fatalf("processes %v of the killed server still run", left)
	}
	if _, err := os.Stat(filepath.Join(s.DataDir, "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("postmaster.pid after Kill: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, connect(t, u), "SELECT count(*) FROM steps"); n != 1000 {
		t.Errorf("after Kill and Start, %d rows, want 1000", n)
	}
	if log, _ := os.ReadFile(s.LogPath); !strings.Contains(string(log), "not properly shut down") {
		t.Errorf("the server log tells no crash recovery:\n%s", log)
	}
}

func show(t *testing.T, conn *pgx.Conn, setting string) string {
	t.Helper()
	var v string
	if err := conn.QueryRow(context.Background(), "SHOW "+setting).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestServerSettings(t *testing.T) {
	t.Parallel()
	conn := connect(t, NewDB(t))
	want := map[string]string{"fsync": "off", "full_page_writes": "off", "synchronous_commit": "off",
		"listen_addresses": "", "server_encoding": "UTF8"}
	for k, v := range want {
		if got := show(t, conn, k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if v := show(t, conn, "server_version_num"); v < strconv.Itoa(MinMajor*10000) {
		t.Errorf("server_version_num %s: older than %d", v, MinMajor)
	}
}

func TestNothingLeftAfterTest(t *testing.T) {
	t.Parallel()
	var pid int
	var dir string
	t.Run("server", func(t *testing.T) {
		s := Start(t)
		pid, dir = s.PID(), s.SocketDir
	})
	if processAlive(pid) {
		t.Errorf("postmaster %d still runs after its test", pid)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("server directory %s after its test: %v", dir, err)
	}
}

func TestCannotStopShared(t *testing.T) {
	s := Shared(t)
	if err := s.Stop(); err == nil {
		t.Error("Stop of the shared server: no error")
	}
	if err := s.Kill(); err == nil {
		t.Error("Kill of the shared server: no error")
	}
	if !s.Running() {
		t.Error("the shared server stopped")
	}
}

func TestLogAboutOneDatabase(t *testing.T) {
	t.Parallel()
	a, b := NewDB(t), NewDB(t)
	ctx := context.Background()
	if _, err := connect(t, a).Exec(ctx, "SELECT * FROM no_such_table_in_a"); err == nil {
		t.Fatal("a query on a missing table did not fail")
	}
	if _, err := connect(t, b).Exec(ctx, "SELECT * FROM no_such_table_in_b"); err == nil {
		t.Fatal("a query on a missing table did not fail")
	}
	u, _ := url.Parse(a)
	// What a failed test using a is shown: its own errors, not b's.
	var got string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = Shared(t).logAbout(strings.TrimPrefix(u.Path, "/")); strings.Contains(got, "no_such_table_in_a") {
			break
		}
	}
	if !strings.Contains(got, `relation "no_such_table_in_a" does not exist`) || strings.Contains(got, "no_such_table_in_b") {
		t.Errorf("the log about database a:\n%s", got)
	}
}
