package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfile writes a CPU profile of this invocation to the file named
// by DRIFTLESS_CPUPROFILE, and the profile of its allocations to the file
// named by DRIFTLESS_MEMPROFILE (written when it ends), for `go tool
// pprof` (see bench/README.md). It returns the function that ends them.
func startProfile(stderr io.Writer) func() {
	stopCPU := startCPUProfile(stderr)
	path := os.Getenv("DRIFTLESS_MEMPROFILE")
	if path == "" {
		return stopCPU
	}
	return func() {
		stopCPU()
		runtime.GC() // the profile counts allocations up to the last collection: make it now
		f, err := os.Create(path)
		if err == nil {
			err = pprof.Lookup("allocs").WriteTo(f, 0)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(stderr, "driftless: DRIFTLESS_MEMPROFILE:", err)
		}
	}
}

func startCPUProfile(stderr io.Writer) func() {
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
