package main

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
)

func runInit(c *cli.Context, u *ui) error {
	if c.NArg() > 1 {
		return usageError("init takes at most one DIR")
	}
	dir := c.Args().First()
	if dir == "" {
		dir = c.String("dir")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return exitWith(exitInvalid, err)
	}
	files := exampleFiles(abs)
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(abs, f.path)); err == nil {
			return usageError("%s already exists; init never overwrites files", filepath.Join(dir, f.path))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return exitWith(exitInvalid, err)
		}
	}
	for _, f := range files {
		p := filepath.Join(abs, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return exitWith(exitInvalid, fmt.Errorf("init: %w", err))
		}
		if err := os.WriteFile(p, []byte(f.content), 0o644); err != nil {
			return exitWith(exitInvalid, fmt.Errorf("init: %w", err))
		}
		u.notef("wrote %s", filepath.Join(dir, f.path))
	}
	fmt.Fprintf(u.out, "Next:\n  driftless validate -C %[1]s\n  driftless apply -C %[1]s\n  driftless check -C %[1]s\n  driftless status -C %[1]s\n", dir)
	return nil
}

// examples holds the example config dirs: init's (examples/init, its
// inventory's vars.root written @ROOT@) and demo's (examples/demo, all but
// its inventory, which names the hosts demo starts).
//
//go:embed examples
var examples embed.FS

// example is the file name of examples/.
func example(name string) string {
	b, err := examples.ReadFile("examples/" + name)
	if err != nil {
		panic(err) // embedded at build time
	}
	return string(b)
}

type exampleFile struct{ path, content string }

func exampleFiles(abs string) []exampleFile {
	q := fmt.Sprintf("%q", abs)
	return []exampleFile{
		{"inventory.toml", strings.ReplaceAll(example("init/inventory.toml"), "@ROOT@", q)},
		{"documents/baseline.toml", example("init/documents/baseline.toml")},
		{"associations.toml", example("init/associations.toml")},
		{".gitignore", ".driftless/\n"},
	}
}
