package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A journal on a read-only file system can still be read by status,
// history and schedule, which say it is read-only; a journal other users
// may read is made private and the user told (docs/safety.md).
func TestJournalReadOnlyAndLoose(t *testing.T) {
	f := startFleet(t, 1, everyHost("app", "app", `schedule = "rate(1 hour)"`))
	t.Setenv("APP_TOKEN", "t")
	f.writeDoc("app", "[[steps]]\nname = \"hi\"\naction = \"shell\"\nrun = \"true\"\n")
	f.mustRun(t, "apply", 0, "", "apply")

	jp := filepath.Join(f.dir, ".driftless", "journal.db")
	if err := os.Chmod(jp, 0o644); err != nil {
		t.Fatal(err)
	}
	r := f.mustRun(t, "status with a loose journal", 0, "COMPLIANT", "status")
	if !strings.Contains(r.stderr, "was mode 0644, readable by other users: made it 0600") {
		t.Errorf("no note about the journal's mode: %s", r)
	}
	if st, _ := os.Stat(jp); st.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %04o, want 0600", st.Mode().Perm())
	}

	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a read-only bind mount (CI runs as root)")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "--bind", f.dir, mnt).CombinedOutput(); err != nil {
		t.Fatalf("bind mount: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	if out, err := exec.Command("mount", "-o", "remount,bind,ro", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount ro: %v %s", err, out)
	}
	ro := &e2eFleet{dir: mnt}
	for _, cmd := range [][]string{{"status"}, {"history"}, {"schedule"}} {
		r := ro.run(t, cmd...)
		if r.code != 0 || !strings.Contains(r.stderr, "cannot be written here") || !strings.Contains(r.stdout, "app") {
			t.Errorf("%s on a read-only journal: %s", cmd[0], r)
		}
	}
	if r := ro.run(t, "apply"); r.code == 0 {
		t.Errorf("apply with a read-only journal succeeded: %s", r)
	}
}
