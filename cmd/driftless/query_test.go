package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/journal"
)

// The journal that the query tests read: six runs, recorded with the
// journal package as the runner records them.
//
//	id  association   mode   started           hosts
//	1   web-baseline  apply  T0                web-1 Success (config corrected, long stdout), web-2 Failed
//	2   db-backup     check  T0+1h             db-1 Success (cron drifted), db-2 Success
//	3   web-baseline  apply  T0+2h             web-1 Unreachable, web-2 Success (config corrected)
//	4   (exec uptime) exec   T0+3h             web-1 Success
//	5   web-baseline  check  now-1h            web-3 Success (config drifted: mode)
//	6   db-backup     apply  T0-1h, other-box  db-1 started, never finished: Interrupted when read
var queryT0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

const queryDiff = `--- ~/app/conf/app.toml (on host)
+++ ~/app/conf/app.toml (wanted)
@@ -1,2 +1,2 @@
 [server]
-port = 80
+port = 8080
`

// seedQueryJournal writes the journal above at path.
func seedQueryJournal(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	j, err := journal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	start := func(r journal.Run) int64 {
		t.Helper()
		id, err := j.StartRun(ctx, &r)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	record := func(h journal.HostResult) {
		t.Helper()
		if err := j.RecordHost(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	finish := func(id int64, status journal.Status, end time.Time) {
		t.Helper()
		if err := j.FinishRun(ctx, id, status, nil, end); err != nil {
			t.Fatal(err)
		}
	}
	code := func(n int) *int { return &n }
	step := func(i int, name, action string, status journal.Status) journal.StepResult {
		return journal.StepResult{Index: i, Name: name, Action: action, Status: status, Duration: 40 * time.Millisecond}
	}
	var long strings.Builder
	for i := 1; i <= 100; i++ {
		fmt.Fprintf(&long, "install line %d\n", i)
	}
	long.WriteString("\x1b[31mred\x1b[0m\n")

	r1 := start(journal.Run{Association: "web-baseline", Document: "baseline", DocHash: "0123456789abcdef0123",
		Trigger: journal.TriggerManual, Mode: journal.ModeApply, Severity: journal.SeverityHigh, StartedAt: queryT0})
	config := step(1, "config", "file", journal.StatusCorrected)
	config.Drifted, config.Differ = true, queryDiff+"mode 0600 -> 0644"
	installed := step(2, "installed", "shell", journal.StatusSuccess)
	installed.ExitCode, installed.Stdout, installed.Stderr = code(0), long.String(), "warning: \x1b[33mslow\x1b[0m mirror\n"
	installed.Duration = 3200 * time.Millisecond
	record(journal.HostResult{RunID: r1, Host: "web-1", Status: journal.StatusSuccess, StartedAt: queryT0, EndedAt: queryT0.Add(4 * time.Second),
		Steps: []journal.StepResult{step(0, "conf-dir", "directory", journal.StatusCompliant), config, installed}})
	failed := step(1, "config", "file", journal.StatusFailed)
	failed.Drifted, failed.Differ, failed.Error = true, "mode 0600 -> 0644", "chmod ~/app/conf/app.toml: permission denied"
	stopped := step(2, "installed", "shell", journal.StatusSkipped)
	stopped.SkipReason = journal.SkipStopped
	record(journal.HostResult{RunID: r1, Host: "web-2", Status: journal.StatusFailed, Error: "step config failed",
		Detail: "accepted new host key SHA256:abc", StartedAt: queryT0, EndedAt: queryT0.Add(2 * time.Second),
		Steps: []journal.StepResult{step(0, "conf-dir", "directory", journal.StatusCompliant), failed, stopped}})
	finish(r1, journal.StatusFailed, queryT0.Add(5*time.Minute))

	t1 := queryT0.Add(time.Hour)
	r2 := start(journal.Run{Association: "db-backup", Document: "backup", Trigger: journal.TriggerSchedule,
		Mode: journal.ModeCheck, Severity: journal.SeverityLow, StartedAt: t1})
	cron := step(0, "cron", "line", journal.StatusDrifted)
	cron.Drifted, cron.Differ = true, "missing"
	record(journal.HostResult{RunID: r2, Host: "db-1", Status: journal.StatusSuccess, StartedAt: t1, EndedAt: t1.Add(time.Second),
		Steps: []journal.StepResult{cron}})
	record(journal.HostResult{RunID: r2, Host: "db-2", Status: journal.StatusSuccess, StartedAt: t1, EndedAt: t1.Add(time.Second),
		Steps: []journal.StepResult{step(0, "cron", "line", journal.StatusCompliant), step(1, "dir", "directory", journal.StatusCompliant)}})
	finish(r2, journal.StatusSuccess, t1.Add(2*time.Second))

	t2 := queryT0.Add(2 * time.Hour)
	r3 := start(journal.Run{Association: "web-baseline", Document: "baseline", Trigger: journal.TriggerChange,
		Mode: journal.ModeApply, Severity: journal.SeverityHigh, StartedAt: t2})
	record(journal.HostResult{RunID: r3, Host: "web-1", Status: journal.StatusUnreachable, StartedAt: t2, EndedAt: t2.Add(10 * time.Second),
		Error: "dial tcp 10.0.1.11:22: connect: connection refused"})
	fixed := step(1, "config", "file", journal.StatusCorrected)
	fixed.Drifted, fixed.Differ = true, "mode 0600 -> 0644"
	fixed.StartedAt = t2.Add(30 * time.Second)
	record(journal.HostResult{RunID: r3, Host: "web-2", Status: journal.StatusSuccess, StartedAt: t2, EndedAt: t2.Add(time.Minute),
		Steps: []journal.StepResult{step(0, "conf-dir", "directory", journal.StatusCompliant), fixed,
			step(2, "installed", "shell", journal.StatusSuccess)}})
	finish(r3, journal.StatusFailed, t2.Add(time.Minute))

	t3 := queryT0.Add(3 * time.Hour)
	r4 := start(journal.Run{Trigger: journal.TriggerExec, Mode: journal.ModeExec, Command: "uptime", StartedAt: t3})
	up := step(0, "command", "shell", journal.StatusSuccess)
	up.ExitCode, up.Stdout = code(0), " 10:00:00 up 3 days\n"
	record(journal.HostResult{RunID: r4, Host: "web-1", Status: journal.StatusSuccess, StartedAt: t3, EndedAt: t3.Add(time.Second),
		Steps: []journal.StepResult{up}})
	finish(r4, journal.StatusSuccess, t3.Add(time.Second))

	t4 := time.Now().Add(-time.Hour).UTC()
	r5 := start(journal.Run{Association: "web-baseline", Document: "baseline", Trigger: journal.TriggerSchedule,
		Mode: journal.ModeCheck, Severity: journal.SeverityHigh, StartedAt: t4})
	mode := step(1, "config", "file", journal.StatusDrifted)
	mode.Drifted, mode.Differ = true, "mode 0600 -> 0644"
	record(journal.HostResult{RunID: r5, Host: "web-3", Status: journal.StatusSuccess, StartedAt: t4, EndedAt: t4.Add(time.Second),
		Steps: []journal.StepResult{step(0, "conf-dir", "directory", journal.StatusCompliant), mode,
			step(2, "installed", "shell", journal.StatusCompliant)}})
	finish(r5, journal.StatusSuccess, t4.Add(time.Second))

	// Recorded on another machine more than a day ago and never finished:
	// the next driftless to open the journal marks it Interrupted.
	r6 := start(journal.Run{Association: "db-backup", Document: "backup", Trigger: journal.TriggerManual,
		Mode: journal.ModeApply, StartedAt: queryT0.Add(-time.Hour), PID: 4242, Hostname: "other-box"})
	if err := j.StartHost(ctx, r6, "db-1", queryT0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if want := []int64{1, 2, 3, 4, 5, 6}; !slices.Equal([]int64{r1, r2, r3, r4, r5, r6}, want) {
		t.Fatalf("run ids %v, want %v", []int64{r1, r2, r3, r4, r5, r6}, want)
	}
}

// queryDir returns a config dir whose journal, at the default path, holds
// the runs above.
func queryDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	seedQueryJournal(t, filepath.Join(dir, ".driftless", "journal.db"))
	return dir
}

type cliResult struct {
	code           int
	stdout, stderr string
}

// driftless runs the command line in-process, as main does. Not in
// parallel tests: the apps that Main builds share the global flags, which
// urfave/cli writes to while parsing.
func driftless(t *testing.T, args ...string) cliResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(append([]string{"driftless"}, args...), strings.NewReader(""), &out, &errb)
	return cliResult{code, out.String(), errb.String()}
}

func (r cliResult) wantCode(t *testing.T, code int) cliResult {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	return r
}

// wantLines checks that each pattern matches s, in multi-line mode: ^ and
// $ anchor at line ends.
func wantLines(t *testing.T, what, s string, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		if !regexp.MustCompile("(?m)" + p).MatchString(s) {
			t.Errorf("%s does not match %q:\n%s", what, p, s)
		}
	}
}

func wantNoLines(t *testing.T, what, s string, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		if regexp.MustCompile("(?m)" + p).MatchString(s) {
			t.Errorf("%s matches %q, it should not:\n%s", what, p, s)
		}
	}
}

func decodeJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("stdout is not the JSON expected: %v\n%s", err, s)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON document:\n%s", s)
	}
	return v
}

func TestQueryStatus(t *testing.T) {
	dir := queryDir(t)

	r := driftless(t, "status", "-C", dir).wantCode(t, exitOK)
	wantLines(t, "status", r.stdout,
		`^ASSOCIATION +HOST +COMPLIANCE +SEVERITY +LAST RUN +STEPS +HOST STATUS$`,
		`^db-backup +db-1 +NON_COMPLIANT +LOW +#2 2026-11-20 11:00:00Z \(check\) +1 step, 1 drifted +Success$`,
		`^db-backup +db-2 +COMPLIANT +LOW +#2 2026-11-20 11:00:00Z \(check\) +2 steps +Success$`,
		`^web-baseline +web-1 +NON_COMPLIANT +HIGH +#3 2026-11-20 12:00:00Z +no steps +Unreachable$`,
		`^web-baseline +web-2 +COMPLIANT +HIGH +#3 2026-11-20 12:00:00Z +3 steps, 1 corrected +Success$`,
		`^web-baseline +web-3 +NON_COMPLIANT +HIGH +#5 \S+ \S+Z \(check\) +3 steps, 1 drifted +Success$`,
	)
	if n := strings.Count(r.stdout, "\n"); n != 6 {
		t.Errorf("status printed %d lines, want a header and 5 rows:\n%s", n, r.stdout)
	}
	wantLines(t, "status stderr", r.stderr,
		`^marked run 6 Interrupted: the process recording it is gone$`,
		`^2 compliant, 3 non-compliant$`)
	wantNoLines(t, "status", r.stdout, `\x1b\[`)

	// The run was marked once: the next command has nothing to recover.
	r = driftless(t, "status", "-C", dir, "--fail-on-noncompliant").wantCode(t, exitDrift)
	wantLines(t, "status --fail-on-noncompliant stderr", r.stderr,
		`^driftless: 3 of 5 association × host pairs are NON_COMPLIANT$`)
	wantNoLines(t, "status stderr", r.stderr, `marked run`)

	// Only compliant rows: exit 0 even with --fail-on-noncompliant.
	r = driftless(t, "status", "-C", dir, "--host", "db-2", "--fail-on-noncompliant").wantCode(t, exitOK)
	wantLines(t, "status --host db-2", r.stdout, `^db-backup +db-2 +COMPLIANT `)
	wantNoLines(t, "status --host db-2", r.stdout, `web-`, `db-1`)

	// --severity filters (any case), and only takes the five severities.
	r = driftless(t, "status", "--severity", "low", "-C", dir).wantCode(t, exitOK)
	wantLines(t, "status --severity low", r.stdout, `^db-backup +db-1 `, `^db-backup +db-2 `)
	wantNoLines(t, "status --severity low", r.stdout, `web-baseline`)
	r = driftless(t, "status", "-C", dir, "--severity", "MEDIUM").wantCode(t, exitOK)
	if r.stdout != "" || !strings.Contains(r.stderr, "no association × host matches --severity MEDIUM") {
		t.Errorf("status --severity MEDIUM: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	r = driftless(t, "status", "-C", dir, "--severity", "urgent").wantCode(t, exitInvalid)
	wantLines(t, "status --severity urgent", r.stderr,
		`^driftless: --severity: expected one of CRITICAL, HIGH, MEDIUM, LOW, UNSPECIFIED, got "urgent"$`)

	r = driftless(t, "status", "-C", dir, "--association", "web-baseline", "--json", "--fail-on-noncompliant").wantCode(t, exitDrift)
	rows := decodeJSON[[]complianceJSON](t, r.stdout)
	if len(rows) != 3 {
		t.Fatalf("status --json: %d rows, want 3:\n%s", len(rows), r.stdout)
	}
	web1 := rows[0]
	if web1.Association != "web-baseline" || web1.Host != "web-1" || web1.Compliance != journal.NonCompliant ||
		web1.Severity != "HIGH" || web1.RunID != 3 || web1.Mode != "apply" || web1.RunAt == nil ||
		*web1.RunAt != "2026-11-20T12:00:00Z" || web1.HostStatus != "Unreachable" ||
		web1.Error != "dial tcp 10.0.1.11:22: connect: connection refused" || web1.Steps != 0 {
		t.Errorf("status --json row 0 = %+v", web1)
	}
	if web2 := rows[1]; web2.Compliance != journal.Compliant || web2.Steps != 3 || web2.DriftedSteps != 1 || web2.CorrectedSteps != 1 {
		t.Errorf("status --json row 1 = %+v", web2)
	}
	// snake_case keys, exactly these.
	var raw []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(raw[1]))
	for k := range raw[1] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"association", "compliance", "corrected_steps", "drifted_steps", "failed_steps", "host",
		"host_status", "mode", "run_at", "run_id", "severity", "steps"}
	if !slices.Equal(keys, want) {
		t.Errorf("status --json keys %v, want %v", keys, want)
	}
}

