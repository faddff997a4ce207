package runner_test

import (
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// userProcs lists the command lines of the processes of the unix user
// name whose command line is exactly cmdline (as pgrep -x -f).
func userProcs(t *testing.T, name, cmdline string) []string {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		fi, err := os.Stat(d)
		if err != nil || owner(fi) != u.Username {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err == nil && strings.TrimRight(strings.ReplaceAll(string(b), "\x00", " "), " ") == cmdline {
			found = append(found, filepath.Base(d)+": "+cmdline)
		}
	}
	return found
}

// A step that times out is ended with all it started, also what left its
// process group with setsid (SPEC §6, issue 14 item 8): a check and a
// run, each of which starts a setsid'd sleep, then waits past its
// timeout, on a real sshd host.
func TestStepTimeoutEndsSetsidChildren(t *testing.T) {
	doc := `
[[steps]]
name = "check-hangs"
action = "shell"
check = "setsid sleep 4712 & sleep 30"
run = "true"
timeout = "1s"
on_failure = "continue"

[[steps]]
name = "run-hangs"
action = "shell"
run = "setsid sleep 4713 </dev/null >/dev/null 2>&1 & echo started; sleep 30"
timeout = "1s"
`
	f := newFleet(t, 1, "[associations.s]\ndocument = \"setsid\"\ntargets = [\"*\"]\n", "setsid.toml", doc)
	res := runExpect(t, f, false, "check-hangs=TimedOut run-hangs=TimedOut")
	if st := res.Hosts[0].Steps[1]; st.Stdout != "started\n" {
		t.Errorf("run-hangs: stdout %q", st.Stdout)
	}
	time.Sleep(300 * time.Millisecond)
	for _, c := range []string{"sleep 4712", "sleep 4713", "sleep 30"} {
		if left := userProcs(t, f.hosts[0].User, c); len(left) != 0 {
			t.Errorf("still running on the host after the timeouts: %v", left)
		}
	}
}
