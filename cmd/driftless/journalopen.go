package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/journal"
)

// journalPath is where the journal is (docs/journal.md#where): --journal (or
// DRIFTLESS_JOURNAL), else DIR/.driftless/journal.db.
func journalPath(c *cli.Context) string {
	if p := c.String("journal"); p != "" {
		return p
	}
	return filepath.Join(c.String("dir"), ".driftless", "journal.db")
}

// urlScheme finds a URL's scheme (RFC 3986) at the start of a string.
var urlScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// checkJournalPath refuses a journal that is neither a file nor a
// PostgreSQL database (docs/journal.md#naming-the-database): a URL of another
// scheme, or a keyword/value string with a password whose first keyword
// is not libpq's (a typo). Either would otherwise become a file of that
// name, and be shown as such.
func checkJournalPath(path string) error {
	if journal.IsPostgres(path) {
		return nil
	}
	if shown := journal.Redact(path); shown != path || urlScheme.MatchString(path) {
		return usageError("--journal (or DRIFTLESS_JOURNAL) %q is neither a file nor a PostgreSQL database\n\thint: a PostgreSQL journal is a postgres:// URL or a keyword/value string starting with a libpq keyword (host=, dbname=, user=, service=...); docs/journal.md#naming-the-database", shown)
	}
	return nil
}

// journalWellNamed: openJournal will not refuse path as bad input, a
// PostgreSQL database's connection string included (pgx parses it).
func journalWellNamed(path string) bool {
	if checkJournalPath(path) != nil {
		return false
	}
	if !journal.IsPostgres(path) {
		return true
	}
	_, err := pgconn.ParseConfig(path)
	return err == nil
}

// openJournal opens the journal, creating it when it does not exist, and
// marks the runs of processes that are gone (kill -9, power loss) as
// Interrupted, saying so on stderr.
func openJournal(c *cli.Context) (*journal.Journal, error) {
	path := journalPath(c)
	if err := checkJournalPath(path); err != nil {
		return nil, err
	}
	node, err := nodeName(c)
	if err != nil {
		return nil, err
	}
	j, err := journal.OpenWith(path, journal.Options{Node: node})
	if err != nil {
		shown := journal.Redact(path)
		if !strings.Contains(err.Error(), shown) {
			return nil, fmt.Errorf("open journal %s: %w", shown, err)
		}
		return nil, fmt.Errorf("open journal: %w", err)
	}
	for _, n := range j.Notes() {
		fmt.Fprintf(c.App.ErrWriter, "journal: %s\n", n)
	}
	ids, err := j.RecoverInterrupted(c.Context)
	if err != nil {
		j.Close()
		return nil, fmt.Errorf("recover interrupted runs: %w", err)
	}
	if len(ids) > 0 && !c.Bool("quiet") {
		list := make([]string, len(ids))
		for i, id := range ids {
			list[i] = strconv.FormatInt(id, 10)
		}
		why := "the process recording it is gone"
		if len(ids) > 1 {
			why = "the processes recording them are gone"
		}
		fmt.Fprintf(c.App.ErrWriter, "marked %s %s Interrupted: %s\n", plural(len(ids), "run"), strings.Join(list, ", "), why)
	}
	return j, nil
}

// withConfigAndJournal is the action of the commands that plan from the
// config dir and the journal (tick, schedule, daemon): after the UI it
// reads --now (the current time for daemon, which has no --now), loads
// the config dir and opens the journal, in that order, and
// runs fn with them, closing the journal after. A problem with the
// journal exits 1 (exitInvalid), like one with the config.
func withConfigAndJournal(fn func(c *cli.Context, u *ui, now time.Time, cfg *config.Config, j *journal.Journal) error) cli.ActionFunc {
	return withUI(func(c *cli.Context, u *ui) error {
		now, err := parseNow(c)
		if err != nil {
			return err
		}
		cfg, err := loadConfig(c, u)
		if err != nil {
			return err
		}
		open := openJournal
		if c.Command.Name == "schedule" { // it only reads
			open = func(c *cli.Context) (*journal.Journal, error) { return openJournalOrReadOnly(c, u) }
		}
		j, err := open(c)
		if err != nil {
			return exitWith(exitInvalid, err)
		}
		defer j.Close()
		return fn(c, u, now, cfg, j)
	})
}

