package runner_test

import (
	"os"
	"path/filepath"
	"testing"
)

// The check script stats every path at once, before any correction. A
// path an earlier step creates (a directory's parent, made by mkdir -p)
// is stat'ed again when its own step comes: on a fresh host its mode is
// checked rather than ending the script, and on a host where another
// path exists its drift is not missed by reading the batch's stand-in.
func TestPathMadeByAnEarlierStepIsStatedAgain(t *testing.T) {
	for _, other := range []bool{false, true} {
		home := t.TempDir()
		t.Setenv("HOME", home)
		if other {
			if err := os.WriteFile(filepath.Join(home, "other"), []byte("x\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cfg := localConfig(t, `
[[steps]]
name = "data"
action = "directory"
path = "~/app/data"

[[steps]]
name = "app"
action = "directory"
path = "~/app"
mode = "0750"

[[steps]]
name = "other"
action = "file"
path = "~/other"
content = "x\n"
`)
		if got := statuses(runLocal(t, cfg, false)); got != "data=Corrected app=Corrected other=Corrected" && got != "data=Corrected app=Corrected other=Compliant" {
			t.Fatalf("other=%v: apply: %s", other, got)
		}
		fi, err := os.Stat(filepath.Join(home, "app"))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o750 {
			t.Errorf("other=%v: ~/app has mode %o, want 750", other, fi.Mode().Perm())
		}
		if got := statuses(runLocal(t, cfg, true)); got != "data=Compliant app=Compliant other=Compliant" {
			t.Errorf("other=%v: check after apply: %s", other, got)
		}
	}
}
