package ssh

import (
	"io/fs"
	"os"
	"slices"
	"sync"
)

// fileCache keeps a value made from some files for the life of the
// process, and makes it again only when one of them changed (size or
// modification time), appeared or went: a fleet dials with one
// known_hosts and one key, and parsing them (or decrypting the key) on
// every dial costs time and memory in proportion to the fleet.
//
// One value is made at a time per key: the dials a run starts at once
// all miss the empty cache, and each would otherwise parse the fleet's
// known_hosts (or decrypt the key) itself.
type fileCache[T any] struct {
	mu      sync.Mutex
	m       map[string]cachedValue[T]
	loading map[string]*sync.Mutex // per key, held while its value is made
}

type cachedValue[T any] struct {
	stamps []fileStamp
	v      T
}

// get returns the value kept for key if files are as they were when it
// was made; else it makes it with load, and keeps it if load says so.
func (c *fileCache[T]) get(key string, files []string, load func() (v T, keep bool, err error)) (T, error) {
	stamps := make([]fileStamp, len(files))
	for i, f := range files {
		if fi, err := os.Stat(f); err == nil {
			stamps[i] = stampOf(fi)
		}
	}
	if v, ok := c.lookup(key, stamps); ok {
		return v, nil
	}
	c.mu.Lock()
	if c.loading == nil {
		c.loading = map[string]*sync.Mutex{}
	}
	lm := c.loading[key]
	if lm == nil {
		lm = &sync.Mutex{}
		c.loading[key] = lm
	}
	c.mu.Unlock()
	lm.Lock()
	defer lm.Unlock()
	// Made meanwhile by the dial that held the lock?
	if v, ok := c.lookup(key, stamps); ok {
		return v, nil
	}
	v, keep, err := load()
	if err == nil && keep {
		c.mu.Lock()
		if c.m == nil {
			c.m = map[string]cachedValue[T]{}
		}
		c.m[key] = cachedValue[T]{stamps: stamps, v: v}
		c.mu.Unlock()
	}
	return v, err
}

// lookup returns the value kept for key if it was made from files with
// these stamps.
func (c *fileCache[T]) lookup(key string, stamps []fileStamp) (T, bool) {
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && slices.Equal(e.stamps, stamps) {
		return e.v, true
	}
	var zero T
	return zero, false
}

// fileStamp identifies one version of a file; the zero value is a file
// that does not exist (or cannot be looked at).
type fileStamp struct {
	size, mtime int64
}

func stampOf(fi fs.FileInfo) fileStamp {
	return fileStamp{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
}
