//go:build !unix

package sshsim

import (
	"errors"
	"os"
	"os/exec"
)

// setProcessGroup does nothing where there are no process groups.
func setProcessGroup(*exec.Cmd) {}

// signalGroup can only kill, where there are no unix signals.
func signalGroup(p *os.Process, name string) error {
	if name != "KILL" {
		return errors.New("sshsim: signal " + name + " is not supported on this system")
	}
	return p.Kill()
}

func killGroup(p *os.Process) { _ = p.Kill() }

func exitStatus(ps *os.ProcessState) (int, string) { return ps.ExitCode(), "" }
