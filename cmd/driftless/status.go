package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/journal"
)

var severityNames = []string{
	journal.SeverityCritical, journal.SeverityHigh, journal.SeverityMedium, journal.SeverityLow, journal.SeverityUnspecified,
}

// complianceJSON is one association × host in `status --json`.
type complianceJSON struct {
	Association    string         `json:"association"`
	Host           string         `json:"host"`
	Compliance     string         `json:"compliance"`
	Severity       string         `json:"severity"`
	RunID          int64          `json:"run_id"`
	Mode           journal.Mode   `json:"mode"`
	RunAt          *string        `json:"run_at"`
	HostStatus     journal.Status `json:"host_status"`
	Error          string         `json:"error,omitempty"`
	Steps          int            `json:"steps"`
	DriftedSteps   int            `json:"drifted_steps"`
	CorrectedSteps int            `json:"corrected_steps"`
	FailedSteps    int            `json:"failed_steps"`
}

func runStatus(c *cli.Context, u *ui) (err error) {
	f := journal.StatusFilter{Association: c.String("association"), Host: c.String("host")}
	if s := c.String("severity"); s != "" {
		f.Severity = strings.ToUpper(s)
		if !slices.Contains(severityNames, f.Severity) {
			return usageError("--severity: expected one of %s, got %q", strings.Join(severityNames, ", "), s)
		}
	}

	if c.String("output-file") != "" && !u.prometheus {
		return usageError("--output-file: only with --output prometheus")
	}

	rows, j, err := readJournal(c, u, "status", func(j *journal.Journal) ([]journal.ComplianceRow, error) { return j.Status(c.Context, f) })
	if err != nil {
		return err
	}
	defer closeJournal(j, &err)

	nonCompliant := 0
	for _, r := range rows {
		if r.Compliance != journal.Compliant {
			nonCompliant++
		}
	}
	if u.prometheus {
		if err := printPrometheus(c, u, rows); err != nil {
			return err
		}
	} else if u.json {
		err := printJSONList(u, rows, func(r journal.ComplianceRow) complianceJSON {
			return complianceJSON{
				Association: r.Association, Host: r.Host, Compliance: r.Compliance, Severity: r.Severity,
				RunID: r.RunID, Mode: r.Mode, RunAt: rfc3339(r.At), HostStatus: r.HostStatus, Error: r.Error,
				Steps: r.Steps, DriftedSteps: r.DriftedSteps, CorrectedSteps: r.CorrectedSteps, FailedSteps: r.FailedSteps,
			}
		})
		if err != nil {
			return err
		}
	} else if j != nil {
		printStatus(u, rows, nonCompliant, f)
	}
	if c.Bool("fail-on-noncompliant") && nonCompliant > 0 {
		verb := "are"
		if nonCompliant == 1 {
			verb = "is"
		}
		return exitWith(exitDrift, fmt.Errorf("%d of %d association × host %s %s NON_COMPLIANT",
			nonCompliant, len(rows), plural(len(rows), "pair"), verb))
	}
	return nil
}

func printStatus(u *ui, rows []journal.ComplianceRow, nonCompliant int, f journal.StatusFilter) {
	if len(rows) == 0 {
		if f == (journal.StatusFilter{}) {
			u.notef("no association has run yet")
		} else {
			u.notef("no association × host matches %s", describeFilter(f.Association, f.Host, f.Severity))
		}
		return
	}
	// Narrower layouts for a narrow terminal: a shorter time of the last
	// run and the host status with the steps, then no severity.
	layout := func(narrow, severity bool) func() ([]string, [][]string) {
		return func() ([]string, [][]string) {
			header := []string{"ASSOCIATION", "HOST", "COMPLIANCE", "SEVERITY", "LAST RUN", "STEPS", "HOST STATUS"}
			if narrow {
				header = header[:6]
			}
			if !severity {
				header = slices.Delete(header, 3, 4)
			}
			table := make([][]string, 0, len(rows))
			for _, r := range rows {
				row := []string{r.Association, r.Host, u.status(r.Compliance), r.Severity, lastRunText(r, narrow), stepsText(r), u.status(string(r.HostStatus))}
				if narrow {
					if r.HostStatus != journal.StatusSuccess {
						row[5] = string(r.HostStatus) + ", " + row[5]
					}
					row = row[:6]
				}
				if !severity {
					row = slices.Delete(row, 3, 4)
				}
				table = append(table, row)
			}
			return header, table
		}
	}
	u.tableFirstFit(layout(false, true), layout(true, true), layout(true, false))
	u.notef("%d compliant, %d non-compliant", len(rows)-nonCompliant, nonCompliant)
}

// lastRunText is the run behind a compliance row: "#4 2026-12-05 04:13:30Z
// (check)", or narrow "#4 12-05 04:13Z check".
func lastRunText(r journal.ComplianceRow, narrow bool) string {
	at := textTime(r.At)
	if narrow && !r.At.IsZero() {
		at = r.At.UTC().Format(shortTimeLayout)
	}
	last := fmt.Sprintf("#%d %s", r.RunID, at)
	switch {
	case r.Mode != journal.ModeCheck:
	case narrow:
		last += " check"
	default:
		last += " (check)"
	}
	return last
}

// stepsText sums up the steps of the run behind a compliance row:
// "5 steps, 1 drifted, 1 corrected". Drifted counts the steps found out of
// state and not corrected; a step whose apply failed counts as drifted and
// as failed.
func stepsText(r journal.ComplianceRow) string {
	if r.Steps == 0 {
		return "no steps"
	}
	parts := []string{fmt.Sprintf("%d %s", r.Steps, plural(r.Steps, "step"))}
	for _, p := range []struct {
		n    int
		what string
	}{{r.DriftedSteps - r.CorrectedSteps, "drifted"}, {r.CorrectedSteps, "corrected"}, {r.FailedSteps, "failed"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	return strings.Join(parts, ", ")
}

// describeFilter names the filters given, for "nothing matches" notes.
func describeFilter(assoc, host, severity string) string {
	var parts []string
	if assoc != "" {
		parts = append(parts, "--association "+assoc)
	}
	if host != "" {
		parts = append(parts, "--host "+host)
	}
	if severity != "" {
		parts = append(parts, "--severity "+severity)
	}
	return strings.Join(parts, " ")
}
