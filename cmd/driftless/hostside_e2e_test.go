package main

import (
	"bytes"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/shelltest"
	"github.com/driftless-dev/driftless/internal/sshtest"
)

// hostProcs lists the pids of the processes of host h's user whose
// command line is exactly cmdline.
func hostProcs(t *testing.T, h *sshtest.Host, cmdline string) []string {
	t.Helper()
	u, err := user.Lookup(h.User)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		var st syscall.Stat_t
		if syscall.Stat(d, &st) != nil || strings.TrimSpace(u.Uid) != itoa(st.Uid) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err == nil && strings.TrimRight(strings.ReplaceAll(string(b), "\x00", " "), " ") == cmdline {
			found = append(found, filepath.Base(d))
		}
	}
	return found
}

func itoa(n uint32) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// waitFor polls cond for up to 20s.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}

// After a kill -9 of driftless, its script goes on on the host; the
// next apply of the same association on that host first ends it, with
// everything it started: the two never overlap (SPEC §6, issue 14 item
// 3b). The step itself writes down, when it begins, how many of the
// older run's sleeps still run.
func TestE2EKilledRunDoesNotOverlapTheNext(t *testing.T) {
	f := startFleet(t, 1, everyHost("long", "long"))
	f.writeDoc("long", `
[[steps]]
name = "long"
action = "shell"
run = "echo \"begin $(pgrep -u $(id -u) -xf 'sleep 4711' | wc -l)\" >>~/log; [ -e ~/quick ] || sleep 4711; echo end >>~/log"
`)
	h := f.hosts[0]
	cmd, out := startApply(t, f, "")
	if !waitFor(func() bool { return len(hostProcs(t, h, "sleep 4711")) > 0 }) {
		cmd.Process.Kill()
		t.Fatalf("the remote sleep never started:\n%s", out)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	time.Sleep(300 * time.Millisecond) // sshd notices the dead connection
	if len(hostProcs(t, h, "sleep 4711")) == 0 {
		t.Fatal("the old script's sleep did not outlive its controller: nothing to test")
	}
	os.WriteFile(filepath.Join(h.Home, "quick"), nil, 0o644)
	r := f.mustRun(t, "second apply", 0, "", "apply", "--lease-wait", "30s")
	log, _ := os.ReadFile(filepath.Join(h.Home, "log"))
	if got, want := string(log), "begin 0\nbegin 0\nend\n"; got != want {
		t.Errorf("the host's log:\n%s\nwant:\n%s(the second run began while the first one's sleep ran)\n%s", got, want, r)
	}
	if left := hostProcs(t, h, "sleep 4711"); len(left) != 0 {
		t.Errorf("the killed run's sleep still runs: %v", left)
	}
}

// hostLeftovers lists the .dl-tmp. copies beside target in dir and the
// private files of driftless scripts of host h's user.
func hostLeftovers(t *testing.T, h *sshtest.Host, dir string, since time.Time) []string {
	t.Helper()
	var left []string
	beside, _ := filepath.Glob(filepath.Join(dir, ".*.dl-tmp.*"))
	left = append(left, beside...)
	for _, p := range append(shelltest.Leftovers("/dev/shm"), shelltest.Leftovers(os.TempDir())...) {
		if strings.Contains(p, "/.driftless-"+h.User+"/") || strings.HasPrefix(filepath.Base(p), ".driftless-") && ownedBy(p, h, since) {
			left = append(left, p)
		}
	}
	return left
}

// ownedBy reports whether p is host h's user's, made since (uids of
// deleted test users come back).
func ownedBy(p string, h *sshtest.Host, since time.Time) bool {
	var st syscall.Stat_t
	u, err := user.Lookup(h.User)
	fi, ferr := os.Lstat(p)
	return err == nil && ferr == nil && syscall.Lstat(p, &st) == nil && itoa(st.Uid) == u.Uid && fi.ModTime().After(since)
}

// A run killed while it writes a large file leaves no temporary copy
// beside the target once it ended (SIGINT: the script removes it) or
// once the next run on the host ran (kill -9: the next script removes
// it), and no private file of the killed run (SPEC §6 "Nothing left
// behind", issue 14 item 5).
func TestE2EKilledLargeWriteLeavesNothing(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			f := startFleet(t, 1, everyHost("big", "big"))
			big := bytes.Repeat([]byte("0123456789abcdef\x01\x02\x03\n"), 2<<20) // 40 MiB, partly escaped
			os.WriteFile(filepath.Join(f.dir, "big.bin"), big, 0o644)
			f.writeDoc("big", `
[[steps]]
name = "data"
action = "directory"
path = "~/data"

[[steps]]
name = "big"
action = "file"
path = "~/data/big.bin"
source = "big.bin"
`)
			h := f.hosts[0]
			data := filepath.Join(h.Home, "data")
			start := time.Now()
			cmd, out := startApply(t, f, "")
			writing := func() bool { m, _ := filepath.Glob(filepath.Join(data, ".big.bin.dl-tmp.*")); return len(m) > 0 }
			if !waitFor(writing) {
				cmd.Process.Kill()
				t.Fatalf("the copy beside the target never appeared:\n%s", out)
			}
			cmd.Process.Signal(sig)
			cmd.Wait()
			if sig == syscall.SIGINT {
				time.Sleep(time.Second)
				if left := hostLeftovers(t, h, data, start); slicesAny(left, ".dl-tmp.") {
					t.Errorf("after SIGINT: left beside the target: %v\n%s", left, out)
				}
			}
			// The next run (a check: it changes nothing) removes what the
			// killed one left.
			f.run(t, "check")
			if left := hostLeftovers(t, h, data, start); len(left) != 0 {
				t.Errorf("after %s and the next run: left on the host: %v", sig, left)
			}
		})
	}
}

func slicesAny(s []string, sub string) bool {
	for _, x := range s {
		if strings.Contains(x, sub) {
			return true
		}
	}
	return false
}
