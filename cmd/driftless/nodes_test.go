package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/pgtest"
	"github.com/driftless-dev/driftless/internal/sshtest"
	"github.com/driftless-dev/driftless/journal"
)

// The fault tests of several nodes on one journal (issue 17,
// docs/journal.md#several-nodes): each node is a driftless process of
// its own with its own --node, the journal a real PostgreSQL server, the
// hosts real sshd. What ran is counted on the hosts, from the spans each
// run writes there (sshtest.SpanScript), and read from the journal as a
// user would (history --json, show --json).

// nodesDoc is the document the node tests run. Its first step writes a
// span on the host, labelled with the node that runs it and the host
// shell's pid (one label per run), and sleeps NAP seconds; each further
// step sleeps NAP seconds too. Node and NAP come from the environment of
// the driftless process that runs it ({{ env:NAME }}): the document, and
// the association's hash, are the same on every node.
func nodesDoc(steps int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[[steps]]\nname = \"span\"\naction = \"shell\"\nrun = %q\n", sshtest.SpanScript("{{ env:DRIFTLESS_NODE }}-$$", "{{ env:NAP }}"))
	for i := 2; i <= steps; i++ {
		fmt.Fprintf(&b, "\n[[steps]]\nname = \"nap-%d\"\naction = \"shell\"\nrun = \"sleep {{ env:NAP }}\"\n", i)
	}
	return b.String()
}

// nodesFleet is an e2eFleet whose association "spans" (nodesDoc) runs
// from separate driftless processes sharing a PostgreSQL journal.
type nodesFleet struct {
	*e2eFleet
	bin     string
	journal string // the PostgreSQL URL
}

// startNodesFleet starts n sshd hosts; the association spans, of
// nodesDoc(steps), targets every one, with more of its keys.
func startNodesFleet(t *testing.T, n int, db string, steps int, keys ...string) *nodesFleet {
	t.Helper()
	f := &nodesFleet{e2eFleet: startFleet(t, n, everyHost("spans", "spans", keys...)), bin: buildBinary(t), journal: db}
	f.writeDoc("spans", nodesDoc(steps))
	return f
}

// node is the driftless command of node name, whose steps sleep nap
// seconds: a process of its own on the fleet's config dir and journal.
func (f *nodesFleet) node(name, nap string, args ...string) *exec.Cmd {
	cmd := exec.Command(f.bin, append([]string{"-C", f.dir, "--journal", f.journal, "--node", name}, args...)...)
	cmd.Env = append(os.Environ(), "DRIFTLESS_NODE="+name, "NAP="+nap)
	return cmd
}

// farNode is node run as if on another machine: in a UTS namespace of
// its own, whose host name is far-box, so that the other nodes cannot
// see whether its process lives and go by its leases alone, as they do
// for a node on another machine.
func (f *nodesFleet) farNode(name, nap string, args ...string) *exec.Cmd {
	cmd := f.node(name, nap, args...)
	unshare := []string{"--uts"}
	if os.Geteuid() != 0 {
		unshare = []string{"--user", "--map-root-user", "--uts"}
	}
	cmd.Args = append(append(append([]string{"unshare"}, unshare...), "sh", "-c", `hostname "$0" && exec "$@"`, "far-box"), cmd.Args...)
	cmd.Path, _ = exec.LookPath("unshare")
	return cmd
}

// wait runs cmd to its end and returns how it ended.
func wait(cmd *exec.Cmd) result {
	var out, errb bytes.Buffer
	if cmd.Stdout == nil {
		cmd.Stdout, cmd.Stderr = &out, &errb
	}
	err := cmd.Run()
	if cmd.ProcessState == nil {
		return result{-1, "", err.Error()}
	}
	return result{cmd.ProcessState.ExitCode(), out.String(), errb.String()}
}

