package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/internal/diag"
	"github.com/driftless-dev/driftless/journal"
)

// The journal command: retention (prune), what the journal holds (stats)
// and moving it to PostgreSQL (migrate, journalmigrate.go).
// docs/journal.md#retention.

// retentionEvery is how often daemon --retention prunes, after once at
// its start.
const retentionEvery = 24 * time.Hour

func journalCommand() *cli.Command {
	cmd := &cli.Command{
		Name:  "journal",
		Usage: "look after the journal: delete old runs (prune), show what it holds (stats), copy it into PostgreSQL (migrate)",
		Description: `Examples:
   driftless journal stats
   driftless journal prune --older-than 90d --dry-run
   driftless journal prune --older-than 90d
   driftless journal migrate --to postgres://driftless@db.example.com/driftless`,
		Subcommands: []*cli.Command{
			{
				Name:  "prune",
				Usage: "delete the runs that ended before a time, keeping each association × host's latest result",
				Description: `Deletes the runs that ended more than --older-than ago (90d, 36h, 1d12h), with their host
executions and steps, in short transactions: a tick or apply writing the journal meanwhile
waits milliseconds. It keeps the latest result of each association × host × mode (status
shows it), the last execution each schedule counts from, and runs in progress; an old run that
holds one of those stays with those hosts only. The freed space goes back to the disk. A
journal created before driftless had retention keeps it inside the file: --vacuum rewrites
the journal once to give it back (other driftless processes wait while it runs).
Exit 0 when done, 1 on bad input, 3 when the journal could not be written.

Examples:
   driftless journal prune --older-than 90d
   driftless journal prune --older-than 36h --dry-run --json
   driftless journal prune --older-than 30d --vacuum`,
				Action: withUI(runJournalPrune),
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "older-than", Usage: "delete runs that ended more than `AGE` ago: days (90d) or a duration (36h, 1d12h); required"},
					&cli.BoolFlag{Name: "dry-run", Usage: "count what would be deleted, and delete nothing"},
					&cli.BoolFlag{Name: "vacuum", Usage: "then rewrite the journal (VACUUM): gives all free space back, turns on incremental vacuum for an old journal"},
				},
			},
			{
				Name:  "stats",
				Usage: "rows and bytes per table, file sizes, free space, oldest and newest run",
				Description: `Examples:
   driftless journal stats
   driftless journal stats --json`,
				Action: withUI(runJournalStats),
			},
			journalMigrateCommand(),
		},
	}
	var names []string
	for _, sub := range cmd.Subcommands {
		sub.OnUsageError = func(c *cli.Context, err error, _ bool) error { return usageError("%v", err) }
		names = append(names, sub.Name)
	}
	cmd.Action = func(c *cli.Context) error {
		if c.NArg() == 0 {
			return cli.ShowSubcommandHelp(c)
		}
		msg := fmt.Sprintf("unknown journal command %q", c.Args().First())
		if s := diag.Suggest(c.Args().First(), names); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return usageError("%s\n\thint: driftless journal --help lists them: %s", msg, strings.Join(names, ", "))
	}
	return cmd
}

// retentionFlag is daemon's --retention.
func retentionFlag() cli.Flag {
	return &cli.StringFlag{Name: "retention", Usage: "delete runs that ended more than `AGE` ago (90d, 36h), at start and every 24h, as journal prune does"}
}

// parseAge reads an age given to flag: a number of days (90d), a Go
// duration (36h), or both (1d12h). It must be more than zero.
func parseAge(flag, s string) (time.Duration, error) {
	d, err := parseDays(strings.TrimSpace(s))
	if err != nil || d <= 0 {
		return 0, usageError("--%s: expected an age such as 90d (days) or 36h (any Go duration), more than zero, got %q", flag, s)
	}
	return d, nil
}

