package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/journal"
)

// journal migrate: a SQLite journal copied into PostgreSQL
// (docs/journal.md#moving-to-postgresql).

func journalMigrateCommand() *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "copy this SQLite journal into a PostgreSQL journal; run again, it copies only what is new",
		Description: `Copies the SQLite journal (--journal FILE, or DIR/.driftless/journal.db) into the PostgreSQL
journal at --to, creating or upgrading its schema: every run that ended, with its host
executions, steps and outputs, the latest results, undelivered notifications and when each
association was first seen (the earliest of both). Runs get new numbers there, which may hold
other nodes' runs already: several bastions' journals can be merged into one database. What
was copied is recorded there, so running it again copies only what is new; runs still in
progress are left out until they ended. It copies 200 runs per transaction and stops between
two on Ctrl-C: what was copied stays, and the next migrate goes on from there.
Exit 0 when done, 1 on bad input or a database that cannot be reached, 3 when copying failed,
130 when interrupted.

Examples:
   driftless journal migrate --to 'postgres://driftless@db.example.com/driftless?sslmode=verify-full'
   driftless -C /etc/driftless journal migrate --to postgres://driftless@/driftless?host=/run/postgresql --json`,
		Action: withUI(runJournalMigrate),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "to", Usage: "the PostgreSQL journal to copy into, a `URL` (postgres://USER@HOST/DB?sslmode=...) or a keyword/value string ('host=HOST dbname=DB'); required"},
		},
	}
}

// migrateJSON is what journal migrate --json prints.
type migrateJSON struct {
	Source string       `json:"source"`
	Target string       `json:"target"`
	Copied migrateCount `json:"copied"`
	// AlreadyCopied counts the runs an earlier migrate copied.
	AlreadyCopied int64 `json:"already_copied"`
	// InProgress are the runs left out, still running.
	InProgress []int64 `json:"left_in_progress"`
	// LeftNotifications counts the undelivered notifications left out:
	// their run was pruned.
	LeftNotifications int64 `json:"left_notifications"`
	// Interrupted are the runs of gone processes marked Interrupted in
	// the source before copying.
	Interrupted  []int64 `json:"marked_interrupted"`
	Transactions int     `json:"transactions"`
}

type migrateCount struct {
	Runs          int64 `json:"runs"`
	Hosts         int64 `json:"host_executions"`
	Steps         int64 `json:"steps"`
	Notifications int64 `json:"notifications"`
	Associations  int64 `json:"associations"`
}

func runJournalMigrate(c *cli.Context, u *ui) error {
	to, from := c.String("to"), journalPath(c)
	if err := checkMigrate(to, from); err != nil {
		return err
	}
	p := &migrateProgress{u: u, live: u.errTTY && !u.json && !u.quiet}
	res, err := journal.Migrate(c.Context, from, to, p.show)
	p.clear()
	if len(res.Recovered) > 0 {
		u.notef("marked %s Interrupted before copying: the process recording it is gone", runList(res.Recovered))
	}
	if err != nil {
		return migrateFailed(c.Context, err, &res)
	}
	out := migrateJSON{Source: res.Source, Target: res.Target,
		Copied:        migrateCount{res.Runs, res.Hosts, res.Steps, res.Notifications, res.Associations},
		AlreadyCopied: res.Already, InProgress: noneEmpty(res.InProgress), LeftNotifications: res.Orphans,
		Interrupted: noneEmpty(res.Recovered), Transactions: res.Transactions}
	if u.json {
		return u.printJSON(out)
	}
	printMigrate(u, &out)
	return nil
}

// checkMigrate refuses a --to that is not a PostgreSQL database and a journal
// to copy that is not a file.
func checkMigrate(to, from string) error {
	pathErr := checkJournalPath(from)
	switch {
	case to == "":
		return usageError("journal migrate: --to is required: the PostgreSQL journal to copy into, e.g. --to 'postgres://driftless@db.example.com/driftless?sslmode=verify-full'")
	case !journal.IsPostgres(to):
		return usageError("journal migrate: --to: expected a PostgreSQL database, a postgres:// URL or a keyword/value string such as 'host=/run/postgresql dbname=driftless', got %q", journal.Redact(to))
	case pathErr != nil:
		return pathErr
	case journal.IsPostgres(from):
		return usageError("journal migrate: the journal to copy is %s, a PostgreSQL database: migrate copies a SQLite journal file\n\thint: name the file with --journal FILE or -C DIR (DRIFTLESS_JOURNAL may be set)", journal.Redact(from))
	}
	fi, err := os.Stat(from)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usageError("journal migrate: no journal at %s: nothing to copy\n\thint: name the SQLite journal with --journal FILE or -C DIR", from)
	case err != nil:
		return usageError("journal migrate: %v", err)
	case !fi.Mode().IsRegular():
		return usageError("journal migrate: %s is not a journal file\n\thint: name the SQLite journal with --journal FILE or -C DIR", from)
	}
	return nil
}

