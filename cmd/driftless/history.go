package main

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/journal"
)

const defaultHistoryLimit = 20

// runRecordJSON is a run as every command's JSON shows it (docs/json.md):
// what ran, how it ended, its hosts counted by status, and how many of
// them drifted and were corrected.
type runRecordJSON struct {
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
	Counts          map[journal.Status]int `json:"counts"`
	DriftedHosts    int                    `json:"drifted_hosts"`
	CorrectedHosts  int                    `json:"corrected_hosts"`
	PID             int                    `json:"pid"`
	Hostname        string                 `json:"hostname"`
	Node            string                 `json:"node"`
}

// historyJSON is what history prints with --json: the runs, without
// their hosts.
type historyJSON struct {
	Runs []runRecordJSON `json:"runs"`
}

func toRunRecordJSON(r *journal.Run, d journal.RunDrift) runRecordJSON {
	counts := r.Counts
	if counts == nil {
		counts = map[journal.Status]int{}
	}
	return runRecordJSON{
		ID: r.ID, Association: r.Association, Document: r.Document, DocHash: r.DocHash, ParamsHash: r.ParamsHash,
		Mode: r.Mode, Trigger: r.Trigger, Severity: r.Severity, Command: r.Command, Status: r.Status,
		StartedAt: rfc3339(r.StartedAt), EndedAt: rfc3339(r.EndedAt), DurationSeconds: spanSeconds(r.StartedAt, r.EndedAt),
		Counts: counts, DriftedHosts: d.Drifted, CorrectedHosts: d.Corrected, PID: r.PID, Hostname: r.Hostname, Node: r.Node,
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

	var drifts map[int64]journal.RunDrift
	if j != nil {
		ids := make([]int64, len(runs))
		for i := range runs {
			ids[i] = runs[i].ID
		}
		if drifts, err = j.RunDrifts(c.Context, ids); err != nil {
			return fmt.Errorf("history: %w", err)
		}
	}
	if u.json {
		out := historyJSON{Runs: make([]runRecordJSON, 0, len(runs))}
		for i := range runs {
			out.Runs = append(out.Runs, toRunRecordJSON(&runs[i], drifts[runs[i].ID]))
		}
		return u.printJSON(out)
	}
	if j == nil {
		return nil
	}
	if len(runs) == 0 {
		if f.Association == "" && f.Host == "" {
			u.notef("no runs recorded yet (journal %s)", journal.Redact(journalPath(c)))
		} else {
			u.notef("no run matches %s", describeFilter(f.Association, f.Host, ""))
		}
		return nil
	}
	table := func(layout string, trigger bool) func() ([]string, [][]string) {
		return func() ([]string, [][]string) {
			header := []string{"RUN", "ASSOCIATION", "MODE", "TRIGGER", "STARTED", "DURATION", "STATUS", "HOSTS", "DRIFTED"}
			if !trigger {
				header = slices.Delete(header, 3, 4)
				header[4] = "TOOK"
			}
			rows := make([][]string, 0, len(runs))
			for i := range runs {
				r := &runs[i]
				started := "-"
				if !r.StartedAt.IsZero() {
					started = r.StartedAt.UTC().Format(layout)
				}
				row := []string{strconv.FormatInt(r.ID, 10), runLabel(r), string(r.Mode), string(r.Trigger),
					started, runDuration(r), u.status(string(r.Status)), countsText(r.Counts), driftedText(r, drifts[r.ID])}
				if !trigger {
					row = slices.Delete(row, 3, 4)
				}
				rows = append(rows, row)
			}
			return header, rows
		}
	}
	// Narrower layouts for a narrow terminal: a shorter start time, then
	// no trigger.
	u.tableFirstFit(table(textTimeLayout, true), table(shortTimeLayout, true), table(shortTimeLayout, false))
	if more {
		u.notef("newest %d %s shown; --limit 0 shows all", limit, plural(limit, "run"))
	}
	return nil
}

// shortTimeLayout is a start time in a table too narrow for textTimeLayout.
const shortTimeLayout = "01-02 15:04Z"

// driftedText is the DRIFTED column of history: on how many hosts the
// run found a step out of state, and how many it corrected: "1",
// "3 corrected", "3, 2 corrected"; "-" for an exec run or one still
// running.
func driftedText(r *journal.Run, d journal.RunDrift) string {
	switch {
	case r.Mode == journal.ModeExec:
		return "-"
	case d.Corrected == 0:
		return strconv.Itoa(d.Drifted)
	case d.Corrected == d.Drifted:
		return fmt.Sprintf("%d corrected", d.Corrected)
	}
	return fmt.Sprintf("%d, %d corrected", d.Drifted, d.Corrected)
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