func TestQueryHistory(t *testing.T) {
	dir := queryDir(t)

	r := driftless(t, "history", "-C", dir).wantCode(t, exitOK)
	wantLines(t, "history", r.stdout,
		`^RUN +ASSOCIATION +MODE +TRIGGER +STARTED +DURATION +STATUS +HOSTS +DRIFTED$`,
		`^5 +web-baseline +check +schedule +\S+ \S+Z +1s +Success +1 Success +1$`,
		`^4 +exec: uptime +exec +exec +2026-11-20 13:00:00Z +1s +Success +1 Success +-$`,
		`^3 +web-baseline +apply +change +2026-11-20 12:00:00Z +1m0s +Failed +1 Success, 1 Unreachable +1 corrected$`,
		`^2 +db-backup +check +schedule +2026-11-20 11:00:00Z +2s +Success +2 Success +1$`,
		`^1 +web-baseline +apply +manual +2026-11-20 10:00:00Z +5m0s +Failed +1 Success, 1 Failed +2, 1 corrected$`,
		`^6 +db-backup +apply +manual +2026-11-20 09:00:00Z +- +Interrupted +1 Interrupted +0$`,
	)
	// Newest first, by start time (run 6 started first).
	var order []string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n")[1:] {
		order = append(order, strings.Fields(l)[0])
	}
	if want := []string{"5", "4", "3", "2", "1", "6"}; !slices.Equal(order, want) {
		t.Errorf("history order %v, want %v", order, want)
	}

	r = driftless(t, "history", "-C", dir, "--limit", "2").wantCode(t, exitOK)
	wantLines(t, "history --limit 2", r.stdout, `^5 `, `^4 `)
	wantNoLines(t, "history --limit 2", r.stdout, `^3 `)
	wantLines(t, "history --limit 2 stderr", r.stderr, `^newest 2 runs shown; --limit 0 shows all$`)

	// Exactly as many runs as the limit: no note.
	r = driftless(t, "history", "-C", dir, "-n", "6").wantCode(t, exitOK)
	wantNoLines(t, "history -n 6 stderr", r.stderr, `newest`)

	r = driftless(t, "history", "-C", dir, "--host", "web-2").wantCode(t, exitOK)
	wantLines(t, "history --host web-2", r.stdout, `^3 +web-baseline `, `^1 +web-baseline `)
	wantNoLines(t, "history --host web-2", r.stdout, `^[2456] `)

	r = driftless(t, "history", "-C", dir, "--association", "db-backup", "--limit", "1").wantCode(t, exitOK)
	wantLines(t, "history --association db-backup", r.stdout, `^2 +db-backup `)
	wantNoLines(t, "history --association db-backup", r.stdout, `^6 `, `web-baseline`)

	r = driftless(t, "history", "-C", dir, "--association", "nope").wantCode(t, exitOK)
	wantLines(t, "history --association nope", r.stderr, `^no run matches --association nope$`)

	r = driftless(t, "history", "-C", dir, "--limit", "-1").wantCode(t, exitInvalid)
	wantLines(t, "history --limit -1", r.stderr, `--limit: expected a number of runs, 0 or more, got -1`)

	r = driftless(t, "--json", "history", "-C", dir, "--host", "web-1", "--limit", "0").wantCode(t, exitOK)
	runs := decodeJSON[historyJSON](t, r.stdout).Runs
	if len(runs) != 3 || runs[0].ID != 4 || runs[1].ID != 3 || runs[2].ID != 1 {
		t.Fatalf("history --json --host web-1: %s", r.stdout)
	}
	exec, r1 := runs[0], runs[2]
	if exec.Mode != "exec" || exec.Command != "uptime" || exec.Association != "" || exec.Trigger != "exec" {
		t.Errorf("history --json exec run = %+v", exec)
	}
	if r1.Association != "web-baseline" || r1.Document != "baseline" || r1.DocHash != "0123456789abcdef0123" ||
		r1.Status != "Failed" || r1.Severity != "HIGH" || r1.Trigger != "manual" ||
		r1.StartedAt == nil || *r1.StartedAt != "2026-11-20T10:00:00Z" ||
		r1.EndedAt == nil || *r1.EndedAt != "2026-11-20T10:05:00Z" ||
		r1.DurationSeconds == nil || *r1.DurationSeconds != 300 ||
		r1.Counts["Success"] != 1 || r1.Counts["Failed"] != 1 || len(r1.Counts) != 2 || r1.PID != os.Getpid() ||
		r1.DriftedHosts != 2 || r1.CorrectedHosts != 1 {
		t.Errorf("history --json run 1 = %+v", r1)
	}
	if !strings.Contains(r.stdout, `"started_at": "2026-11-20T10:00:00Z"`) || !strings.Contains(r.stdout, `"counts": {`) {
		t.Errorf("history --json keys:\n%s", r.stdout)
	}
}

