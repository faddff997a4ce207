package runner

import (
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/runner/plan"
	"github.com/driftless-dev/driftless/runner/posix"
)

// baselineSteps are the fleet benchmark's five steps (bench/baseline.toml).
func baselineSteps() []*plan.Step {
	conf := []byte("# written by the driftless fleet benchmark\nlisten = 8080\nworkers = 4\n")
	return []*plan.Step{
		{Idx: 0, Name: "app-dir", Action: "directory", Path: "~/bench/app", Mode: "0755", Attempts: 1, Timeout: time.Hour},
		{Idx: 1, Name: "app-config", Action: "file", Path: "~/bench/app/app.conf", Content: conf, ContentText: true, Mode: "0640", Attempts: 1, Timeout: time.Hour},
		{Idx: 2, Name: "profile-line", Action: "line", Path: "~/.profile", Line: "export BENCH_ENV=production", Create: true, Attempts: 1, Timeout: time.Hour},
		{Idx: 3, Name: "install", Action: "shell", Check: "test -f ~/bench/.installed", HasCheck: true, Run: "sleep 0.1 && touch ~/bench/.installed", Attempts: 1, Timeout: time.Hour},
		{Idx: 4, Name: "kernel", Action: "shell", Run: "uname -r", Attempts: 1, Timeout: time.Hour},
	}
}

// The check script of an apply is built once per host and Run: its
// cost is paid for every host of a fleet.
func BenchmarkCheckRunScript(b *testing.B) {
	steps := baselineSteps()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n = len(posix.CheckRunScript("@@DL-0123456789abcdef", steps, plan.Resume{Salvage: -1}))
	}
	b.ReportMetric(float64(n), "script-bytes")
}

// BenchmarkCheckRunScriptCached is the same script for a host whose
// steps equal another's: taken from the Runner's cache.
func BenchmarkCheckRunScriptCached(b *testing.B) {
	var c scriptCache
	build := cached(&c, "checkRun", posix.CheckRunScript)
	build("@@DL-0123456789abcdef", baselineSteps(), plan.Resume{Salvage: -1})
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n = build("@@DL-fedcba9876543210", baselineSteps(), plan.Resume{Salvage: -1}).Len()
	}
	b.ReportMetric(float64(n), "script-bytes")
}

func TestBaselineScriptShape(t *testing.T) {
	s := posix.CheckRunScript("@@DL-0123456789abcdef", baselineSteps(), plan.Resume{Salvage: -1})
	// One batch stat for the three paths, the checks in order, the run last.
	if n := strings.Count(s, "stat -c '%a - - %s' --"); n != 1 {
		t.Errorf("%d GNU stat batches, want 1", n)
	}
	if i, j := strings.Index(s, "dl_frame 0 stat"), strings.Index(s, "dl_frame 4 start run"); i < 0 || j < i {
		t.Errorf("frames out of order: stat at %d, run at %d", i, j)
	}
}
