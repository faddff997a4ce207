package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/semaphore"
)

// Sentinel errors that callers branch on (with errors.Is).
var (
	// ErrNotFound: the run (or the host in it) is not in the journal.
	ErrNotFound = errors.New("not found")
	// ErrNewerSchema: the journal was written by a newer driftless.
	ErrNewerSchema = errors.New("journal written by a newer driftless")
	// ErrClosed: the Journal was closed.
	ErrClosed = errors.New("journal closed")
	// ErrInvalid: an argument was malformed (an unknown status, a missing
	// host, …). It points at a bug in the caller, not at the journal.
	ErrInvalid = errors.New("invalid argument")
	// ErrBusy: another process held the journal locked for longer than
	// the busy timeout.
	ErrBusy = errors.New("journal is locked by another process")
)

const (
	// busyTimeout is how long a statement waits for another connection's
	// lock (another driftless on the same journal) before failing with
	// ErrBusy. Write transactions here last milliseconds, so waiting this
	// long means something is wrong.
	busyTimeout = 10 * time.Second
	// busyRetries is how many more times the background writer tries a
	// batch that hit the busy timeout before it gives the batch up.
	busyRetries = 2
	// readConns bounds the read pool.
	readConns = 4
	// walSizeLimit truncates the -wal file back to this size after a
	// checkpoint, so that one run with large outputs does not leave a large
	// file behind.
	walSizeLimit = 64 << 20

	// Group commit: the background writer commits when batchMax host
	// records are queued, flushInterval after the first of a batch was
	// queued, or when FinishRun, Flush or Close asks.
	batchMax      = 128
	flushInterval = 50 * time.Millisecond
	// queueLen and queueBytes bound what RecordHost may queue: beyond
	// either, RecordHost blocks until the writer catches up.
	queueLen   = 256
	queueBytes = 64 << 20
)

// Journal is an open journal. It is safe for concurrent use; several
// processes may have the same journal open (each with its own Journal).
type Journal struct {
	path     string // the file, or the database (Redact: without its password)
	hostname string
	node     string  // this process's node name (Options.Node)
	d        dialect // SQLite or PostgreSQL

	// w is the writer pool: exactly one connection. SQLite admits one
	// writer at a time per database anyway; funnelling this process's
	// writes through one connection serialises them in Go (no SQLITE_BUSY
	// between our own goroutines) and leaves busy_timeout to arbitrate only
	// between processes. Its transactions are BEGIN IMMEDIATE, which take
	// the write lock up front: a deferred transaction that reads and then
	// writes can fail with SQLITE_BUSY_SNAPSHOT under WAL without the busy
	// handler being consulted.
	w *sql.DB
	// r is the read pool (query_only). In WAL mode readers never block the
	// writer nor wait for it: each read transaction sees the last commit.
	r *sql.DB

	stmts writeStmts
	rows  rowMemory // the writer goroutine's (rows.go)
	bulk  bulkStmts // the writer goroutine's (bulk.go)

	queue   chan op
	budget  *semaphore.Weighted
	pending atomic.Int64 // ops enqueued and not yet done

	mu         sync.RWMutex // guards closed against enqueue
	closed     bool
	stop       chan struct{}
	writerDone chan struct{}
	leftover   error // write errors of runs never finished; set by the writer before writerDone
	failure    writeFailure
	notes      []string // what Open fixed, for the user

	// batchHook, when set (tests), runs inside each batch transaction just
	// before it commits.
	batchHook func()
}

// Options are what a process says about itself when it opens a journal.
type Options struct {
	// Node names this driftless process in the runs and leases it
	// records (--node); the hostname when empty.
	Node string
}

// Open opens the journal at target, creating it if needed, and brings its
// schema up to date. target is a file (SQLite) or a PostgreSQL database
// (shared by several machines): a postgres:// URL or a keyword/value
// string (IsPostgres).
//
// A file is created with mode 0600 (its directory 0700); SQLite gives the
// -wal and -shm files the mode of the database file. Open fails with
// ErrNewerSchema if a newer driftless wrote the journal.
func Open(target string) (*Journal, error) {
	return OpenWith(target, Options{})
}

// OpenWith is Open with Options.
func OpenWith(target string, o Options) (*Journal, error) {
	var j *Journal
	var err error
	if IsPostgres(target) {
		j, err = openPostgres(context.Background(), target, false)
	} else {
		j, err = open(context.Background(), target, migrations)
	}
	if err == nil && o.Node != "" {
		j.node = o.Node
	}
	return j, err
}

