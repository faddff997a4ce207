package main

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A tick stopped by SIGTERM (or SIGINT) in the middle of a scheduled run
// records it Cancelled, and the next tick runs it again at once, as after
// a kill -9: the schedule counts from the last run that ended
// (docs/schedules.md), not from the one that was cut off.
func TestSignalledTickRunsAgainAtNextTick(t *testing.T) {
	bin := buildBinary(t)
	f := startFleet(t, 1, everyHost("s", "s", `schedule = "rate(30 minutes)"`))
	f.writeDoc("s", counterDoc("s")+"\n[[steps]]\nname = \"slow\"\naction = \"shell\"\nrun = \"sleep 3\"\n")
	// An hour ago, on a minute: tick refuses a --now ahead of the clock,
	// and rate() counts from the minute of the last start.
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Minute)
	at := func(d time.Duration) string { return start.Add(d).Format(time.RFC3339) }

	f.mustRun(t, "first tick", 0, "", "tick", "--now", at(0))
	if got := runsOn(t, f.hosts[0].Home, "s"); got != 1 {
		t.Fatalf("first tick ran %d times", got)
	}

	// The scheduled run 31 minutes later is stopped by SIGTERM.
	cmd := exec.Command(bin, "tick", "-C", f.dir, "--now", at(31*time.Minute))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for runsOn(t, f.hosts[0].Home, "s") < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if r := f.run(t, "history", "--json"); !strings.Contains(r.stdout, `"status": "Cancelled"`) {
		t.Fatalf("history after SIGTERM: %s", r)
	}

	// Its next fire time counts from the first run, which ended: it is
	// already past at the next tick.
	r := f.run(t, "schedule", "--now", at(29*time.Minute))
	if next := start.Add(30 * time.Minute).Format("2006-01-02 15:04:05Z"); !strings.Contains(r.stdout, "Cancelled    "+next) {
		t.Errorf("schedule after the cancelled run does not show NEXT %s: %s", next, r)
	}
	r = f.mustRun(t, "tick after SIGTERM", 0, "", "tick", "--now", at(32*time.Minute))
	if got := runsOn(t, f.hosts[0].Home, "s"); got != 3 {
		t.Fatalf("ran %d times, want 3 (again after the SIGTERM): %s", got, r)
	}
	r = f.run(t, "history", "--json")
	if strings.Count(r.stdout, `"trigger": "schedule"`) != 2 {
		t.Errorf("the retried run is not recorded with its schedule trigger: %s", r)
	}
}
