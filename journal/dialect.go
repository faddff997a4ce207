package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is what differs between the two databases a journal lives in:
// SQLite (a file, the default) and PostgreSQL (shared by several
// machines). Everything else, every query included, is written once
// (pgdriver.go translates the parameters).
type dialect interface {
	// retry says whether a write that failed with err, after trying for
	// since, is tried again, and after how long: SQLite's busy timeout
	// ran out (another process held the lock), PostgreSQL is restarting
	// or unreachable.
	retry(err error, try int, since time.Duration) (time.Duration, bool)
	// unavailable reports whether err says the database could not be
	// reached or held its lock too long (wrapped as ErrBusy).
	unavailable(err error) bool
	// statementOnly reports whether err undid the failed statement
	// alone and left its transaction usable.
	statementOnly(err error) bool
	// lockAssociation serialises, until tx ends, the transactions of
	// every process that take leases on assoc (SQLite's write lock
	// already does).
	lockAssociation(ctx context.Context, tx *sql.Tx, assoc string) error
	// space reads how the database uses its storage.
	space(ctx context.Context, db *sql.DB) (Space, error)
	// tables lists the journal's tables in name order, and the bytes of
	// each one's rows and of its indexes.
	tables(ctx context.Context, db *sql.DB) ([]string, map[string][2]int64, error)
	// afterPrune gives the space Prune freed back, if the database does
	// not on its own.
	afterPrune(ctx context.Context, j *Journal, start Space) error
	// vacuum rewrites the whole database (Journal.Vacuum).
	vacuum(ctx context.Context, db *sql.DB) error
	// files is what the journal takes on the disk: its file and its
	// write-ahead log (Stats).
	files(path string, s Space) (file, wal int64, err error)
}

// sqliteDialect is the default journal: a file, one writer at a time.
type sqliteDialect struct{}

func (sqliteDialect) retry(err error, try int, _ time.Duration) (time.Duration, bool) {
	// The busy timeout has already waited: try again at once, a few times.
	return 0, isBusy(err) && try < busyRetries
}

func (sqliteDialect) unavailable(err error) bool { return isBusy(err) }

func (sqliteDialect) lockAssociation(context.Context, *sql.Tx, string) error { return nil }

func isBusy(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff // primary result code
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}

// statementOnly: a constraint, a value too big, a type mismatch undo the
// statement alone. Other errors (I/O, disk full, busy, out of memory) may
// have rolled the whole transaction back.
func (sqliteDialect) statementOnly(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff { // primary result code
	case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_RANGE:
		return true
	}
	return false
}

func (sqliteDialect) space(ctx context.Context, db *sql.DB) (Space, error) {
	var s Space
	var av int
	err := db.QueryRowContext(ctx, `
		SELECT p.page_size, c.page_count, f.freelist_count, a.auto_vacuum
		FROM pragma_page_size() p, pragma_page_count() c, pragma_freelist_count() f, pragma_auto_vacuum() a`).
		Scan(&s.PageSize, &s.Pages, &s.FreePages, &av)
	if err != nil {
		return s, err
	}
	s.AutoVacuum = map[int]string{0: "none", 1: "full", 2: "incremental"}[av]
	return s, nil
}

// tables reads the sizes from the dbstat virtual table (modernc.org/sqlite
// is built with SQLITE_ENABLE_DBSTAT_VTAB), which reads the whole file;
// dbstat('main', 1) sums each b-tree's pages.
func (sqliteDialect) tables(ctx context.Context, db *sql.DB) ([]string, map[string][2]int64, error) {
	names, err := queryStrings(ctx, db, `
		SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, nil, err
	}
	sizes, err := queryTableSizes(ctx, db, `
		SELECT m.tbl_name, m.type = 'index', sum(d.pgsize)
		FROM dbstat('main', 1) d JOIN sqlite_schema m ON m.name = d.name
		GROUP BY m.tbl_name, m.type = 'index'`)
	return names, sizes, err
}

// afterPrune: with auto_vacuum = INCREMENTAL the freed pages go back to
// the disk, in steps; then the WAL is copied into the database file, so
// that the file shrinks (PASSIVE never waits for anyone).
func (sqliteDialect) afterPrune(ctx context.Context, j *Journal, start Space) error {
	if start.AutoVacuum == "incremental" {
		if err := j.incrementalVacuum(ctx); err != nil {
			return err
		}
	}
	_, err := j.w.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
	return err
}

func (sqliteDialect) files(path string, _ Space) (file, wal int64, err error) {
	if file, err = fileSize(path); err == nil {
		wal, err = fileSize(path + "-wal")
	}
	return file, wal, err
}

func (sqliteDialect) vacuum(ctx context.Context, db *sql.DB) error {
	return turnOnIncrementalVacuum(ctx, db)
}

// queryStrings reads a one-column result.
func queryStrings(ctx context.Context, db *sql.DB, q string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// queryTableSizes reads rows of (table, is an index, bytes).
func queryTableSizes(ctx context.Context, db *sql.DB, q string) (map[string][2]int64, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string][2]int64)
	for rows.Next() {
		var (
			table string
			index bool
			bytes int64
		)
		if err := rows.Scan(&table, &index, &bytes); err != nil {
			return nil, fmt.Errorf("table sizes: %w", err)
		}
		s := out[table]
		if index {
			s[1] = bytes
		} else {
			s[0] = bytes
		}
		out[table] = s
	}
	return out, rows.Err()
}
