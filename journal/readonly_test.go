package journal

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// A journal opened read-only shows what it holds and refuses every write.
func TestOpenReadOnly(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	j := openT(t, path)
	id := startRunT(t, j, "web", ModeApply, base)
	recordT(t, j, host(id, "web-1", StatusSuccess, base, step(0, StatusCompliant)))
	finishT(t, j, id, StatusSuccess, base.Add(time.Minute))
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if !ro.ReadOnly() {
		t.Error("ReadOnly() = false")
	}
	rows, err := ro.Status(ctx, StatusFilter{})
	if err != nil || len(rows) != 1 || rows[0].Host != "web-1" || rows[0].Compliance != Compliant {
		t.Fatalf("Status = %+v, %v", rows, err)
	}
	if _, err := ro.StartRun(ctx, &Run{Association: "web", Document: "d", Mode: ModeApply, Trigger: TriggerManual, StartedAt: base}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("StartRun = %v, want ErrReadOnly", err)
	}
	if _, _, err := ro.AcquireLeases(ctx, ro.Self(0), "web", []string{"web-1"}, time.Minute); !errors.Is(err, ErrReadOnly) {
		t.Errorf("AcquireLeases = %v, want ErrReadOnly", err)
	}
	if err := ro.RecordHost(ctx, host(id, "web-2", StatusSuccess, base)); !errors.Is(err, ErrReadOnly) {
		t.Errorf("RecordHost = %v, want ErrReadOnly", err)
	}
	// Seen for the first time, it is seen now, and nothing is written.
	if at, err := ro.FirstSeen(ctx, "new", base); err != nil || !at.Equal(base) {
		t.Errorf("FirstSeen = %v, %v", at, err)
	}
}

// A journal that other users may read is made private when opened, and
// the user is told.
func TestOpenTightensMode(t *testing.T) {
	path := tempPath(t)
	j := openT(t, path)
	j.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	j = openT(t, path)
	defer j.Close()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o after Open, want 0600", st.Mode().Perm())
	}
	if n := j.Notes(); len(n) != 1 || !strings.Contains(n[0], "was mode 0644, readable by other users: made it 0600") {
		t.Errorf("notes = %q", n)
	}
}
