package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/journal"
)

// The journal tells what happened (SPEC §6, docs/safety.md): a real
// driftless applies a document whose four steps each change a file on
// real sshd hosts, then sleep; it is killed or interrupted in the middle.

// honestDoc has steps 1..4: each writes ~/dl/ROUND/N ("changed"), then
// sleeps, then writes ~/dl/ROUND/N.end with the time it ended (ns).
func honestDoc(sleep string) string {
	var b strings.Builder
	b.WriteString("[parameters.round]\ntype = \"String\"\n")
	for n := 1; n <= 4; n++ {
		fmt.Fprintf(&b, `
[[steps]]
name = "step-%d"
action = "shell"
check = "test -f ~/dl/{{ round }}/%d"
run = "mkdir -p ~/dl/{{ round }} && echo changed > ~/dl/{{ round }}/%d && sleep %s && date +%%s%%N > ~/dl/{{ round }}/%d.end"
`, n, n, n, sleep, n)
	}
	return b.String()
}

var honestAssoc = everyHost("honest", "honest", `parameters = { round = "{{ env:DL_ROUND }}" }`)

// stepEnd is when step n of round ended on the host whose home is home
// (zero: it has not).
func stepEnd(home, round string, n int) time.Time {
	b, err := os.ReadFile(filepath.Join(home, "dl", round, fmt.Sprintf("%d.end", n)))
	if err != nil {
		return time.Time{}
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// startApply starts a real driftless apply of round.
func startApply(t *testing.T, f *e2eFleet, round string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(buildBinary(t), "apply", "-C", f.dir)
	cmd.Env = append(os.Environ(), "DL_ROUND="+round)
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, out
}

// waitSteps waits until step n ended on every host, then more than the
// 100 ms the journal may lose: 400 ms, for a shared CI machine where the
// killed process may wait for a CPU (TestKillProbe measures the bound
// itself).
func waitSteps(t *testing.T, f *e2eFleet, cmd *exec.Cmd, out *bytes.Buffer, round string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, h := range f.hosts {
		for stepEnd(h.Home, round, n).IsZero() {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("step %d never ended on %s:\n%s", n, h.Name, out)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	time.Sleep(400 * time.Millisecond)
}

// lastRun opens the journal as the next command does (recovering runs
// whose process is gone, here through `driftless history`) and returns
// the last run and its hosts.
func lastRun(t *testing.T, f *e2eFleet) (*journal.Run, []journal.HostResult) {
	t.Helper()
	f.run(t, "history")
	j, err := journal.Open(filepath.Join(f.dir, ".driftless", "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	runs, err := j.History(context.Background(), journal.HistoryFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) == 0 {
		return &journal.Run{}, nil
	}
	run, hosts, err := j.Show(context.Background(), runs[0].ID, "")
	if err != nil {
		t.Fatal(err)
	}
	return run, hosts
}

func stepStatuses(h journal.HostResult) string {
	var parts []string
	for _, s := range h.Steps {
		p := fmt.Sprintf("%s=%s", s.Name, s.Status)
		if s.SkipReason != "" {
			p += "(" + s.SkipReason + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

// kill -9 after step 2 of 4 ended on the hosts: once the next command
// recovers the run, each host is Interrupted with steps 1-2 Corrected, as
// the files on the hosts say.
func TestKilledRunKeepsTheStepsThatEnded(t *testing.T) {
	f := startFleet(t, 2, honestAssoc)
	f.writeDoc("honest", honestDoc("3"))
	cmd, out := startApply(t, f, "k")
	waitSteps(t, f, cmd, out, "k", 2)
	killed := time.Now()
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	run, hosts := lastRun(t, f)
	if run.Status != journal.StatusInterrupted || len(hosts) != len(f.hosts) {
		t.Fatalf("run %+v, %d hosts", run, len(hosts))
	}
	for _, h := range hosts {
		if got := stepStatuses(h); h.Status != journal.StatusInterrupted || got != "step-1=Corrected step-2=Corrected" {
			t.Errorf("%s: %s %s (%s)", h.Host, h.Status, got, h.Error)
		}
		if !strings.Contains(h.Error, "2 steps recorded before the process died") {
			t.Errorf("%s: error %q", h.Host, h.Error)
		}
	}
	for _, h := range f.hosts {
		for n := 1; n <= 2; n++ {
			if e := stepEnd(h.Home, "k", n); e.IsZero() || e.After(killed) {
				t.Errorf("%s: step %d recorded Corrected, ended at %v (killed at %v)", h.Name, n, e, killed)
			}
		}
	}
	r := f.mustRun(t, "show", 0, "2 steps recorded before the process died", "show", strconv.FormatInt(run.ID, 10))
	for _, want := range []string{"1. step-1 (shell)  Corrected", "2. step-2 (shell)  Corrected"} {
		if strings.Count(r.stdout, want) != len(f.hosts) {
			t.Errorf("show lacks %q on every host:\n%s", want, r.stdout)
		}
	}
	r = f.run(t, "status")
	if !strings.Contains(r.stdout, "Interrupted") {
		t.Errorf("status does not show the interrupted hosts:\n%s", r)
	}
}

// SIGINT and SIGTERM at once after step 2 of 4 ended: steps 1-2 keep
// Corrected, step 3 (running) is Cancelled with its reason, step 4 is
// Skipped (cancelled); the run is Cancelled and driftless exits 130.
func TestInterruptedRunKeepsTheStepsThatEnded(t *testing.T) {
	f := startFleet(t, 2, honestAssoc)
	f.writeDoc("honest", honestDoc("3"))
	cmd, out := startApply(t, f, "i")
	waitSteps(t, f, cmd, out, "i", 2)
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit %d, want 130:\n%s", code, out)
	}
	run, hosts := lastRun(t, f)
	if run.Status != journal.StatusCancelled {
		t.Fatalf("run %+v", run)
	}
	for _, h := range hosts {
		want := "step-1=Corrected step-2=Corrected step-3=Cancelled step-4=Skipped(cancelled)"
		if got := stepStatuses(h); h.Status != journal.StatusCancelled || got != want {
			t.Errorf("%s: %s %s, want Cancelled %s", h.Host, h.Status, got, want)
			continue
		}
		if e := h.Steps[2].Error; e != "cancelled while it ran: the run was interrupted" {
			t.Errorf("%s: step 3 error %q", h.Host, e)
		}
		if e := h.Steps[3].Error; e != "not started: the run was interrupted" {
			t.Errorf("%s: step 4 error %q", h.Host, e)
		}
		if h.Error != "cancelled: the run was interrupted" {
			t.Errorf("%s: host error %q", h.Host, h.Error)
		}
	}
}

// The probe of issue 14: kill -9 at a random moment, 20 rounds over 15
// real sshd hosts; after each, the journal, the hosts and the exit code
// must tell the truth. It takes 20-60 s and measures time on a real
// machine: it runs only with DRIFTLESS_KILL_PROBE=1.
func TestKillProbe(t *testing.T) {
	if os.Getenv("DRIFTLESS_KILL_PROBE") == "" {
		t.Skip("the kill -9 probe (20-60 s) runs with DRIFTLESS_KILL_PROBE=1")
	}
	const hosts, rounds = 15, 20
	// lost is what the journal may lose before a kill (SPEC §6: 100 ms),
	// plus what the step's end takes to reach driftless and be committed
	// on a loaded machine (the test logs the worst it saw).
	const lost = 100*time.Millisecond + 200*time.Millisecond
	f := startFleet(t, hosts, honestAssoc)
	f.writeDoc("honest", honestDoc("0.25"))
	buildBinary(t)
	var worst time.Duration // the oldest unrecorded step end before a kill
	var lastID int64
	for round := range rounds {
		name := fmt.Sprintf("r%d", round)
		cmd, out := startApply(t, f, name)
		started := time.Now()
		wait := make(chan struct{})
		go func() { cmd.Wait(); close(wait) }()
		delay := time.Duration(rand.Int64N(int64(1500 * time.Millisecond))) // a run takes about 1.3 s
		var killed time.Time
		select {
		case <-wait:
		case <-time.After(delay):
			killed = time.Now()
			cmd.Process.Signal(syscall.SIGKILL)
			<-wait
		}
		code := cmd.ProcessState.ExitCode()
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		run, rs := lastRun(t, f)
		ctx := fmt.Sprintf("round %d (kill after %s)", round, delay.Round(time.Millisecond))
		if run.ID == lastID {
			// Killed before it recorded a run: then no step ran.
			for _, h := range f.hosts {
				for n := 1; n <= 4; n++ {
					if _, err := os.Stat(filepath.Join(h.Home, "dl", name, strconv.Itoa(n))); err == nil {
						t.Errorf("%s: no run recorded, but step %d ran on %s", ctx, n, h.Name)
					}
				}
			}
			t.Logf("%s: killed before it recorded a run", ctx)
			continue
		}
		lastID = run.ID
		if run.Status == journal.StatusInProgress {
			t.Errorf("%s: run %d still InProgress after recovery", ctx, run.ID)
		}
		exited := ws.Signaled() == false
		switch {
		case exited && (code != 0 || run.Status != journal.StatusSuccess):
			t.Errorf("%s: driftless ended by itself with exit %d, run %s:\n%s", ctx, code, run.Status, out)
		case !exited && (ws.Signal() != syscall.SIGKILL || (run.Status != journal.StatusInterrupted && run.Status != journal.StatusSuccess)):
			// Success: the run was over, and recorded, before the kill.
			t.Errorf("%s: killed (%v), run recorded %s", ctx, ws.Signal(), run.Status)
		}
		finished := run.Status == journal.StatusSuccess
		recorded := map[string]journal.HostResult{}
		for _, h := range rs {
			recorded[h.Host] = h
			if h.Status == journal.StatusInProgress {
				t.Errorf("%s: host %s still InProgress", ctx, h.Host)
			}
		}
		for _, h := range f.hosts {
			hr := recorded[h.Name]
			done := map[int]journal.Status{}
			for _, s := range hr.Steps {
				done[s.Index+1] = s.Status
				// Every step recorded as having done something did it,
				// before the kill.
				if s.Status != journal.StatusCorrected {
					if exited || s.Status == journal.StatusCompliant {
						t.Errorf("%s: %s step %d recorded %s", ctx, h.Name, s.Index+1, s.Status)
					}
					continue
				}
				b, _ := os.ReadFile(filepath.Join(h.Home, "dl", name, strconv.Itoa(s.Index+1)))
				e := stepEnd(h.Home, name, s.Index+1)
				if string(b) != "changed\n" || e.IsZero() || (!killed.IsZero() && e.After(killed)) {
					t.Errorf("%s: %s step %d recorded Corrected; on the host: %q, ended %v (killed %v)", ctx, h.Name, s.Index+1, b, e, killed)
				}
			}
			if finished && (hr.Status != journal.StatusSuccess || stepStatuses(hr) != "step-1=Corrected step-2=Corrected step-3=Corrected step-4=Corrected") {
				t.Errorf("%s: %s: %s %s", ctx, h.Name, hr.Status, stepStatuses(hr))
			}
			switch {
			case hr.Host == "":
				// Killed before the host was recorded: then nothing ran
				// there, or for less than the journal may lose.
				if _, err := os.Stat(filepath.Join(h.Home, "dl", name, "1")); err == nil && killed.Sub(started) > lost {
					t.Errorf("%s: %s not recorded, but step 1 ran there", ctx, h.Name)
				}
			case !exited && hr.Status != journal.StatusInterrupted && hr.Status != journal.StatusSuccess:
				t.Errorf("%s: %s recorded %s", ctx, h.Name, hr.Status)
			}
			if n := len(hr.Steps); hr.Status == journal.StatusInterrupted && n > 0 &&
				!strings.Contains(hr.Error, fmt.Sprintf("%d step", n)) {
				t.Errorf("%s: %s: error %q for %d steps", ctx, h.Name, hr.Error, n)
			}
			// No step that ended on the host before the kill (by more than
			// the journal may lose) is missing.
			for n := 1; n <= 4; n++ {
				e := stepEnd(h.Home, name, n)
				if e.IsZero() || killed.IsZero() || !e.Before(killed) || done[n] == journal.StatusCorrected {
					continue
				}
				if age := killed.Sub(e); age > worst {
					worst = age
				}
				if killed.Sub(e) > lost {
					var ends []string
					for k := 1; k <= 4; k++ {
						if e := stepEnd(h.Home, name, k); !e.IsZero() {
							ends = append(ends, fmt.Sprintf("%d@%s", k, e.Sub(started).Round(time.Millisecond)))
						}
					}
					t.Errorf("%s: %s step %d ended %s before the kill and is not recorded (%s; host started %s after driftless; steps ended at %s)", ctx, h.Name, n, killed.Sub(e).Round(time.Millisecond), stepStatuses(hr),
						hr.StartedAt.Sub(started).Round(time.Millisecond), strings.Join(ends, " "))
				}
			}
		}
		t.Logf("%s: run %d %s, took %s", ctx, run.ID, run.Status, time.Since(started).Round(time.Millisecond))
	}
	t.Logf("oldest step end not recorded at a kill: %s before it (allowed %s)", worst.Round(time.Millisecond), lost)
}