func TestQueryShow(t *testing.T) {
	dir := queryDir(t)

	r := driftless(t, "show", "1", "-C", dir).wantCode(t, exitOK)
	wantLines(t, "show 1", r.stdout,
		`^Run 1: web-baseline  Failed$`,
		`^  document   baseline \(0123456789ab\)$`,
		`^  mode       apply$`,
		`^  trigger    manual$`,
		`^  severity   HIGH$`,
		`^  hosts      1 Success, 1 Failed$`,
		`^  started    2026-11-20 10:00:00Z$`,
		`^  ended      2026-11-20 10:05:00Z \(5m0s\)$`,
		`^Host web-1  Success  started 2026-11-20 10:00:00Z, took 4s$`,
		`^  1\. conf-dir \(directory\)  Compliant  40ms$`,
		`^  2\. config \(file\)  Corrected  drifted  40ms$`,
		`^     what differed:$`,
		// The diff as it is, indented.
		`^       --- ~/app/conf/app.toml \(on host\)\n       \+\+\+ ~/app/conf/app.toml \(wanted\)\n       @@ -1,2 \+1,2 @@\n        \[server\]\n       -port = 80\n       \+port = 8080\n       mode 0600 -> 0644$`,
		`^  3\. installed \(shell\)  Success  exit 0  3.2s$`,
		`^     stdout:\n       install line 1\n       install line 2\n`,
		`^       install line 40\n       … 61 more lines; driftless show 1 --json has it all$`,
		// Escape sequences from the host are shown, not played.
		`^     stderr:\n       warning: \\x1b\[33mslow\\x1b\[0m mirror$`,
		`^Host web-2  Failed  started 2026-11-20 10:00:00Z, took 2s$`,
		`^  error: step config failed$`,
		`^  detail: accepted new host key SHA256:abc$`,
		`^  2\. config \(file\)  Failed  drifted  40ms\n     error: chmod ~/app/conf/app.toml: permission denied\n     what differed:\n       mode 0600 -> 0644$`,
		`^  3\. installed \(shell\)  Skipped  \(stopped\)  40ms$`,
	)
	wantNoLines(t, "show 1", r.stdout, `install line 41`, `\x1b`)

	// --host narrows it; --json has all of the output, and the escape
	// sequence that text mode would not print raw.
	r = driftless(t, "show", "-C", dir, "1", "--host", "web-1", "--json").wantCode(t, exitOK)
	shown := decodeJSON[runsJSON](t, r.stdout)
	if len(shown.Runs) != 1 {
		t.Fatalf("show --json: %d runs, want 1:\n%s", len(shown.Runs), r.stdout)
	}
	show := shown.Runs[0]
	if show.ID != 1 || show.Status != "Failed" || len(show.Hosts) != 1 || show.Hosts[0].Host != "web-1" {
		t.Fatalf("show --json --host web-1:\n%s", r.stdout)
	}
	h := show.Hosts[0]
	if h.Status != "Success" || h.StartedAt == nil || *h.StartedAt != "2026-11-20T10:00:00Z" ||
		h.DurationSeconds == nil || *h.DurationSeconds != 4 || len(h.Steps) != 3 {
		t.Errorf("show --json host = %+v", h)
	}
	cfg, inst := h.Steps[1], h.Steps[2]
	if cfg.Index != 1 || cfg.Name != "config" || cfg.Action != "file" || cfg.Status != "Corrected" || !cfg.Drifted ||
		cfg.Differ != queryDiff+"mode 0600 -> 0644" || cfg.ExitCode != nil {
		t.Errorf("show --json step config = %+v", cfg)
	}
	if inst.ExitCode == nil || *inst.ExitCode != 0 || !strings.Contains(inst.Stdout, "install line 100\n\x1b[31mred") ||
		inst.Stderr != "warning: \x1b[33mslow\x1b[0m mirror\n" || inst.DurationSeconds != 3.2 || inst.StdoutTruncated {
		t.Errorf("show --json step installed = %+v", inst)
	}
	// exit_code is null when no process ran; empty optional keys are left out.
	if !strings.Contains(r.stdout, `"exit_code": null`) || strings.Contains(r.stdout, `"skip_reason"`) {
		t.Errorf("show --json: want a null exit_code and no skip_reason:\n%s", r.stdout)
	}

	r = driftless(t, "show", "-C", dir, "1", "--host", "web-1").wantCode(t, exitOK)
	wantLines(t, "show --host web-1", r.stdout, `^Host web-1  Success`)
	wantNoLines(t, "show --host web-1", r.stdout, `web-2`)
	r = driftless(t, "show", "-C", dir, "#4").wantCode(t, exitOK)
	wantLines(t, "show #4", r.stdout, `^Run 4: exec  Success$`, `^  command    uptime$`, `^        10:00:00 up 3 days$`)
	wantNoLines(t, "show #4", r.stdout, `severity`)

	// The interrupted run: recovered when the journal was opened.
	r = driftless(t, "show", "-C", dir, "6").wantCode(t, exitOK)
	wantLines(t, "show 6", r.stdout, `^Run 6: db-backup  Interrupted$`, `^Host db-1  Interrupted`, `^  no step recorded before the process died$`,
		`^  ended      - \(interrupted; last activity recorded 2026-11-20 09:00:00Z\)$`,
		`^  error: driftless: the process recording this run is gone$`,
		`^  recorded   by pid 4242 on other-box$`)

	// What is not there is an error, exit 1.
	r = driftless(t, "show", "-C", dir, "99").wantCode(t, exitInvalid)
	wantLines(t, "show 99", r.stderr, `^driftless: show: run 99 is not in the journal .*journal\.db$`,
		`^\thint: driftless history lists the runs$`)
	if r.stdout != "" {
		t.Errorf("show 99 printed %q", r.stdout)
	}
	r = driftless(t, "show", "-C", dir, "1", "--host", "db-9").wantCode(t, exitInvalid)
	wantLines(t, "show --host db-9", r.stderr, `^driftless: show: host db-9 is not in run 1$`, `^\thint: its hosts: web-1, web-2$`)
	r = driftless(t, "show", "-C", dir, "latest").wantCode(t, exitInvalid)
	wantLines(t, "show latest", r.stderr, `RUN: expected a run id \(a positive integer\), got "latest"`)
	r = driftless(t, "show", "-C", dir).wantCode(t, exitInvalid)
	wantLines(t, "show", r.stderr, `show takes one RUN id, got 0 arguments`)
}