// pruneJSON is what journal prune --json prints.
type pruneJSON struct {
	Journal      string      `json:"journal"`
	OlderThan    string      `json:"older_than"`
	Before       string      `json:"before"`
	DryRun       bool        `json:"dry_run"`
	Deleted      pruneCount  `json:"deleted"`
	Kept         pruneCount  `json:"kept"`
	Transactions int         `json:"transactions"`
	BytesFreed   int64       `json:"bytes_freed"`
	JournalBytes int64       `json:"journal_bytes"`
	FreeBytes    int64       `json:"free_bytes"`
	AutoVacuum   string      `json:"auto_vacuum"`
	Vacuum       *vacuumJSON `json:"vacuum"`
}

type pruneCount struct {
	Runs  int64 `json:"runs"`
	Hosts int64 `json:"host_executions"`
	Steps int64 `json:"steps,omitempty"`
}

type vacuumJSON struct {
	BytesBefore int64 `json:"bytes_before"`
	BytesAfter  int64 `json:"bytes_after"`
}

func runJournalPrune(c *cli.Context, u *ui) error {
	if !c.IsSet("older-than") {
		return usageError("journal prune: --older-than is required: say which runs to delete, e.g. --older-than 90d")
	}
	age, err := parseAge("older-than", c.String("older-than"))
	if err != nil {
		return err
	}
	if c.Bool("dry-run") && c.Bool("vacuum") {
		return usageError("journal prune: --dry-run and --vacuum do not go together: a dry run changes nothing")
	}
	path := journalPath(c)
	if err := checkJournalPath(path); err != nil {
		return err
	}
	before := time.Now().Add(-age).UTC()
	out := pruneJSON{Journal: journal.Redact(path), OlderThan: c.String("older-than"), Before: *rfc3339(before), DryRun: c.Bool("dry-run")}
	if _, err := os.Stat(path); !journal.IsPostgres(path) && errors.Is(err, fs.ErrNotExist) {
		u.notef("no runs recorded yet (journal %s): nothing to prune", path)
		if u.json {
			return u.printJSON(out)
		}
		return nil
	}
	j, err := openJournal(c)
	if err != nil {
		return exitWith(exitInvalid, err)
	}
	err = pruneJournal(c, u, j, before, &out)
	if cerr := j.Close(); cerr != nil && err == nil {
		err = exitWith(exitFailed, fmt.Errorf("close journal: %w", cerr))
	}
	if err != nil {
		return err
	}
	if u.json {
		return u.printJSON(out)
	}
	printPrune(u, &out)
	return nil
}

// pruneJournal prunes j (and vacuums it, with --vacuum) into out.
func pruneJournal(c *cli.Context, u *ui, j *journal.Journal, before time.Time, out *pruneJSON) error {
	res, err := j.Prune(c.Context, journal.PruneOptions{Before: before, DryRun: out.DryRun})
	out.Deleted = pruneCount{Runs: res.Runs, Hosts: res.Hosts, Steps: res.Steps}
	out.Kept = pruneCount{Runs: res.KeptRuns, Hosts: res.KeptHosts}
	out.Transactions, out.BytesFreed = res.Transactions, res.BytesFreed
	out.JournalBytes, out.FreeBytes, out.AutoVacuum = res.Space.Bytes(), res.Space.FreeBytes(), res.Space.AutoVacuum
	if err != nil {
		return pruneFailed(c.Context, err, out)
	}
	if !c.Bool("vacuum") {
		return nil
	}
	if !u.json {
		u.notef("vacuuming %s (%s): other driftless processes wait until it is done", j.Path(), sizeText(out.JournalBytes))
	}
	vb, va, err := j.Vacuum(c.Context)
	if err != nil {
		return pruneFailed(c.Context, fmt.Errorf("vacuum: %w", err), out)
	}
	out.Vacuum = &vacuumJSON{BytesBefore: vb.Bytes(), BytesAfter: va.Bytes()}
	out.JournalBytes, out.FreeBytes, out.AutoVacuum = va.Bytes(), va.FreeBytes(), va.AutoVacuum
	return nil
}

