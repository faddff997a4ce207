//go:build unix

package local

import (
	"os/exec"
	"syscall"
)

var shell = []string{"/bin/sh", "-c"}

// shellFile runs a script file; scriptExt is the name's ending it needs.
var shellFile = []string{"/bin/sh"}

const scriptExt = ""

// setProcessGroup puts the script in a process group of its own.
func setProcessGroup(x *exec.Cmd) {
	x.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killProcessGroup kills the script and everything it started.
func killProcessGroup(x *exec.Cmd) {
	_ = syscall.Kill(-x.Process.Pid, syscall.SIGKILL)
}
