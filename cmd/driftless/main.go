// Command driftless keeps a fleet of machines in a declared state over SSH
// and WinRM, with nothing installed on them, and remembers every drift.
package main

import (
	"os"
	"runtime/debug"

	"github.com/driftless-dev/driftless/internal/procs"
)

// gcPercent is the garbage collector's GOGC unless the environment sets
// one. A run holds hundreds of connections at once, whose goroutine
// stacks every collection scans: collecting half as often (the heap
// grows to 3x what is live instead of 2x) saves about 5% of the CPU of a
// 2,000-host run for about 30 MB of peak memory at max_concurrency 500
// (bench/README.md).
const gcPercent = 200

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	procs.Adapt() // as many scheduler processors as the run keeps busy
	os.Exit(Main(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
