// Package eval reads what a host's script reported about each step and
// decides its outcome: pure functions of a planned step (package plan)
// and the step's frames (package frame), with no I/O.
//
// Check is the verdict of the check frames: compliant, drifted (with the
// diffs a user sees and the plan.ApplyStep the apply script must write
// or run: a file's content, a line's edit, the package manager's or
// service manager's commands), or final (failed, timed out, a patch scan
// that found updates). Applied is the result of the frames of an apply:
// corrected, failed (the state after the change is what counts), a
// script's exit status and output, a reboot asked for. CorrectedByCheck
// says whether the check script already corrected a step. Package
// managers' outputs (winget, Chocolatey, the POSIX helpers' lists) are
// parsed here, so that their formats are tested in Go.
//
// It does not run scripts, hold connections, keep time, skip steps after
// a failure or record results: package runner does, and maps a Verdict
// or a Result into the journal's step result. Its statuses are its own
// (Status), so that it does not depend on the journal.
package eval
