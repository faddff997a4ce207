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
	if st.Space, err = j.d.space(ctx, j.r); err != nil {
		return nil, wrap("stats", err)
	}
	if st.FileBytes, st.WALBytes, err = j.d.files(j.path, st.Space); err != nil {
		return nil, wrap("stats", err)
	}
	names, sizes, err := j.d.tables(ctx, j.r)
	if err != nil {
		return nil, wrap("stats", err)
	}
	st.OtherBytes = st.Space.Bytes() - st.Space.FreeBytes()
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
