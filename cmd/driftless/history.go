package main

import (
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/journal"
)

const defaultHistoryLimit = 20

// runJournalJSON is a run in `history --json` and `show --json`.
type runJournalJSON struct {
	ID              int64                  `json:"id"`
	Association     string                 `json:"association"`
	Document        string                 `json:"document"`
	DocHash         string                 `json:"doc_hash"`
	ParamsHash      string                 `json:"params_hash"`
	Mode            journal.Mode           `json:"mode"`
	Trigger         journal.Trigger        `json:"trigger"`
	Severity        string                 `json:"severity"`
	Command         string                 `json:"command,omitempty"`
	Status          journal.Status         `json:"status"`
	StartedAt       *string                `json:"started_at"`
	EndedAt         *string                `json:"ended_at"`
	DurationSeconds *float64               `json:"duration_seconds"`
	Hosts           map[journal.Status]int `json:"hosts"`
	PID             int                    `json:"pid"`
	Hostname        string                 `json:"hostname"`
}

func toRunJournalJSON(r *journal.Run) runJournalJSON {
	counts := r.Counts
	if counts == nil {
		counts = map[journal.Status]int{}
	}
	return runJournalJSON{
		ID: r.ID, Association: r.Association, Document: r.Document, DocHash: r.DocHash, ParamsHash: r.ParamsHash,
		Mode: r.Mode, Trigger: r.Trigger, Severity: r.Severity, Command: r.Command, Status: r.Status,
		StartedAt: rfc3339(r.StartedAt), EndedAt: rfc3339(r.EndedAt), DurationSeconds: spanSeconds(r.StartedAt, r.EndedAt),
		Hosts: counts, PID: r.PID, Hostname: r.Hostname,
	}
}

func runHistory(c *cli.Context, u *ui) (err error) {
	limit := c.Int("limit")
	if limit < 0 {
		return usageError("--limit: expected a number of runs, 0 or more, got %d", limit)
	}
	f := journal.HistoryFilter{Association: c.String("association"), Host: c.String("host")}
	if limit > 0 {
		f.Limit = limit + 1 // one more, to tell whether there are more
	}

	runs, j, err := readJournal(c, u, "history", func(j *journal.Journal) ([]journal.Run, error) { return j.History(c.Context, f) })
	if err != nil {
		return err
	}
	defer closeJournal(j, &err)
	more := limit > 0 && len(runs) > limit
	if more {
		runs = runs[:limit]
	}

	if u.json {
		return printJSONList(u, runs, func(r journal.Run) runJournalJSON { return toRunJournalJSON(&r) })
	}
	if j == nil {
		return nil
	}
	if len(runs) == 0 {
		if f.Association == "" && f.Host == "" {
			u.notef("no runs recorded yet (journal %s)", journalPath(c))
		} else {
			u.notef("no run matches %s", describeFilter(f.Association, f.Host, ""))
		}
		return nil
	}
	rows := make([][]string, 0, len(runs))
	for i := range runs {
		r := &runs[i]
		rows = append(rows, []string{strconv.FormatInt(r.ID, 10), runLabel(r), string(r.Mode), string(r.Trigger),
			textTime(r.StartedAt), runDuration(r), u.status(string(r.Status)), countsText(r.Counts)})
	}
	u.table([]string{"RUN", "ASSOCIATION", "MODE", "TRIGGER", "STARTED", "DURATION", "STATUS", "HOSTS"}, rows)
	if more {
		u.notef("newest %d %s shown; --limit 0 shows all", limit, plural(limit, "run"))
	}
	return nil
}

// runLabel names a run in a table: its association, or for an exec run
// without one, its command.
func runLabel(r *journal.Run) string {
	switch {
	case r.Association != "":
		return r.Association
	case r.Command != "":
		return "exec: " + oneLine(safeText(r.Command), 40)
	}
	return "-"
}

// runDuration is how long a run took, "-" while it runs and for an
// Interrupted run, whose end is not known.
func runDuration(r *journal.Run) string {
	if r.Status == journal.StatusInterrupted {
		return "-"
	}
	return spanText(r.StartedAt, r.EndedAt)
}
