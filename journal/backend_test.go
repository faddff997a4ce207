package journal

import (
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/internal/pgtest"
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
		return pgtest.NewDB(t)
	}
	return tempPath(t)
}

func TestMain(m *testing.M) { pgtest.Main(m) }
