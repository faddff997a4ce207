//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// maxRSS is the peak resident set size of an ended child process, in
// bytes (rusage maxrss), or 0 when unknown.
func maxRSS(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return ru.Maxrss // bytes there
	}
	return ru.Maxrss * 1024 // KiB on Linux and the BSDs
}

// owner returns the uid and gid owning a file.
func owner(fi fs.FileInfo) (uid, gid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}

// usedCPU is the user + system CPU time this process and its ended
// children have used so far.
func usedCPU() time.Duration {
	var self, kids syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &self) != nil || syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids) != nil {
		return 0
	}
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(self.Utime) + tv(self.Stime) + tv(kids.Utime) + tv(kids.Stime)
}

// machineCPU is the CPU time the whole machine has been busy (every
// state of /proc/stat's cpu line but idle and iowait), or 0 where there
// is no /proc/stat.
func machineCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 8 || string(f[0]) != "cpu" {
		return 0
	}
	var ticks int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseInt(string(v), 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

// spawnArg makes this program a spawner: `bench -spawn-child PROG ARGS...`
// runs PROG with this process's stdio, writes its user and system CPU
// time and peak RSS on file descriptor 3 ("UTIME_NS STIME_NS MAXRSS\n"),
// and exits as PROG did.
const spawnArg = "-spawn-child"

// spawnerPath is this program, to start measured children through (see
// measureChild); empty: they are started directly.
var spawnerPath string

// childUsage is what a spawner reports of the child it ran.
type childUsage struct {
	cpu time.Duration
	rss int64
}

// spawnCommand is the command that runs name with args for measureChild,
// through the spawner when there is one, in a process group of its own
// that a cancelled ctx kills whole; usage returns what the spawner
// reported once the command has ended.
func spawnCommand(ctx context.Context, name string, args []string) (cmd *exec.Cmd, usage func() (childUsage, bool)) {
	none := func() (childUsage, bool) { return childUsage{}, false }
	if spawnerPath == "" {
		return exec.CommandContext(ctx, name, args...), none
	}
	cmd = exec.CommandContext(ctx, spawnerPath, append([]string{spawnArg, name}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	r, w, err := os.Pipe()
	if err != nil {
		return cmd, none
	}
	cmd.ExtraFiles = []*os.File{w}
	report := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(r, 256))
		r.Close()
		report <- string(b)
	}()
	closed := false
	return cmd, func() (childUsage, bool) {
		if !closed {
			w.Close() // the spawner has its copy
			closed = true
		}
		var ut, st, rss int64
		if _, err := fmt.Sscanf(<-report, "%d %d %d\n", &ut, &st, &rss); err != nil {
			return childUsage{}, false
		}
		return childUsage{cpu: time.Duration(ut + st), rss: rss}, true
	}
}

// spawnChild is the spawner: it runs args and returns the exit code to
// exit with.
func spawnChild(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: bench -spawn-child PROG [ARGS...]")
		return 2
	}
	syscall.CloseOnExec(3) // the report is ours: what PROG leaves behind must not hold it open
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	if ps := cmd.ProcessState; ps != nil {
		w := bufio.NewWriter(os.NewFile(3, "usage"))
		fmt.Fprintf(w, "%d %d %d\n", ps.UserTime(), ps.SystemTime(), maxRSS(ps))
		w.Flush()
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode()
	case errors.As(err, &exit):
		return 128 + int(exit.Sys().(syscall.WaitStatus).Signal())
	}
	fmt.Fprintln(os.Stderr, "bench: spawn:", err)
	return 127
}
