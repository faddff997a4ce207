//go:build !linux

package pgtest

// orphan has nothing to do where no server runs (see proc_other.go).
func orphan() {}
