// Package configtest writes config dirs for tests and loads them, with a
// journal beside them.
package configtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/journal"
)

// Dir writes a config dir of files (name: content, under dir) and
// returns it loaded, with a journal in it that is closed when the test
// ends.
func Dir(t testing.TB, dir string, files map[string]string) (*config.Config, *journal.Journal) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, list := config.Load(config.Options{Dir: dir})
	if err := list.Err(); err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(filepath.Join(dir, "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return cfg, j
}

// Doc is the file testdata/docs/name of the package under test (a test
// runs in its package's directory): a document or associations the
// package's tests run. It panics when the file cannot be read, as it is
// read where the test binary starts.
func Doc(name string) string {
	b, err := os.ReadFile(filepath.Join("testdata", "docs", name))
	if err != nil {
		panic(err)
	}
	return string(b)
}
