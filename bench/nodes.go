package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/driftless-dev/driftless/internal/pgtest"
	"github.com/driftless-dev/driftless/journal"
)

// The nodes mode measures issue 17's targets (SPEC §9) on simulated hosts
// and a throwaway PostgreSQL server that the bench starts (internal/pgtest,
// Debian's postgresql package):
//
//   - the journal's cost: a converged check with the SQLite journal and
//     with the PostgreSQL journal, alternated in the same rounds;
//   - spreading a tick: a due round of a one-step document that sleeps
//     1 s, run by one `tick --max-hosts 100` alone and by three at once on
//     one journal, the association's max_concurrency 300: how long until
//     all have finished, the most hosts running at once (the simulated
//     hosts' own records of their sessions, sshsim.Fleet.Busy), and which
//     node ran each host (the journal).
const (
	spreadNodes       = 3
	spreadMaxHosts    = 100
	spreadConcurrency = 300

	// Issue 17's targets.
	pgTimeTarget     = 1.15 // a check on PostgreSQL, times the one on SQLite
	spreadTimeTarget = 0.5  // three nodes' time, times one node's
)

// pgSettings run the throwaway server as PostgreSQL ships (pgtest turns
// these off to make tests fast): a journal's commits wait for the WAL on
// disk, as a team's server would.
var pgSettings = []string{"fsync=on", "full_page_writes=on", "synchronous_commit=on"}

// nodesBench is what the nodes mode's measurements share.
type nodesBench struct {
	o   options
	env *benchEnv
	fl  *fleet
	pg  *pgtest.Server
	dir string // config dirs
	// sqliteDir holds the SQLite journal, on the file system of the
	// server's data directory, so that both journals write to the same
	// kind of storage.
	sqliteDir string
}

