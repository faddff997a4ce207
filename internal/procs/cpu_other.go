//go:build !unix

package procs

import "time"

// cpuTime is unknown here: Adapt leaves GOMAXPROCS as Go chose it.
func cpuTime() (time.Duration, bool) { return 0, false }