// newJournal is a Journal of dialect d at path, not connected yet.
func newJournal(path string, d dialect) (*Journal, error) {
	hostname, _ := os.Hostname()
	return &Journal{
		path:       path,
		hostname:   hostname,
		node:       hostname,
		d:          d,
		queue:      make(chan op, queueLen),
		budget:     semaphore.NewWeighted(queueBytes),
		stop:       make(chan struct{}),
		writerDone: make(chan struct{}),
	}, nil
}

func open(ctx context.Context, path string, ms []migration) (_ *Journal, err error) {
	if path == "" {
		return nil, fmt.Errorf("journal: open: %w: empty path", ErrInvalid)
	}
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("journal: open %s: %w: the path may not contain '?'", path, ErrInvalid)
	}
	if err := createFile(path); err != nil {
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}
	j, _ := newJournal(path, sqliteDialect{})
	j.notes = tightenMode(path)
	defer func() {
		if err != nil {
			j.closeDBs()
		}
	}()

	common := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", busyTimeout.Milliseconds())
	j.w, err = sql.Open("sqlite", path+"?"+common+
		fmt.Sprintf("&_pragma=synchronous(NORMAL)&_pragma=journal_size_limit(%d)&_txlock=immediate", walSizeLimit))
	if err != nil {
		return nil, wrap("open", err)
	}
	j.w.SetMaxOpenConns(1)
	j.w.SetMaxIdleConns(1)
	j.w.SetConnMaxLifetime(0)
	j.w.SetConnMaxIdleTime(0)
	if err := setWAL(ctx, j.w); err != nil {
		return nil, wrap("open: set WAL mode", err)
	}
	if err := migrate(ctx, j.w, ms); err != nil {
		return nil, wrap("open", err)
	}
	if err := j.stmts.prepare(ctx, j.w); err != nil {
		return nil, wrap("open: prepare", err)
	}

	j.r, err = sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		return nil, wrap("open", err)
	}
	j.r.SetMaxOpenConns(readConns)
	j.r.SetMaxIdleConns(readConns)
	if err := j.r.PingContext(ctx); err != nil {
		return nil, wrap("open", err)
	}

	go j.writeLoop()
	return j, nil
}

// createFile makes path's directory (0700) and path itself (0600) when they
// do not exist. SQLite would create the file too, but with the umask's say
// on its mode; creating it first, and then chmod, makes it 0600 whatever
// the umask. An existing file keeps its mode.
func createFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// setWAL switches the journal to WAL mode (a no-op when it already is).
// The switch needs an exclusive lock for a moment, and SQLite does not
// always consult the busy handler for it, so retry while another process is
// busy with the file.
func setWAL(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(busyTimeout)
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		var mode string
		err := db.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode)
		if err == nil {
			if !strings.EqualFold(mode, "wal") {
				return fmt.Errorf("journal mode is %q, not wal", mode)
			}
			return nil
		}
		if !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

// Path returns the file the journal is in, or its database (without
// password).
func (j *Journal) Path() string { return j.path }

// Close writes what is still queued, then closes the database. It returns
// any write error not yet reported by FinishRun. Close is idempotent; after
// it, every method fails with ErrClosed.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	j.mu.Unlock()

	close(j.stop)
	<-j.writerDone
	return errors.Join(j.leftover, j.closeDBs())
}

func (j *Journal) closeDBs() error {
	var errs []error
	if j.r != nil {
		errs = append(errs, j.r.Close())
	}
	j.stmts.close()
	j.bulk.close()
	if j.w != nil {
		errs = append(errs, j.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return wrap("close", err)
	}
	return nil
}

// live fails with ErrClosed once Close was called.
func (j *Journal) live() error {
	j.mu.RLock()
	defer j.mu.RUnlock()
	if j.closed {
		return ErrClosed
	}
	return nil
}

// wrap prefixes err with "journal: stage: " and marks SQLite busy errors
// with ErrBusy, an unreachable PostgreSQL with ErrUnavailable.
func wrap(stage string, err error) error {
	if err == nil {
		return nil
	}
	if isBusy(err) && !errors.Is(err, ErrBusy) {
		return fmt.Errorf("journal: %s: %w: %w", stage, ErrBusy, err)
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) && !errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("journal: %s: %w: %w", stage, ErrUnavailable, err)
	}
	return fmt.Errorf("journal: %s: %w", stage, err)
}

// Times are stored as Unix nanoseconds.

func unixNano(t time.Time) int64 { return t.UnixNano() }

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

func fromNano(n int64) time.Time { return time.Unix(0, n).UTC() }

func fromNull(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromNano(n.Int64)
}
