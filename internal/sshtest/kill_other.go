//go:build !unix

package sshtest

import "os"

// killPID kills a process (sshtest only works where sshd runs; this keeps
// the package compiling elsewhere).
func killPID(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}