// nodesMode runs the nodes mode's two measurements. Without PostgreSQL it
// is an error, or with -mode all a section saying why it was not measured.
func nodesMode(ctx context.Context, o options, env *benchEnv) ([]*section, error) {
	env.logf("nodes: starting a PostgreSQL server")
	pg, err := pgtest.StartServer(pgSettings...)
	if errors.Is(err, pgtest.ErrUnavailable) && o.mode == "all" {
		env.logf("nodes mode not measured: %v", err)
		return []*section{{title: "Several nodes on one PostgreSQL journal", header: []string{"measurement", "result"},
			rows: [][]string{{"nodes mode", "not measured: " + err.Error()}}}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("start PostgreSQL: %w", err)
	}
	defer pg.Close()
	sqliteDir, err := os.MkdirTemp(filepath.Dir(pg.SocketDir), "driftless-bench-sqlite-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		env.logf("the SQLite journal's directory %s is kept", sqliteDir)
	} else {
		defer os.RemoveAll(sqliteDir)
	}
	dir := filepath.Join(env.work, "nodes")
	env.logf("nodes: starting %d simulated hosts", o.simHosts)
	fl, err := startSimFleet(o.simHosts, dir)
	if err != nil {
		return nil, err
	}
	defer fl.close()
	nb := &nodesBench{o: o, env: env, fl: fl, pg: pg, dir: dir, sqliteDir: sqliteDir}
	costs, err := nb.journalCost(ctx)
	if err != nil {
		return nil, fmt.Errorf("journal cost: %w", err)
	}
	spread, err := nb.spread(ctx)
	if err != nil {
		return nil, fmt.Errorf("spreading a tick: %w", err)
	}
	return []*section{costs, spread}, nil
}

// serverCPU is the CPU time the PostgreSQL server has used so far, every
// process of it (0 where /proc does not tell).
func (nb *nodesBench) serverCPU() time.Duration { return treeCPU("/proc", nb.pg.PID()) }

// journalCost: a converged check with each journal, alternated.
func (nb *nodesBench) journalCost(ctx context.Context) (*section, error) {
	o, env := nb.o, nb.env
	cd, err := writeConfig(filepath.Join(nb.dir, "check"), nb.fl.hosts, nb.fl.key, baselineDoc, o.concurrency)
	if err != nil {
		return nil, err
	}
	pgURL, err := nb.pg.CreateDB("bench_check")
	if err != nil {
		return nil, err
	}
	journals := []string{filepath.Join(nb.sqliteDir, "journal.db"), pgURL}
	env.logf("nodes: converging %d hosts (apply with each journal)", len(nb.fl.hosts))
	if err := nb.fl.reset(); err != nil {
		return nil, err
	}
	for _, jn := range journals {
		if _, err := env.driftless(ctx, cd, "--journal", jn, "apply"); err != nil {
			return nil, fmt.Errorf("setup apply: %w", err)
		}
	}
	if err := nb.fl.verify(); err != nil {
		return nil, err
	}
	sq := &measurement{name: "driftless check, converged, SQLite journal", hosts: len(nb.fl.hosts)}
	pg := &measurement{name: "driftless check, converged, PostgreSQL journal", hosts: len(nb.fl.hosts)}
	var server []time.Duration
	for round := 1; round <= o.scaleRuns; round++ {
		order := []*measurement{sq, pg}
		if round%2 == 0 {
			order = []*measurement{pg, sq}
		}
		for _, m := range order {
			jn, before := journals[0], nb.serverCPU()
			if m == pg {
				jn = journals[1]
			}
			if err := m.record(ctx, nb.fl, func() (sample, error) { return env.driftless(ctx, cd, "--journal", jn, "check") }); err != nil {
				return nil, err
			}
			if m == pg {
				server = append(server, nb.serverCPU()-before)
			}
			env.progress(m, round, o.scaleRuns)
		}
	}
	return nb.costSection(sq, pg, server), nil
}

func (nb *nodesBench) costSection(sq, pg *measurement, server []time.Duration) *section {
	ratio := float64(median(pg)) / float64(max(median(sq), 1))
	cpuRatio := cpuTimes(pg, sq)
	row := func(m *measurement, times, cpuTimes, serverCPU, target, met string) []string {
		return []string{m.name, fmt.Sprint(m.hosts), fmtDur(minimum(m)), fmtDur(median(m)), times,
			fmtDur(medianCPU(m)), cpuTimes, serverCPU, fmtRSS(peak(m)), fmtSessions(m), target, met}
	}
	return &section{
		title: fmt.Sprintf("Journal: a converged check of %d simulated hosts, SQLite against PostgreSQL %d (max_concurrency %d, 5-step baseline)",
			len(nb.fl.hosts), nb.pg.Major, nb.o.concurrency),
		notes: []string{
			fmt.Sprintf("%d rounds, the two journals alternated (the first of a round changes every round), on the same converged hosts; each journal also recorded one apply first.", nb.o.scaleRuns),
			"PostgreSQL is a throwaway server the bench starts (initdb, then postgres on a unix socket, no TCP), with fsync, full_page_writes and synchronous_commit on, as PostgreSQL ships. Its data directory and the SQLite journal are on the same file system (" + filepath.Dir(nb.pg.SocketDir) + ").",
			"driftless CPU: user + system CPU of the driftless process (rusage). PostgreSQL server CPU: what every process of the server (postmaster, the backends serving driftless, the background writers) used during the check, from /proc: a bastion whose journal is on another machine does not pay it.",
			fmt.Sprintf("Target (issue 17): the check with the PostgreSQL journal takes at most %.2f× the time with SQLite (medians).", pgTimeTarget),
		},
		header: []string{"measurement", "hosts", "min", "median", "× SQLite (median)", "driftless CPU (median)", "× SQLite's CPU",
			"PostgreSQL server CPU (median)", "peak RSS", "sessions/host", "target", "met"},
		rows: [][]string{
			row(sq, "—", "—", "—", "", ""),
			row(pg, fmt.Sprintf("%.2f", ratio), fmt.Sprintf("%.2f", cpuRatio), fmtDur(medianOf(server)),
				fmt.Sprintf("≤ %.2f× SQLite", pgTimeTarget), verdict(round2(ratio) <= pgTimeTarget)),
		},
	}
}

// round2 rounds x to the two decimals the tables show, so that a verdict
// matches the figure printed.
func round2(x float64) float64 { return math.Round(x*100) / 100 }

// spreadStep is the step of the spread: a shell command that appends a
// line to ~/steps on the host (the shell's builtin echo: no process) and
// sleeps (sleep's argument, in seconds). When it ran, and how many hosts
// ran at once, the hosts' records of their sessions tell (fleet.busy):
// the step starts no program to read a clock.
func spreadStep(sleep string) string { return "echo spread >> ~/steps; sleep " + sleep }

// spreadDoc is the document of the spread: the step alone.
func spreadDoc(sleep string) string {
	return fmt.Sprintf("description = \"nodes bench: one step that sleeps %s s\"\n\n[[steps]]\nname = \"span\"\naction = \"shell\"\nrun = %q\n",
		sleep, spreadStep(sleep))
}

// sleepArg is d as sleep's argument: seconds, with a fraction if needed.
func sleepArg(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }

// spreadRun is one run of the spread: one or more nodes ticking at once.
type spreadRun struct {
	sample
	server time.Duration // PostgreSQL server CPU
	most   int           // most hosts running at once, from the hosts
	// toFirst is from starting the ticks to the first session's start on
	// a host, busy from then to the last session's end (the hosts'
	// records).
	toFirst, busy time.Duration
	perNode       map[string]int // host executions per node, from the journal
	// problems are hosts that did not run exactly once, successfully.
	problems []string
}

// spreadRows are the measurements of one node count.
type spreadRows struct {
	nodes int
	m     *measurement
	runs  []spreadRun
}

// spread: a due tick over every host, one node against three at once.
func (nb *nodesBench) spread(ctx context.Context) (*section, error) {
	o := nb.o
	cd, err := writeConfig(filepath.Join(nb.dir, "spread"), nb.fl.hosts, nb.fl.key, spreadDoc(sleepArg(o.stepSleep)), spreadConcurrency)
	if err != nil {
		return nil, err
	}
	assoc := fmt.Sprintf("[associations.spread]\ndocument = \"bench\"\ntargets = [\"*\"]\nmax_concurrency = \"%d\"\nschedule = \"rate(1 minute)\"\n", spreadConcurrency)
	if err := writeFiles(cd.dir, map[string]string{"associations.toml": assoc}); err != nil {
		return nil, err
	}
	n := len(nb.fl.hosts)
	one := &spreadRows{nodes: 1, m: &measurement{name: fmt.Sprintf("tick --max-hosts %d, 1 node", spreadMaxHosts), hosts: n}}
	three := &spreadRows{nodes: spreadNodes, m: &measurement{name: fmt.Sprintf("tick --max-hosts %d, %d nodes at once", spreadMaxHosts, spreadNodes), hosts: n}}
	for round := 1; round <= o.scaleRuns; round++ {
		order := []*spreadRows{one, three}
		if round%2 == 0 {
			order = []*spreadRows{three, one}
		}
		for _, rows := range order {
			r, err := nb.spreadOnce(ctx, cd, rows.nodes, round)
			if err != nil {
				return nil, err
			}
			rows.m.samples = append(rows.m.samples, r.sample)
			rows.runs = append(rows.runs, r)
			nb.env.logf("round %d/%d: %-40s %8s (first session %s, sessions %s)  cpu %s (hosts %s, server %s, machine %s)  at once %d  per node %s  %s  load %s",
				round, o.scaleRuns, rows.m.name, fmtDur(r.wall), fmtDur(r.toFirst), fmtDur(r.busy), fmtDur(r.cpu), fmtDur(r.others),
				fmtDur(r.server), fmtDur(r.machine), r.most, fmtPerNode(r.perNode), onceText(r.problems), loadAverage())
		}
	}
	return nb.spreadSection(one, three), nil
}

// spreadOnce runs one round of the spread with nodes ticks at once, on a
// database of its own, the hosts' ~/steps removed first.
func (nb *nodesBench) spreadOnce(ctx context.Context, cd *configDir, nodes, round int) (spreadRun, error) {
	var r spreadRun
	db := fmt.Sprintf("bench_spread_%d_%d", round, nodes)
	url, err := nb.pg.CreateDB(db)
	if err != nil {
		return r, err
	}
	defer nb.pg.DropDB(db)
	for _, h := range nb.fl.hosts {
		if err := os.Remove(filepath.Join(h.Home, "steps")); err != nil && !errors.Is(err, os.ErrNotExist) {
			return r, err
		}
	}
	// One round for every node: a tick's round is its --now's minute, and
	// ticks started on either side of a minute would be two rounds.
	settle(ctx)
	now := time.Now().UTC().Format(time.RFC3339)
	before, launched := nb.serverCPU(), time.Now()
	if r.sample, err = nb.tickNodes(ctx, cd, url, nodes, now); err != nil {
		return r, err
	}
	r.server = nb.serverCPU() - before
	busy := nb.fl.busy(launched)
	r.most = busy.Most
	if busy.Sessions > 0 {
		r.toFirst, r.busy = busy.First.Sub(launched), busy.Last.Sub(busy.First)
	}
	if r.problems, err = stepsOnce(nb.fl.hosts); err != nil {
		return r, err
	}
	perNode, problems, err := journalTally(ctx, url, nb.fl.hosts)
	if err != nil {
		return r, err
	}
	for i := range nodes {
		if _, ok := perNode[nodeName(i)]; !ok {
			perNode[nodeName(i)] = 0 // it claimed nothing: no run
		}
	}
	r.perNode = perNode
	r.problems = append(r.problems, problems...)
	return r, nil
}

// tickNodes starts nodes ticks at once (nodes n1, n2, ...) and waits for
// all: the wall time until the last ended, their CPU summed, the largest
// peak RSS.
func (nb *nodesBench) tickNodes(ctx context.Context, cd *configDir, url string, nodes int, now string) (sample, error) {
	samples := make([]sample, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	began, cpuBefore, machineBefore := time.Now(), usedCPU(), machineCPU()
	for i := range nodes {
		wg.Go(func() {
			samples[i], errs[i] = nb.env.driftless(ctx, cd, "--journal", url,
				"--node", nodeName(i), "tick", "--max-hosts", fmt.Sprint(spreadMaxHosts), "--now", now)
		})
	}
	wg.Wait()
	s := sample{wall: time.Since(began)}
	for _, c := range samples {
		s.cpu += c.cpu
		s.rss = max(s.rss, c.rss)
	}
	// The bench's own CPU and its ended children's, but for the nodes':
	// the simulated hosts and the commands they ran.
	if used := usedCPU(); used > 0 {
		s.others = max(used-cpuBefore-s.cpu, 0)
	}
	if m := machineCPU(); m > 0 {
		s.machine = m - machineBefore
	}
	return s, errors.Join(errs...)
}

// nodeName names the i'th node (from 0): n1, n2, ...
func nodeName(i int) string { return fmt.Sprintf("n%d", i+1) }

// stepsOnce lists the hosts whose ~/steps do not show exactly one run of
// the step.
func stepsOnce(hosts []host) ([]string, error) {
	var problems []string
	for _, h := range hosts {
		b, err := os.ReadFile(filepath.Join(h.Home, "steps"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		if string(b) != "spread\n" {
			problems = append(problems, fmt.Sprintf("%s ran the step %d times (its ~/steps)", h.Name, strings.Count(string(b), "\n")))
		}
	}
	return problems, nil
}

// journalTally reads the journal at url: host executions per node, and
// the hosts that the journal does not show run exactly once, with success.
func journalTally(ctx context.Context, url string, hosts []host) (map[string]int, []string, error) {
	j, err := journal.Open(url)
	if err != nil {
		return nil, nil, err
	}
	defer j.Close()
	runs, err := j.History(ctx, journal.HistoryFilter{})
	if err != nil {
		return nil, nil, err
	}
	results := map[int64][]journal.HostResult{}
	for _, r := range runs {
		_, hr, err := j.Show(ctx, r.ID, "")
		if err != nil {
			return nil, nil, err
		}
		results[r.ID] = hr
	}
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.Name
	}
	perNode, problems := tally(runs, results, names)
	return perNode, problems, nil
}

// tally counts the host executions of runs per node and lists the hosts
// of names that did not run exactly once with success, and hosts that
// are not among names.
func tally(runs []journal.Run, results map[int64][]journal.HostResult, names []string) (map[string]int, []string) {
	perNode := map[string]int{}
	ran := map[string][]journal.Status{}
	for _, r := range runs {
		for _, h := range results[r.ID] {
			perNode[r.Node]++
			ran[h.Host] = append(ran[h.Host], h.Status)
		}
	}
	var problems []string
	for _, n := range names {
		if st := ran[n]; len(st) != 1 || st[0] != journal.StatusSuccess {
			problems = append(problems, fmt.Sprintf("%s ran %d times %v (the journal)", n, len(st), st))
		}
		delete(ran, n)
	}
	for _, n := range slices.Sorted(maps.Keys(ran)) {
		problems = append(problems, fmt.Sprintf("%s is not in the inventory but ran (the journal)", n))
	}
	return perNode, problems
}

// fmtPerNode is "n1 667, n2 668, n3 665", nodes in order.
func fmtPerNode(perNode map[string]int) string {
	var parts []string
	for _, n := range slices.Sorted(maps.Keys(perNode)) {
		parts = append(parts, fmt.Sprintf("%s %d", n, perNode[n]))
	}
	return strings.Join(parts, ", ")
}

// onceText says whether every host ran exactly once.
func onceText(problems []string) string {
	if len(problems) == 0 {
		return "every host once"
	}
	shown := problems[:min(len(problems), 3)]
	more := ""
	if len(problems) > 3 {
		more = fmt.Sprintf(" and %d more", len(problems)-3)
	}
	return "**not every host once**: " + strings.Join(shown, "; ") + more
}

func (nb *nodesBench) spreadSection(one, three *spreadRows) *section {
	ratio := float64(median(three.m)) / float64(max(median(one.m), 1))
	row := func(rows *spreadRows, times string, mostTarget int, target string, timeOK bool) []string {
		most, once := 0, true
		var perNode []string
		var server, hosts, toFirst, spans []time.Duration
		var busy, machine []float64
		for _, r := range rows.runs {
			most = max(most, r.most)
			once = once && len(r.problems) == 0
			perNode = append(perNode, fmtPerNode(r.perNode))
			server, hosts = append(server, r.server), append(hosts, r.others)
			toFirst, spans = append(toFirst, r.toFirst), append(spans, r.busy)
			capacity := float64(time.Duration(runtime.NumCPU()) * max(r.wall, 1))
			busy = append(busy, float64(r.cpu+r.others+r.server)/capacity)
			machine = append(machine, float64(r.machine)/capacity)
		}
		slices.Sort(busy)
		slices.Sort(machine)
		met := verdict(timeOK && most <= mostTarget && once)
		return []string{rows.m.name, fmt.Sprint(rows.m.hosts), fmtDur(minimum(rows.m)), fmtDur(median(rows.m)), times,
			fmtDur(medianOf(toFirst)), fmtDur(medianOf(spans)), fmt.Sprint(most), strings.Join(perNode, " / "), verdict(once),
			perHost(medianCPU(rows.m), rows.m.hosts), perHost(medianOf(hosts), rows.m.hosts), fmtDur(medianOf(server)), fmt.Sprintf("%.0f%% (machine %.0f%%)", 100*busy[len(busy)/2], 100*machine[len(machine)/2]),
			fmtRSS(peak(rows.m)), target, met}
	}
	sec := &section{
		title: fmt.Sprintf("Spreading a tick: %d simulated hosts, a due step of %s s, max_concurrency %d, --max-hosts %d per node, PostgreSQL journal",
			len(nb.fl.hosts), sleepArg(nb.o.stepSleep), spreadConcurrency, spreadMaxHosts),
		notes: []string{
			fmt.Sprintf("%d rounds, one node and %d nodes alternated (the first of a round changes every round), each run on a fresh PostgreSQL database, so that every host is due: `driftless tick --node nK --max-hosts %d --now T`, the %d nodes started at once with the same T (a tick's round is its minute). Time: from starting the ticks until the last one exited.", nb.o.scaleRuns, spreadNodes, spreadMaxHosts, spreadNodes),
			"The step is a shell command on the simulated host (/bin/sh, as every command there, in the script driftless sends): `" + spreadStep(sleepArg(nb.o.stepSleep)) + "`. Most at once: the most hosts running a session at once (a command: here the script driftless sent, which holds the step), from the simulated hosts' own records, the largest over the rounds. Each host records in the simulator, with no process and no clock read in the host's shell, when a command was asked for and when it had ended (its process reaped, its output sent), before telling driftless how it ended: a host is counted from before its step starts until after it ends, so at least every step going on is. Until the first session: from starting the ticks to the first session on any host (the processes start, read the config dir, open the journal, claim); sessions: from then to the end of the last one.",
			"Host executions per node: from the journal (each run's node and its hosts), one entry per round. Every host once: each host's ~/steps holds one line (the step's builtin echo), and the journal one execution, Success.",
			"driftless CPU: user + system CPU of the tick processes, summed over the nodes, and per host of the fleet; hosts' CPU: the bench process's own (the hosts' SSH servers: key exchange, authentication, channels, starting commands) and that of the commands the simulated hosts ran (/bin/sh running driftless's script, sleep), and per host: on real hosts, other machines pay it. Each simulated host has its own TMPDIR, as each machine has its own /tmp and /dev/shm (with one for all, each driftless script swept every running host's private files). PostgreSQL server CPU: every process of the server, from /proc. CPUs busy: the three together over the machine's CPUs × the wall time, and in parentheses the whole machine's busy time (/proc/stat: other processes too) over the same: near 100% the spread is bound by this machine's CPUs, which run the hosts, the server and every node, as separate bastions would not be.",
			fmt.Sprintf("Targets (issue 17): %d nodes take at most %.1f× the time of one, and never run more than %d hosts at once (max_concurrency, fleet-wide); one node never more than %d (--max-hosts); every host runs once.", spreadNodes, spreadTimeTarget, spreadConcurrency, spreadMaxHosts),
		},
		header: []string{"measurement", "hosts", "min", "median", "× 1 node (median)", "until the first session (median)",
			"sessions: first start → last end (median)", "most at once", "host executions per node",
			"every host once", "driftless CPU (median)", "hosts' CPU (median)", "PostgreSQL server CPU (median)", "CPUs busy (median)",
			"peak RSS", "target", "met"},
	}
	n := len(nb.fl.hosts)
	waves := func(atOnce int) time.Duration { return time.Duration((n+atOnce-1)/atOnce) * nb.o.stepSleep }
	sec.notes = append(sec.notes, fmt.Sprintf("Were the CPUs free, the steps alone would take %s with one node (%d hosts, %d at once, %s each) and %s with %d nodes (at most %d at once): %.2f×; what the wall time adds beyond is starting the processes, claims, connections, and waiting for CPU (see CPUs busy). A longer step (-step-sleep) makes the CPU matter less.",
		fmtDur(waves(spreadMaxHosts)), n, spreadMaxHosts, nb.o.stepSleep, fmtDur(waves(min(spreadNodes*spreadMaxHosts, spreadConcurrency))), spreadNodes,
		min(spreadNodes*spreadMaxHosts, spreadConcurrency), float64(waves(min(spreadNodes*spreadMaxHosts, spreadConcurrency)))/float64(waves(spreadMaxHosts))))
	sec.rows = append(sec.rows,
		row(one, "—", spreadMaxHosts, fmt.Sprintf("≤ %d at once, each host once", spreadMaxHosts), true),
		row(three, fmt.Sprintf("%.2f", ratio), spreadConcurrency,
			fmt.Sprintf("≤ %.1f× 1 node, ≤ %d at once, each host once", spreadTimeTarget, spreadConcurrency), round2(ratio) <= spreadTimeTarget),
	)
	for _, rows := range []*spreadRows{one, three} {
		for i, r := range rows.runs {
			if len(r.problems) > 0 {
				sec.notes = append(sec.notes, fmt.Sprintf("%s, round %d: %s.", rows.m.name, i+1, onceText(r.problems)))
			}
		}
	}
	return sec
}

// perHost is d, and d shared among hosts hosts in milliseconds: "4.960 s
// (2.5 ms a host)".
func perHost(d time.Duration, hosts int) string {
	return fmt.Sprintf("%s (%.1f ms a host)", fmtDur(d), float64(d)/float64(time.Millisecond)/float64(max(hosts, 1)))
}

// treeCPU is the user + system CPU time that process pid and its children
// have used, read from procDir (/proc): its own, that of its children it
// waited for, and that of its live children with theirs. 0 when procDir
// does not tell (not Linux, pid 0).
func treeCPU(procDir string, pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(filepath.Join(procDir, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	_, total, ok := parseProcStat(string(b))
	if !ok {
		return 0
	}
	entries, _ := os.ReadDir(procDir)
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil || e.Name() == strconv.Itoa(pid) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(procDir, e.Name(), "stat"))
		if err != nil {
			continue // ended meanwhile: its parent waited for it, or will
		}
		if ppid, cpu, ok := parseProcStat(string(b)); ok && ppid == pid {
			total += cpu
		}
	}
	return total
}

// parseProcStat reads a /proc/PID/stat line: the parent's pid, and
// utime + stime + cutime + cstime (in USER_HZ ticks of 10 ms). The
// command name, in parentheses, may hold spaces and parentheses.
func parseProcStat(line string) (ppid int, cpu time.Duration, ok bool) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(line[i+1:]) // from field 3, the state
	if len(f) < 15 {
		return 0, 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, 0, false
	}
	var ticks int64
	for _, v := range f[11:15] { // utime, stime, cutime, cstime
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		ticks += n
	}
	return ppid, time.Duration(ticks) * time.Second / 100, true
}
