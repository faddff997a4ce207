//go:build unix

package journal

import (
	"errors"
	"syscall"
)

// pidAlive reports whether a process with this pid exists on this machine
// (signal 0 checks existence and permission without sending anything).
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) { // EPERM: exists, another user's
		return false
	}
	return !zombie(pid)
}
