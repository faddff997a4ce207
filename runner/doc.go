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
// For one document on one host, the runner plans the steps for that host
// (package plan), compiles the whole document into ONE script that checks
// every step in order (package posix for sh, package powershell for
// Windows hosts), runs it, and reads its reports (package frame). In
// apply mode the same script also corrects what it can decide on the
// host itself; only a step that needs Go's decision (a line with a
// regexp, a package, a service, a patch) ends those corrections: the
// runner then evaluates the rest from the check frames (package eval)
// and a second script corrects and verifies the remaining
// drifted steps in order. The number of round trips never grows with the
// number of steps. What the scripts do on the host, and the programs they
// start, is described in package posix.
//
// # Packages
//
//	runner            orchestration and rate control (runner.go), a host's
//	                  run: phases, timeouts, resume, results (host.go), ticks
//	runner/plan       a document's steps rendered for one host; what to apply
//	runner/eval       a step's frames judged: compliant, drifted (diffs,
//	                  what to apply), corrected or failed
//	runner/posix      the POSIX sh script builder
//	runner/powershell the PowerShell script builder
//	runner/frame      the report protocol between a script and the runner
//	transport         what the runner needs of a connection (Conn)
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
// Transports implement transport.Conn: ssh, local, and winrm, whose
// scripts are PowerShell (transport.Sheller; package powershell).
package runner
