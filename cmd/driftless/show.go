package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/journal"
)

// In text, show prints at most showMaxLines lines of each stdout and
// stderr, and at most showMaxLineLen characters of a line; --json has it
// all.
const (
	showMaxLines   = 40
	showMaxLineLen = 500
)

// hostRecordJSON is a host of a run in every command's JSON (docs/json.md).
type hostRecordJSON struct {
	hostOutcomeJSON
	DefHash         string           `json:"def_hash,omitempty"`
	StartedAt       *string          `json:"started_at"`
	EndedAt         *string          `json:"ended_at"`
	DurationSeconds *float64         `json:"duration_seconds"`
	Steps           []stepRecordJSON `json:"steps"`
}

type stepRecordJSON struct {
	Index int `json:"index"`
	stepOutcomeJSON
	ExitCode        *int    `json:"exit_code"`
	Stdout          string  `json:"stdout"`
	StdoutTruncated bool    `json:"stdout_truncated"`
	Stderr          string  `json:"stderr"`
	StderrTruncated bool    `json:"stderr_truncated"`
	DurationSeconds float64 `json:"duration_seconds"`
	Error           string  `json:"error,omitempty"`
	StartedAt       *string `json:"started_at"`
}

func runShow(c *cli.Context, u *ui) (err error) {
	if c.NArg() != 1 {
		return usageError("show takes one RUN id, got %d arguments\n\thint: driftless history lists the runs", c.NArg())
	}
	arg := c.Args().First()
	id, perr := strconv.ParseInt(strings.TrimPrefix(arg, "#"), 10, 64)
	if perr != nil || id <= 0 {
		return usageError("RUN: expected a run id (a positive integer), got %q\n\thint: driftless history lists the runs", arg)
	}
	host := c.String("host")

	j, err := openJournalToRead(c, u)
	if err != nil {
		return err
	}
	if j == nil {
		return exitWith(exitInvalid, fmt.Errorf("show: run %d is not in the journal", id))
	}
	defer closeJournal(j, &err)
	run, hosts, err := j.Show(c.Context, id, host)
	if errors.Is(err, journal.ErrNotFound) {
		return showNotFound(c, j, id, host)
	}
	if err != nil {
		return fmt.Errorf("show: %w", err)
	}

	if u.json {
		return u.printJSON(runsJSON{Runs: []runWithHostsJSON{toRunWithHostsJSON(run, hosts)}})
	}
	printRun(u, run)
	for i := range hosts {
		printHostRecord(u, run.ID, &hosts[i])
	}
	if len(hosts) == 0 {
		fmt.Fprintln(u.out, "\nno host recorded in this run")
	}
	return nil
}

// showNotFound explains which of run and host is not in the journal.
func showNotFound(c *cli.Context, j *journal.Journal, id int64, host string) error {
	if host != "" {
		_, hosts, err := j.Show(c.Context, id, "")
		if err == nil {
			names := make([]string, 0, len(hosts))
			for _, h := range hosts {
				names = append(names, h.Host)
			}
			hint := "it recorded no host"
			if len(names) > 0 {
				if len(names) > 10 {
					names = append(names[:10], "…")
				}
				hint = "its hosts: " + strings.Join(names, ", ")
			}
			return exitWith(exitInvalid, fmt.Errorf("show: host %s is not in run %d\n\thint: %s", host, id, hint))
		}
		if !errors.Is(err, journal.ErrNotFound) {
			return fmt.Errorf("show: %w", err)
		}
	}
	return exitWith(exitInvalid, fmt.Errorf("show: run %d is not in the journal %s\n\thint: driftless history lists the runs", id, j.Path()))
}

func toHostRecordJSON(h *journal.HostResult) hostRecordJSON {
	out := hostRecordJSON{
		hostOutcomeJSON: hostOutcomeJSON{Host: h.Host, Status: h.Status, Error: h.Error, Detail: h.Detail},
		DefHash:         h.DefHash, StartedAt: rfc3339(h.StartedAt), EndedAt: rfc3339(h.EndedAt), DurationSeconds: spanSeconds(h.StartedAt, h.EndedAt),
		Steps: make([]stepRecordJSON, 0, len(h.Steps)),
	}
	for _, s := range h.Steps {
		out.Steps = append(out.Steps, stepRecordJSON{
			Index:           s.Index,
			stepOutcomeJSON: stepOutcomeJSON{Name: s.Name, Action: s.Action, Status: s.Status, SkipReason: s.SkipReason, Drifted: s.Drifted, Differ: s.Differ},
			ExitCode:        s.ExitCode,
			Stdout:          s.Stdout, StdoutTruncated: s.StdoutTruncated, Stderr: s.Stderr, StderrTruncated: s.StderrTruncated,
			DurationSeconds: s.Duration.Seconds(), Error: s.Error, StartedAt: rfc3339(s.StartedAt),
		})
	}
	return out
}

