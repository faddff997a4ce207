package journal

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
)

// The conformance suite: every test that calls forBackends runs once on
// SQLite and once on a real PostgreSQL.

// forBackends runs f as the subtests sqlite and postgres; tempTarget and
// newT give each a journal of its own on that backend.
func forBackends(t *testing.T, f func(t *testing.T)) {
	t.Run("sqlite", f)
	t.Run("postgres", f)
}

// onPostgres reports whether t runs on the postgres backend.
func onPostgres(t testing.TB) bool { return strings.Contains(t.Name(), "/postgres") }

// tempTarget is a new, empty journal for t: a file, or a database of its
// own on the test server.
func tempTarget(t testing.TB) string {
	if onPostgres(t) {
		return newPGDB(t)
	}
	return tempPath(t)
}

var pgDBs atomic.Int64

func newPGDB(t testing.TB) string {
	t.Helper()
	server := os.Getenv("DRIFTLESS_TEST_PG")
	if server == "" {
		t.Skip("DRIFTLESS_TEST_PG is not set")
	}
	db, err := sql.Open(pgDriverName, server)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	name := fmt.Sprintf("j%d_%d", os.Getpid(), pgDBs.Add(1))
	if _, err := db.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	return strings.Replace(server, "/postgres?", "/"+name+"?", 1)
}
