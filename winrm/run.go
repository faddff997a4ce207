package winrm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/driftless-dev/driftless/internal/connkit"
	"github.com/driftless-dev/driftless/internal/pwsh"
	"github.com/driftless-dev/driftless/transport"

	mzwinrm "github.com/masterzen/winrm"

	"github.com/driftless-dev/driftless/internal/clixml"
)

// powershell runs an encoded script: no profile, no prompts.
const powershell = "powershell.exe -NoProfile -NonInteractive -EncodedCommand "

// maxCommandLine is the longest command line sent as is: WinRS runs it
// through cmd.exe, which takes 8191 characters. A longer script is pushed
// to a file first.
const maxCommandLine = 8000

// Run runs cmd.Script as a PowerShell script on the host and returns its
// exit code:
//
//	powershell.exe -NoProfile -NonInteractive -EncodedCommand <UTF-16LE base64>
//
// The script is pwsh.Prologue, then cmd.Script. When that command line
// would pass ~8 KiB (cmd.exe's limit), the script is first pushed (see
// put) to a file in the user's temporary directory, and a short script
// reads, removes and runs it.
// Stdout and stderr are streamed to cmd.Stdout and cmd.Stderr as the host
// returns them (stderr in PowerShell's CLIXML form is turned into plain
// text); cmd.Stdin, when set, is sent to the process's stdin.
//
// When ctx ends first, Run sends the WinRS terminate signal, deletes the
// shell and returns ctx.Err() wrapped (with transport.ErrTimeout for a
// deadline). Transport failures wrap transport.ErrConnLost (plus
// transport.ErrTimeout when the host stopped answering); a 401 wraps
// transport.ErrAuth. No write to cmd.Stdout or cmd.Stderr happens after Run
// returns.
func (c *Client) Run(ctx context.Context, cmd *transport.Command) (int, error) {
	op, err := connkit.BeginRun(ctx, c.cfg.Name, cmd)
	if err != nil {
		return -1, err
	}
	script := pwsh.Prologue + cmd.Script
	line := commandLine(script)
	if len(line) > maxCommandLine {
		name := "driftless-" + connkit.RandomHex(8) + ".ps1"
		target := "[IO.Path]::Combine([IO.Path]::GetTempPath(), " + pwsh.Quote(name) + ")"
		if err := c.put(ctx, op, target, strings.NewReader(script)); err != nil {
			return -1, err
		}
		line = commandLine(bootstrap(target))
		code, started, err := c.exec(ctx, op, line, cmd.Stdin, cmd.Stdout, cmd.Stderr)
		if !started {
			c.removeScript(target)
		}
		return code, err
	}
	code, _, err := c.exec(ctx, op, line, cmd.Stdin, cmd.Stdout, cmd.Stderr)
	return code, err
}

// commandLine is the command that runs script.
func commandLine(script string) string {
	return powershell + pwsh.Encode(script)
}

// bootstrap reads the script pushed to target, removes it and runs it in
// the same scope, with stdin as its pipeline input, so that it behaves as
// if it had been sent inline.
func bootstrap(target string) string {
	return pwsh.Prologue +
		"$__dl_file = " + target + "\n" +
		"$__dl_text = [IO.File]::ReadAllText($__dl_file)\n" +
		"[IO.File]::Delete($__dl_file)\n" +
		"$__dl_block = [ScriptBlock]::Create($__dl_text)\n" +
		"Remove-Variable -Name '__dl_file', '__dl_text'\n" +
		"$input | . $__dl_block\n"
}

// removeScript deletes a pushed script whose command never started.
func (c *Client) removeScript(target string) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.ConnectTimeout+c.requestTimeout())
	defer cancel()
	script := pwsh.Prologue + "[IO.File]::Delete(" + target + ")\n"
	if _, _, err := c.exec(ctx, "cleanup "+c.cfg.Name, commandLine(script), nil, nil, nil); err != nil {
		c.cfg.Logger.Debug("winrm remove pushed script", "host", c.cfg.Name, "error", err)
	}
}

