// Package configtest writes config dirs for tests and loads them, with a
// journal beside them.
package configtest

import (
	"io/fs"
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

// Doc is the file testdata/docs/name of fsys, a package's tests'
// embedded testdata: a document or associations the tests run. It panics
// when the file is not there, as it is read where the test binary starts.
// (Embedded, not read from the working directory: cmd/driftless's test
// binary also runs as driftless, in the directories of its test scripts.)
func Doc(fsys fs.FS, name string) string {
	b, err := fs.ReadFile(fsys, "testdata/docs/"+name)
	if err != nil {
		panic(err)
	}
	return string(b)
}
