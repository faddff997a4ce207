//go:build !unix

package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"time"
)

// maxRSS is unknown where there is no rusage.
func maxRSS(*os.ProcessState) int64 { return 0 }

// owner is unknown where files have no unix owner.
func owner(fs.FileInfo) (uid, gid int, ok bool) { return 0, 0, false }

// usedCPU is unknown where there is no rusage.
func usedCPU() time.Duration { return 0 }

// machineCPU is unknown where there is no /proc/stat.
func machineCPU() time.Duration { return 0 }

const spawnArg = "-spawn-child"

// spawnerPath is unused where there is no rusage: children are started
// directly.
var spawnerPath string

type childUsage struct {
	cpu time.Duration
	rss int64
}

func spawnCommand(ctx context.Context, name string, args []string) (*exec.Cmd, func() (childUsage, bool)) {
	return exec.CommandContext(ctx, name, args...), func() (childUsage, bool) { return childUsage{}, false }
}

func spawnChild([]string) int {
	fmt.Fprintln(os.Stderr, "bench: -spawn-child needs rusage (unix)")
	return 2
}
