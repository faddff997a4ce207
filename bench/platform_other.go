//go:build !unix

package main

import (
	"io/fs"
	"os"
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