// ticks runs a tick of each node of nodes at once, for the minute at,
// each with its flags, and waits for them; their steps sleep 1 s. It
// fails the test unless each exits 0.
func (f *nodesFleet) ticks(t *testing.T, at time.Time, nodes map[string][]string) {
	t.Helper()
	out := map[string]result{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for n, flags := range nodes {
		cmd := f.node(n, "1", append([]string{"tick", "--now", at.Format(time.RFC3339)}, flags...)...)
		wg.Go(func() {
			r := wait(cmd)
			mu.Lock()
			out[n] = r
			mu.Unlock()
		})
	}
	wg.Wait()
	for n, r := range out {
		if r.code != 0 {
			t.Fatalf("tick --now %s of %s: %s", at.Format(time.RFC3339), n, r)
		}
	}
}

// spans reads each host's spans, by host name, and fails the test if
// two runs went on at once on one host.
func (f *nodesFleet) spans(t *testing.T) map[string][]sshtest.Span {
	t.Helper()
	out := map[string][]sshtest.Span{}
	for _, h := range f.hosts {
		s, err := sshtest.RunSpans(h.Home)
		if err != nil {
			t.Fatal(err)
		}
		if a, b, found := sshtest.Overlap(s); found {
			t.Errorf("%s: two runs at once: %s from %d to %d, %s from %d", h.Name, a.Label, a.Start, a.End, b.Label, b.Start)
		}
		out[h.Name] = s
	}
	return out
}

// nodesOnHosts counts the runs on the fleet's hosts by node.
func (f *nodesFleet) nodesOnHosts(t *testing.T) map[string]int {
	t.Helper()
	by := map[string]int{}
	for _, spans := range f.spans(t) {
		for _, s := range spans {
			by[spanNode(s)]++
		}
	}
	return by
}

// spanNode is the node that ran span s ("n1-4242": n1).
func spanNode(s sshtest.Span) string {
	node, _, _ := strings.Cut(s.Label, "-")
	return node
}

// runs is every run in the journal with its hosts, oldest first, as
// history --json and show --json print them.
func (f *nodesFleet) runs(t *testing.T) []runWithHostsJSON {
	t.Helper()
	r := f.mustRun(t, "history", 0, "", "--journal", f.journal, "history", "--json", "--limit", "0")
	var runs []runWithHostsJSON
	for _, h := range decodeJSON[historyJSON](t, r.stdout).Runs {
		r := f.mustRun(t, "show", 0, "", "--journal", f.journal, "show", fmt.Sprint(h.ID), "--json")
		shown := decodeJSON[runsJSON](t, r.stdout)
		if len(shown.Runs) != 1 {
			t.Fatalf("show %d --json: %d runs", h.ID, len(shown.Runs))
		}
		runs = append(runs, shown.Runs[0])
	}
	slices.SortFunc(runs, func(a, b runWithHostsJSON) int { return int(a.ID - b.ID) })
	return runs
}

// hostsByNode counts, in runs, the host executions of each node, and
// fails the test for a host execution that did not succeed with its
// steps.
func hostsByNode(t *testing.T, runs []runWithHostsJSON, steps int) map[string]int {
	t.Helper()
	by := map[string]int{}
	for _, r := range runs {
		if r.Status != journal.StatusSuccess {
			t.Errorf("run %d of %s: %s, want Success", r.ID, r.Node, r.Status)
		}
		for _, h := range r.Hosts {
			by[r.Node]++
			if h.Status != journal.StatusSuccess || len(h.Steps) != steps {
				t.Errorf("run %d of %s, host %s: %s with %d steps, want Success with %d", r.ID, r.Node, h.Host, h.Status, len(h.Steps), steps)
			}
		}
	}
	return by
}

// round0 is the first round of a test's ticks: a minute in the past, so
// that every round up to five minutes later is too.
func round0() time.Time { return time.Now().UTC().Truncate(time.Minute).Add(-10 * time.Minute) }

// Three nodes on one journal tick five rounds of rate(1 minute) over 30
// hosts, all three at once each round: every due execution ran exactly
// once (5 runs on each host, counted on the host), never two at once on
// a host, and no node ran more than 60% of them (from the journal, by
// node; the hosts' spans say the same).
func TestNodesShareTheRounds(t *testing.T) {
	t.Parallel()
	const hosts, rounds = 30, 5
	f := startNodesFleet(t, hosts, pgtest.NewDB(t), 1, `schedule = "rate(1 minute)"`)
	t0 := round0()
	for k := range rounds {
		began := time.Now()
		f.ticks(t, t0.Add(time.Duration(k)*time.Minute), map[string][]string{"n1": nil, "n2": nil, "n3": nil})
		t.Logf("round %d: %v", k+1, time.Since(began).Round(time.Millisecond))
	}

	for host, spans := range f.spans(t) {
		if len(spans) != rounds {
			t.Errorf("%s ran %d times, want %d (once a round)", host, len(spans), rounds)
		}
	}
	onHosts := f.nodesOnHosts(t)
	by := hostsByNode(t, f.runs(t), 1)
	total := 0
	for node, n := range by {
		total += n
		if n > hosts*rounds*60/100 {
			t.Errorf("node %s ran %d of the %d host executions, more than 60%%", node, n, hosts*rounds)
		}
		if onHosts[node] != n {
			t.Errorf("node %s: %d host executions in the journal, %d on the hosts", node, n, onHosts[node])
		}
	}
	if total != hosts*rounds || len(by) != 3 {
		t.Errorf("the journal has %d host executions by %d nodes, want %d by 3: %v", total, len(by), hosts*rounds, by)
	}
	t.Logf("host executions by node: %v", by)
}

// max_concurrency holds over every node: three nodes, each able to run 4
// hosts at once (--max-hosts 4), of an association whose max_concurrency
// is 5, never ran more than 5 at once in all, counted on the hosts, and
// did run 4 or more at once; each host ran once. The first node to claim
// takes no more than its 4 places: the fifth is another node's.
func TestNodesFleetWideMaxConcurrency(t *testing.T) {
	t.Parallel()
	const hosts = 12
	f := startNodesFleet(t, hosts, pgtest.NewDB(t), 1, `schedule = "rate(1 minute)"`, `max_concurrency = "5"`)
	began := time.Now()
	capacity := []string{"--max-hosts", "4"}
	f.ticks(t, round0(), map[string][]string{"n1": capacity, "n2": capacity, "n3": capacity})
	t.Logf("the tick took %v", time.Since(began).Round(time.Millisecond))
	most, started, err := sshtest.MostAtOnce(f.homes()...)
	if err != nil {
		t.Fatal(err)
	}
	if most > 5 || most < 4 || started != hosts {
		t.Errorf("%d runs started, at most %d at once: want %d, at most 5 and at least 4 at once", started, most, hosts)
	}
	if nodes := f.nodesOnHosts(t); len(nodes) < 2 {
		t.Errorf("only %v ran hosts: a node claims no more hosts than it has room to run", nodes)
	}
	for host, spans := range f.spans(t) {
		if len(spans) != 1 {
			t.Errorf("%s ran %d times, want once", host, len(spans))
		}
	}
	by := hostsByNode(t, f.runs(t), 1)
	t.Logf("%d at once at most; host executions by node: %v", most, by)
}

// A node claims no more hosts than it has room to run: n1, with room
// for one host at once (--max-hosts 1), ticks first, alone; n2 ticks
// once n1 runs its first host. The association's max_concurrency is 3:
// the two places n1 has no room for are n2's, so up to 3 hosts ran at
// once, not one.
// (Had n1 claimed 3 hosts, as max_concurrency allows, it would have held
// every place of the fleet while running one host at a time.)
func TestNodesClaimNoMoreThanTheyHaveRoomFor(t *testing.T) {
	t.Parallel()
	const hosts = 6
	f := startNodesFleet(t, hosts, pgtest.NewDB(t), 1, `schedule = "rate(1 minute)"`, `max_concurrency = "3"`)
	at := round0().Format(time.RFC3339)
	first := f.node("n1", "1", "tick", "--now", at, "--max-hosts", "1")
	var out bytes.Buffer
	first.Stdout, first.Stderr = &out, &out
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	if !waitFor(func() bool { return f.started(t, "n1") > 0 }) {
		first.Process.Kill()
		t.Fatalf("n1 ran no host:\n%s", out.String())
	}
	if r := wait(f.node("n2", "1", "tick", "--now", at)); r.code != 0 {
		t.Errorf("n2's tick: %s", r)
	}
	if err := first.Wait(); err != nil {
		t.Errorf("n1's tick: %v\n%s", err, out.String())
	}
	most, started, err := sshtest.MostAtOnce(f.homes()...)
	if err != nil {
		t.Fatal(err)
	}
	by := f.nodesOnHosts(t)
	if most < 2 || most > 3 || started != hosts || by["n2"] < 2 {
		t.Errorf("%d runs, at most %d at once, by node %v: want %d, 2 or 3 at once, 2 or more by n2", started, most, by, hosts)
	}
	t.Logf("at most %d at once; runs by node: %v", most, by)
}

// started counts the hosts whose spans have a start by node.
func (f *nodesFleet) started(t *testing.T, node string) int {
	t.Helper()
	n := 0
	for _, h := range f.hosts {
		spans, err := sshtest.RunSpans(h.Home)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(spans, func(s sshtest.Span) bool { return spanNode(s) == node }) {
			n++
		}
	}
	return n
}

// A node killed -9 mid-run, on another machine (--lease-ttl 3s): while
// its leases live, another node's tick leaves its hosts alone (and says
// who holds them); at the next round after the TTL, another node runs
// them again, first ending on each host what the dead node left
// running there; the dead node's run is Interrupted. Never two runs at
// once on a host, counted on the hosts.
func TestNodesKilledNodeLeaseTakeover(t *testing.T) {
	t.Parallel()
	const hosts = 6
	f := startNodesFleet(t, hosts, pgtest.NewDB(t), 1, `schedule = "rate(1 minute)"`)
	t0 := round0()
	dead := f.farNode("n1", "60", "tick", "--now", t0.Format(time.RFC3339), "--lease-ttl", "3s")
	var out bytes.Buffer
	dead.Stdout, dead.Stderr = &out, &out
	if err := dead.Start(); err != nil {
		t.Fatal(err)
	}
	if !waitFor(func() bool { return f.started(t, "n1") == hosts }) {
		dead.Process.Kill()
		t.Fatalf("n1's runs did not start on every host:\n%s", out.String())
	}
	if err := dead.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	dead.Wait()

	// Its leases live: the hosts are left alone, the holder named.
	r := wait(f.node("n2", "1", "tick", "--now", t0.Add(time.Minute).Format(time.RFC3339), "--lease-ttl", "3s"))
	took := time.Since(killed)
	t.Logf("n2's tick ended %v after the kill", took.Round(time.Millisecond))
	if r.code != 0 {
		t.Fatalf("n2's tick while n1's leases live: %s", r)
	}
	held := fmt.Sprintf("another driftless holds it (pid %d on far-box, node n1 (run 1))", dead.Process.Pid)
	if n := strings.Count(r.stderr, held); n != hosts || f.started(t, "n2") != 0 {
		t.Errorf("n2's tick %v after the kill: %d hosts said held (%q), want %d; %d run by n2, want none: %s", took, n, held, hosts, f.started(t, "n2"), r)
	}

	// The next round after the TTL: another node runs them all.
	time.Sleep(time.Until(killed.Add(3*time.Second + 100*time.Millisecond)))
	r = wait(f.node("n2", "1", "tick", "--now", t0.Add(2*time.Minute).Format(time.RFC3339), "--lease-ttl", "3s"))
	if r.code != 0 || strings.Count(r.stdout, " Success (1 Success)") != hosts || !strings.Contains(r.stderr, "marked run 1 Interrupted: the process recording it is gone") {
		t.Errorf("n2's tick after the TTL: %s", r)
	}
	if remoteSleeping(f.e2eFleet, "60") {
		t.Error("what n1 left running on the hosts still runs")
	}
	for host, spans := range f.spans(t) {
		if len(spans) != 2 || spanNode(spans[0]) != "n1" || spans[0].End != 0 || spanNode(spans[1]) != "n2" || spans[1].End == 0 {
			t.Errorf("%s: spans %v, want n1's, never ended, then n2's", host, spans)
		}
	}
	runs := f.runs(t)
	if len(runs) != 2 {
		t.Fatalf("%d runs in the journal, want n1's and n2's: %+v", len(runs), runs)
	}
	if d := runs[0]; d.Node != "n1" || d.Status != journal.StatusInterrupted || d.Counts[journal.StatusInterrupted] != hosts || d.Hostname != "far-box" {
		t.Errorf("n1's run: node %s on %s, %s, %v; want Interrupted, its %d hosts too", d.Node, d.Hostname, d.Status, d.Counts, hosts)
	}
	if d := runs[1]; d.Node != "n2" || d.Status != journal.StatusSuccess || d.Counts[journal.StatusSuccess] != hosts {
		t.Errorf("n2's run: node %s, %s, %v; want Success on %d hosts", d.Node, d.Status, d.Counts, hosts)
	}
	r = f.mustRun(t, "show 1", 0, "", "--journal", f.journal, "show", "1")
	wantLines(t, "show 1", r.stdout, `^Run 1: spans  Interrupted$`, `^  node       n1$`, `^  recorded   by pid \d+ on far-box$`)
}

// PostgreSQL stopped for 20 s while two nodes run a tick over 12 hosts,
// each host two steps of 2 s, then started again: both ticks exit 0,
// every host's result is in the journal with its steps, each host ran
// once (on the hosts), and a third node's tick of the same round after
// it finds nothing left to run.
func TestNodesPostgresStoppedMidRun(t *testing.T) {
	t.Parallel()
	const hosts = 12
	srv := pgtest.Start(t)
	f := startNodesFleet(t, hosts, srv.NewDB(t), 2, `schedule = "rate(1 minute)"`)
	t0 := round0()
	// A first round: each node has seen the other, as running daemons
	// have, and takes its share, then waits for room.
	f.ticks(t, t0, map[string][]string{"n1": nil, "n2": nil})
	sshtest.ClearSpans(f.homes()...)
	at := t0.Add(time.Minute).Format(time.RFC3339)
	nodes := []string{"n1", "n2"}
	var ticks []*exec.Cmd
	var outs []*bytes.Buffer
	for _, n := range nodes {
		cmd := f.node(n, "2", "tick", "--now", at)
		out := &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ticks, outs = append(ticks, cmd), append(outs, out)
	}
	begun := func() bool { return f.started(t, "n1")+f.started(t, "n2") == hosts }
	if !waitFor(begun) {
		t.Fatalf("the hosts did not all start: %d by n1, %d by n2", f.started(t, "n1"), f.started(t, "n2"))
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	time.Sleep(20 * time.Second)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL was stopped for %v", time.Since(stopped).Round(time.Millisecond))
	for i, cmd := range ticks {
		if err := cmd.Wait(); err != nil {
			t.Errorf("%s's tick: %v:\n%s", nodes[i], err, outs[i])
		}
	}
	for host, spans := range f.spans(t) {
		if len(spans) != 1 {
			t.Errorf("%s ran %d times, want once", host, len(spans))
		}
	}
	var second []runWithHostsJSON // the second round's runs
	for _, r := range f.runs(t) {
		if started, _ := time.Parse(time.RFC3339, *r.StartedAt); !started.Before(t0.Add(time.Minute)) {
			second = append(second, r)
		}
	}
	by := hostsByNode(t, second, 2)
	if by["n1"]+by["n2"] != hosts {
		t.Errorf("the journal has %v host executions, want %d", by, hosts)
	}
	t.Logf("host executions by node: %v", by)
	r := wait(f.node("n3", "2", "tick", "--now", at))
	if r.code != 0 || f.started(t, "n3") != 0 {
		t.Errorf("n3's tick of the same round: %s", r)
	}
	// The hosts' leases were released with their results, also those
	// that ended while PostgreSQL was down: at the next round, a node of
	// another machine (which cannot see that n1 and n2 are gone) runs
	// every host.
	r = wait(f.farNode("n4", "0", "tick", "--now", t0.Add(2*time.Minute).Format(time.RFC3339)))
	if r.code != 0 || f.started(t, "n4") != hosts {
		t.Errorf("n4's tick of the next round ran %d hosts, want %d: %s", f.started(t, "n4"), hosts, r)
	}
}

// Two sites, one node each (--site): no host runs from the other site's
// node, and the hosts without a site run once a round, from either.
// Two rounds, both nodes at once each round; counted on the hosts and in
// the journal.
func TestNodesOfTwoSites(t *testing.T) {
	t.Parallel()
	f := startNodesFleet(t, 6, pgtest.NewDB(t), 1, `schedule = "rate(1 minute)"`)
	site := map[string]string{"web-1": "eu", "web-2": "eu", "web-3": "us", "web-4": "us"}
	f.hostKeys = map[string]string{}
	for host, s := range site {
		f.hostKeys[host] = fmt.Sprintf("site = %q\n", s)
	}
	f.writeInventory(t, "")
	const rounds = 2
	t0 := round0()
	for k := range rounds {
		f.ticks(t, t0.Add(time.Duration(k)*time.Minute), map[string][]string{"eu": {"--site", "eu"}, "us": {"--site", "us"}})
	}
	for host, spans := range f.spans(t) {
		if len(spans) != rounds {
			t.Errorf("%s ran %d times, want %d", host, len(spans), rounds)
		}
		for _, s := range spans {
			if want := site[host]; want != "" && spanNode(s) != want {
				t.Errorf("%s, of site %s, ran from node %s", host, want, spanNode(s))
			}
		}
	}
	runs := f.runs(t)
	ran := map[string]int{}
	for _, r := range runs {
		for _, h := range r.Hosts {
			ran[h.Host]++
			if want := site[h.Host]; want != "" && r.Node != want {
				t.Errorf("the journal has %s, of site %s, run by node %s (run %d)", h.Host, want, r.Node, r.ID)
			}
		}
	}
	for _, h := range f.hosts {
		if ran[h.Name] != rounds {
			t.Errorf("the journal has %s run %d times, want %d", h.Name, ran[h.Name], rounds)
		}
	}
	t.Logf("host executions by node: %v", hostsByNode(t, runs, 1))
}
