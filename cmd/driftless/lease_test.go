package main

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// overlapDoc is a document whose run takes a while and leaves, on the
// host, a line per run and a mark of any overlap: a run that starts
// while another is inside writes "overlap".
const overlapDoc = `[[steps]]
name = "exclusive"
action = "shell"
run = '''
if [ -e ~/inside ]; then echo overlap >> ~/overlaps; fi
touch ~/inside; echo run >> ~/runs-l; sleep 2; rm -f ~/inside
'''
`

// Two manual applies of one association on one host never run at once:
// the second waits for the first's lease (--lease-wait), or, past the
// wait, records the host Skipped, names who holds it, and exits 3.
func TestApplyTakesTheLease(t *testing.T) {
	bin := buildBinary(t)
	f := startFleet(t, 1, everyHost("l", "l"))
	f.writeDoc("l", overlapDoc)
	home := f.hosts[0].Home

	startFirst := func() *exec.Cmd {
		t.Helper()
		cmd := exec.Command(bin, "apply", "-C", f.dir, "l")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			if _, err := os.Stat(filepath.Join(home, "inside")); err == nil || time.Now().After(deadline) {
				return cmd
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// Past the wait: Skipped, with the holder named, exit 3.
	first := startFirst()
	r := f.run(t, "apply", "l", "--lease-wait", "300ms", "--json")
	if err := first.Wait(); err != nil {
		t.Fatalf("first apply: %v", err)
	}
	if r.code != 3 {
		t.Errorf("second apply exit %d, want 3: %s", r.code, r)
	}
	held := regexp.MustCompile(`not started: held by pid (\d+) on [^,]+, run \d+`)
	if m := held.FindStringSubmatch(r.stdout); m == nil || m[1] != fmt.Sprint(first.Process.Pid) {
		t.Errorf("second apply does not name the first (pid %d) as holder: %s", first.Process.Pid, r)
	}
	if !strings.Contains(r.stdout, `"status": "Skipped"`) {
		t.Errorf("host not Skipped: %s", r)
	}
	if got := runsOn(t, home, "l"); got != 1 {
		t.Errorf("the skipped apply ran anyway: %d runs", got)
	}
	if r := f.run(t, "history", "--json"); !strings.Contains(r.stdout, `"Skipped": 1`) {
		t.Errorf("the journal does not record the skipped host: %s", r)
	}

	// Within the wait: it runs once the first has ended, never inside it.
	first = startFirst()
	r = f.run(t, "apply", "l", "--lease-wait", "30s")
	if err := first.Wait(); err != nil {
		t.Fatalf("first apply: %v", err)
	}
	if r.code != 0 {
		t.Errorf("waiting apply: %s", r)
	}
	if got := runsOn(t, home, "l"); got != 3 {
		t.Errorf("%d runs, want 3", got)
	}
	// Both gave their leases back, the waiting one's (taken while it
	// waited) too: nothing is left in the journal.
	if n := countLeases(t, filepath.Join(f.dir, ".driftless", "journal.db")); n != 0 {
		t.Errorf("%d leases left in the journal after both applies ended", n)
	}

	// A tick while an apply runs leaves the host alone (the document
	// changed: the association is due).
	f.writeDoc("l", overlapDoc+"# changed\n")
	first = startFirst()
	r = f.run(t, "tick")
	if err := first.Wait(); err != nil {
		t.Fatalf("first apply: %v", err)
	}
	if !strings.Contains(r.stderr, "another driftless holds it") {
		t.Errorf("tick during an apply: %s", r)
	}
	if b, err := os.ReadFile(filepath.Join(home, "overlaps")); err == nil {
		t.Errorf("runs overlapped on the host: %q", b)
	}
}

// countLeases is the number of leases the SQLite journal at path holds.
func countLeases(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM leases`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A negative --lease-wait is a bad flag: exit 1 before anything runs (no
// journal is made), for apply and check alike.
func TestLeaseWaitNegativeRefused(t *testing.T) {
	dir := echoDir(t)
	for _, cmd := range []string{"apply", "check"} {
		var out, errb strings.Builder
		code := Main([]string{"driftless", "-C", dir, cmd, "--lease-wait", "-1s"}, strings.NewReader(""), &out, &errb)
		if want := "driftless: --lease-wait: expected a duration of 0 or more, got -1s\n"; code != exitInvalid || errb.String() != want || out.Len() != 0 {
			t.Errorf("%s --lease-wait -1s: exit %d, stdout %q, stderr %q; want exit 1 and %q", cmd, code, out.String(), errb.String(), want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".driftless")); err == nil {
		t.Errorf("a journal was made")
	}
}
