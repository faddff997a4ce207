package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"driftless": func() { os.Exit(Main(os.Args, os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI scripts of testdata/script: the real binary,
// driven as a user would, with its exit codes and output checked.
func TestScripts(t *testing.T) {
	example, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "example"))
	shared, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "ssm-documents"))
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(e *testscript.Env) error {
			e.Setenv("EXAMPLE", example)
			e.Setenv("SHARED_SSM", shared)
			e.Setenv("NO_COLOR", "1")
			return nil
		},
		RequireExplicitExec: false,
	})
}
