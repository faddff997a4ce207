package runner

import (
	"context"
	"errors"
	"io"
	"io/fs"
)

// Conn is what the runner needs of a transport: one open connection to one
// host, reused for every step and every association on that host during one
// invocation. ssh, winrm and the local transport implement it.
//
// Implementations must be safe for concurrent use by several goroutines.
type Conn interface {
	// Run runs cmd.Script on the host and waits for it to end. The exit
	// status of the script is returned as code; err is reserved for
	// failures of the transport itself (connection lost, cancelled, the
	// session could not be opened) and wraps one of the sentinel errors
	// below when one applies. When ctx is cancelled, Run ends the remote
	// process (signal, then close the session) and returns ctx.Err()
	// wrapped.
	Run(ctx context.Context, cmd *Command) (code int, err error)

	// PutFile writes the content of r to path on the host atomically: to a
	// temporary file in the same directory, then renamed over path. A
	// connection lost mid-write never leaves a half-written path. path is
	// absolute (the runner expands "~/" itself).
	PutFile(ctx context.Context, path string, r io.Reader, mode fs.FileMode) error

	// Close ends the connection.
	Close() error
}

// Command is one script to run on a host.
type Command struct {
	// Script is the text of a POSIX sh script (Linux, macOS) or a
	// PowerShell script (Windows transports).
	Script string
	// Env holds variables exported to the script. Transports pass them in
	// the script's own text (never as SSH "env" requests, which sshd
	// usually refuses), quoted so that no value is interpreted.
	Env map[string]string
	// Stdin, Stdout and Stderr may be nil.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Sentinel errors that transports wrap, with a short stage, so that the
// runner can map them to statuses and the CLI to hints:
//
//	fmt.Errorf("dial web-1: %w: %w", runner.ErrUnreachable, err)
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

// ErrUnsupportedAction is a step whose action this build of driftless
// cannot execute on hosts.
var ErrUnsupportedAction = errors.New("action not available in this version of driftless")

// Shells of scripts.
const (
	ShellPOSIX      = "sh"
	ShellPowerShell = "powershell"
)

// Sheller is implemented by transports whose scripts are not POSIX sh
// (WinRM, or OpenSSH on Windows): Shell returns ShellPowerShell, and the
// runner then sends PowerShell scripts in Command.Script.
type Sheller interface {
	Shell() string
}

// shellOf returns the script language of a connection.
func shellOf(c Conn) string {
	if s, ok := c.(Sheller); ok {
		return s.Shell()
	}
	return ShellPOSIX
}
