package powershell

import (
	"strconv"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/runner/frame"
	"github.com/driftless-dev/driftless/runner/plan"
)

func TestPSServiceText(t *testing.T) {
	s := svcStep(4, "Spooler", ptr(true), ptr(true))
	if got := ServiceCheck(s, "state"); got != "dl_frame '4' 'state' (dl_svc_state 'Spooler')\n" {
		t.Errorf("check fragment %q", got)
	}
	got := ServiceApply(s, "dl_svc_do windows start 'Spooler' && dl_svc_do windows enable 'Spooler'")
	want := "$dl_rc = 0\n$dl_so = New-Object Text.StringBuilder\n" +
		// the startup type first: a Disabled service cannot start
		"if ($dl_rc -eq 0) { try { [void]$dl_so.Append([string](dl_svc_do 'enable' 'Spooler')) } catch { [void]$dl_e.AppendLine($_.Exception.Message); $dl_rc = 1 } }\n" +
		"if ($dl_rc -eq 0) { try { [void]$dl_so.Append([string](dl_svc_do 'start' 'Spooler')) } catch { [void]$dl_e.AppendLine($_.Exception.Message); $dl_rc = 1 } }\n" +
		"dl_frame '4' 'run' $dl_rc\ndl_text '4' 'out' ($dl_so.ToString())\ndl_text '4' 'err' ($dl_e.ToString())\n" +
		"if ($dl_rc -ne 0) { $dl_ok = $false }\n" +
		"dl_frame '4' 'after' (dl_svc_state 'Spooler')\n"
	if got != want {
		t.Errorf("apply fragment\n%s\nwant\n%s", got, want)
	}
	if ops := psServiceOps("dl_svc_do windows stop 'a' && dl_svc_do windows disable 'a'"); strings.Join(ops, " ") != "disable stop" {
		t.Errorf("ops %v", ops)
	}
	// The prelude uses the cmdlets the action is specified with, and the
	// sizes are filled in like psPrelude's.
	for _, w := range []string{"Get-Service -Name $n", "Where-Object { $_.Name -eq $n }", "Start-Service -Name $n", "Stop-Service -Name $n",
		"Set-Service -Name $n -StartupType Automatic", "Set-Service -Name $n -StartupType Manual", "return ('windows 1 {0} {1}' -f $r, $en)", "return 'windows 0 0 0'"} {
		if !strings.Contains(psServicePrelude, w) {
			t.Errorf("prelude lacks %q", w)
		}
	}
	if p := strings.ReplaceAll(psServicePrelude, "@MaxOutput@", strconv.Itoa(frame.MaxOutput)); strings.Contains(p, "@MaxOutput@") || !strings.Contains(p, "New-Object byte[] "+strconv.Itoa(frame.MaxOutput)) {
		t.Error("a size is left in the prelude")
	}
	// Braces balance in the prelude (a cheap syntax check: no PowerShell
	// here).
	if strings.Count(psServicePrelude, "{") != strings.Count(psServicePrelude, "}") {
		t.Error("unbalanced braces")
	}
}

func svcStep(idx int, name string, running, enabled *bool) *plan.Step {
	return &plan.Step{Idx: idx, Name: "svc", Action: "service", Service: name, SvcRunning: running, SvcEnabled: enabled, Attempts: 1}
}
