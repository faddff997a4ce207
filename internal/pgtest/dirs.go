package pgtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// dirPrefix names the harness's directories in the temp directory: one
// per server, holding its data directory, socket and log.
const dirPrefix = "driftless-pgtest-"

// lockName is the file in a server directory that the owning test
// binary keeps locked while it lives.
const lockName = "owner.lock"

// tempRoot is where server directories go: memoryDir when there is one
// (initdb and CREATE DATABASE spend most of their time creating files,
// several times faster on a tmpfs), else the temp directory, unless the
// server's user cannot reach it or a socket path in it would be too long
// for a unix socket (108 bytes), then /tmp.
func tempRoot(a account) string {
	if dir := memoryDir(); dir != "" {
		return dir
	}
	dir := os.TempDir()
	if len(dir) > 60 || (a.drop && !worldSearchable(dir)) {
		return "/tmp"
	}
	return dir
}

// worldSearchable reports whether every directory from / to dir lets
// any user through.
func worldSearchable(dir string) bool {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}

var sweepOnce sync.Once

// newServerDir creates a server directory owned by the account, locked
// by this process until release is called. The first call in a process
// removes the directories that dead test binaries left.
func newServerDir(a account) (dir string, release func(), err error) {
	root := tempRoot(a)
	sweepOnce.Do(func() {
		for _, dir := range []string{memoryDir(), os.TempDir(), "/tmp"} {
			if dir != "" {
				sweep(dir)
			}
		}
	})
	// Resolved: the server's processes are found by their working
	// directory, the data directory, which /proc shows resolved.
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	dir, err = os.MkdirTemp(root, dirPrefix)
	if err != nil {
		return "", nil, fmt.Errorf("pgtest: server directory: %w", err)
	}
	fail := func(err error) (string, func(), error) {
		_ = os.RemoveAll(dir)
		return "", nil, fmt.Errorf("pgtest: server directory %s: %w", dir, err)
	}
	// Locked under another name, then renamed, so that a sweep never
	// sees the lock file unlocked.
	tmp := filepath.Join(dir, lockName+".new")
	f, err := os.Create(tmp)
	if err != nil {
		return fail(err)
	}
	if haveLocks && !lockFile(f) {
		f.Close()
		return fail(fmt.Errorf("lock %s", tmp))
	}
	if err := os.Rename(tmp, filepath.Join(dir, lockName)); err != nil {
		f.Close()
		return fail(err)
	}
	// The socket lives here: reachable by every user (clients may run as
	// others); the data directory below it is the server's alone (0700).
	if err := os.Chmod(dir, 0o755); err != nil {
		f.Close()
		return fail(err)
	}
	if a.drop {
		if err := os.Chown(dir, a.uid, a.gid); err != nil {
			f.Close()
			return fail(err)
		}
	}
	release = func() {
		_ = os.RemoveAll(dir)
		f.Close()
	}
	return dir, release, nil
}

// sweep removes the server directories under root whose owner is gone:
// their lock file can be locked and no postmaster runs in them. Their
// servers got the parent-death signal when the owner died.
func sweep(root string) {
	if !haveLocks {
		return
	}
	dirs, _ := filepath.Glob(filepath.Join(root, dirPrefix+"*"))
	for _, dir := range dirs {
		f, err := os.Open(filepath.Join(dir, lockName))
		if err != nil {
			continue // being created, or not ours
		}
		if lockFile(f) && !postmasterRunning(filepath.Join(dir, "data")) {
			_ = os.RemoveAll(dir)
		}
		f.Close()
	}
}

// postmasterRunning reports whether the postmaster.pid in dataDir names
// a live process.
func postmasterRunning(dataDir string) bool {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	return err == nil && pid > 0 && processAlive(pid)
}
