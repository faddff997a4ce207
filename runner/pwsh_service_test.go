package runner

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner/frame"
	"github.com/driftless-dev/driftless/runner/plan"
	"github.com/driftless-dev/driftless/runner/powershell"
)

func svcStep(idx int, name string, running, enabled *bool) *plan.Step {
	return &plan.Step{Idx: idx, Name: "svc", Action: "service", Service: name, SvcRunning: running, SvcEnabled: enabled, Attempts: 1}
}

// winServices plays the helpers of psServicePrelude on a table of
// services, writing the frames they write.
type winServices struct {
	svc  map[string]*[2]bool // name: running, enabled
	ops  []string
	fail string // an operation that fails ("start")
}

var (
	reSvcState = regexp.MustCompile(`^dl_frame '(\d+)' '(\w+)' \(dl_svc_state '([^']*)'\)$`)
	reSvcDo    = regexp.MustCompile(`^if \(\$dl_rc -eq 0\) \{ try \{ \[void\]\$dl_so\.Append\(\[string\]\(dl_svc_do '(\w+)' '([^']*)'\)\) \} catch \{ .* \} \}$`)
	reSvcRun   = regexp.MustCompile(`^dl_frame '(\d+)' 'run' \$dl_rc$`)
	reSvcText  = regexp.MustCompile(`^dl_text '(\d+)' '(out|err)' \(\$dl_(so|e)\.ToString\(\)\)$`)
)

func (w *winServices) run(marker, script string) []frame.Frame {
	fw := frame.NewWriter(marker)
	frameOut := func(i, k, f string) { fmt.Fprintf(fw, "\n%s %s %s 0 %s\n", marker, i, k, f) }
	rc := 0
	var so, se string
	for _, l := range strings.Split(script, "\n") {
		if m := reSvcState.FindStringSubmatch(l); m != nil {
			st := "windows 0 0 0"
			if s := w.svc[m[3]]; s != nil {
				st = fmt.Sprintf("windows 1 %d %d", b2i(s[0]), b2i(s[1]))
			}
			frameOut(m[1], m[2], st)
		} else if m := reSvcDo.FindStringSubmatch(l); m != nil {
			if rc != 0 {
				continue
			}
			w.ops = append(w.ops, m[1])
			s := w.svc[m[2]]
			switch {
			case m[1] == w.fail:
				rc, se = 1, fmt.Sprintf("Service '%s' cannot be started due to the following error\r\n", m[2])
			case m[1] == "start":
				s[0] = true
				so += fmt.Sprintf("WARNING: Waiting for service '%s' to start...\r\n", m[2])
			case m[1] == "stop":
				s[0] = false
			case m[1] == "enable":
				s[1] = true
			case m[1] == "disable":
				s[1] = false
			}
		} else if m := reSvcRun.FindStringSubmatch(l); m != nil {
			frameOut(m[1], "run", strconv.Itoa(rc))
		} else if m := reSvcText.FindStringSubmatch(l); m != nil {
			b := so
			if m[3] == "e" {
				b = se
			}
			fmt.Fprintf(fw, "\n%s %s %s %d %d\n%s", marker, m[1], m[2], len(b), len(b), b)
		}
	}
	return fw.Frames
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestPSServiceRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name             string
		running, enabled *bool
		have             *[2]bool
		fail             string
		drifted          bool
		differ, ops      string
		status           journal.Status
		errText          string
	}{
		{name: "start and enable", running: ptr(true), enabled: ptr(true), have: &[2]bool{false, false}, drifted: true,
			differ: "stopped -> running; disabled -> enabled (windows)", ops: "enable start", status: journal.StatusCorrected},
		{name: "stop only", running: ptr(false), have: &[2]bool{true, true}, drifted: true,
			differ: "running -> stopped (windows)", ops: "stop", status: journal.StatusCorrected},
		{name: "compliant", running: ptr(true), enabled: ptr(true), have: &[2]bool{true, true}},
		{name: "start fails", running: ptr(true), have: &[2]bool{false, true}, fail: "start", drifted: true,
			differ: "stopped -> running (windows)", ops: "start", status: journal.StatusFailed, errText: "exited 1: Service 'Spooler' cannot be started"},
		{name: "missing", running: ptr(true), errText: "service Spooler not found (windows)", status: journal.StatusFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &winServices{svc: map[string]*[2]bool{}, fail: tc.fail}
			if tc.have != nil {
				w.svc["Spooler"] = tc.have
			}
			s := svcStep(0, "Spooler", tc.running, tc.enabled)
			h := &hostRun{steps: []*plan.Step{s}, results: make([]journal.StepResult, 1), red: &plan.Redactor{}}
			per := frame.ByStep(w.run("@@DL-1", "$DLM = '@@DL-1'\n"+powershell.ServiceCheck(s, "state")))
			a, drifted, ok := h.evaluate(s, per[0])
			if tc.have == nil {
				if ok || h.results[0].Status != tc.status || h.results[0].Error != tc.errText {
					t.Fatalf("missing service: ok %v %+v", ok, h.results[0])
				}
				return
			}
			if !ok || drifted != tc.drifted || h.results[0].Differ != tc.differ {
				t.Fatalf("evaluate: ok %v drifted %v differ %q", ok, drifted, h.results[0].Differ)
			}
			if !drifted {
				return
			}
			per = frame.ByStep(w.run("@@DL-2", "$DLM = '@@DL-2'\n"+powershell.ServiceApply(s, a.Commands)))
			h.applied(a, per[0], time.Now())
			r := h.results[0]
			if strings.Join(w.ops, " ") != tc.ops || r.Status != tc.status || !strings.HasPrefix(r.Error, tc.errText) {
				t.Fatalf("apply: ops %v, %s %q", w.ops, r.Status, r.Error)
			}
			if tc.status == journal.StatusCorrected && tc.running != nil && *tc.running && !strings.Contains(r.Stdout, "Waiting for service") {
				t.Errorf("stdout %q", r.Stdout)
			}
		})
	}
}