func TestQueryDrift(t *testing.T) {
	dir := queryDir(t)

	// By default: the last 24 hours, which hold run 5 only.
	r := driftless(t, "drift", "-C", dir).wantCode(t, exitOK)
	wantLines(t, "drift", r.stdout,
		`^TIME +RUN +ASSOCIATION +HOST +STEP +OUTCOME +WHAT DIFFERED$`,
		`^\S+ \S+Z +5 +web-baseline +web-3 +config +detected +mode 0600 -> 0644$`)
	if n := strings.Count(r.stdout, "\n"); n != 2 {
		t.Errorf("drift printed %d lines, want 2:\n%s", n, r.stdout)
	}
	wantLines(t, "drift stderr", r.stderr, `^1 drift event since \S+ \S+Z$`)

	r = driftless(t, "drift", "-C", dir, "--since", "all").wantCode(t, exitOK)
	wantLines(t, "drift --since all", r.stdout,
		`^2026-11-20 12:00:30Z +3 +web-baseline +web-2 +config +corrected +mode 0600 -> 0644$`,
		`^2026-11-20 11:00:00Z +2 +db-backup +db-1 +cron +detected +missing$`,
		`^2026-11-20 10:00:00Z +1 +web-baseline +web-1 +config +corrected +~/app/conf/app.toml: \+1 -1 lines; mode 0600 -> 0644$`,
		`^2026-11-20 10:00:00Z +1 +web-baseline +web-2 +config +failed +mode 0600 -> 0644$`,
	)
	wantLines(t, "drift --since all stderr", r.stderr, `^5 drift events in the journal$`)
	var order []string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n")[1:] {
		order = append(order, strings.Fields(l)[2])
	}
	if want := []string{"5", "3", "2", "1", "1"}; !slices.Equal(order, want) {
		t.Errorf("drift --since all: runs %v, want %v (newest first)", order, want)
	}

	// An RFC 3339 time, a date, and days.
	r = driftless(t, "drift", "-C", dir, "--since", "2026-11-20T10:30:00Z").wantCode(t, exitOK)
	wantLines(t, "drift --since T10:30", r.stdout, ` +3 +web-baseline +web-2 `, ` +2 +db-backup `, ` +5 `)
	wantNoLines(t, "drift --since T10:30", r.stdout, ` +1 +web-baseline `)
	r = driftless(t, "drift", "-C", dir, "--since", "2026-11-21").wantCode(t, exitOK)
	wantNoLines(t, "drift --since 2026-11-21", r.stdout, `2026-11-20`)
	wantLines(t, "drift --since 2026-11-21", r.stdout, ` +5 +web-baseline `)
	days := int(time.Since(queryT0).Hours()/24) + 1
	r = driftless(t, "drift", "-C", dir, "--since", fmt.Sprintf("%dd", days), "--association", "db-backup").wantCode(t, exitOK)
	wantLines(t, "drift --since Nd --association db-backup", r.stdout, ` +2 +db-backup +db-1 +cron `)
	wantNoLines(t, "drift --since Nd --association db-backup", r.stdout, `web-baseline`)

	r = driftless(t, "drift", "-C", dir, "--since", "30m").wantCode(t, exitOK)
	if r.stdout != "" {
		t.Errorf("drift --since 30m printed %q", r.stdout)
	}
	wantLines(t, "drift --since 30m", r.stderr, `^no drift since \S+ \S+Z; --since all looks further back$`)

	r = driftless(t, "drift", "-C", dir, "--since", "yesterday").wantCode(t, exitInvalid)
	wantLines(t, "drift --since yesterday", r.stderr,
		`^driftless: --since: expected a duration \(30m, 24h, 7d\), an RFC 3339 time \(2026-11-25T21:00:00Z\) or all, got "yesterday"$`)

	r = driftless(t, "drift", "-C", dir, "--since", "all", "--host", "web-1", "-o", "json").wantCode(t, exitOK)
	events := decodeJSON[[]driftEventJSON](t, r.stdout)
	if len(events) != 1 {
		t.Fatalf("drift --json --host web-1: %s", r.stdout)
	}
	e := events[0]
	if e.At == nil || *e.At != "2026-11-20T10:00:00Z" || e.RunID != 1 || e.Association != "web-baseline" || e.Mode != "apply" ||
		e.Host != "web-1" || e.StepIndex != 1 || e.Step != "config" || e.Action != "file" || e.Status != "Corrected" ||
		e.Outcome != "corrected" || e.Differ != queryDiff+"mode 0600 -> 0644" {
		t.Errorf("drift --json event = %+v", e)
	}
}

