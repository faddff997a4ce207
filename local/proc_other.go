//go:build !unix

package local

import "os/exec"

var shell = []string{"powershell.exe", "-NoProfile", "-NonInteractive", "-Command"}

// shellFile runs a script file; scriptExt is the name's ending it needs.
var shellFile = []string{"powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File"}

const scriptExt = ".ps1"

func setProcessGroup(*exec.Cmd) {}

// killProcessGroup kills the script (Windows has no process groups to
// signal; children it started may survive).
func killProcessGroup(x *exec.Cmd) {
	_ = x.Process.Kill()
}
