package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile of this invocation to the file named
// by DRIFTLESS_CPUPROFILE, for `go tool pprof` (see bench/README.md). It
// returns the function that ends it.
func startProfile(stderr io.Writer) func() {
	path := os.Getenv("DRIFTLESS_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(stderr, "driftless: DRIFTLESS_CPUPROFILE:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		fmt.Fprintln(stderr, "driftless: DRIFTLESS_CPUPROFILE:", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