// pruneFailed is the error of a prune that stopped: interrupted by a
// signal (ctx done: 130) or failed (3), saying what it had deleted by
// then.
func pruneFailed(ctx context.Context, err error, out *pruneJSON) error {
	done := fmt.Sprintf("%s, %s and %s deleted before it stopped",
		countOf(out.Deleted.Runs, "run"), countOf(out.Deleted.Hosts, "host execution"), countOf(out.Deleted.Steps, "step"))
	if ctx.Err() != nil {
		return exitWith(exitInterrupted, fmt.Errorf("journal prune: interrupted; %s", done))
	}
	return exitWith(exitFailed, fmt.Errorf("journal prune: %w (%s)", err, done))
}

func printPrune(u *ui, p *pruneJSON) {
	verb, keep := "deleted", "kept"
	if p.DryRun {
		verb, keep = "would delete", "would keep"
	}
	when := textTime(mustTime(p.Before))
	if p.Deleted.Runs+p.Deleted.Hosts == 0 {
		u.printf("nothing to delete: no run that ended before %s (older than %s) is no longer needed\n", when, p.OlderThan)
	} else {
		u.printf("%s %s, %s and %s that ended before %s (older than %s)\n", verb,
			countOf(p.Deleted.Runs, "run"), countOf(p.Deleted.Hosts, "host execution"), countOf(p.Deleted.Steps, "step"), when, p.OlderThan)
	}
	if p.Kept.Hosts > 0 {
		u.printf("%s %s of %s that ended before then: the latest result of an association × host, or the last run a schedule counts from\n",
			keep, countOf(p.Kept.Hosts, "host execution"), countOf(p.Kept.Runs, "run"))
	}
	switch {
	case p.DryRun:
		u.printf("dry run: nothing deleted (journal %s)\n", sizeText(p.JournalBytes))
	case p.Vacuum != nil:
		u.printf("vacuumed: the journal went from %s to %s; from now on prune gives freed space back to the disk\n",
			sizeText(p.Vacuum.BytesBefore), sizeText(p.Vacuum.BytesAfter))
	case p.AutoVacuum == "none":
		u.printf("journal %s, of which %s is free: this journal was created without incremental vacuum, so the space stays inside the file\n",
			sizeText(p.JournalBytes), sizeText(p.FreeBytes))
		u.printf("  driftless journal prune --older-than %s --vacuum gives it back (a full VACUUM: other driftless processes wait while it runs)\n", p.OlderThan)
	default:
		u.printf("freed %s: the journal is now %s\n", sizeText(p.BytesFreed), sizeText(p.JournalBytes))
	}
}

// countOf is n and word, plural unless n is 1: "3 runs", "1 step".
func countOf(n int64, word string) string {
	return fmt.Sprintf("%d %s", n, plural(int(n), word))
}

// mustTime reads back an RFC 3339 time this file wrote.
func mustTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// statsJSON is what journal stats --json prints.
type statsJSON struct {
	Journal    string      `json:"journal"`
	FileBytes  int64       `json:"file_bytes"`
	WALBytes   int64       `json:"wal_bytes"`
	PageSize   int64       `json:"page_size"`
	Pages      int64       `json:"pages"`
	FreePages  int64       `json:"free_pages"`
	FreeBytes  int64       `json:"free_bytes"`
	AutoVacuum string      `json:"auto_vacuum"`
	OtherBytes int64       `json:"other_bytes"`
	Runs       int64       `json:"runs"`
	OldestRun  *string     `json:"oldest_run"`
	NewestRun  *string     `json:"newest_run"`
	Tables     []tableJSON `json:"tables"`
}

type tableJSON struct {
	Name       string `json:"name"`
	Rows       int64  `json:"rows"`
	Bytes      int64  `json:"bytes"`
	IndexBytes int64  `json:"index_bytes"`
}

