package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/driftless-dev/driftless/internal/connkit"
	"github.com/driftless-dev/driftless/transport"
)

// maxArg is the longest script passed as an argument: Linux takes 128 KiB
// in one argument. A longer script is written to a private temporary
// file, which the shell runs.
const maxArg = 120 << 10

// waitDelay is how long Run waits for the output pipes to close after the
// process group was killed.
const waitDelay = 2 * time.Second

// Conn runs steps on the local machine. It is safe for concurrent use.
type Conn struct {
	name      string
	closed    chan struct{} // closed by Close
	closeOnce sync.Once
}

var _ transport.Conn = (*Conn)(nil)

// New returns the local transport for the inventory host name (used in
// errors).
func New(name string) *Conn {
	return &Conn{name: name, closed: make(chan struct{})}
}

// Run runs cmd.Script with the local shell, with the environment of this
// process, and returns its exit status (128+N when killed by signal N).
// A script too long for one argument is run from a private temporary
// file, removed afterwards. When ctx ends first, the script's whole
// process group is killed and ctx.Err() is returned wrapped (with
// transport.ErrTimeout for a deadline); when the Conn is closed first,
// likewise, with transport.ErrConnLost.
func (c *Conn) Run(ctx context.Context, cmd *transport.Command) (int, error) {
	op, err := connkit.BeginRun(ctx, c.name, cmd)
	if err != nil {
		return -1, err
	}
	select {
	case <-c.closed:
		return -1, fmt.Errorf("%s: %w: closed", op, transport.ErrConnLost)
	default:
	}
	x := exec.Command(shell[0], append(shell[1:], cmd.Script)...)
	if len(cmd.Script) > maxArg {
		file, err := writeScript(cmd.Script)
		if err != nil {
			return -1, fmt.Errorf("%s: long script: %w", op, err)
		}
		defer os.Remove(file)
		x = exec.Command(shellFile[0], append(shellFile[1:], file)...)
	}
	x.Env = os.Environ()
	x.Stdin, x.Stdout, x.Stderr = cmd.Stdin, cmd.Stdout, cmd.Stderr
	x.WaitDelay = waitDelay
	setProcessGroup(x)
	if err := x.Start(); err != nil {
		return -1, fmt.Errorf("%s: %w", op, err)
	}
	waited := make(chan error, 1)
	go func() { waited <- x.Wait() }()
	select {
	case err = <-waited:
	case <-ctx.Done():
		killProcessGroup(x)
		<-waited
		return -1, connkit.CtxErr(op, ctx.Err())
	case <-c.closed:
		killProcessGroup(x)
		<-waited
		return -1, fmt.Errorf("%s: %w: closed", op, transport.ErrConnLost)
	}
	if err == nil {
		return 0, nil
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if code := exitCode(exit); code >= 0 {
			return code, nil
		}
	}
	return -1, fmt.Errorf("%s: %w", op, err)
}

// writeScript writes a script to a new private temporary file and
// returns its name.
func writeScript(script string) (string, error) {
	f, err := os.CreateTemp("", "driftless-script-*"+scriptExt)
	if err != nil {
		return "", err
	}
	_, err = f.WriteString(script)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// Close ends the scripts that run (their process groups are killed) and
// makes later Runs fail with transport.ErrConnLost, as closing a remote
// connection would.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return nil
}

// exitCode is the script's exit status, 128+N for signal N, or -1.
func exitCode(exit *exec.ExitError) int {
	if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return exit.ExitCode()
}