// exec runs a command line in a shell and streams its output until it
// ends. started reports whether the host started the command.
func (c *Client) exec(ctx context.Context, op, line string, stdin io.Reader, stdout, stderr io.Writer) (code int, started bool, err error) {
	if err := c.acquire(ctx); err != nil {
		if ctx.Err() != nil {
			return -1, false, connkit.CtxErr(op, ctx.Err())
		}
		return -1, false, fmt.Errorf("%s: %w: client closed", op, transport.ErrConnLost)
	}
	defer c.release()
	if c.isClosed() {
		return -1, false, fmt.Errorf("%s: %w: client closed", op, transport.ErrConnLost)
	}
	ctx, release := c.closing(ctx)
	defer release()

	shellID, pooled, err := c.takeShell(ctx)
	if err != nil {
		return -1, false, c.runErr(ctx, op+": open shell", err)
	}
	cmdID, err := c.startCommand(ctx, shellID, line, stdin != nil)
	var f *Fault
	if err != nil && pooled && errors.As(err, &f) && f.noShell() {
		// The host forgot the shell (restart, idle timeout): a new one.
		c.cfg.Logger.Debug("winrm shell gone", "host", c.cfg.Name, "shell", shellID)
		if shellID, err = c.createShell(ctx, c.requestTimeout()); err == nil {
			cmdID, err = c.startCommand(ctx, shellID, line, stdin != nil)
		} else {
			shellID = ""
		}
	}
	if err != nil {
		if shellID != "" {
			c.cleanup(func(ctx context.Context) { c.deleteShell(ctx, shellID) })
		}
		return -1, false, c.runErr(ctx, op+": start", err)
	}

	if stdout == nil {
		stdout = io.Discard
	}
	errOut := clixml.NewFilter(stderr)
	defer errOut.Flush()

	feedCtx, stopFeed := context.WithCancel(ctx)
	defer stopFeed()
	if stdin != nil {
		go c.feed(feedCtx, shellID, cmdID, stdin)
	}

	for {
		msg := mzwinrm.NewGetOutputRequest(c.w.url, shellID, cmdID, "stdout stderr", c.params)
		body, err := c.w.post(ctx, msg.String(), c.requestTimeout())
		if err != nil {
			if errors.As(err, &f) && f.timedOut() {
				continue // no output within OperationTimeout: ask again
			}
			c.abort(shellID, cmdID)
			return -1, true, c.runErr(ctx, op, err)
		}
		done, exit, perr := mzwinrm.ParseSlurpOutputErrResponse(body, stdout, errOut)
		if perr != nil {
			c.abort(shellID, cmdID)
			return -1, true, fmt.Errorf("%s: WinRM: unreadable Receive answer from %s: %w", op, c.w.where, perr)
		}
		if done {
			// Release the command; a shell that refuses goes.
			var err error
			c.cleanup(func(ctx context.Context) {
				if err = c.signal(ctx, shellID, cmdID); err != nil {
					c.deleteShell(ctx, shellID)
				}
			})
			if err == nil {
				c.keepShell(shellID)
			}
			return exit, true, nil
		}
	}
}

// abort ends a command that is still running: terminate, then delete its
// shell.
func (c *Client) abort(shellID, cmdID string) {
	c.cleanup(func(ctx context.Context) {
		c.signal(ctx, shellID, cmdID)
		c.deleteShell(ctx, shellID)
	})
}

// errClosed is the cause with which closing cancels a command.
var errClosed = errors.New("client closed")

// closing returns ctx, cancelled also when the client closes, with the
// cause errClosed: Close then ends the command as a cancellation would
// (terminate, delete the shell), and runErr says the connection is lost.
// release ends the watch.
func (c *Client) closing(ctx context.Context) (_ context.Context, release func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		select {
		case <-c.closed:
			cancel(errClosed)
		case <-done:
		}
	}()
	return ctx, func() { close(done); cancel(nil) }
}

// runErr wraps an error of a running command for op: a lost connection
// when the client closed, ctx's own error, transport.ErrAuth, a fault as
// is, else a lost connection.
func (c *Client) runErr(ctx context.Context, op string, err error) error {
	var f *Fault
	switch {
	case errors.Is(context.Cause(ctx), errClosed):
		return fmt.Errorf("%s: %w: %w", op, transport.ErrConnLost, errClosed)
	case ctx.Err() != nil:
		return connkit.CtxErr(op, ctx.Err())
	case errors.Is(err, net.ErrClosed) || c.isClosed():
		return fmt.Errorf("%s: %w: client closed: %w", op, transport.ErrConnLost, err)
	case errors.Is(err, transport.ErrAuth), errors.As(err, &f):
		return fmt.Errorf("%s: %w", op, err)
	}
	return fmt.Errorf("%s: %w: %w", op, transport.ErrConnLost, err)
}

// maxSend is the most stdin one Send carries: with base64 and the
// envelope it stays under the 150 KiB that old hosts accept.
const maxSend = 64 << 10

// feed sends stdin to a command, then its end (also when reading stdin
// fails).
func (c *Client) feed(ctx context.Context, shellID, cmdID string, stdin io.Reader) {
	buf := make([]byte, maxSend)
	for {
		n, rerr := io.ReadFull(stdin, buf)
		eof := rerr != nil
		msg := mzwinrm.NewSendInputRequest(c.w.url, shellID, cmdID, buf[:n], eof, c.params)
		if _, err := c.w.post(ctx, msg.String(), c.requestTimeout()); err != nil {
			c.cfg.Logger.Debug("winrm send stdin", "host", c.cfg.Name, "command", cmdID, "error", err)
			return
		}
		if eof {
			return
		}
	}
}