// migrateFailed is the error of a migration that stopped: bad input or
// an unreachable database before anything was copied (1), interrupted
// (130), or failed (3), saying what was copied by then.
func migrateFailed(ctx context.Context, err error, res *journal.MigrateResult) error {
	done := fmt.Sprintf("%s, %s and %s copied before it stopped", countOf(res.Runs, "run"),
		countOf(res.Hosts, "host execution"), countOf(res.Steps, "step"))
	switch {
	case ctx.Err() != nil:
		return exitWith(exitInterrupted, fmt.Errorf("journal migrate: interrupted; %s: run it again to copy the rest", done))
	case res.Transactions == 0 && (errors.Is(err, journal.ErrUnavailable) || errors.Is(err, journal.ErrInvalid) ||
		errors.Is(err, journal.ErrNewerSchema) || errors.Is(err, fs.ErrNotExist)):
		return exitWith(exitInvalid, fmt.Errorf("journal migrate: %w", err))
	}
	return exitWith(exitFailed, fmt.Errorf("journal migrate: %w (%s: run it again to go on)", err, done))
}

func printMigrate(u *ui, m *migrateJSON) {
	switch {
	case m.Copied.Runs > 0:
		u.printf("copied %s, %s, %s into %s\n", countText(m.Copied.Runs, "run"), countText(m.Copied.Hosts, "host execution"),
			countText(m.Copied.Steps, "step"), m.Target)
	case m.AlreadyCopied > 0:
		u.printf("nothing to copy: the %s of %s that ended are in %s already\n", countText(m.AlreadyCopied, "run"), m.Source, m.Target)
	default:
		u.printf("nothing to copy: %s holds no run that ended\n", m.Source)
	}
	if m.Copied.Runs > 0 && m.AlreadyCopied > 0 {
		u.printf("%s copied before were left as they are\n", countText(m.AlreadyCopied, "run"))
	}
	if n := m.Copied.Notifications; n > 0 {
		u.printf("copied %s: the next run on PostgreSQL sends %s\n", countText(n, "undelivered notification"), pick(n == 1, "it", "them"))
	}
	if n := len(m.InProgress); n > 0 {
		u.printf("left out %s still in progress (%s): run journal migrate again once %s ended\n",
			countText(int64(n), "run"), runList(m.InProgress), pick(n == 1, "it has", "they have"))
	}
	if m.LeftNotifications > 0 {
		u.printf("left out %s whose run was pruned from the journal\n", countText(m.LeftNotifications, "undelivered notification"))
	}
}

// migrateProgress shows, on a terminal, how many runs are copied.
type migrateProgress struct {
	u     *ui
	live  bool
	drawn bool
}

func (p *migrateProgress) show(m journal.MigrateProgress) {
	if !p.live {
		return
	}
	fmt.Fprintf(p.u.err, "\rcopied %s of %s runs\x1b[K", groupDigits(m.Runs), groupDigits(m.Total))
	p.drawn = true
}

func (p *migrateProgress) clear() {
	if p.drawn {
		fmt.Fprint(p.u.err, "\r\x1b[K")
	}
}

// countText is countOf with the digits grouped: "1,200 runs".
func countText(n int64, word string) string {
	return groupDigits(n) + " " + plural(int(n), word)
}

// groupDigits is n with its digits grouped by three: 1,234,567.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + groupDigits(-n)
	}
	var b strings.Builder
	for i, d := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return b.String()
}

// runList is "run 12" or "runs 12, 14".
func runList(ids []int64) string {
	list := make([]string, len(ids))
	for i, id := range ids {
		list[i] = strconv.FormatInt(id, 10)
	}
	return plural(len(ids), "run") + " " + strings.Join(list, ", ")
}

// pick is a when one, else b.
func pick(one bool, a, b string) string {
	if one {
		return a
	}
	return b
}

// noneEmpty is ids, [] rather than null in JSON when there are none.
func noneEmpty(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}
