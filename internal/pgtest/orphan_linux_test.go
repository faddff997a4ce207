package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// orphan runs in a child test binary: it starts a server, prints its
// postmaster's pid and directory, and dies by SIGKILL without cleaning
// up.
func orphan() {
	s, err := prepare(nil)
	if err == nil {
		err = s.init()
	}
	if err == nil {
		err = s.Start()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("%d %s\n", s.PID(), s.SocketDir)
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
}

func TestServerDiesWithTestBinary(t *testing.T) {
	t.Parallel()
	if _, err := findServer(BinGlob); err != nil {
		unavailable(t, err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PGTEST_ORPHAN=1")
	out, err := cmd.Output()
	var pid int
	var dir string
	if _, serr := fmt.Sscanf(string(out), "%d %s", &pid, &dir); serr != nil {
		t.Fatalf("child test binary: %v: %q (stderr %s)", err, out, stderrOf(err))
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	dataDir := filepath.Join(dir, "data")
	deadline := time.Now().Add(10 * time.Second)
	for processAlive(pid) || len(processesIn(dataDir)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("postmaster %d (or its backends %v) still runs 10 s after its test binary died",
				pid, processesIn(dataDir))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the dead binary's server directory: %v", err)
	}
	// The next test binary's first server removes what the dead one left.
	sweep(filepath.Dir(dir))
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("sweep left %s: %v", dir, err)
	}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
