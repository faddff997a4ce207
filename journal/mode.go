package journal

import (
	"fmt"
	"os"
)

// tightenMode makes the journal's files (the database, its -wal and -shm)
// private to their owner when another user may read or write them: the
// journal holds step output and diffs. It returns what it did, or why
// it could not, for the user to read (Notes).
func tightenMode(path string) []string {
	var notes []string
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm()&0o077 == 0 {
			continue
		}
		if err := os.Chmod(p, st.Mode().Perm()&0o700); err != nil {
			notes = append(notes, fmt.Sprintf("%s is mode %04o, readable by other users, and could not be made private: %v", p, st.Mode().Perm(), err))
			continue
		}
		notes = append(notes, fmt.Sprintf("%s was mode %04o, readable by other users: made it %04o", p, st.Mode().Perm(), st.Mode().Perm()&0o700))
	}
	return notes
}

// Notes returns what Open found wrong with the journal's files and fixed
// (or could not), one sentence each.
func (j *Journal) Notes() []string { return j.notes }
