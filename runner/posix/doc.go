// Package posix builds the POSIX sh scripts that check and correct a
// host's steps (Linux, macOS, the BSDs), for dash, bash in POSIX mode,
// busybox ash, mksh and zsh in sh emulation alike (the runner's five-shell
// suite runs them under each; shellcheck -s sh lints the golden copies in
// testdata/golden).
//
// CheckScript checks every step; CheckRunScript also runs, in apply mode,
// the steps without a check and corrects what it can decide on the host
// while every step before is in state; ApplyScript corrects the steps the
// runner found drifted, in order. Every script reports through frames
// (package frame) and takes a Resume to start after a step that timed
// out. Main wraps a script for the transport: it travels on stdin, read
// by StdinScript, never on a command line.
//
// For one document on one host, the runner renders every step for that
// host (parameters, host fields, environment; nested documents are
// flattened into "outer/inner" steps) and compiles the whole document
// into ONE POSIX sh script  that checks every step in order: a
// shell step's check command, a directory's or file's stat and SHA-256
// (taken for all paths at once, by one stat and one sha256sum), whether a
// literal line is present (grep; a file of at most 1 KiB is read by the
// shell itself, as a file's content is compared with the step's, line by
// line, instead of hashed), a file's old content when Go must see it
// (diffs, lines with a regexp). The script reports per step through
// framed records on stdout (package frame): a header line with a random
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
// # Shell variables
//
// The fragments of a script exchange values through shell variables
// (sh has no other way): every one is declared in shellVars (vars.go),
// with what it holds, which fragment sets it and which reads it, and a
// test checks that the golden scripts set no other.
package posix