// Without a journal, the queries show nothing and say why; they do not
// create it.
func TestQueryNoJournal(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".driftless", "journal.db")
	for _, cmd := range []string{"status", "history", "drift"} {
		r := driftless(t, cmd, "-C", dir).wantCode(t, exitOK)
		if r.stdout != "" || r.stderr != "no runs recorded yet (journal "+path+")\n" {
			t.Errorf("%s: stdout %q, stderr %q", cmd, r.stdout, r.stderr)
		}
		r = driftless(t, cmd, "-C", dir, "--json").wantCode(t, exitOK)
		want := "[]\n"
		if cmd == "history" {
			want = "{\n  \"runs\": []\n}\n"
		}
		if r.stdout != want {
			t.Errorf("%s --json: stdout %q", cmd, r.stdout)
		}
	}
	r := driftless(t, "status", "-C", dir, "--fail-on-noncompliant").wantCode(t, exitOK)
	if r.stdout != "" {
		t.Errorf("status --fail-on-noncompliant without a journal printed %q", r.stdout)
	}
	r = driftless(t, "show", "1", "-C", dir).wantCode(t, exitInvalid)
	wantLines(t, "show without journal", r.stderr, `^no runs recorded yet \(journal .*\)$`, `^driftless: show: run 1 is not in the journal$`)
	if _, err := os.Stat(filepath.Join(dir, ".driftless")); !os.IsNotExist(err) {
		t.Errorf("reading created %s/.driftless (%v)", dir, err)
	}
}

