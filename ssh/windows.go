package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/driftless-dev/driftless/internal/pwsh"
	"github.com/driftless-dev/driftless/transport"

	"github.com/driftless-dev/driftless/internal/clixml"
	gossh "golang.org/x/crypto/ssh"
)

// Windows hosts over SSH (OpenSSH for Windows, the server Windows ships
// as an optional feature).
//
// The platform is known from the server's identification string, read
// during the handshake ("SSH-2.0-OpenSSH_for_Windows_9.5"): no extra
// round trip. Such a Client is a transport.Sheller whose Shell is
// transport.ShellPowerShell, so the runner sends PowerShell scripts, and Run
// executes them as
//
//	powershell -NoProfile -NonInteractive -EncodedCommand <base64 of UTF-16LE>
//
// (the server runs exec commands through its default shell, cmd.exe
// unless configured otherwise; both pass this line unchanged), with the
// script prefixed, as over WinRM, by $ProgressPreference =
// 'SilentlyContinue'.
// cmd.Stdin is the process's stdin, which PowerShell hands the script as
// $input (the runner sends its scripts that way). A command line longer
// than cmd.exe's 8191 characters is not sent: the script is uploaded
// over SFTP to the login user's profile, and a short script reads and
// runs it (the file is removed afterwards). Stderr in PowerShell's
// CLIXML form becomes plain text.
//
// When ctx ends, Run signals the process and closes the session at once:
// OpenSSH for Windows does not deliver signals, and closing the session
// is what ends the remote process. become = "sudo" has no meaning on
// Windows and is refused (log in as an administrator instead).

// windowsServer reports whether an SSH server identification string is
// that of a Windows server.
func windowsServer(version []byte) bool {
	return bytes.Contains(bytes.ToLower(version), []byte("windows"))
}

// Windows reports whether the host runs an SSH server for Windows, as
// its identification string says (read once, when the client is made:
// the runner asks for every script).
func (c *Client) Windows() bool { return c.windows }

// Shell implements transport.Sheller: transport.ShellPowerShell on Windows
// hosts, transport.ShellPOSIX elsewhere.
func (c *Client) Shell() transport.Shell {
	if c.Windows() {
		return transport.ShellPowerShell
	}
	return transport.ShellPOSIX
}

var _ transport.Sheller = (*Client)(nil)

// psCommandLine starts an encoded PowerShell script.
const psCommandLine = "powershell -NoProfile -NonInteractive -EncodedCommand "

// maxPSCommandLen is the longest command line sent to a Windows host:
// cmd.exe takes 8191 characters.
const maxPSCommandLen = 8000

// ErrBecomeWindows is become = "sudo" on a Windows host.
var ErrBecomeWindows = errors.New(`become = "sudo" does not apply to Windows hosts: log in as an administrator instead`)

// runPowerShell is Run on a Windows host.
func (c *Client) runPowerShell(ctx context.Context, op string, cmd *transport.Command) (int, error) {
	if c.cfg.Become == BecomeSudo {
		return -1, fmt.Errorf("%s: %w (%s)", op, ErrBecomeWindows, c.conn.ServerVersion())
	}
	script := pwsh.Prologue + cmd.Script
	command := psCommandLine + pwsh.Encode(script)
	if len(command) > maxPSCommandLen {
		file, cleanup, err := c.uploadScript(ctx, op, script)
		if err != nil {
			return -1, err
		}
		defer cleanup()
		command = psCommandLine + pwsh.Encode(psFileBootstrap(windowsPath(file)))
	}
	return c.runPS(ctx, op, command, cmd.Stdin, cmd.Stdout, cmd.Stderr)
}

// psFileBootstrap runs the script uploaded to path in the same scope,
// with stdin as its pipeline input, as if it had been sent inline.
func psFileBootstrap(path string) string {
	return pwsh.Prologue +
		"$__dl_block = [ScriptBlock]::Create([IO.File]::ReadAllText(" + pwsh.Quote(path) + "))\n" +
		"$input | . $__dl_block\n"
}

var sftpDrive = regexp.MustCompile(`^/[A-Za-z]:/`)

// windowsPath turns an SFTP path of OpenSSH for Windows ("/C:/Users/x")
// into a Windows path.
func windowsPath(p string) string {
	if sftpDrive.MatchString(p) {
		p = p[1:]
	}
	return strings.ReplaceAll(p, "/", `\`)
}

// runPS runs a PowerShell command line in a new session; see
// runCommand, whose mapping of results it shares.
func (c *Client) runPS(ctx context.Context, op, command string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	sess, out, errOut, done, err := c.openSession(ctx, op, stdout, stderr)
	if err != nil {
		return -1, err
	}
	defer done()
	filter := clixml.NewFilter(errOut)
	sess.Stdin, sess.Stdout, sess.Stderr = stdin, out, filter
	werr, err := c.startAndWait(ctx, op, sess, command, func(waited <-chan error) {
		// The signal is for servers that deliver it; closing the
		// session is what ends the process on OpenSSH for Windows.
		_ = sess.Signal(gossh.SIGKILL)
		sess.Close()
		select {
		case <-waited:
		case <-time.After(killGrace):
		}
	})
	if err != nil {
		return -1, err
	}
	filter.Flush()
	return c.exitResult(op, werr)
}