// openJournalToRead opens the journal for a command that only reads it.
// When there is no journal file yet it says "no runs recorded yet" and
// returns nil, nil: nothing ran, which is not an error, and reading must
// not create the file.
func openJournalToRead(c *cli.Context, u *ui) (*journal.Journal, error) {
	path := journalPath(c)
	if err := checkJournalPath(path); err != nil {
		return nil, err
	}
	if journal.IsPostgres(path) { // a database that does not exist is an error
		return openJournalOrReadOnly(c, u)
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		u.notef("no runs recorded yet (journal %s)", journal.Redact(path))
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	return openJournalOrReadOnly(c, u)
}

// openJournalOrReadOnly opens the journal to write, or, when it cannot
// be written, to read only, saying so.
func openJournalOrReadOnly(c *cli.Context, u *ui) (*journal.Journal, error) {
	path := journalPath(c)
	j, err := openJournal(c)
	var usage *exitError // a bad --journal or --node: no journal to read only
	if err == nil || errors.Is(err, journal.ErrNewerSchema) || errors.As(err, &usage) {
		return j, err
	}
	// A journal this process cannot write (a read-only file system,
	// another user's file) can still be read.
	ro, rerr := journal.OpenReadOnly(path)
	if rerr != nil {
		return nil, err
	}
	u.notef("journal %s cannot be written here (%v): showing what it holds, read-only", journal.Redact(path), unwrapAll(err))
	return ro, nil
}

// unwrapAll is the innermost error of a chain, for a short note.
func unwrapAll(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// readJournal is how a command that lists what the journal holds (drift,
// history, status) reads it: it opens the journal with openJournalToRead
// and returns what query finds there, a query error prefixed with the
// command's name. With no journal file yet j is nil and the list is
// empty, not nil. Defer closeJournal(j, &err) after it, so that the
// journal stays open while the command prints.
func readJournal[T any](c *cli.Context, u *ui, name string, query func(*journal.Journal) ([]T, error)) (rows []T, j *journal.Journal, err error) {
	if j, err = openJournalToRead(c, u); err != nil || j == nil {
		return []T{}, nil, err
	}
	if rows, err = query(j); err != nil {
		err = fmt.Errorf("%s: %w", name, err)
		closeJournal(j, &err)
		return nil, nil, err
	}
	return rows, j, nil
}

// closeJournal closes j and reports its error into *err unless an error
// is already there; a nil j (no journal file) is nothing to close. For use
// in a defer.
func closeJournal(j *journal.Journal, err *error) {
	if j == nil {
		return
	}
	if cerr := j.Close(); cerr != nil && *err == nil {
		*err = fmt.Errorf("close journal: %w", cerr)
	}
}

// Times: UTC everywhere, never the local zone. Text shows them to the
// second, JSON in RFC 3339 with the precision recorded.

const textTimeLayout = "2006-01-02 15:04:05Z"

// textTime is t for people ("2026-11-25 21:04:05Z"), "-" when zero.
func textTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(textTimeLayout)
}

// rfc3339 is t for JSON, nil (null) when zero.
func rfc3339(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

// spanSeconds is the time from start to end in seconds for JSON, nil when
// either end is unknown (still running).
func spanSeconds(start, end time.Time) *float64 {
	if start.IsZero() || end.IsZero() {
		return nil
	}
	s := end.Sub(start).Seconds()
	return &s
}

// durationText rounds d for people: 850ms, 4.2s, 3m12s, 2h5m0s.
func durationText(d time.Duration) string {
	switch {
	case d < 0:
		return "-"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// spanText is the time from start to end for people, "-" when either end
// is unknown.
func spanText(start, end time.Time) string {
	if start.IsZero() || end.IsZero() {
		return "-"
	}
	return durationText(end.Sub(start))
}

// hostStatusOrder is the order host statuses are listed in.
var hostStatusOrder = []journal.Status{
	journal.StatusSuccess, journal.StatusFailed, journal.StatusTimedOut, journal.StatusUnreachable,
	journal.StatusSkipped, journal.StatusCancelled, journal.StatusInterrupted, journal.StatusInProgress,
}

// countsText lists hosts by status: "3 Success, 1 Failed"; "-" for none.
func countsText(counts map[journal.Status]int) string {
	keys := make([]journal.Status, 0, len(counts))
	for k, n := range counts {
		if n > 0 {
			keys = append(keys, k)
		}
	}
	rank := func(s journal.Status) int {
		if i := slices.Index(hostStatusOrder, s); i >= 0 {
			return i
		}
		return len(hostStatusOrder)
	}
	slices.SortFunc(keys, func(a, b journal.Status) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(string(a), string(b))
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", counts[k], k)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// safeText makes text recorded from a host safe to print on a terminal:
// control characters other than tab and newline (escape sequences could
// rewrite the screen) are shown as \xNN, and CR before LF is dropped.
func safeText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	clean := true
	for _, r := range s {
		if isControl(r) || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case isControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func isControl(r rune) bool {
	return r != '\n' && r != '\t' && (r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0)
}

// oneLine is the first non-empty line of s, cut to max characters.
func oneLine(s string, max int) string {
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return cutRunes(l, max)
		}
	}
	return ""
}

// cutRunes cuts s to max characters, ending it with "…" when cut.
func cutRunes(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max-1]) + "…"
}
