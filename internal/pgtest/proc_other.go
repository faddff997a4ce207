//go:build !linux

package pgtest

import (
	"os"
	"os/exec"
	"syscall"
	"time"
)

// The harness runs Debian's PostgreSQL packages, that is on Linux; these
// keep the package compiling elsewhere, where findServer finds nothing
// and the tests are skipped.

func sysProcAttr(account, syscall.Signal) *syscall.SysProcAttr { return nil }

func startProcess(cmd *exec.Cmd) error { return cmd.Start() }

func killLeftovers(string, time.Duration) error { return nil }

func removeSharedMemory(string) {}

const haveLocks = false

func lockFile(*os.File) bool { return false }

func processAlive(int) bool { return true }

func memoryDir() string        { return "" }
func processesIn(string) []int { return nil }
