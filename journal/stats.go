package journal

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"strings"
	"time"
)

// TableStats is what one table of the journal holds.
type TableStats struct {
	Name string
	Rows int64
	// Bytes is the size of the table's pages, IndexBytes that of its
	// indexes' pages.
	Bytes, IndexBytes int64
}

// Stats is what the journal holds and how big it is.
type Stats struct {
	Path      string
	FileBytes int64 // the database file
	WALBytes  int64 // its -wal file (0 when there is none)
	Space     Space
	Tables    []TableStats // in name order
	// OtherBytes is the rest of the database that is not free: the schema
	// and, with auto_vacuum, its pointer map pages.
	OtherBytes int64
	// Runs is the number of runs; OldestRun and NewestRun are the start
	// times of the first and last (zero without runs).
	Runs                 int64
	OldestRun, NewestRun time.Time
}

// Stats counts the rows of every table and measures its pages (with
// SQLite's dbstat table, which reads the whole file), the files, the free
// pages and the oldest and newest run.
func (j *Journal) Stats(ctx context.Context) (*Stats, error) {
	if err := j.beforeQuery(ctx); err != nil {
		return nil, wrap("stats", err)
	}
	st := &Stats{Path: j.path}
	var err error
	if st.FileBytes, err = fileSize(j.path); err != nil {
		return nil, wrap("stats", err)
	}
	if st.WALBytes, err = fileSize(j.path + "-wal"); err != nil {
		return nil, wrap("stats", err)
	}
	if st.Space, err = j.space(ctx, j.r); err != nil {
		return nil, wrap("stats", err)
	}
	sizes, err := tableSizes(ctx, j.r)
	if err != nil {
		return nil, wrap("stats", err)
	}
	st.OtherBytes = st.Space.Bytes() - st.Space.FreeBytes()
	names, err := tableNames(ctx, j.r)
	if err != nil {
		return nil, wrap("stats", err)
	}
	for _, name := range names {
		t := TableStats{Name: name}
		q := `SELECT count(*) FROM "` + strings.ReplaceAll(name, `"`, `""`) + `"`
		if err := j.r.QueryRowContext(ctx, q).Scan(&t.Rows); err != nil {
			return nil, wrap("stats: "+name, err)
		}
		t.Bytes, t.IndexBytes = sizes[name][0], sizes[name][1]
		st.OtherBytes -= t.Bytes + t.IndexBytes
		st.Tables = append(st.Tables, t)
	}
	var oldest, newest sql.NullInt64
	if err := j.r.QueryRowContext(ctx, `SELECT count(*), min(started_at), max(started_at) FROM runs`).
		Scan(&st.Runs, &oldest, &newest); err != nil {
		return nil, wrap("stats", err)
	}
	st.OldestRun, st.NewestRun = fromNull(oldest), fromNull(newest)
	return st, nil
}

// tableNames lists the journal's tables (not SQLite's own), in name order.
func tableNames(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `
		SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// tableSizes is, per table, the bytes of its own pages and of its
// indexes' pages, from the dbstat virtual table (modernc.org/sqlite is
// built with SQLITE_ENABLE_DBSTAT_VTAB); dbstat('main', 1) sums each
// b-tree's pages.
func tableSizes(ctx context.Context, db *sql.DB) (map[string][2]int64, error) {
	rows, err := db.QueryContext(ctx, `
		SELECT m.tbl_name, m.type = 'index', sum(d.pgsize)
		FROM dbstat('main', 1) d JOIN sqlite_schema m ON m.name = d.name
		GROUP BY m.tbl_name, m.type = 'index'`)
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
			return nil, err
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

// fileSize is the size of the file at path, 0 when there is none.
func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
