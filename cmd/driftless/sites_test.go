package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/configtest"
	"github.com/driftless-dev/driftless/internal/sshtest"
)

// tick --site: a tick runs the hosts of its sites and the hosts without a
// site, and leaves the others, no failure, saying so with --verbose. A
// host's own site wins over its group's. Counted on the hosts.
func TestTickSites(t *testing.T) {
	f := sitesFleet(t)
	expect := func(when string, want ...int) {
		t.Helper()
		for i, h := range f.hosts {
			if got := runsOn(t, h.Home, "mark"); got != want[i] {
				t.Errorf("%s: mark ran %d times on %s, want %d", when, got, h.Name, want[i])
			}
		}
	}
	host, _ := os.Hostname()

	r := f.mustRun(t, "tick --site eu-west", 0, "", "tick", "--site", "eu-west", "--now", "2025-12-01T05:00:00Z", "-v")
	expect("eu-west", 1, 0, 1, 1, 0)
	for _, want := range []string{
		`msg=process node=` + host + ` sites=eu-west max_hosts=200`,
		`msg="left out: its site is not one this driftless runs" host=web-2 site=us-east sites=eu-west`,
		`msg="left out: its site is not one this driftless runs" host=web-5 site=us-east sites=eu-west`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("tick --site eu-west -v: no %q in\n%s", want, r)
		}
	}
	if !strings.Contains(r.stdout, "mark web-4 Success") || strings.Contains(r.stdout, "web-2") || strings.Contains(r.stdout, "web-5") {
		t.Errorf("tick --site eu-west:\n%s", r)
	}

	// The other site's tick runs its own hosts; web-3 (no site) ran.
	r = f.mustRun(t, "tick --site us-east", 0, "", "tick", "--site", "us-east", "--node", "bastion-us", "--now", "2025-12-01T05:01:00Z", "-v")
	expect("us-east", 1, 1, 1, 1, 1)
	if !strings.Contains(r.stderr, "msg=process node=bastion-us sites=us-east") || strings.Contains(r.stderr, "host=web-3 site=") {
		t.Errorf("tick --site us-east -v:\n%s", r)
	}
	r = f.mustRun(t, "tick, both sites", 0, "", "tick", "--site", "us-east", "--site", "eu-west", "--now", "2025-12-01T05:02:00Z")
	if !strings.Contains(r.stderr, "nothing due") {
		t.Errorf("tick of both sites after each ran:\n%s", r)
	}
	// Without --site, every host runs: a change makes all five due.
	f.writeDoc("mark", counterDoc("mark")+"# changed\n")
	f.mustRun(t, "tick, every site", 0, "", "tick", "--now", "2025-12-01T05:03:00Z")
	expect("every site", 2, 2, 2, 2, 2)
}

// Two daemons, one per site, on one config dir and journal: each runs
// its site's hosts, the host without a site runs once, from either, and
// no host runs from the wrong site.
func TestDaemonPerSite(t *testing.T) {
	bin := buildBinary(t)
	f := sitesFleet(t)
	type daemonProc struct {
		cmd *exec.Cmd
		log string
	}
	var daemons []daemonProc
	for _, site := range []string{"eu-west", "us-east"} {
		d := daemonProc{cmd: exec.Command(bin, "-C", f.dir, "daemon", "--site", site, "--node", "bastion-"+site, "--max-hosts", "1"), log: filepath.Join(t.TempDir(), "daemon.log")}
		out, err := os.Create(d.log)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		d.cmd.Stdout, d.cmd.Stderr = out, out
		if err := d.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.cmd.Process.Kill(); d.cmd.Wait() }) // a test that fails early leaves none running
		daemons = append(daemons, d)
	}
	ran := func() int {
		n := 0
		for _, h := range f.hosts {
			n += runsOn(t, h.Home, "mark")
		}
		return n
	}
	for deadline := time.Now().Add(30 * time.Second); ran() < 5 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // what else either would run
	logs := make([]string, len(daemons))
	for i, d := range daemons {
		d.cmd.Process.Signal(syscall.SIGTERM)
		if err := d.cmd.Wait(); err != nil {
			t.Errorf("daemon: %v", err)
		}
		b, _ := os.ReadFile(d.log)
		logs[i] = string(b)
	}
	for _, h := range f.hosts {
		if n := runsOn(t, h.Home, "mark"); n != 1 {
			t.Errorf("mark ran %d times on %s, want once", n, h.Name)
		}
	}
	eu, us := logs[0], logs[1]
	wantLines(t, "eu-west daemon", eu,
		`^driftless daemon: ticking at the start of every minute \(config .*, journal .*, node bastion-eu-west, site eu-west and hosts without one, at most 1 host at once\)$`,
		`^mark web-1 Success`, `^mark web-4 Success`)
	wantNoLines(t, "eu-west daemon", eu, `^mark web-2 `, `^mark web-5 `)
	wantLines(t, "us-east daemon", us, `node bastion-us-east, site us-east and hosts without one`, `^mark web-2 Success`, `^mark web-5 Success`)
	wantNoLines(t, "us-east daemon", us, `^mark web-1 `, `^mark web-4 `)
	if n := strings.Count(eu+us, "mark web-3 Success"); n != 1 {
		t.Errorf("web-3 (no site) ran %d times:\n%s\n%s", n, eu, us)
	}
}

