package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A journal on a small tmpfs fills up mid-run: the run stops starting
// hosts, says so on stderr, exits 3, and the journal never calls it a
// success (docs/safety.md). Needs root, to mount the tmpfs.
func TestJournalDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs (CI runs as root)")
	}
	f := startFleet(t, 6, everyHost("big", "big", `max_concurrency = "1"`))
	f.writeDoc("big", `[[steps]]
name = "out"
action = "shell"
run = "head -c 300000 /dev/zero | tr '\\0' x; touch ~/ran"
`)
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	jp := filepath.Join(mnt, "journal.db")

	r := f.run(t, "--journal", jp, "apply")
	if r.code != 3 {
		t.Errorf("exit %d, want 3", r.code)
	}
	if !strings.Contains(r.stderr, "the journal cannot be written") || !strings.Contains(r.stderr, "disk is full") {
		t.Errorf("stderr does not say the journal is full: %s", r)
	}
	ran := 0
	for _, h := range f.hosts {
		if _, err := os.Stat(filepath.Join(h.Home, "ran")); err == nil {
			ran++
		}
	}
	if ran == len(f.hosts) {
		t.Errorf("every host ran although the journal was full: the run did not stop")
	}

	// Whatever the journal holds, it does not call the run a success.
	h := f.run(t, "--journal", jp, "history", "--json")
	if strings.Contains(h.stdout, `"status": "Success"`) && !strings.Contains(h.stdout, `"status": "Failed"`) || strings.Contains(h.stdout, "InProgress") {
		t.Errorf("history after a full journal: %s", h)
	}
	t.Logf("%d of %d hosts ran\n%s", ran, len(f.hosts), r)
}
