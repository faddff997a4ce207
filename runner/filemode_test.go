package runner_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A file step that declares no mode rewrites a drifted file with the
// file's own mode: a private file stays private (it was world-readable
// after a correction), whether the check script corrects it (small
// content) or the apply script does (large content). A new file gets the
// default mode 0644 less the login umask (SPEC §6).
func TestFileWithoutModeKeepsItsMode(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	large := strings.Repeat("0123456789abcdef\n", 5000) // > 64 KiB: the apply script writes it
	var doc strings.Builder
	for _, name := range []string{"small", "large", "new"} {
		content := "wanted\n"
		if name == "large" {
			content = large
		}
		fmt.Fprintf(&doc, "[[steps]]\nname = %q\naction = \"file\"\npath = \"~/%s\"\ncontent = %q\n\n", name, name, content)
	}
	for _, name := range []string{"small", "large"} {
		if err := os.WriteFile(filepath.Join(home, name), []byte("tampered\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := localConfig(t, doc.String())
	if got := statuses(runLocal(t, cfg, false)); got != "small=Corrected large=Corrected new=Corrected" {
		t.Fatalf("apply: %s", got)
	}
	for name, want := range map[string]os.FileMode{"small": 0o600, "large": 0o600} {
		fi, err := os.Stat(filepath.Join(home, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %o after the correction, want %o (its own)", name, fi.Mode().Perm(), want)
		}
	}
	fi, err := os.Stat(filepath.Join(home, "new"))
	if err != nil {
		t.Fatal(err)
	}
	// SPEC §6: never more than the default 0644, less the login umask.
	if um := umask(); fi.Mode().Perm() != 0o644&^um {
		t.Errorf("new: mode %o, want %o (0644 less the umask %03o)", fi.Mode().Perm(), 0o644&^um, um)
	}
	if got := statuses(runLocal(t, cfg, true)); got != "small=Compliant large=Compliant new=Compliant" {
		t.Errorf("check after apply: %s", got)
	}
}

// umask returns this process's umask (set and restored at once).
func umask() os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
}
