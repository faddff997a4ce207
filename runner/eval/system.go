package eval

import (
	"fmt"
	"strings"

	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/runner/frame"
	"github.com/driftless-dev/driftless/runner/plan"
	"github.com/driftless-dev/driftless/runner/posix"
)

// pkgLists parses dl_pkg_list output.
func pkgLists(payload []byte) (missing, outdated, unwanted []string) {
	for _, l := range strings.Split(string(payload), "\n") {
		kind, name, ok := strings.Cut(strings.TrimSpace(l), " ")
		if !ok {
			continue
		}
		switch kind {
		case "missing":
			missing = append(missing, name)
		case "outdated":
			outdated = append(outdated, name)
		case "unwanted":
			unwanted = append(unwanted, name)
		}
	}
	return
}

func nonEmptyLines(payload []byte) []string {
	var out []string
	for _, l := range strings.Split(string(payload), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// svcState is what dl_svc_state reports.
type svcState struct {
	init                     string
	exists, running, enabled bool
	ok                       bool
}

func parseSvc(f *frame.Frame) svcState {
	if f == nil || len(f.Fields) < 4 {
		return svcState{}
	}
	return svcState{init: f.Fields[0], exists: f.Fields[1] == "1", running: f.Fields[2] == "1", enabled: f.Fields[3] == "1", ok: true}
}

func onOff(b bool, on, off string) string {
	if b {
		return on
	}
	return off
}

// evaluateSystem decides drift for package, service and patch steps from
// the check frames, on a PowerShell host or not; it returns the commands
// that correct it.
func evaluateSystem(s *plan.Step, fs []frame.Frame, powerShell bool) (cmds, differ string, drifted bool, err error) {
	if powerShell {
		switch s.Action {
		case documents.ActionPackage:
			return evaluatePackagePS(s, fs)
		case documents.ActionPatch:
			return "", "", false, fmt.Errorf("%w: patch runs on Linux and macOS hosts; on Windows use a powershell step", plan.ErrUnsupportedAction)
		default: // the other values need nothing here
		}
	}
	if s.Manager == "winget" || s.Manager == "choco" {
		return "", "", false, fmt.Errorf("manager %s works on Windows hosts only", s.Manager)
	}
	switch s.Action {
	case documents.ActionPackage, documents.ActionPatch:
		st := frame.Last(fs, frame.State)
		list := frame.Last(fs, frame.List)
		if st == nil || list == nil {
			return "", "", false, fmt.Errorf("the check did not report (the script stopped early)")
		}
		pm := ""
		if len(st.Fields) > 0 {
			pm = st.Fields[0]
		}
		if pm == "none" || pm == "" {
			return "", "", false, fmt.Errorf("no supported package manager found on the host (apt, dnf, yum, apk, zypper, pacman, brew)")
		}
		if s.Action == documents.ActionPatch {
			pending := nonEmptyLines(list.Payload)
			if len(pending) == 0 {
				return "", "", false, nil
			}
			return "dl_patch_install " + posix.Quote(pm), fmt.Sprintf("%d pending %s (%s):\n%s", len(pending), pluralize(len(pending), "update"), pm, strings.Join(pending, "\n")), true, nil
		}
		missing, outdated, unwanted := pkgLists(list.Payload)
		var parts, run []string
		if len(missing) > 0 {
			parts = append(parts, "missing: "+strings.Join(missing, ", "))
			run = append(run, fmt.Sprintf("dl_pkg_do %s install %s", posix.Quote(pm), posix.Words(missing)))
		}
		if len(outdated) > 0 {
			parts = append(parts, "outdated: "+strings.Join(outdated, ", "))
			run = append(run, fmt.Sprintf("dl_pkg_do %s upgrade %s", posix.Quote(pm), posix.Words(outdated)))
		}
		if len(unwanted) > 0 {
			parts = append(parts, "unwanted: "+strings.Join(unwanted, ", "))
			run = append(run, fmt.Sprintf("dl_pkg_do %s remove %s", posix.Quote(pm), posix.Words(unwanted)))
		}
		if len(parts) == 0 {
			return "", "", false, nil
		}
		return strings.Join(run, " && "), strings.Join(parts, "\n") + " (" + pm + ")", true, nil
	case documents.ActionService:
		st := parseSvc(frame.Last(fs, frame.State))
		if !st.ok {
			return "", "", false, fmt.Errorf("the check did not report (the script stopped early)")
		}
		if !st.exists {
			return "", "", false, fmt.Errorf("service %s not found (%s)", s.Service, st.init)
		}
		var parts, run []string
		if s.SvcRunning != nil && *s.SvcRunning != st.running {
			parts = append(parts, onOff(st.running, "running", "stopped")+" -> "+onOff(*s.SvcRunning, "running", "stopped"))
			run = append(run, fmt.Sprintf("dl_svc_do %s %s %s", st.init, onOff(*s.SvcRunning, "start", "stop"), posix.Quote(s.Service)))
		}
		if s.SvcEnabled != nil && *s.SvcEnabled != st.enabled {
			parts = append(parts, onOff(st.enabled, "enabled", "disabled")+" -> "+onOff(*s.SvcEnabled, "enabled", "disabled"))
			run = append(run, fmt.Sprintf("dl_svc_do %s %s %s", st.init, onOff(*s.SvcEnabled, "enable", "disable"), posix.Quote(s.Service)))
		}
		if len(parts) == 0 {
			return "", "", false, nil
		}
		return strings.Join(run, " && "), strings.Join(parts, "; ") + " (" + st.init + ")", true, nil
	default: // the other values need nothing here
	}
	return "", "", false, fmt.Errorf("unexpected action %s", s.Action)
}

// verifySystem checks the state after a correction.
func verifySystem(s *plan.Step, fs []frame.Frame) error {
	after := frame.Last(fs, frame.After)
	switch s.Action {
	case documents.ActionPackage:
		if isPSManager(after) {
			return verifyPackagePS(s, fs)
		}
		list := frame.Last(fs, frame.List) // the last list is the one after
		if after == nil || list == nil {
			return fmt.Errorf("no state reported after the change")
		}
		m, o, u := pkgLists(list.Payload)
		if len(m)+len(o)+len(u) > 0 {
			return fmt.Errorf("still out of state after the change: %s", strings.Join(append(append(m, o...), u...), ", "))
		}
	case documents.ActionPatch:
		list := frame.Last(fs, frame.List)
		if after == nil || list == nil {
			return fmt.Errorf("no state reported after the change")
		}
		if n := len(nonEmptyLines(list.Payload)); n > 0 {
			return fmt.Errorf("%d updates still pending after install", n)
		}
	case documents.ActionService:
		st := parseSvc(after)
		if !st.ok {
			return fmt.Errorf("no state reported after the change")
		}
		if s.SvcRunning != nil && *s.SvcRunning != st.running {
			return fmt.Errorf("service is %s after the change", onOff(st.running, "running", "stopped"))
		}
		if s.SvcEnabled != nil && *s.SvcEnabled != st.enabled {
			return fmt.Errorf("service is %s after the change", onOff(st.enabled, "enabled", "disabled"))
		}
	default: // the other values need nothing here
	}
	return nil
}

func pluralize(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}
