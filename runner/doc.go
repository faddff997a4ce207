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
// # One connection, two round trips
//
// A Runner dials each host once (Dialer, lazily, concurrency-safe) and
// shares that connection with every step and every association of the
// invocation; a host that could not be reached is not dialed again.
//
// For one document on one host, the runner renders every step for that
// host (parameters, host fields, environment; nested documents are
// flattened into "outer/inner" steps) and compiles the whole document
// into ONE POSIX sh script that checks every step: a shell step's check
// command, a stat and SHA-256 of a file, a directory's state, a file's old
// content (for diffs and for the line action, whose new content is
// computed here in Go). Platform preconditions are evaluated on the host
// by the same script. The script reports per step through framed records
// on stdout (script.go, frames.go): a header line with a random marker,
// the step index, a kind and the exact payload length, so output can
// never be mistaken for a report; payloads are capped on the host (1 MiB
// per stream), so memory is bounded whatever a step prints.
//
// A converged host therefore costs one session on an open connection. When
// something drifted (or a step without a check must run), a second script
// applies the drifted steps in order — file content written with printf to
// a temporary file beside the target, then renamed (atomic) —, verifies
// each (the check again, or the file's hash), re-checks shell steps that
// were compliant but come after a correction, and honours on_failure,
// onSuccess: exit and finally steps on the host, without a round trip per
// step. The number of round trips does not grow with the number of steps.
//
// Transports implement Conn (conn.go): ssh, local, and winrm, whose
// scripts are PowerShell (Sheller).
package runner
