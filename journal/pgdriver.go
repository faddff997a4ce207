package journal

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/stdlib"
)

// The journal's SQL is written once, in the dialect SQLite and PostgreSQL
// share, with SQLite's parameters (?, ?NNN). pgDriver is pgx's
// database/sql driver with a translation in front of it, so that every
// query of the journal runs unchanged on PostgreSQL:
//   - ? and ?NNN become $N (a bare ? takes the number after the largest so
//     far, as in SQLite);
//   - json_each(?N), with which a query takes a list in one parameter (a
//     JSON array), becomes jsonb_array_elements_text(CAST($N AS jsonb)):
//     both yield a column named value;
//   - a bool argument is sent as 0 or 1: the journal's flags are integer
//     columns on both.
//
// What the two cannot share (the schema, the space a journal takes,
// vacuuming, locks) is the dialect's (dialect.go).
const pgDriverName = "driftless-pgx"

func init() {
	sql.Register(pgDriverName, pgDriver{stdlib.GetDefaultDriver()})
}

type pgDriver struct{ base driver.Driver }

func (d pgDriver) Open(name string) (driver.Conn, error) {
	c, err := d.base.Open(name)
	if err != nil {
		return nil, err
	}
	return &pgConn{c.(*stdlib.Conn)}, nil
}

// pgConn is a pgx connection that translates queries (pgQuery) and bools.
type pgConn struct{ c *stdlib.Conn }

var (
	_ driver.ConnPrepareContext = (*pgConn)(nil)
	_ driver.ConnBeginTx        = (*pgConn)(nil)
	_ driver.ExecerContext      = (*pgConn)(nil)
	_ driver.QueryerContext     = (*pgConn)(nil)
	_ driver.Pinger             = (*pgConn)(nil)
	_ driver.SessionResetter    = (*pgConn)(nil)
	_ driver.NamedValueChecker  = (*pgConn)(nil)
)

func (p *pgConn) Prepare(query string) (driver.Stmt, error) {
	return p.c.Prepare(pgQuery(query))
}

func (p *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return p.c.PrepareContext(ctx, pgQuery(query))
}

func (p *pgConn) Close() error { return p.c.Close() }

func (p *pgConn) Begin() (driver.Tx, error) {
	return p.c.BeginTx(context.Background(), driver.TxOptions{})
}

func (p *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return p.c.BeginTx(ctx, opts)
}

func (p *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return p.c.ExecContext(ctx, pgQuery(query), args)
}

func (p *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return p.c.QueryContext(ctx, pgQuery(query), args)
}

func (p *pgConn) Ping(ctx context.Context) error { return p.c.Ping(ctx) }

func (p *pgConn) ResetSession(ctx context.Context) error { return p.c.ResetSession(ctx) }

// CheckNamedValue sends bools as integers, and text PostgreSQL can hold,
// and lets pgx take every other value as it is (as stdlib.Conn does).
func (p *pgConn) CheckNamedValue(v *driver.NamedValue) error {
	switch x := v.Value.(type) {
	case bool:
		v.Value = int64(0)
		if x {
			v.Value = int64(1)
		}
	case string:
		v.Value = pgText(x)
	}
	return p.c.CheckNamedValue(v)
}

// pgText is s as PostgreSQL's text can hold it: valid UTF-8 without NUL.
// What it cannot hold (bytes of a binary output, a host name in another
// encoding) becomes U+FFFD, where SQLite keeps the bytes
// (docs/journal.md#postgresql).
func pgText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// pgQueries caches translations. The journal's queries are a fixed set,
// but OutOfStateSteps takes its list of (run, host) pairs as parameters,
// one query text per length: past pgCacheMax entries, a query is
// translated again each time rather than kept.
var (
	pgQueries   sync.Map // string -> string
	pgCacheSize atomic.Int64
)

const pgCacheMax = 1024

var jsonEach = regexp.MustCompile(`json_each\((\$\d+)\)`)

// pgQuery translates a query from the journal's SQL to PostgreSQL's.
func pgQuery(q string) string {
	if t, ok := pgQueries.Load(q); ok {
		return t.(string)
	}
	t := jsonEach.ReplaceAllString(renumber(q), "jsonb_array_elements_text(CAST($1 AS jsonb))")
	if pgCacheSize.Load() < pgCacheMax {
		if _, loaded := pgQueries.LoadOrStore(q, t); !loaded {
			pgCacheSize.Add(1)
		}
	}
	return t
}

// renumber turns SQLite's parameters (? and ?NNN) into PostgreSQL's ($N),
// leaving string literals, quoted identifiers and comments alone.
func renumber(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	largest := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			end := strings.IndexByte(q[i+1:], c)
			if end < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+end+2])
			i += end + 1
		case c == '-' && strings.HasPrefix(q[i:], "--"):
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+end])
			i += end - 1
		case c == '?':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			n := largest + 1
			if j > i+1 {
				n, _ = strconv.Atoi(q[i+1 : j])
			}
			largest = max(largest, n)
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
