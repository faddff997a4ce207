package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/internal/diag"
	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner"
)

// loadConfig loads and validates the config dir; problems exit 1.
func loadConfig(c *cli.Context, u *ui) (*config.Config, error) {
	cfg, list := config.Load(configOptions(c))
	if err := u.diagnostics(list); err != nil {
		return nil, err
	}
	return cfg, nil
}

func parseRateFlag(c *cli.Context, name string, min int) (*config.Rate, error) {
	if !c.IsSet(name) {
		return nil, nil
	}
	r, err := config.ParseRate(c.String(name), min)
	if err != nil {
		return nil, usageError("--%s: %v", name, err)
	}
	return &r, nil
}

// runsJSON is what apply, check, exec, tick and show print with --json:
// the runs, each with its hosts and their steps, in the one shape
// docs/json.md describes and docs/runs.schema.json pins.
type runsJSON struct {
	Runs []runWithHostsJSON `json:"runs"`
}

// runWithHostsJSON is a run with what each of its hosts did.
type runWithHostsJSON struct {
	runRecordJSON
	Hosts []hostRecordJSON `json:"hosts"`
}

// hostOutcomeJSON is how a host ended.
type hostOutcomeJSON struct {
	Host   string         `json:"host"`
	Status journal.Status `json:"status"`
	Error  string         `json:"error,omitempty"`
	Detail string         `json:"detail,omitempty"`
}

// stepOutcomeJSON is how a step ended.
type stepOutcomeJSON struct {
	Name       string         `json:"name"`
	Action     string         `json:"action"`
	Status     journal.Status `json:"status"`
	SkipReason string         `json:"skip_reason,omitempty"`
	Drifted    bool           `json:"drifted"`
	Differ     string         `json:"differ,omitempty"`
}

func toRunJSON(results []*runner.RunResult) runsJSON {
	out := runsJSON{Runs: []runWithHostsJSON{}}
	for _, r := range results {
		out.Runs = append(out.Runs, toRunWithHostsJSON(&r.Run, r.Hosts))
	}
	return out
}

// toRunWithHostsJSON is run with hosts; its drifted and corrected host
// counts are those of hosts.
func toRunWithHostsJSON(run *journal.Run, hosts []journal.HostResult) runWithHostsJSON {
	var d journal.RunDrift
	out := runWithHostsJSON{Hosts: make([]hostRecordJSON, 0, len(hosts))}
	for i := range hosts {
		drifted, corrected := false, false
		for _, s := range hosts[i].Steps {
			drifted = drifted || s.Drifted
			corrected = corrected || s.Status == journal.StatusCorrected
		}
		if drifted {
			d.Drifted++
		}
		if corrected {
			d.Corrected++
		}
		out.Hosts = append(out.Hosts, toHostRecordJSON(&hosts[i]))
	}
	out.runRecordJSON = toRunRecordJSON(run, d)
	return out
}

func runAssociations(c *cli.Context, u *ui, check bool) error {
	cfg, err := loadConfig(c, u)
	if err != nil {
		return err
	}
	conc, err := parseRateFlag(c, "max-concurrency", 1)
	if err != nil {
		return err
	}
	if _, err := nodeName(c); err != nil { // checked before any host is contacted
		return err
	}
	maxErr, err := parseRateFlag(c, "max-errors", 0)
	if err != nil {
		return err
	}
	if w := c.Duration("lease-wait"); w < 0 {
		return usageError("--lease-wait: expected a duration of 0 or more, got %s", w)
	}
	assocs := cfg.Associations
	if c.NArg() > 0 {
		assocs = nil
		for _, name := range c.Args().Slice() {
			a := cfg.Association(name)
			if a == nil {
				msg := fmt.Sprintf("unknown association %q", name)
				if s := diag.Suggest(name, cfg.AssociationNames()); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				return usageError("%s", msg)
			}
			assocs = append(assocs, a)
		}
	}
	if len(assocs) == 0 {
		return usageError("no associations to run: add one to %s", configOptions(c).Dir+"/associations.toml")
	}
	var narrow map[string]bool
	if sels := c.StringSlice("targets"); len(sels) > 0 {
		hosts, err := cfg.Inventory.ResolveTargets(sels)
		if err != nil {
			return targetsError(err)
		}
		narrow = map[string]bool{}
		for _, h := range hosts {
			narrow[h.Name] = true
		}
	}
	var jobs []runner.Job
	for _, a := range assocs {
		hosts := a.Hosts
		if narrow != nil {
			hosts = slices.DeleteFunc(slices.Clone(hosts), func(h *inventory.Host) bool { return !narrow[h.Name] })
		}
		if len(hosts) == 0 {
			u.notef("%s: no target host%s; skipped", a.Name, map[bool]string{true: " among --targets", false: ""}[narrow != nil])
			continue
		}
		jobs = append(jobs, runner.Job{Assoc: a, Hosts: hosts, Check: check, MaxConcurrency: conc, MaxErrors: maxErr})
	}
	if len(jobs) == 0 {
		return usageError("empty target set: no association has a host to run on")
	}
	if err := needEnv(u, cfg, jobs); err != nil {
		return err
	}
	// The first host is dialed while the journal opens, unless --journal
	// is bad input: openJournal refuses that before any host is contacted.
	d := newDialer()
	if journalWellNamed(journalPath(c)) {
		d.prefetch(c.Context, jobs[0].Hosts[0])
	}
	defer d.closeEarly()
	j, err := openJournal(c)
	if err != nil {
		return exitWith(exitInvalid, err)
	}
	defer j.Close()

	notes := startNotify(c, u, cfg, j)
	defer notes.Close()
	prog := newProgress(u)
	r := runner.New(runner.Options{Config: cfg, Dial: d.dial, Journal: j, Events: prog, HostDetail: d.note, LeaseWait: c.Duration("lease-wait")})
	defer r.Close()
	for _, job := range jobs {
		r.Expect(job.Hosts)
	}
	var results []*runner.RunResult
	for _, job := range jobs {
		res, err := r.Run(c.Context, job)
		if res != nil {
			results = append(results, res)
		}
		if err != nil {
			return exitWith(exitFailed, err)
		}
		if c.Context.Err() != nil {
			break
		}
	}
	prog.done()
	notifyRuns(notes, results)
	return finishRuns(c, u, results)
}

