package powershell

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/driftless-dev/driftless/internal/pwsh"
	"github.com/driftless-dev/driftless/runner/plan"
)

// The Windows side of the service action: the PowerShell twins of
// the POSIX dl_svc_state and dl_svc_do (package posix), reporting through the same
// frames, so that package eval (evaluateSystem, verifySystem, Applied)
// read them unchanged:
//
//	state, after  "windows <exists> <running> <enabled>"   (1 or 0 each)
//	run           "<exit code>", then payloads out and err
//
// A service is found by its service name (Get-Service -Name; a match on
// the display name alone does not count). It is running when its Status
// is Running, and enabled when its StartType is Automatic (delayed start
// included). Enabling sets StartType Automatic; disabling sets Manual,
// the Windows equivalent of a systemd unit that is not started at boot
// but can still be started (Disabled would also forbid starting it).
// Startup type changes run before start and stop, so that a Disabled
// service that should be running and enabled can start.

// psServicePrelude defines the helpers of the fragments below; it goes
// after psPrelude in every PowerShell script.
const psServicePrelude = `function dl_svc_state([string]$n) {
	$s = @(Get-Service -Name $n -ErrorAction SilentlyContinue | Where-Object { $_.Name -eq $n })
	if ($s.Count -eq 0) { return 'windows 0 0 0' }
	$r = 0
	if ($s[0].Status -eq 'Running') { $r = 1 }
	$t = ''
	try { $t = [string]$s[0].StartType } catch { }
	if ($t -eq '') {
		try { $t = [string](Get-CimInstance -ClassName Win32_Service -Filter ("Name='{0}'" -f $n)).StartMode } catch { }
	}
	$en = 0
	if ($t -like 'Auto*') { $en = 1 }
	return ('windows 1 {0} {1}' -f $r, $en)
}
function dl_svc_do([string]$verb, [string]$n) {
	switch ($verb) {
		'start' { Start-Service -Name $n 3>&1 | Out-String }
		'stop' { Stop-Service -Name $n 3>&1 | Out-String }
		'enable' { Set-Service -Name $n -StartupType Automatic 3>&1 | Out-String }
		'disable' { Set-Service -Name $n -StartupType Manual 3>&1 | Out-String }
		default { throw ('unknown service operation {0}' -f $verb) }
	}
}
function dl_text([string]$i, [string]$k, [string]$s) {
	$b = $dl_utf8.GetBytes($s)
	$n = $b.Length
	if ($n -gt @MaxOutput@) {
		$c = New-Object byte[] @MaxOutput@
		[Array]::Copy($b, $c, @MaxOutput@)
		$b = $c
	}
	dl_bytes $i $k $b $n
}
`

// ServiceCheck is the check-phase fragment of a service step on a
// PowerShell host: one state frame (tag "state"; "after" in apply).
func ServiceCheck(s *plan.Step, tag string) string {
	return fmt.Sprintf("dl_frame %s %s (dl_svc_state %s)\n", psIdx(s), pwsh.Quote(tag), pwsh.Quote(s.Service))
}

// psSvcVerbRe finds the operations in evaluateSystem's commands
// ("dl_svc_do windows start 'Spooler' && dl_svc_do windows enable ...").
var psSvcVerbRe = regexp.MustCompile(`dl_svc_do \S+ (start|stop|enable|disable) `)

// psServiceOps are the operations commands asks for, startup type first.
func psServiceOps(commands string) []string {
	var first, then []string
	for _, m := range psSvcVerbRe.FindAllStringSubmatch(commands, -1) {
		switch m[1] {
		case "enable", "disable":
			first = append(first, m[1])
		default:
			then = append(then, m[1])
		}
	}
	return append(first, then...)
}

// ServiceApply is the apply-phase fragment of a service step on a
// PowerShell host, inside applyScriptPS's per-step try: the operations
// package eval (evaluateSystem) chose, stopping at the first that fails; their output
// as the run frame's payloads; then the state after.
func ServiceApply(s *plan.Step, commands string) string {
	var b strings.Builder
	idx, name := psIdx(s), pwsh.Quote(s.Service)
	b.WriteString("$dl_rc = 0\n$dl_so = New-Object Text.StringBuilder\n")
	for _, op := range psServiceOps(commands) {
		fmt.Fprintf(&b, "if ($dl_rc -eq 0) { try { [void]$dl_so.Append([string](dl_svc_do %s %s)) } catch { [void]$dl_e.AppendLine($_.Exception.Message); $dl_rc = 1 } }\n", pwsh.Quote(op), name)
	}
	fmt.Fprintf(&b, "dl_frame %s 'run' $dl_rc\ndl_text %s 'out' ($dl_so.ToString())\ndl_text %s 'err' ($dl_e.ToString())\n", idx, idx, idx)
	b.WriteString("if ($dl_rc -ne 0) { $dl_ok = $false }\n")
	b.WriteString(ServiceCheck(s, "after"))
	return b.String()
}
