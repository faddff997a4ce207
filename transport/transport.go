// Package transport is the boundary between the runner and the ways of
// reaching a host: it declares what the runner needs of a connection
// (Conn: run a script with streams, close), the script it sends (Command)
// and the sentinel errors that transports wrap and callers branch on.
//
// It is a leaf: it imports nothing of driftless, so that ssh, winrm and
// local import it (and not the runner, nor through it the journal and
// SQLite). Each transport proves that it fits with a compile-time
// assertion:
//
//	var _ transport.Conn = (*Client)(nil)
//
// # Saying "the script has ended"
//
// A script the runner sends ends with a report frame; a process the
// script left behind may still hold the session's output open. The runner
// then cancels Run's context with the cause ErrScriptEnded
// (context.WithCancelCause); a transport that sees that cause
// (errors.Is(context.Cause(ctx), ErrScriptEnded)) closes the session at
// once, with no signal and no grace, and Run returns as for any
// cancellation.
package transport

import (
	"context"
	"errors"
	"io"
)

// Conn is one open connection to one host, reused for every step and
// every association on that host during one invocation.
//
// Implementations must be safe for concurrent use by several goroutines.
type Conn interface {
	// Run runs cmd.Script on the host and waits for it to end. The exit
	// status of the script is returned as code; err is reserved for
	// failures of the transport itself (connection lost, cancelled, the
	// session could not be opened) and wraps one of the sentinel errors
	// below when one applies. When ctx is cancelled, Run ends the remote
	// process (signal, then close the session) and returns ctx.Err()
	// wrapped; see the package doc for the cause ErrScriptEnded. No write
	// to cmd.Stdout or cmd.Stderr happens after Run returns.
	Run(ctx context.Context, cmd *Command) (code int, err error)

	// Close ends the connection; Runs in flight fail with ErrConnLost.
	Close() error
}

// Command is one script to run on a host. Values the script needs
// (parameters, host fields) are written into the script's own text by
// its builder, quoted so that nothing in them is interpreted, never
// passed on a command line or as SSH "env" requests.
type Command struct {
	// Script is the text of a POSIX sh script (Linux, macOS) or a
	// PowerShell script (Windows transports: see Sheller).
	Script string
	// Stdin, Stdout and Stderr may be nil.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Sentinel errors that transports wrap, after a short stage, so that the
// runner can map them to statuses and the CLI to hints:
//
//	fmt.Errorf("dial web-1: %w: %w", transport.ErrUnreachable, err)
var (
	ErrUnreachable    = errors.New("host unreachable")
	ErrAuth           = errors.New("authentication failed")
	ErrHostKeyUnknown = errors.New("host key unknown")
	ErrHostKeyChanged = errors.New("host key changed")
	ErrTimeout        = errors.New("timed out")
	ErrConnLost       = errors.New("connection lost")
)

// ErrScriptEnded is the cause (context.Cause) with which the runner
// cancels a Run whose script has ended but whose session stays open,
// held by a process the script left behind: the transport then closes
// the session at once, with no signal and no grace.
var ErrScriptEnded = errors.New("the script has ended")

// Shell is the language of the scripts a connection runs.
type Shell string

// Shells of scripts.
const (
	ShellPOSIX      Shell = "sh"
	ShellPowerShell Shell = "powershell"
)

// Sheller is implemented by transports whose scripts are not POSIX sh
// (WinRM, or OpenSSH on Windows): Shell returns ShellPowerShell, and the
// runner then sends PowerShell scripts in Command.Script.
type Sheller interface {
	Shell() Shell
}

// ShellOf returns the script language of a connection: its Shell when it
// is a Sheller, else ShellPOSIX.
func ShellOf(c Conn) Shell {
	if s, ok := c.(Sheller); ok {
		return s.Shell()
	}
	return ShellPOSIX
}
