package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/driftless-dev/driftless/internal/pgtest"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	// A driftless the tests start is this test binary: built with -race,
	// it would sleep a second at exit (the race detector's
	// atexit_sleep_ms) for every command the tests run.
	if os.Getenv("GORACE") == "" {
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	testscript.Main(pgtest.Tests{M: m}, map[string]func(){
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
			e.Setenv("GORACE", os.Getenv("GORACE"))
			return nil
		},
		RequireExplicitExec: false,
	})
}
