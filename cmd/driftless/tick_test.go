package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/journal"
)

// counter is a document whose every run appends a line to ~/runs-NAME on
// the host: what ran is counted on the host itself.
func counterDoc(name string) string {
	return fmt.Sprintf(`[[steps]]
name = "count"
action = "shell"
run = "echo $(date +%%s) >> ~/runs-%s"
`, name)
}

func runsOn(t *testing.T, home, name string) int {
	b, err := os.ReadFile(filepath.Join(home, "runs-"+name))
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\n")
}

func TestTickSequence(t *testing.T) {
	f := startFleet(t, 1, `[associations.rate]
document = "rate"
targets = ["*"]
schedule = "rate(30 minutes)"

[associations.cron]
document = "cron"
targets = ["*"]
schedule = "cron(0 6 * * ? *)"
apply_only_at_cron_interval = true
`)
	f.writeDoc("rate", counterDoc("rate"))
	f.writeDoc("cron", counterDoc("cron"))
	home := f.hosts[0].Home
	tick := func(now string) result {
		t.Helper()
		r := f.run(t, "tick", "--now", now)
		if r.code != 0 {
			t.Fatalf("tick at %s: %s", now, r)
		}
		return r
	}
	expect := func(at string, rate, cron int) {
		t.Helper()
		if got := runsOn(t, home, "rate"); got != rate {
			t.Errorf("after %s: rate ran %d times, want %d", at, got, rate)
		}
		if got := runsOn(t, home, "cron"); got != cron {
			t.Errorf("after %s: cron ran %d times, want %d", at, got, cron)
		}
	}
	// First sight: the rate association runs on its new host; the
	// cron-only one waits for its schedule.
	tick("2025-12-01T05:00:00Z")
	expect("05:00", 1, 0)
	tick("2025-12-01T05:01:00Z")
	for _, at := range []struct {
		now, what  string
		rate, cron int
	}{
		{"2025-12-01T05:29:00Z", "05:29", 1, 0},
		{"2025-12-01T05:30:30Z", "05:30", 2, 0},
		// 06:00 fires the cron association (and the rate one is due again
		// 30 minutes after its last start).
		{"2025-12-01T06:00:40Z", "06:00", 3, 1},
		{"2025-12-01T06:01:00Z", "06:01", 3, 1},
		// A long gap: one run covers every missed fire time.
		{"2025-12-03T12:00:00Z", "two days later", 4, 2},
		{"2025-12-03T12:01:00Z", "a minute after", 4, 2},
	} {
		tick(at.now)
		expect(at.what, at.rate, at.cron)
	}
	// A content change makes the rate association due at once; the
	// cron-only one still waits for its schedule.
	f.writeDoc("rate", counterDoc("rate")+"# changed\n")
	f.writeDoc("cron", counterDoc("cron")+"# changed\n")
	r := tick("2025-12-03T12:02:00Z")
	expect("change", 5, 2)
	if !strings.Contains(r.stdout, "rate web-1 Success") {
		t.Errorf("tick output: %s", r)
	}
	r = f.run(t, "history", "--association", "rate", "--json")
	if !strings.Contains(r.stdout, `"trigger": "change"`) || !strings.Contains(r.stdout, `"trigger": "new-target"`) || !strings.Contains(r.stdout, `"trigger": "schedule"`) {
		t.Errorf("history triggers: %s", r.stdout)
	}
	// schedule shows the next fire times.
	r = f.run(t, "schedule", "--now", "2025-12-03T12:03:00Z", "--json")
	if !strings.Contains(r.stdout, `"next": "2025-12-03T12:32:00Z"`) || !strings.Contains(r.stdout, `"next": "2025-12-04T06:00:00Z"`) {
		t.Errorf("schedule: %s", r)
	}
}

