//go:build !unix

package journal

import "time"

// processCPU is unknown here (no getrusage): BenchmarkRunHosts reports 0.
func processCPU() time.Duration { return 0 }