// sitesFleet is 5 hosts, the association mark on every one: web-1
// eu-west, web-2 us-east (their own); web-3 none; web-4 eu-west from its
// group; web-5 us-east, its own over its group's.
func sitesFleet(t *testing.T) *e2eFleet {
	f := startFleet(t, 5, everyHost("mark", "mark", `schedule = "rate(1 day)"`))
	f.writeDoc("mark", counterDoc("mark"))
	f.hostKeys = map[string]string{"web-1": "site = \"eu-west\"\n", "web-2": "site = \"us-east\"\n", "web-5": "site = \"us-east\"\n"}
	f.writeInventory(t, "\n[groups.europe]\nmembers = [\"web-4\", \"web-5\"]\nsite = \"eu-west\"\n")
	return f
}

// tick --max-hosts 2: of two associations of 4 hosts each, whose
// max_concurrency is 10, never more than 2 hosts ran at once, and 2 did:
// counted on the hosts.
func TestTickMaxHosts(t *testing.T) {
	f := startFleet(t, 4, everyHost("a", "a", `max_concurrency = "10"`)+everyHost("b", "b", `max_concurrency = "10"`))
	span := func(name string) string {
		return fmt.Sprintf("[[steps]]\nname = \"span\"\naction = \"shell\"\nrun = %q\n", sshtest.SpanScript(name, "1"))
	}
	f.writeDoc("a", span("a"))
	f.writeDoc("b", span("b"))
	f.mustRun(t, "tick --max-hosts 2", 0, "", "tick", "--max-hosts", "2")
	if most, ran := sshtest.CountAtOnce(t, "tick --max-hosts 2", f.homes()...); most != 2 || ran != 8 {
		t.Errorf("tick --max-hosts 2: %d host executions, at most %d at once; want 8, at most 2", ran, most)
	}
	f.writeDoc("a", "# changed\n"+span("a"))
	f.mustRun(t, "tick", 0, "", "tick")
	if most, ran := sshtest.CountAtOnce(t, "tick (default --max-hosts 200)", f.homes()...); most != 4 || ran != 4 {
		t.Errorf("tick (default --max-hosts 200): %d host executions, at most %d at once; want 4, 4 at once", ran, most)
	}
}

// --node names what prints: control characters are refused.
func TestNodeRefusesControlCharacters(t *testing.T) {
	f := &e2eFleet{dir: t.TempDir()}
	configtest.Dir(t, f.dir, map[string]string{"inventory.toml": "[hosts.here]\ntransport = \"local\"\n", "associations.toml": ""})
	r := f.run(t, "tick", "--node", "bastion\x1b[31m")
	if r.code != 1 || !strings.Contains(r.stderr, `--node (or DRIFTLESS_NODE): node name "bastion\x1b[31m" holds a character that does not print (U+001B)`) {
		t.Errorf("--node with an escape:\n%s", r)
	}
}