func TestTickNewHostRunsAlone(t *testing.T) {
	f := startFleet(t, 2, everyHost("rate", "rate", `schedule = "rate(1 day)"`))
	f.writeDoc("rate", counterDoc("rate"))
	first := f.hosts[1]
	f.hosts = f.hosts[:1]
	f.writeInventory(t, "")
	f.run(t, "tick", "--now", "2025-12-01T05:00:00Z")
	f.hosts = append(f.hosts, first)
	f.writeInventory(t, "")
	r := f.run(t, "tick", "--now", "2025-12-01T05:10:00Z")
	if got := []int{runsOn(t, f.hosts[0].Home, "rate"), runsOn(t, first.Home, "rate")}; got[0] != 1 || got[1] != 1 {
		t.Errorf("runs = %v, want the new host alone to run: %s", got, r)
	}
}

// Two tick processes at once on one journal: each host runs each
// association exactly once, counted on the host.
func TestTwoTicksAtOnce(t *testing.T) {
	bin := buildBinary(t)
	f := startFleet(t, 3, everyHost("a", "slow-a")+everyHost("b", "slow-b"))
	for _, n := range []string{"a", "b"} {
		f.writeDoc("slow-"+n, counterDoc(n)+"\n[[steps]]\nname = \"wait\"\naction = \"shell\"\nrun = \"sleep 1\"\n")
	}
	var wg sync.WaitGroup
	outs := make([]string, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, _ := exec.Command(bin, "tick", "-C", f.dir).CombinedOutput()
			outs[i] = string(out)
		}()
	}
	wg.Wait()
	for _, h := range f.hosts {
		for _, n := range []string{"a", "b"} {
			if got := runsOn(t, h.Home, n); got != 1 {
				t.Errorf("%s ran %s %d times\n%s\n%s", h.Name, n, got, outs[0], outs[1])
			}
		}
	}
	// A third tick finds nothing due.
	out, err := exec.Command(bin, "tick", "-C", f.dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "nothing due") {
		t.Errorf("third tick: %v %s", err, out)
	}
}

