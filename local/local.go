package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/driftless-dev/driftless/transport"
)

// waitDelay is how long Run waits for the output pipes to close after the
// process group was killed.
const waitDelay = 2 * time.Second

// Conn runs steps on the local machine. It is safe for concurrent use.
type Conn struct {
	name string
}

var _ transport.Conn = (*Conn)(nil)

// New returns the local transport for the inventory host name (used in
// errors).
func New(name string) *Conn {
	return &Conn{name: name}
}

// Run runs cmd.Script with the local shell, with the environment of this
// process, and returns its exit status (128+N when killed
// by signal N). When ctx ends first, the script's whole process group is
// killed and ctx.Err() is returned wrapped (with transport.ErrTimeout for a
// deadline).
func (c *Conn) Run(ctx context.Context, cmd *transport.Command) (int, error) {
	op := "run " + c.name
	if cmd == nil {
		return -1, fmt.Errorf("%s: no command", op)
	}
	if err := ctx.Err(); err != nil {
		return -1, ctxErr(op, err)
	}
	x := exec.Command(shell[0], append(shell[1:], cmd.Script)...)
	x.Env = os.Environ()
	x.Stdin, x.Stdout, x.Stderr = cmd.Stdin, cmd.Stdout, cmd.Stderr
	x.WaitDelay = waitDelay
	setProcessGroup(x)
	if err := x.Start(); err != nil {
		return -1, fmt.Errorf("%s: %w", op, err)
	}
	waited := make(chan error, 1)
	go func() { waited <- x.Wait() }()
	var err error
	select {
	case err = <-waited:
	case <-ctx.Done():
		killProcessGroup(x)
		<-waited
		return -1, ctxErr(op, ctx.Err())
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

// Close does nothing: there is no connection.
func (c *Conn) Close() error { return nil }

func ctxErr(op string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w: %w", op, transport.ErrTimeout, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// exitCode is the script's exit status, 128+N for signal N, or -1.
func exitCode(exit *exec.ExitError) int {
	if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return exit.ExitCode()
}