// --journal and DRIFTLESS_JOURNAL move the journal away from the config
// dir.
func TestQueryJournalPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "elsewhere.db")
	seedQueryJournal(t, path)
	empty := t.TempDir()

	r := driftless(t, "history", "-C", empty, "--journal", path, "--limit", "1").wantCode(t, exitOK)
	wantLines(t, "history --journal", r.stdout, `^5 +web-baseline `)

	t.Setenv("DRIFTLESS_JOURNAL", path)
	r = driftless(t, "status", "-C", empty, "--association", "db-backup").wantCode(t, exitOK)
	wantLines(t, "status with DRIFTLESS_JOURNAL", r.stdout, `^db-backup +db-1 +NON_COMPLIANT `)

	t.Setenv("DRIFTLESS_JOURNAL", "")
	r = driftless(t, "status", "-C", empty).wantCode(t, exitOK)
	wantLines(t, "status in an empty dir", r.stderr, `^no runs recorded yet \(journal `+regexp.QuoteMeta(filepath.Join(empty, ".driftless", "journal.db"))+`\)$`)
}

func TestQueryHelpers(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"24h":                       now.Add(-24 * time.Hour),
		"30m":                       now.Add(-30 * time.Minute),
		"7d":                        now.Add(-7 * 24 * time.Hour),
		"1d12h":                     now.Add(-36 * time.Hour),
		"1.5d":                      now.Add(-36 * time.Hour),
		"all":                       {},
		"0":                         {},
		"2026-11-01":                time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		"2026-11-01T10:00:00+02:00": time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC),
		"1500-01-01":                {}, // before what the journal can date: everything
	} {
		got, err := parseSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "-1h", "3x", "1d-", "7dd", "2026-13-01", "2999-01-01"} {
		if got, err := parseSince(in, now); err == nil {
			t.Errorf("parseSince(%q) = %v, want an error", in, got)
		}
	}

	for differ, want := range map[string]string{
		"missing":               "missing",
		"mode 0644 -> 0600":     "mode 0644 -> 0600",
		"missing\n" + queryDiff: "missing; ~/app/conf/app.toml: +1 -1 lines",
		"--- a/x\n+++ b/x\n@@ -1 +1,2 @@\n--- old dashes\n+new\n+more\n\\ No newline at end of file\nowner a -> b": "x: +2 -1 lines; owner a -> b",
		"--- /etc/motd\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-hi\n":                                                     "/etc/motd: +0 -1 line",
	} {
		if got := differGist(journal.DriftEvent{Differ: differ}, 72); got != want {
			t.Errorf("differGist(%q) = %q, want %q", differ, got, want)
		}
	}
	if got := differGist(journal.DriftEvent{Error: "boom\nmore"}, 72); got != "error: boom" {
		t.Errorf("differGist(error) on a terminal = %q", got)
	}
	long := "boom " + strings.Repeat("x", 100) + "\nmore"
	if got := differGist(journal.DriftEvent{Error: long}, 0); got != "error: boom "+strings.Repeat("x", 100)+"; more" {
		t.Errorf("differGist(error) off a terminal = %q, want it whole", got)
	}

	if got := safeText("ok\ttab\r\n\x1b[2Jbad\x00\xff"); got != "ok\ttab\n\\x1b[2Jbad\\x00\\xff" {
		t.Errorf("safeText = %q", got)
	}
	if got := countsText(map[journal.Status]int{"Skipped": 1, "Failed": 2, "Success": 3, "Weird": 1, "TimedOut": 0}); got != "3 Success, 2 Failed, 1 Skipped, 1 Weird" {
		t.Errorf("countsText = %q", got)
	}
	for d, want := range map[time.Duration]string{
		850 * time.Millisecond: "850ms", 4210 * time.Millisecond: "4.2s", 192 * time.Second: "3m12s",
	} {
		if got := durationText(d); got != want {
			t.Errorf("durationText(%v) = %q, want %q", d, got, want)
		}
	}
	if got := textTime(time.Date(2026, 11, 25, 22, 4, 5, 0, time.FixedZone("CET", 3600))); got != "2026-11-25 21:04:05Z" {
		t.Errorf("textTime = %q", got)
	}
}
