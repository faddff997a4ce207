package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/semaphore"
)

// ErrReadOnly is returned by every write to a journal opened with
// OpenReadOnly.
var ErrReadOnly = errors.New("the journal is open read-only")

// OpenReadOnly opens the journal at path to read it only: for the
// commands that show what it holds (status, history, show, drift,
// schedule) when it cannot be written — a read-only file system, a file
// of another user. Nothing is migrated, recovered or recorded; runs that
// a dead process left InProgress show as such. The file is taken as it
// is (SQLite's immutable mode): what another process writes meanwhile
// may not show.
//
// A PostgreSQL database (IsPostgres) is opened without migrating it.
func OpenReadOnly(path string) (*Journal, error) {
	if IsPostgres(path) {
		return openPostgres(context.Background(), path, true)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}
	u := url.URL{Scheme: "file", Path: abs, RawQuery: "mode=ro&immutable=1"}
	j := &Journal{path: path, queue: make(chan op), budget: semaphore.NewWeighted(queueBytes), stop: make(chan struct{}), writerDone: make(chan struct{})}
	j.hostname, _ = os.Hostname()
	if j.r, err = sql.Open("sqlite", u.String()+fmt.Sprintf("&_pragma=busy_timeout(%d)&_pragma=query_only(1)", busyTimeout.Milliseconds())); err != nil {
		return nil, wrap("open read-only", err)
	}
	j.r.SetMaxOpenConns(readConns)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var v int
	if err := j.r.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		j.r.Close()
		return nil, wrap("open read-only", err)
	}
	if v > schemaVersion(migrations) {
		j.r.Close()
		return nil, fmt.Errorf("journal: open %s: %w", path, ErrNewerSchema)
	}
	close(j.writerDone)
	return j, nil
}

// ReadOnly reports whether the journal was opened with OpenReadOnly.
func (j *Journal) ReadOnly() bool { return j.w == nil }
