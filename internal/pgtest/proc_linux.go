package pgtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// sysProcAttr starts a server program in a process group of its own (a
// ^C on the terminal reaches the test binary, which then stops the
// server itself), as the account's user when the harness is root, and
// with deathSig sent to it when the test binary dies without cleaning up
// (a panic, a -timeout, a kill), so no server outlives its tests.
func sysProcAttr(a account, deathSig syscall.Signal) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: deathSig}
	if a.drop {
		attr.Credential = &syscall.Credential{Uid: uint32(a.uid), Gid: uint32(a.gid)}
	}
	return attr
}

var (
	spawnOnce sync.Once
	spawnCh   chan func()
)

// startProcess starts cmd from one OS thread that never exits: Linux
// sends the parent-death signal when the thread that forked the child
// exits, not the process, and the Go runtime may end threads.
func startProcess(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnCh = make(chan func())
		go func() {
			runtime.LockOSThread()
			for f := range spawnCh {
				f()
			}
		}()
	})
	done := make(chan error, 1)
	spawnCh <- func() { done <- cmd.Start() }
	return <-done
}

// killLeftovers SIGKILLs every process whose working directory is
// dataDir (a postmaster's backends and helpers, which outlive a killed
// postmaster for a moment and keep its shared memory attached) until
// none is left.
func killLeftovers(dataDir string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		pids := processesIn(dataDir)
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgtest: processes %v of %s survive SIGKILL", pids, dataDir)
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// processesIn lists the live processes whose working directory is dir
// (exited ones have none).
func processesIn(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd")); err == nil && cwd == dir {
			pids = append(pids, pid)
		}
	}
	return pids
}

// removeSharedMemory removes the System V shared memory segment a killed
// postmaster left, named on line 7 of its postmaster.pid ("KEY ID"),
// when that segment still has that key. A restarted server would remove
// it too, but the test may end without one.
func removeSharedMemory(pidFile string) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 7 {
		return
	}
	f := strings.Fields(lines[6])
	if len(f) != 2 {
		return
	}
	key, err1 := strconv.ParseInt(f[0], 10, 64)
	id, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || key == 0 {
		return
	}
	var desc unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &desc); err != nil || int64(desc.Perm.Key) != key {
		return
	}
	_, _ = unix.SysvShmCtl(id, unix.IPC_RMID, nil)
}

// haveLocks: lockFile works here, so dead binaries' directories can be
// told from live ones.
const haveLocks = true

// lockFile takes an exclusive lock on f without waiting; false when
// another process holds it. Locks go with the process: a test binary
// that died holds none.
func lockFile(f *os.File) bool {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
}

// processAlive reports whether a process with that pid exists and has
// not exited (a zombie that nobody reaped is dead).
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && err != syscall.EPERM {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) STATE ...: comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// minMemoryFree is the free space a tmpfs needs for memoryDir to use it:
// a server takes about 50 MB, each database 8 MB more, the write-ahead
// log up to max_wal_size.
const minMemoryFree = 1 << 30

// memoryDir is /dev/shm when it is a tmpfs that any user can write to
// with minMemoryFree left (a container's default 64 MB is too small),
// else "".
func memoryDir() string {
	const dir = "/dev/shm"
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil || st.Type != unix.TMPFS_MAGIC {
		return ""
	}
	if uint64(st.Bavail)*uint64(st.Bsize) < minMemoryFree {
		return ""
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm()&0o003 != 0o003 || !worldSearchable(dir) {
		return ""
	}
	return dir
}
