//go:build unix

package sshsim

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// signals maps SSH signal names (RFC 4254 §6.10, without "SIG") to
// signals.
var signals = map[string]syscall.Signal{
	"ABRT": syscall.SIGABRT, "ALRM": syscall.SIGALRM, "FPE": syscall.SIGFPE, "HUP": syscall.SIGHUP,
	"ILL": syscall.SIGILL, "INT": syscall.SIGINT, "KILL": syscall.SIGKILL, "PIPE": syscall.SIGPIPE,
	"QUIT": syscall.SIGQUIT, "SEGV": syscall.SIGSEGV, "TERM": syscall.SIGTERM, "USR1": syscall.SIGUSR1,
	"USR2": syscall.SIGUSR2,
}

// setProcessGroup starts the command in a session and process group of
// its own, as sshd does, so that signals reach all it starts.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}

// signalGroup sends the named signal to the process group p leads.
func signalGroup(p *os.Process, name string) error {
	sig, ok := signals[name]
	if !ok {
		return errors.New("sshsim: unknown signal " + name)
	}
	return syscall.Kill(-p.Pid, sig)
}

// killGroup kills the process group p leads.
func killGroup(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGKILL) }

// exitStatus is the exit code, or the SSH name of the signal that ended
// the process when it is one SSH names (else 128+N, as shells report it).
func exitStatus(ps *os.ProcessState) (int, string) {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return ps.ExitCode(), ""
	}
	for name, sig := range signals {
		if sig == ws.Signal() {
			return 0, name
		}
	}
	return 128 + int(ws.Signal()), ""
}
