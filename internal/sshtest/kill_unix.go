//go:build unix

package sshtest

import "syscall"

func killPID(pid int) { _ = syscall.Kill(pid, syscall.SIGKILL) }
