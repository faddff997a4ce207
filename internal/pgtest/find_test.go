package pgtest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeInstall makes root/MAJOR/bin with executable initdb and postgres
// files, for the finder alone (nothing runs them).
func fakeInstall(t *testing.T, root, major string) string {
	t.Helper()
	bin := filepath.Join(root, major, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"initdb", "postgres"} {
		if err := os.WriteFile(filepath.Join(bin, p), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return bin
}

func TestFindServerUnavailable(t *testing.T) {
	empty := t.TempDir()
	old := t.TempDir()
	fakeInstall(t, old, "9.6")
	oldBin := fakeInstall(t, old, "13")
	for _, c := range []struct{ pattern, want string }{
		{filepath.Join(empty, "*", "bin"),
			"no initdb and postgres in " + filepath.Join(empty, "*", "bin") + ": apt-get install postgresql (./test.sh installs it)"},
		{filepath.Join(old, "*", "bin"),
			"PostgreSQL 13 in " + oldBin + " is too old, driftless needs 14 or later: apt-get install postgresql"},
	} {
		_, err := findServer(c.pattern)
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: err = %v, want ErrUnavailable", c.pattern, err)
		} else if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: message %q does not say %q", c.pattern, err, c.want)
		}
	}
}

func TestFindServerNewest(t *testing.T) {
	root := t.TempDir()
	fakeInstall(t, root, "14")
	want := fakeInstall(t, root, "16")
	fakeInstall(t, root, "9.6")
	// A directory without the server programs (only a client) is passed over.
	if err := os.MkdirAll(filepath.Join(root, "17", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := findServer(filepath.Join(root, "*", "bin"))
	if err != nil {
		t.Fatal(err)
	}
	if got.binDir != want || got.major != 16 {
		t.Errorf("found %s (major %d), want %s (16)", got.binDir, got.major, want)
	}
}

func TestRequired(t *testing.T) {
	for _, c := range []struct {
		ci, require string
		want        bool
	}{
		{"", "", false},
		{"true", "", true},
		{"1", "", true},
		{"", "1", true},
		{"", "0", false},
	} {
		t.Setenv("CI", c.ci)
		t.Setenv("DRIFTLESS_REQUIRE_PG", c.require)
		if got := Required(); got != c.want {
			t.Errorf("CI=%q DRIFTLESS_REQUIRE_PG=%q: Required() = %v, want %v", c.ci, c.require, got, c.want)
		}
	}
}
