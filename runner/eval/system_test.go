package eval

import (
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/runner/frame"
	"github.com/driftless-dev/driftless/runner/plan"
)

func TestEvaluatePackageFrames(t *testing.T) {
	s := &plan.Step{Action: "package", Names: []string{"curl", "jq", "vim"}, PkgWant: "latest"}
	fs := []frame.Frame{{Step: 0, Kind: frame.State, Fields: []string{"apt"}}, {Step: 0, Kind: frame.List, Payload: []byte("ok curl\nmissing jq\noutdated vim\n")}}
	cmds, differ, drifted, err := evaluateSystem(s, fs, false)
	if err != nil || !drifted {
		t.Fatal(err, drifted)
	}
	if differ != "missing: jq\noutdated: vim (apt)" {
		t.Errorf("differ %q", differ)
	}
	if cmds != "dl_pkg_do 'apt' install 'jq' && dl_pkg_do 'apt' upgrade 'vim'" {
		t.Errorf("commands %q", cmds)
	}
	s2 := &plan.Step{Action: "service", Service: "nginx", SvcRunning: ptr(true), SvcEnabled: ptr(true)}
	cmds, differ, _, err = evaluateSystem(s2, []frame.Frame{{Step: 0, Kind: frame.State, Fields: []string{"systemd", "1", "0", "1"}}}, false)
	if err != nil || cmds != "dl_svc_do systemd start 'nginx'" || differ != "stopped -> running (systemd)" {
		t.Errorf("service: %q %q %v", cmds, differ, err)
	}
	_, _, _, err = evaluateSystem(s2, []frame.Frame{{Step: 0, Kind: frame.State, Fields: []string{"openrc", "0", "0", "0"}}}, false)
	if err == nil || !strings.Contains(err.Error(), "service nginx not found (openrc)") {
		t.Errorf("missing service: %v", err)
	}
}

// winget and choco are accepted when the document is loaded (the same
// document may target Windows and Linux hosts) and refused on a POSIX
// host with a clear error.
func TestWindowsManagerOnPOSIXHost(t *testing.T) {
	for _, m := range []string{"winget", "choco"} {
		s := &plan.Step{Action: "package", Manager: m, Names: []string{"git"}, PkgWant: "present"}
		_, _, _, err := evaluateSystem(s, []frame.Frame{{Kind: frame.State, Fields: []string{m}}, {Kind: frame.List}}, false)
		if err == nil || err.Error() != "manager "+m+" works on Windows hosts only" {
			t.Errorf("%s: err = %v", m, err)
		}
	}
}

func ptr[T any](v T) *T { return &v }