// kill -9 during a run: the next tick marks it Interrupted and runs it
// again.
func TestKilledRunIsInterruptedAndRunsAgain(t *testing.T) {
	bin := buildBinary(t)
	f := startFleet(t, 1, everyHost("k", "k"))
	f.writeDoc("k", counterDoc("k")+"\n[[steps]]\nname = \"wait\"\naction = \"shell\"\ncheck = \"test -f ~/done\"\nrun = \"sleep 2; touch ~/done\"\n")
	cmd := exec.Command(bin, "tick", "-C", f.dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for runsOn(t, f.hosts[0].Home, "k") == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	r := f.run(t, "tick")
	if r.code != 0 || !strings.Contains(r.stderr, "Interrupted") {
		t.Fatalf("tick after kill: %s", r)
	}
	r = f.run(t, "history", "--json")
	if !strings.Contains(r.stdout, `"status": "Interrupted"`) {
		t.Errorf("history: %s", r)
	}
	if got := runsOn(t, f.hosts[0].Home, "k"); got != 2 {
		t.Errorf("ran %d times, want 2 (again after the kill)", got)
	}
	j, _ := journal.Open(filepath.Join(f.dir, ".driftless", "journal.db"))
	defer j.Close()
	rows, _ := j.Status(t.Context(), journal.StatusFilter{})
	if len(rows) != 1 || rows[0].Compliance != journal.Compliant {
		t.Errorf("status after rerun: %+v", rows)
	}
}

// The daemon ticks at once, then every minute; SIGTERM ends it cleanly.
func TestDaemon(t *testing.T) {
	bin := buildBinary(t)
	f := startFleet(t, 1, everyHost("d", "d", `schedule = "rate(1 minute)"`))
	f.writeDoc("d", counterDoc("d"))
	cmd := exec.Command(bin, "daemon", "-C", f.dir, "--grace", "5s")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for runsOn(t, f.hosts[0].Home, "d") == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if err != nil || runsOn(t, f.hosts[0].Home, "d") != 1 || !strings.Contains(out.String(), "stopped") {
		t.Errorf("daemon: %v, %d runs\n%s", err, runsOn(t, f.hosts[0].Home, "d"), out.String())
	}
}

// localDir is a config dir with one local host and the associations
// given, each running counterDoc(name) (its runs counted in dir/runs-NAME).
func localDir(t *testing.T, assocs string, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "documents"), 0o755)
	os.WriteFile(filepath.Join(dir, "inventory.toml"), []byte("[hosts.here]\ntransport = \"local\"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "associations.toml"), []byte(assocs), 0o600)
	for _, n := range names {
		os.WriteFile(filepath.Join(dir, "documents", n+".toml"), []byte(strings.ReplaceAll(counterDoc(n), "~/", dir+"/")), 0o600)
	}
	return dir
}

// tick --now up to a minute ahead of the clock is accepted (a cron tick
// on a clock a little behind); further ahead it is refused unless --force.
func TestTickNowAheadOfTheClock(t *testing.T) {
	dir := localDir(t, "[associations.c]\ndocument = \"c\"\ntargets = [\"*\"]\nschedule = \"rate(1 minute)\"\n", "c")
	run := func(args ...string) result {
		var out, errb bytes.Buffer
		code := Main(append([]string{"driftless", "-C", dir}, args...), strings.NewReader(""), &out, &errb)
		return result{code, out.String(), errb.String()}
	}
	soon := time.Now().UTC().Add(30 * time.Second).Format(time.RFC3339)
	if r := run("tick", "--now", soon); r.code != 0 || runsOn(t, dir, "c") != 1 {
		t.Fatalf("tick --now %s (30 s ahead): %s", soon, r)
	}
	later := time.Now().UTC().Add(3 * time.Minute).Format(time.RFC3339)
	r := run("tick", "--now", later)
	if r.code != 1 || !regexp.MustCompile(`--now `+later+` is (2m5\ds|3m0s) ahead of this machine's clock`).MatchString(r.stderr) ||
		!strings.Contains(r.stderr, "add --force") || runsOn(t, dir, "c") != 1 {
		t.Fatalf("tick --now %s (3 min ahead): %s", later, r)
	}
	if r := run("tick", "--now", later, "--force"); r.code != 0 || runsOn(t, dir, "c") != 2 {
		t.Fatalf("tick --force --now %s: %s", later, r)
	}
	// What --force does: the schedule counts from that run, so the real
	// tick finds nothing due until then.
	if r := run("tick"); r.code != 0 || !strings.Contains(r.stderr, "nothing due") {
		t.Fatalf("tick after a forced future one: %s", r)
	}
}

// The daemon ticks at the start of every minute, and rate(1 minute) runs
// at each: the run it starts at once (mid-minute) is followed by one at
// the start of the next minute, not one at the minute after.
func TestDaemonTicksAtTheStartOfEachMinute(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the next minute")
	}
	t.Parallel()
	bin := buildBinary(t)
	dir := localDir(t, "[associations.d]\ndocument = \"d\"\ntargets = [\"*\"]\nschedule = \"rate(1 minute)\"\n", "d")
	cmd := exec.Command(bin, "daemon", "-C", dir)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	stamps := func() []int64 {
		b, _ := os.ReadFile(filepath.Join(dir, "runs-d"))
		var s []int64
		for _, f := range strings.Fields(string(b)) {
			var n int64
			fmt.Sscan(f, &n)
			s = append(s, n)
		}
		return s
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(stamps()) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if len(stamps()) == 0 {
		t.Fatalf("the daemon ran nothing at start:\n%s", out.String())
	}
	first := stamps()[0]
	boundary := first - first%60 + 60
	deadline = time.Unix(boundary+10, 0)
	for len(stamps()) < 2 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	s := stamps()
	if len(s) < 2 {
		t.Fatalf("rate(1 minute): first run at %s, none at the next minute %s:\n%s",
			time.Unix(first, 0).UTC().Format(time.TimeOnly), time.Unix(boundary, 0).UTC().Format(time.TimeOnly), out.String())
	}
	if s[1] < boundary || s[1] > boundary+2 {
		t.Errorf("second run at %s, want at the start of the minute %s (within 2 s)",
			time.Unix(s[1], 0).UTC().Format(time.TimeOnly), time.Unix(boundary, 0).UTC().Format(time.TimeOnly))
	}
}
