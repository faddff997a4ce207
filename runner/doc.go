// Package runner plans and runs associations on hosts.
//
// # Flow
//
// For each association a Runner resolves its hosts and runs them with
// State Manager's rate control: a sliding window of at most
// max_concurrency hosts (a slot is taken before the failure count is
// read, so no host starts while max_errors is already exceeded); hosts
// not started are recorded Skipped (or Cancelled after an interrupt).
// Every host result goes to the journal (batched, off the hot path) and to
// an Events sink for the CLI's progress.
//
// # One connection, one round trip
//
// A Runner dials each host once (Dialer, lazily, concurrency-safe) and
// shares that connection with every step and every association of the
// invocation; a host that could not be reached is not dialed again. When
// the caller announces its jobs (Expect), a connection is closed as soon
// as the last job on its host ends, so that memory follows
// max_concurrency, not the size of the fleet.
//
// For one document on one host, the runner renders every step for that
// host (parameters, host fields, environment; nested documents are
// flattened into "outer/inner" steps) and compiles the whole document
// into ONE POSIX sh script (script.go) that checks every step in order: a
// shell step's check command, a directory's or file's stat and SHA-256
// (taken for all paths at once, by one stat and one sha256sum), whether a
// literal line is present (grep; a file of at most 1 KiB is read by the
// shell itself, as a file's content is compared with the step's, line by
// line, instead of hashed), a file's old content when Go must see it
// (diffs, lines with a regexp). The script reports per step through
// framed records on stdout (frames.go): a header line with a random
// marker, the step index, a kind and a payload length, or -1 for a payload
// streamed until the next frame, so output can never be mistaken for a
// report and the host needs no program to measure what it sends.
//
// In apply mode the same script also corrects, as long as every step
// before is in state or was corrected: it writes a drifted file (printf to
// a temporary file beside it, then rename: atomic), creates a directory,
// appends a literal line, runs a checked shell step whose check failed
// (then checks again), and runs the steps without a check. A converged
// host and a fresh host both cost one session on an open connection. Only
// a step that needs Go's decision (a line with a regexp or to remove, a
// package, a service, a patch) ends the corrections: the runner then
// evaluates the rest from the check frames and a second script corrects
// and verifies the remaining drifted steps in order, re-checks checked
// shell steps that come after a correction, and honours on_failure,
// onSuccess: exit and finally steps on the host. The number of round
// trips never grows with the number of steps.
//
// # Programs started on the host
//
// On a converged host most of the cost beyond the connection is starting
// programs (fork and exec), so the scripts start few: the shell reads the
// script from its own stdin (no cat); the OS comes from /proc; commands
// run in a subshell, not a new sh, and a check that is a plain test
// (test -f /path) in the shell itself; small files are compared and
// searched by the shell (no sha256sum, no grep); private temporary files
// are made by the shell itself, with no subshell, only when something
// runs (its output is captured in files, so that a daemon it starts
// cannot hold the session open); short outputs are read back by the
// shell itself. A script ends with a frame, after which the session may
// stay open for 2 s at most (something the script left behind holding its
// output). A converged check of the benchmark's baseline starts two
// programs on the host: sh (the login shell itself when it is sh: see
// package ssh) and one stat; a converged apply adds the step that always
// runs (uname) and one rm of the private files. On a fresh host there is
// nothing to stat, and what a script wrote is verified by the shell
// (read back when small; stat and sha256sum only for larger files): a
// fresh apply of the baseline starts, besides the steps' own commands,
// only what writes (one mkdir, one mv per file) and the rm. A line added
// to a small file is added by the shell too (no awk), and the file sent
// for the diff by the shell (no head). A command of plain words naming a
// program, or a list of them joined by &&, || or ;, runs without a
// subshell: the shell vforks each as it does stat, where a subshell is a
// fork, which copies page tables (costly in a VM); the batch stat writes
// to a private file, not a command substitution, when the script makes
// its files anyway.
//
// # Timeouts
//
// A step's timeout is enforced by the runner, on every platform, with no
// timeout program on the host: a frame before each command tells which
// step runs; if it is still running when its timeout expires, the runner
// ends the script (the transport kills its process group on the host),
// records the step TimedOut (exit 124) and resumes with a new script from
// the next step, as the script would have gone on after that step failed.
//
// Transports implement Conn (conn.go): ssh, local, and winrm, whose
// scripts are PowerShell (transport.Sheller; pwsh.go).
package runner
