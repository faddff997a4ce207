package pgtest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// dbTimeout bounds one CREATE or DROP DATABASE.
const dbTimeout = time.Minute

// NewDB creates an empty database for the test and returns its URL
// (postgres://postgres@/DB?host=SOCKETDIR&port=PORT&sslmode=disable).
// The database is dropped when the test ends, its connections closed
// first. Its name starts with the test's name, for logs.
func (s *Server) NewDB(t testing.TB) string {
	t.Helper()
	name := s.dbName(t.Name())
	url, err := s.CreateDB(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() && s.shared {
			t.Logf("pgtest: the shared server's log about %s:\n%s", name, s.logAbout(name))
		}
		if !s.Running() {
			return // stopped by the test: the database goes with the server
		}
		if err := s.DropDB(name); err != nil {
			t.Error(err)
		}
	})
	return url
}

// logAbout is the end of what the server logged in sessions on database
// db (each such line starts with the database's name, see settings).
func (s *Server) logAbout(db string) string {
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		return "(no server log: " + err.Error() + ")"
	}
	var lines []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "] "+db+": ") {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return "(nothing)"
	}
	return strings.Join(lines[max(0, len(lines)-50):], "\n")
}

// dbName is a database name unique on this server: t_, the test's name
// in lower case letters, digits and underscores, and a sequence number;
// at most 63 bytes, PostgreSQL's limit.
func (s *Server) dbName(test string) string {
	seq := s.dbSeq.Add(1)
	var b strings.Builder
	for _, r := range strings.ToLower(test) {
		if b.Len() == 40 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return "t_" + b.String() + "_" + strconv.FormatInt(seq, 10)
}

// exec runs one statement on the server's postgres database through the
// harness's own connection, reconnecting once when the server was
// restarted since.
func (s *Server) exec(sql string) error {
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if s.admin == nil || s.admin.IsClosed() {
			if s.admin, err = pgx.Connect(ctx, s.URL("postgres")); err != nil {
				s.admin = nil
				return fmt.Errorf("connect: %w", err)
			}
		}
		if _, err = s.admin.Exec(ctx, sql); err == nil || !s.admin.IsClosed() {
			return err
		}
	}
	return err
}

// closeAdmin closes the harness's own connection.
func (s *Server) closeAdmin() {
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	if s.admin != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.admin.Close(ctx)
		s.admin = nil
	}
}