// finishRuns prints the end of a run (docs/commands.md#output), writes
// the JUnit report and picks the exit code.
func finishRuns(c *cli.Context, u *ui, results []*runner.RunResult) error {
	if path := c.String("junit"); path != "" {
		if err := writeJUnit(path, results); err != nil {
			return exitWith(exitFailed, fmt.Errorf("junit: %w", err))
		}
	}
	if u.json {
		if err := u.printJSON(toRunJSON(results)); err != nil {
			return err
		}
	} else {
		if u.tty && !u.quiet {
			endTable(u, results)
		}
		for _, r := range results {
			line := runSummary(r)
			if u.errTTY {
				// Wrapped between words, the next lines indented.
				line = strings.Join(wrapSummary(line, u.errWidth-2), "\n  ")
			}
			fmt.Fprintln(u.err, line)
		}
		hints(u, results)
	}
	failed, drifted := false, false
	for _, r := range results {
		failed = failed || r.Failed()
		drifted = drifted || r.Drifted()
	}
	switch {
	case c.Context.Err() != nil:
		return exitWith(exitInterrupted, fmt.Errorf("interrupted: the run is recorded as Cancelled"))
	case failed:
		return exitWith(exitFailed, nil)
	case drifted:
		return exitWith(exitDrift, nil)
	}
	return nil
}

// wrapSummary breaks a run summary into lines of at most width columns,
// between its parts ("3 drifted: web-4 web-9;") where it can, between
// words where a part is wider than a line.
func wrapSummary(line string, width int) []string {
	var parts []string
	for p := range strings.SplitAfterSeq(line, "; ") {
		if head, show, ok := strings.Cut(p, " (driftless show "); ok {
			parts = append(parts, head, "(driftless show "+show)
			continue
		}
		parts = append(parts, strings.TrimSpace(p))
	}
	var lines []string
	cur := ""
	for _, p := range parts {
		switch {
		case cur == "":
			cur = p
		case len(cur)+1+len(p) <= width:
			cur += " " + p
		default:
			lines = append(lines, cur)
			cur = p
		}
	}
	var out []string
	for _, l := range append(lines, cur) {
		out = append(out, wrapWords(l, width)...)
	}
	return out
}

// stepCounts summarises step statuses: "2 Compliant, 1 Corrected".
func stepCounts(steps []journal.StepResult) string {
	var n [len(countOrder)]int
	for _, s := range steps {
		if i := slices.Index(countOrder[:], s.Status); i >= 0 {
			n[i]++
		}
	}
	var b []byte
	for i, st := range countOrder {
		if n[i] > 0 {
			if len(b) > 0 {
				b = append(b, ", "...)
			}
			b = append(strconv.AppendInt(b, int64(n[i]), 10), ' ')
			b = append(b, st...)
		}
	}
	return string(b)
}

// countOrder is the order of stepCounts.
var countOrder = [...]journal.Status{journal.StatusCompliant, journal.StatusCorrected, journal.StatusDrifted, journal.StatusSuccess,
	journal.StatusFailed, journal.StatusTimedOut, journal.StatusSkipped, journal.StatusCancelled}

// hostNote is why a host ended as it did: its error, its first failed
// step's, or its detail. On a terminal it is shortened to width
// characters (show has the full text); width 0 keeps it whole, on one
// line, as output that is not a terminal, --json and --junit must
// (docs/safety.md#errors-are-whole).
func hostNote(h journal.HostResult, width int) string {
	note := func(s string) string {
		if width > 0 {
			return firstLine(s, width)
		}
		return wholeLine(s)
	}
	if h.Error != "" {
		return note(h.Error)
	}
	for _, s := range h.Steps {
		if s.Status.Failed() {
			msg := s.Error
			if msg == "" {
				msg = string(s.Status)
			}
			return note(s.Name + ": " + msg)
		}
	}
	return note(h.Detail)
}

// wholeLine is s on one line: its non-empty lines joined with "; ", with
// control characters escaped.
func wholeLine(s string) string {
	var parts []string
	for l := range strings.SplitSeq(safeText(s), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

// hints prints, once per distinct problem, the full error of hosts whose
// error carries more than its first line (a hint such as how to pin an
// unknown host key).
func hints(u *ui, results []*runner.RunResult) {
	seen := map[string]bool{}
	for _, r := range results {
		for _, h := range r.Hosts {
			if !strings.Contains(h.Error, "\n") || seen[h.Host] {
				continue
			}
			seen[h.Host] = true
			fmt.Fprintf(u.err, "%s: %s\n", h.Host, strings.TrimRight(h.Error, "\n"))
		}
	}
}