func runJournalStats(c *cli.Context, u *ui) (err error) {
	j, err := openJournalToRead(c, u)
	if err != nil || j == nil {
		return err
	}
	defer closeJournal(j, &err)
	st, err := j.Stats(c.Context)
	if err != nil {
		return exitWith(exitFailed, fmt.Errorf("journal stats: %w", err))
	}
	out := statsJSON{Journal: st.Path, FileBytes: st.FileBytes, WALBytes: st.WALBytes, PageSize: st.Space.PageSize,
		Pages: st.Space.Pages, FreePages: st.Space.FreePages, FreeBytes: st.Space.FreeBytes(), AutoVacuum: st.Space.AutoVacuum,
		OtherBytes: st.OtherBytes, Runs: st.Runs, OldestRun: rfc3339(st.OldestRun), NewestRun: rfc3339(st.NewestRun)}
	for _, t := range st.Tables {
		out.Tables = append(out.Tables, tableJSON(t))
	}
	if u.json {
		return u.printJSON(out)
	}
	u.printf("journal      %s\n", out.Journal)
	u.printf("file         %s, WAL %s\n", sizeText(out.FileBytes), sizeText(out.WALBytes))
	u.printf("pages        %d of %s, %d free (%s); auto_vacuum %s\n", out.Pages, sizeText(out.PageSize), out.FreePages, sizeText(out.FreeBytes), out.AutoVacuum)
	if out.Runs == 0 {
		u.printf("runs         none\n")
	} else {
		u.printf("runs         %d, started %s to %s\n", out.Runs, textTime(st.OldestRun), textTime(st.NewestRun))
	}
	u.printf("\n")
	rows := make([][]string, 0, len(out.Tables)+1)
	for _, t := range out.Tables {
		rows = append(rows, []string{t.Name, strconv.FormatInt(t.Rows, 10), sizeText(t.Bytes), sizeText(t.IndexBytes)})
	}
	rows = append(rows, []string{"(schema, pointer maps)", "-", sizeText(out.OtherBytes), "-"})
	u.table([]string{"TABLE", "ROWS", "BYTES", "INDEXES"}, rows)
	return nil
}

// sizeText is n bytes for people: 660 B, 12.0 KiB, 412.3 MiB, 1.2 GiB.
func sizeText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/unit, 0
	for v >= unit && i < 3 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGT"[i])
}

// startRetention starts daemon --retention AGE: a prune of the runs older
// than AGE now and every retentionEvery, beside the ticks, until ctx is
// done. stop cancels a prune under way (between two of its transactions)
// and waits for it, so that the journal may be closed after. Without
// --retention it does nothing.
func startRetention(c *cli.Context, u *ui, j *journal.Journal) (stop func(), err error) {
	s := c.String("retention")
	if !c.IsSet("retention") {
		return func() {}, nil
	}
	age, err := parseAge("retention", s)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(c.Context)
	done := make(chan struct{})
	u.notef("driftless daemon: deleting runs that ended more than %s ago, now and every %d hours", s, int(retentionEvery.Hours()))
	go func() {
		defer close(done)
		for {
			retain(ctx, u, j, s, age)
			select {
			case <-ctx.Done():
				return
			case <-time.After(retentionEvery):
			}
		}
	}()
	return func() { cancel(); <-done }, nil
}

// retain is one prune of the daemon's, reported on stderr when it deleted
// something or failed.
func retain(ctx context.Context, u *ui, j *journal.Journal, s string, age time.Duration) {
	res, err := j.Prune(ctx, journal.PruneOptions{Before: time.Now().Add(-age)})
	switch {
	case errors.Is(err, context.Canceled):
	case err != nil:
		u.notef("driftless daemon: retention: %v", err)
	case res.Runs+res.Hosts > 0:
		note := fmt.Sprintf("freed %s, the journal is %s", sizeText(res.BytesFreed), sizeText(res.Space.Bytes()))
		if res.Space.AutoVacuum == "none" {
			note = fmt.Sprintf("the journal is %s, %s of it free inside the file (it predates incremental vacuum: driftless journal prune --vacuum gives the space back)",
				sizeText(res.Space.Bytes()), sizeText(res.Space.FreeBytes()))
		}
		u.notef("driftless daemon: retention %s: deleted %s, %s and %s; %s",
			s, countOf(res.Runs, "run"), countOf(res.Hosts, "host execution"), countOf(res.Steps, "step"), note)
	}
}
