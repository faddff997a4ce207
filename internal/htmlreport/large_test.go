//go:build unix

package htmlreport_test

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/htmlreport/reporttest"
)

// A 10,000-host journal (30 days, 3 associations: 900,000 host
// executions would take too long to record here, so 10,000 hosts × 3
// associations × 3 days) gives a page under 10 MB in under 2 s.
func TestReportLargeFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("records 90,000 host executions")
	}
	if raceEnabled {
		t.Skip("a measurement: the race detector slows SQLite down some 30 times (run it without -race)")
	}
	start := time.Now()
	j := fleetJournal(t, reporttest.Fleet{Hosts: 10000, Days: 3})
	t.Logf("recorded 10,000 hosts × 3 associations × 3 days in %v", time.Since(start).Round(time.Millisecond))
	start, cpu := time.Now(), cpuTime(t)
	page, sum := write(t, j, end.Add(-30*24*time.Hour))
	took, used := time.Since(start), cpuTime(t)-cpu
	t.Logf("report: %d bytes, %d pairs, %d non-compliant, %d drift events, in %v (%v of CPU)",
		len(page), sum.Pairs, sum.NonCompliant, sum.DriftEvents, took.Round(time.Millisecond), used.Round(time.Millisecond))
	if len(page) >= 10<<20 {
		t.Errorf("the page is %d bytes, want under 10 MB", len(page))
	}
	if sum.Pairs != 30000 {
		t.Errorf("%d pairs, want 30000", sum.Pairs)
	}
	// CPU time, not wall time: the machines that run the tests are shared,
	// and a busy one stretches wall time whatever the report does.
	if limit := 2 * time.Second; used >= limit {
		t.Errorf("the report took %v of CPU, want under %v", used, limit)
	}
	if out := os.Getenv("DRIFTLESS_REPORT_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime(t testing.TB) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
