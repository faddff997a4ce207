package runner

import (
	"strings"
	"testing"
	"time"
)

// baselineSteps are the fleet benchmark's five steps (bench/baseline.toml).
func baselineSteps() []*step {
	conf := []byte("# written by the driftless fleet benchmark\nlisten = 8080\nworkers = 4\n")
	return []*step{
		{idx: 0, name: "app-dir", action: "directory", path: "~/bench/app", mode: "0755", attempts: 1, timeout: time.Hour},
		{idx: 1, name: "app-config", action: "file", path: "~/bench/app/app.conf", content: conf, contentText: true, mode: "0640", attempts: 1, timeout: time.Hour},
		{idx: 2, name: "profile-line", action: "line", path: "~/.profile", line: "export BENCH_ENV=production", create: true, attempts: 1, timeout: time.Hour},
		{idx: 3, name: "install", action: "shell", check: "test -f ~/bench/.installed", hasCheck: true, run: "sleep 0.1 && touch ~/bench/.installed", attempts: 1, timeout: time.Hour},
		{idx: 4, name: "kernel", action: "shell", run: "uname -r", attempts: 1, timeout: time.Hour},
	}
}

// The check script of an apply is built once per host and run: its
// cost is paid for every host of a fleet.
func BenchmarkCheckRunScript(b *testing.B) {
	steps := baselineSteps()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n = len(checkRunScript("@@DL-0123456789abcdef", steps, scriptState{salvage: -1}))
	}
	b.ReportMetric(float64(n), "script-bytes")
}

// BenchmarkCheckRunScriptCached is the same script for a host whose
// steps equal another's: taken from the Runner's cache.
func BenchmarkCheckRunScriptCached(b *testing.B) {
	var c scriptCache
	build := cached(&c, "checkRun", checkRunScript)
	build("@@DL-0123456789abcdef", baselineSteps(), scriptState{salvage: -1})
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n = len(build("@@DL-fedcba9876543210", baselineSteps(), scriptState{salvage: -1}))
	}
	b.ReportMetric(float64(n), "script-bytes")
}

func TestBaselineScriptShape(t *testing.T) {
	s := checkRunScript("@@DL-0123456789abcdef", baselineSteps(), scriptState{salvage: -1})
	// One batch stat for the three paths, the checks in order, the run last.
	if n := strings.Count(s, "stat -c '%a - - %s' --"); n != 1 {
		t.Errorf("%d GNU stat batches, want 1", n)
	}
	if i, j := strings.Index(s, "dl_frame 0 stat"), strings.Index(s, "dl_frame 4 start run"); i < 0 || j < i {
		t.Errorf("frames out of order: stat at %d, run at %d", i, j)
	}
}