// printRun prints the header of `show`: what ran, when, and how it ended.
func printRun(u *ui, r *journal.Run) {
	title := fmt.Sprintf("Run %d: %s", r.ID, runLabel(r))
	if r.Association == "" && r.Command != "" {
		title = fmt.Sprintf("Run %d: exec", r.ID)
	}
	fmt.Fprintf(u.out, "%s  %s\n", u.bold(title), u.status(string(r.Status)))
	field := func(label, value string) {
		if value != "" {
			fmt.Fprintf(u.out, "  %-10s %s\n", label, value)
		}
	}
	if r.Command != "" {
		cmd := safeText(r.Command)
		if strings.Contains(cmd, "\n") {
			cmd = "\n" + indentLines(cmd, "    ")
		}
		field("command", cmd)
	}
	doc := r.Document
	if r.DocHash != "" {
		doc += " (" + shortHash(r.DocHash) + ")"
	}
	field("document", strings.TrimSpace(doc))
	field("mode", string(r.Mode))
	field("trigger", string(r.Trigger))
	if r.Mode != journal.ModeExec {
		field("severity", r.Severity)
	}
	field("hosts", countsText(r.Counts))
	field("started", textTime(r.StartedAt))
	switch {
	case r.Status == journal.StatusInterrupted:
		field("ended", "- (interrupted; last activity recorded "+textTime(r.EndedAt)+")")
	case r.EndedAt.IsZero():
		field("ended", "- (not finished)")
	default:
		field("ended", fmt.Sprintf("%s (%s)", textTime(r.EndedAt), spanText(r.StartedAt, r.EndedAt)))
	}
	field("node", r.Node)
	if r.Hostname != "" {
		field("recorded", fmt.Sprintf("by pid %d on %s", r.PID, r.Hostname))
	}
}

// printHostRecord prints one host execution and its steps.
func printHostRecord(u *ui, runID int64, h *journal.HostResult) {
	fmt.Fprintf(u.out, "\n%s  %s", u.bold("Host "+h.Host), u.status(string(h.Status)))
	if !h.StartedAt.IsZero() {
		fmt.Fprintf(u.out, "  started %s", textTime(h.StartedAt))
		if !h.EndedAt.IsZero() {
			fmt.Fprintf(u.out, ", took %s", spanText(h.StartedAt, h.EndedAt))
		}
	}
	fmt.Fprintln(u.out)
	if h.Error != "" {
		printBlock(u, "  ", "error", safeText(h.Error))
	}
	if h.Detail != "" {
		printBlock(u, "  ", "detail", safeText(h.Detail))
	}
	if len(h.Steps) == 0 {
		if h.Status == journal.StatusInterrupted {
			// The process died before it recorded a step: one may have run.
			fmt.Fprintln(u.out, "  no step recorded before the process died")
		} else {
			fmt.Fprintln(u.out, "  no step ran")
		}
		return
	}
	for _, s := range h.Steps {
		attrs := []string{u.status(string(s.Status))}
		if s.SkipReason != "" {
			attrs = append(attrs, "("+s.SkipReason+")")
		}
		if s.Drifted {
			attrs = append(attrs, "drifted")
		}
		if s.ExitCode != nil {
			attrs = append(attrs, fmt.Sprintf("exit %d", *s.ExitCode))
		}
		if s.Duration > 0 {
			attrs = append(attrs, durationText(s.Duration))
		}
		name := s.Name
		if s.Action != "" {
			name += " (" + s.Action + ")"
		}
		fmt.Fprintf(u.out, "  %d. %s  %s\n", s.Index+1, name, strings.Join(attrs, "  "))
		if s.Error != "" {
			printBlock(u, "     ", "error", safeText(s.Error))
		}
		if s.Differ != "" {
			fmt.Fprintf(u.out, "     what differed:\n%s\n", indentLines(safeText(s.Differ), "       "))
		}
		printOutput(u, runID, "stdout", s.Stdout, s.StdoutTruncated)
		printOutput(u, runID, "stderr", s.Stderr, s.StderrTruncated)
	}
}

// printBlock prints "label: text" on one line, or text indented under the
// label when it has several lines.
func printBlock(u *ui, prefix, label, text string) {
	text = strings.TrimRight(text, "\n")
	if !strings.Contains(text, "\n") {
		fmt.Fprintf(u.out, "%s%s: %s\n", prefix, label, text)
		return
	}
	fmt.Fprintf(u.out, "%s%s:\n%s\n", prefix, label, indentLines(text, prefix+"  "))
}

// printOutput prints a step's stdout or stderr, indented, cut to
// showMaxLines lines of showMaxLineLen characters.
func printOutput(u *ui, runID int64, label, out string, journalCut bool) {
	out = strings.TrimRight(out, "\n")
	if out == "" {
		return
	}
	lines := strings.Split(safeText(out), "\n")
	more := 0
	if len(lines) > showMaxLines {
		more = len(lines) - showMaxLines
		lines = lines[:showMaxLines]
	}
	longCut := false
	for i, l := range lines {
		if utf8.RuneCountInString(l) > showMaxLineLen {
			lines[i] = cutRunes(l, showMaxLineLen)
			longCut = true
		}
	}
	heading := label
	if journalCut {
		heading += fmt.Sprintf(" (the journal kept the first %d MiB)", journal.MaxOutput>>20)
	}
	fmt.Fprintf(u.out, "     %s:\n%s\n", heading, indentLines(strings.Join(lines, "\n"), "       "))
	switch {
	case more > 0:
		fmt.Fprintf(u.out, "       … %d more %s; driftless show %d --json has it all\n", more, plural(more, "line"), runID)
	case longCut:
		fmt.Fprintf(u.out, "       … long lines cut; driftless show %d --json has it all\n", runID)
	}
}

// indentLines puts prefix before every line of s but empty ones.
func indentLines(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

// shortHash abbreviates a content hash for people: "sha256:" and 12 hex
// digits.
func shortHash(h string) string {
	algo, hex, ok := strings.Cut(h, ":")
	if !ok {
		algo, hex = "", h
	}
	if len(hex) > 12 {
		hex = hex[:12]
	}
	if algo == "" {
		return hex
	}
	return algo + ":" + hex
}
