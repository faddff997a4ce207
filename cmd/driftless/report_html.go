package main

import (
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/internal/htmlreport"
	"github.com/driftless-dev/driftless/journal"
)

const defaultReportSince = "30d"

// reportJSON is what `report --json` prints about the page it wrote.
type reportJSON struct {
	File              string  `json:"file"`
	Pairs             int     `json:"pairs"`
	Compliant         int     `json:"compliant"`
	NonCompliant      int     `json:"non_compliant"`
	Hosts             int     `json:"hosts"`
	NonCompliantHosts int     `json:"non_compliant_hosts"`
	DriftEvents       int     `json:"drift_events"`
	Since             *string `json:"since"`
}

func runReportHTML(c *cli.Context, u *ui) (err error) {
	file := c.String("html")
	if file == "" {
		return usageError("report: --html FILE is required (the page to write)")
	}
	now := time.Now()
	since, err := parseSince(c.String("since"), now)
	if err != nil {
		return usageError("--since: %v", err)
	}
	j, err := openJournalToRead(c, u)
	if err != nil {
		return exitWith(exitInvalid, err)
	}
	if j == nil {
		return exitWith(exitInvalid, fmt.Errorf("report: nothing to report: no journal at %s", journal.Redact(journalPath(c))))
	}
	defer closeJournal(j, &err)
	opt := htmlreport.Options{Since: since, Until: now, Journal: journal.Redact(journalPath(c)), Version: buildVersion().Version, Generated: now}
	if file == "-" {
		if _, err := htmlreport.Write(c.Context, j, u.out, opt); err != nil {
			return exitWith(exitFailed, err)
		}
		return nil
	}
	sum, err := writeReportFile(c, j, file, opt)
	if err != nil {
		return exitWith(exitFailed, err)
	}
	if u.json {
		return u.printJSON(reportJSON{File: file, Pairs: sum.Pairs, Compliant: sum.Compliant, NonCompliant: sum.NonCompliant,
			Hosts: sum.Hosts, NonCompliantHosts: sum.NonCompliantHosts, DriftEvents: sum.DriftEvents, Since: rfc3339(sum.Since)})
	}
	u.printf("wrote %s: %d association × host %s on %d %s, %d non-compliant, %d drift %s since %s\n",
		file, sum.Pairs, plural(sum.Pairs, "pair"), sum.Hosts, plural(sum.Hosts, "host"), sum.NonCompliant,
		sum.DriftEvents, plural(sum.DriftEvents, "event"), textTime(sum.Since))
	return nil
}

// writeReportFile writes the report next to file and renames it into
// place (writeFileAtomic): a reader (a web server, a browser reloading)
// never sees half a page.
func writeReportFile(c *cli.Context, j *journal.Journal, file string, opt htmlreport.Options) (htmlreport.Summary, error) {
	var sum htmlreport.Summary
	err := writeFileAtomic(file, 0o644, func(w io.Writer) (err error) {
		sum, err = htmlreport.Write(c.Context, j, w, opt)
		return err
	})
	if err != nil {
		return htmlreport.Summary{}, fmt.Errorf("report: %w", err)
	}
	return sum, nil
}
