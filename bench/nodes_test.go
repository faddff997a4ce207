package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/pgtest"
	"github.com/driftless-dev/driftless/journal"
)

// tally: host executions per node from the journal's runs, and every
// host that did not run exactly once with success, or ran without being
// in the inventory.
func TestTally(t *testing.T) {
	runs := []journal.Run{{ID: 1, Node: "n1"}, {ID: 2, Node: "n2"}, {ID: 3, Node: "n3"}}
	results := map[int64][]journal.HostResult{
		1: {{Host: "web-1", Status: journal.StatusSuccess}, {Host: "web-2", Status: journal.StatusSuccess}},
		2: {{Host: "web-3", Status: journal.StatusSuccess}, {Host: "web-1", Status: journal.StatusSuccess}, {Host: "gone", Status: journal.StatusSuccess}},
		3: {{Host: "web-4", Status: journal.StatusFailed}},
	}
	perNode, problems := tally(runs, results, []string{"web-1", "web-2", "web-3", "web-4", "web-5"})
	if got := fmtPerNode(perNode); got != "n1 2, n2 3, n3 1" {
		t.Errorf("per node: %q", got)
	}
	want := []string{
		"web-1 ran 2 times [Success Success] (the journal)",
		"web-4 ran 1 times [Failed] (the journal)",
		"web-5 ran 0 times [] (the journal)",
		"gone is not in the inventory but ran (the journal)",
	}
	if !slices.Equal(problems, want) {
		t.Errorf("problems:\n%s\nwant\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
	if got := onceText(problems); got != "**not every host once**: "+strings.Join(want[:3], "; ")+" and 1 more" {
		t.Errorf("onceText: %q", got)
	}
	if _, problems := tally(runs[:1], results, []string{"web-1", "web-2"}); len(problems) != 0 || onceText(problems) != "every host once" {
		t.Errorf("every host once: %v", problems)
	}
}

// parseProcStat and treeCPU: a process's CPU and its children's, from a
// /proc laid out as Linux does (a command name may hold spaces and
// parentheses); grandchildren, other processes and unreadable entries
// are left out.
func TestTreeCPU(t *testing.T) {
	ppid, cpu, ok := parseProcStat("4321 (postgres: bench (x) y) S 99 4321 4321 0 -1 4194560 100 0 0 0 150 50 20 30 20 0 1 0 5 6 7\n")
	if !ok || ppid != 99 || cpu != 2500*time.Millisecond {
		t.Errorf("parseProcStat = %d, %s, %v; want 99, 2.5s", ppid, cpu, ok)
	}
	for _, bad := range []string{"", "1 (x S 1", "1 (x) S 1 2 3", "1 (x) S p 1 1 0 -1 0 0 0 0 0 1 1 1 1"} {
		if _, _, ok := parseProcStat(bad); ok {
			t.Errorf("parseProcStat(%q) accepted", bad)
		}
	}
	proc := t.TempDir()
	stat := func(pid, ppid, utime, stime, cutime, cstime int) string {
		return fmt.Sprintf("%d (postgres) S %d 1 1 0 -1 0 0 0 0 0 %d %d %d %d 20 0 1 0\n", pid, ppid, utime, stime, cutime, cstime)
	}
	for pid, content := range map[string]string{
		"10":   stat(10, 1, 100, 50, 30, 20), // the postmaster: 2 s
		"11":   stat(11, 10, 40, 10, 0, 0),   // a backend: 0.5 s
		"12":   stat(12, 10, 5, 5, 0, 0),     // the checkpointer: 0.1 s
		"13":   stat(13, 11, 500, 0, 0, 0),   // not a child
		"14":   stat(14, 1, 700, 0, 0, 0),    // another process
		"15":   "garbage",
		"self": stat(10, 1, 100, 50, 30, 20),
	} {
		if err := os.MkdirAll(filepath.Join(proc, pid), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(proc, pid, "stat"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := treeCPU(proc, 10); got != 2600*time.Millisecond {
		t.Errorf("treeCPU = %s, want 2.6s", got)
	}
	if got := treeCPU(proc, 99); got != 0 {
		t.Errorf("treeCPU of no process = %s", got)
	}
	if got := treeCPU(proc, 0); got != 0 {
		t.Errorf("treeCPU of a stopped server = %s", got)
	}
}

// The nodes mode on 4 simulated hosts, one round, with a driftless built
// from this module: both tables, every host run once in the spread, the
// one node running them all, the three nodes sharing them.
func TestNodesModeSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds driftless and starts PostgreSQL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	root, err := moduleRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	bin := filepath.Join(work, "driftless")
	if err := buildDriftless(ctx, root, bin); err != nil {
		t.Fatal(err)
	}
	o, err := parseFlags([]string{"-mode", "nodes", "-sim-hosts", "4", "-scale-runs", "1", "-concurrency", "4"}, new(strings.Builder))
	if err != nil || !o.wants("nodes") || o.wants("scale") {
		t.Fatalf("-mode nodes: %+v %v", o, err)
	}
	env := &benchEnv{bin: bin, work: work, logf: t.Logf}
	secs, err := nodesMode(ctx, o, env)
	if errors.Is(err, pgtest.ErrUnavailable) && !pgtest.Required() {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(secs) != 2 || len(secs[0].rows) != 2 || len(secs[1].rows) != 2 {
		t.Fatalf("sections: %+v", secs)
	}
	cost, spread := secs[0], secs[1]
	col := func(s *section, row int, name string) string {
		i := slices.Index(s.header, name)
		if i < 0 {
			t.Fatalf("no column %q in %q", name, s.header)
		}
		return s.rows[row][i]
	}
	if got := col(cost, 1, "measurement"); got != "driftless check, converged, PostgreSQL journal" || col(cost, 1, "target") != "≤ 1.15× SQLite" {
		t.Errorf("journal table:\n%s", cost.markdown())
	}
	for row := range 2 {
		if col(spread, row, "every host once") != "yes" {
			t.Errorf("row %d: not every host once:\n%s", row, spread.markdown())
		}
	}
	if got := col(spread, 0, "host executions per node"); got != "n1 4" {
		t.Errorf("one node ran %q, want n1 4", got)
	}
	total := 0
	for part := range strings.SplitSeq(col(spread, 1, "host executions per node"), ", ") {
		var node string
		var n int
		if _, err := fmt.Sscanf(part, "%s %d", &node, &n); err != nil || !slices.Contains([]string{"n1", "n2", "n3"}, node) {
			t.Errorf("three nodes: %q", part)
		}
		total += n
	}
	if total != 4 {
		t.Errorf("three nodes ran %d host executions, want 4:\n%s", total, spread.markdown())
	}
	if most, err := strconv.Atoi(col(spread, 0, "most at once")); err != nil || most < 1 || most > 4 {
		t.Errorf("most at once %d %v:\n%s", most, err, spread.markdown())
	}
	t.Logf("\n%s\n%s", cost.markdown(), spread.markdown())
}

// -mode nodes and -step-sleep, and the step's sleep as sleep's argument.
func TestNodesFlags(t *testing.T) {
	o, err := parseFlags([]string{"-mode", "nodes", "-step-sleep", "1500ms"}, new(strings.Builder))
	if err != nil || !o.wants("nodes") || o.wants("scale") || o.stepSleep != 1500*time.Millisecond || sleepArg(o.stepSleep) != "1.5" {
		t.Errorf("-mode nodes -step-sleep 1500ms: %+v %v", o, err)
	}
	if o, _ := parseFlags(nil, new(strings.Builder)); !o.wants("nodes") || sleepArg(o.stepSleep) != "1" {
		t.Errorf("defaults: %+v", o)
	}
	if _, err := parseFlags([]string{"-step-sleep", "0s"}, new(strings.Builder)); err == nil {
		t.Error("-step-sleep 0s accepted")
	}
	if doc := spreadDoc("1"); !strings.Contains(doc, `run = "echo spread >> ~/steps; sleep 1"`) {
		t.Errorf("the spread's document:\n%s", doc)
	}
}

// stepsOnce: a host whose ~/steps holds one line ran the step once; none,
// two, or anything else is named.
func TestStepsOnce(t *testing.T) {
	var hosts []host
	for i, content := range []string{"spread\n", "", "spread\nspread\n", "spread"} {
		h := host{Name: fmt.Sprintf("h%d", i+1), Home: t.TempDir()}
		if content != "" {
			if err := os.WriteFile(filepath.Join(h.Home, "steps"), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		hosts = append(hosts, h)
	}
	problems, err := stepsOnce(hosts)
	want := []string{"h2 ran the step 0 times (its ~/steps)", "h3 ran the step 2 times (its ~/steps)", "h4 ran the step 0 times (its ~/steps)"}
	if err != nil || !slices.Equal(problems, want) {
		t.Errorf("stepsOnce = %q, %v; want %q", problems, err, want)
	}
}
