// Package pstest holds the plan that the PowerShell tests of runner and
// runner/powershell share.
package pstest

import (
	"time"

	"github.com/driftless-dev/driftless/runner/plan"
)

// Steps is a plan with every action the PowerShell scripts handle.
func Steps() []*plan.Step {
	env := map[string]string{"DL_PARAM_port": "8080", "DL_PARAM_motd": "it's ok"}
	return []*plan.Step{
		{Idx: 0, Name: "config", Action: "file", Path: `C:\app\app.toml`, Content: []byte("port = 8080\r\nname = ✓\r\n"), ContentText: true, Attempts: 1},
		{Idx: 1, Name: "logs", Action: "directory", Path: "~/app/logs", Attempts: 1},
		{Idx: 2, Name: "hosts", Action: "line", Path: `C:\Windows\System32\drivers\etc\hosts`, Line: "10.0.0.5 db", LineRe: `\sdb$`, Attempts: 1},
		{Idx: 3, Name: "installed", Action: "powershell", Run: "Install-App -Port $env:DL_PARAM_port", Check: "if (Test-Path C:\\app\\.installed) { exit 0 }\nWrite-Output 'not yet ✓'\nexit 1",
			HasCheck: true, Env: env, Workdir: `C:\app`, Timeout: 90 * time.Second, Attempts: 2},
		{Idx: 4, Name: "linux-only", Action: "powershell", Run: "uname", Platform: "Linux", Attempts: 1, Timeout: time.Hour},
		{Idx: 5, Name: "sh", Action: "shell", Run: "echo hi", Attempts: 1, Timeout: time.Hour},
		{Idx: 6, Name: "owned", Action: "file", Path: `C:\app\owned.txt`, Content: []byte("same"), ContentText: true, Owner: "Administrators", Attempts: 1},
		{Idx: 7, Name: "big", Action: "file", Path: `C:\app\big.txt`, Content: []byte("small now\n"), ContentText: true, Attempts: 1},
	}
}
