package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/driftless-dev/driftless/internal/connkit"
	"github.com/driftless-dev/driftless/internal/shquote"
	"github.com/driftless-dev/driftless/transport"

	gossh "golang.org/x/crypto/ssh"
)

// maxCommandLen is the longest exec command sent as is. Linux limits one
// argument to 128 KiB and the command is one argument of the login shell;
// longer scripts are uploaded first.
const maxCommandLen = 120 << 10

// killGrace is how long Run waits for the remote process to end after
// each signal when its context is cancelled.
const killGrace = 2 * time.Second

// wrapper runs a script ($1) through sudo: in the background with the
// session's stdin, waiting for it; SIGTERM (which sudo relays), SIGHUP or
// SIGINT kill the whole process group: the script and all it started. (A
// wait builtin, unlike a foreground command, lets the trap run at once.)
// The script runs in a subshell of the wrapper (a fork, no second exec of
// sh), with no positional parameters.
//
// Without sudo, sshd delivers a signal request to the session's whole
// process group, so no background job is needed, only groupKill: SIGTERM
// ends the foreground command, and then the trap kills what ignored it
// (a background job); a foreground command that ignores it gets Run's
// SIGKILL (killGrace later).
const wrapper = `trap 'kill -s KILL 0' TERM HUP INT
exec 3<&0
dl_body=$1
shift
{ eval "$dl_body"; } <&3 3<&- &
wait $!`

// groupKill makes SIGTERM, SIGHUP or SIGINT kill the shell's whole process
// group. (Subshells, where step commands run, reset the trap.)
const groupKill = "trap 'kill -s KILL 0' TERM HUP INT\n"

// Run runs cmd.Script with sh on the host in a new session of the
// connection, and returns its exit status (128+N when killed by signal
// N). See the package documentation for how the command is built.
//
// err wraps transport.ErrConnLost when the connection ended before the
// script did (no exit status), transport.ErrAuth when sudo refused the
// become password, and ctx.Err() (plus transport.ErrTimeout for a deadline)
// when ctx ended first: the remote process group is then killed. No
// write to cmd.Stdout or cmd.Stderr happens after Run returns.
func (c *Client) Run(ctx context.Context, cmd *transport.Command) (int, error) {
	op, err := connkit.BeginRun(ctx, c.cfg.Name, cmd)
	if err != nil {
		return -1, err
	}
	if c.Windows() {
		return c.runPowerShell(ctx, op, cmd) // windows.go
	}
	body := cmd.Script
	var sudo *sudoMarkers
	if c.cfg.Become == BecomeSudo {
		sudo = newSudoMarkers()
	}
	command := remoteCommand(body, sudo)
	if len(command) > maxCommandLen {
		file, cleanup, err := c.uploadScript(ctx, op, body)
		if err != nil {
			return -1, err
		}
		defer cleanup()
		command = remoteCommand("exec sh "+shquote.Quote(file), sudo)
	}
	return c.runCommand(ctx, op, command, cmd.Stdin, cmd.Stdout, cmd.Stderr, sudo)
}

// remoteCommand is the exec request's command for a script body.
func remoteCommand(body string, sudo *sudoMarkers) string {
	if sudo == nil {
		if last := lastPlain.Load(); last != nil && last.body == body {
			return last.command
		}
		// A login shell that is sh runs the script itself: one exec
		// less on the host. Any other (bash, zsh, ...) execs sh.
		command := "case $0 in sh|*/sh|dash|*/dash) " + groupKill + body + "\n;; *) exec sh -c " + shquote.Quote(groupKill+body) + ";; esac"
		lastPlain.Store(&plainCommand{body: body, command: command})
		return command
	}
	w := "printf '%s' " + shquote.Quote(sudo.ready) + " >&2\n" + wrapper
	return "exec sudo -S -p " + shquote.Quote(sudo.prompt) + " sh -c " + shquote.Quote(w) + " sh " + shquote.Quote(body)
}

// lastPlain is the last command remoteCommand made without sudo: the
// runner sends every host the same body (the reader of its stdin).
var lastPlain atomic.Pointer[plainCommand]

type plainCommand struct{ body, command string }

// uploadScript writes a script too long for the command line to a
// private file in the login user's home and returns its path and a
// function removing it.
func (c *Client) uploadScript(ctx context.Context, op, body string) (string, func(), error) {
	sc, err := c.sftpClient()
	if err != nil {
		return "", nil, c.sftpErr(op, "upload long script: open sftp", nil, err)
	}
	home, err := sc.Getwd()
	if err != nil {
		return "", nil, c.sftpErr(op, "upload long script: home directory", sc, err)
	}
	file := path.Join(home, ".driftless-script-"+connkit.RandomHex(8))
	if err := c.putSFTP(ctx, op, file, strings.NewReader(body), 0o600); err != nil {
		return "", nil, err
	}
	return file, func() { _ = sc.Remove(file) }, nil
}

// runCommand runs command in a new session.
func (c *Client) runCommand(ctx context.Context, op, command string, stdin io.Reader, stdout, stderr io.Writer, sudo *sudoMarkers) (int, error) {
	sess, out, errOut, done, err := c.openSession(ctx, op, stdout, stderr)
	if err != nil {
		return -1, err
	}
	defer done()
	sess.Stdout = out

	var filter *sudoFilter
	if sudo == nil {
		if stdin != nil {
			// Written by our own goroutine: x/crypto would copy it
			// through a pipe with a 32 KiB buffer per session.
			pipe, err := sess.StdinPipe()
			if err != nil {
				return -1, fmt.Errorf("%s: stdin: %w", op, err)
			}
			go func() {
				_, _ = copyInput(pipe, stdin)
				_ = pipe.Close()
			}()
		}
		sess.Stderr = errOut
	} else {
		filter = newSudoFilter(errOut, sudo)
		sess.Stderr = filter
		pipe, err := sess.StdinPipe()
		if err != nil {
			return -1, fmt.Errorf("%s: stdin: %w", op, err)
		}
		feedDone := make(chan struct{})
		defer close(feedDone)
		go feedSudo(pipe, filter.events, feedDone, c.cfg.BecomePassword, stdin)
	}

	werr, err := c.startAndWait(ctx, op, sess, command, func(waited <-chan error) {
		if errors.Is(context.Cause(ctx), transport.ErrScriptEnded) {
			sess.Close() // the script is done; only a straggler holds the session
			select {
			case <-waited:
			case <-time.After(killGrace):
			}
			return
		}
		stopSession(sess, waited)
	})
	if err != nil {
		return -1, err
	}
	if filter != nil {
		filter.flush()
		if err := filter.authErr(c.cfg.BecomePassword != ""); err != nil {
			return -1, fmt.Errorf("%s: become: %w", op, err)
		}
	}
	return c.exitResult(op, werr)
}

// openSession takes one of the connection's session slots and opens a
// session, with the gates to pass its output through to stdout and
// stderr; done detaches the gates, closes the session and gives the slot
// back.
func (c *Client) openSession(ctx context.Context, op string, stdout, stderr io.Writer) (sess *gossh.Session, out, errOut *gate, done func(), err error) {
	if err := c.acquire(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, nil, nil, nil, connkit.CtxErr(op, ctx.Err())
		}
		return nil, nil, nil, nil, c.connLost(op, err)
	}
	sess, err = c.newSession(ctx)
	if err != nil {
		c.release()
		if ctx.Err() != nil {
			return nil, nil, nil, nil, connkit.CtxErr(op, ctx.Err())
		}
		return nil, nil, nil, nil, c.sessionErr(op+": open session", err)
	}
	out, errOut = newGates(stdout, stderr)
	return sess, out, errOut, func() {
		out.detach()
		errOut.detach()
		sess.Close()
		c.release()
	}, nil
}

// startAndWait starts command in sess and waits for it to end, returning
// what Wait said. When ctx ends first, stop ends the remote process (it
// may wait on waited), and err is ctx's error.
func (c *Client) startAndWait(ctx context.Context, op string, sess *gossh.Session, command string, stop func(waited <-chan error)) (werr, err error) {
	if err := sess.Start(command); err != nil {
		return nil, c.sessionErr(op+": start", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- sess.Wait() }()
	select {
	case werr = <-waited:
		return werr, nil
	case <-ctx.Done():
		stop(waited)
		return nil, connkit.CtxErr(op, ctx.Err())
	}
}

// exitResult is Run's result for a session that ended with werr (Wait's
// error): the exit status, or the connection lost.
func (c *Client) exitResult(op string, werr error) (int, error) {
	var exit *gossh.ExitError
	var missing *gossh.ExitMissingError
	switch {
	case werr == nil:
		return 0, nil
	case errors.As(werr, &exit):
		return exit.ExitStatus(), nil
	case errors.As(werr, &missing), errors.Is(werr, io.EOF), c.isDown():
		return -1, c.connLost(op, werr)
	default:
		return -1, fmt.Errorf("%s: %w", op, werr)
	}
}

// sessionErr wraps a failure to open or start a session: ErrConnLost
// when the connection is gone, else the server's refusal as is.
func (c *Client) sessionErr(op string, err error) error {
	if c.isDown() || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return c.connLost(op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// stopSession ends a session whose context is done: SIGTERM (sshd sends
// it to the session's process group; through sudo the wrapper kills its
// group), SIGKILL, then close, waiting a little after each for the
// session to end.
func stopSession(sess *gossh.Session, waited <-chan error) {
	for _, sig := range []gossh.Signal{gossh.SIGTERM, gossh.SIGKILL} {
		if err := sess.Signal(sig); err != nil {
			break
		}
		select {
		case <-waited:
			return
		case <-time.After(killGrace):
		}
	}
	sess.Close()
	select {
	case <-waited:
	case <-time.After(killGrace):
	}
}

// gate passes writes to w until detach; later writes are dropped, so that
// nothing reaches the caller's writers after Run returned.
type gate struct {
	mu sync.Mutex
	w  io.Writer
}

func newGate(w io.Writer) *gate {
	if w == nil {
		w = io.Discard
	}
	return &gate{w: w}
}

func (g *gate) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.w == nil {
		return len(p), nil
	}
	return g.w.Write(p)
}

// newGates returns the gates of a session's stdout and stderr: one for
// both when they are the same writer (one lock, as os/exec does).
func newGates(stdout, stderr io.Writer) (out, errOut *gate) {
	out, errOut = newGate(stdout), newGate(stderr)
	if sameWriter(stdout, stderr) {
		errOut = out
	}
	return out, errOut
}

// sameWriter reports whether a and b are the same non-nil writer.
func sameWriter(a, b io.Writer) bool {
	if a == nil || b == nil {
		return false
	}
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	return ta == tb && ta.Comparable() && a == b
}

// Buffers that copy a session's streams: small ones first, since most
// output is short, and large ones for what fills a small one.
var (
	smallBufs = sync.Pool{New: func() any { b := make([]byte, 2<<10); return &b }}
	largeBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
)

// ReadFrom copies r to the gate, as io.Copy does, with pooled buffers:
// x/crypto copies each output stream of each session with io.Copy, which
// would allocate 32 KiB for each. A stream holds its buffer as long as it
// waits for output, the whole session: a small one, until a read fills
// it.
func (g *gate) ReadFrom(r io.Reader) (int64, error) {
	bp := smallBufs.Get().(*[]byte)
	pool := &smallBufs
	defer func() { pool.Put(bp) }()
	var n int64
	for {
		m, err := r.Read(*bp)
		if m > 0 {
			w, werr := g.Write((*bp)[:m])
			n += int64(w)
			if werr != nil {
				return n, werr
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if m == len(*bp) && pool == &smallBufs {
			// More is coming than a small buffer holds.
			smallBufs.Put(bp)
			bp, pool = largeBufs.Get().(*[]byte), &largeBufs
		}
	}
}

// copyInput copies a session's stdin from r to w with a pooled buffer.
// (io.Copy would have a strings.Reader, the runner's script, write
// itself: a copy of the whole script as a []byte.)
func copyInput(w io.Writer, r io.Reader) (int64, error) {
	bp := largeBufs.Get().(*[]byte)
	defer largeBufs.Put(bp)
	return io.CopyBuffer(w, struct{ io.Reader }{r}, *bp)
}

func (g *gate) detach() {
	g.mu.Lock()
	g.w = nil
	g.mu.Unlock()
}

// sudoMarkers are the random texts that sudo's prompt and the wrapper
// print on stderr for Run to act on.
type sudoMarkers struct {
	prompt string
	ready  string
}

func newSudoMarkers() *sudoMarkers {
	n := connkit.RandomHex(12)
	return &sudoMarkers{
		prompt: "[driftless-sudo-" + n + "]",
		ready:  "[driftless-ready-" + n + "]",
	}
}

type sudoEvent int

const (
	sudoPrompt sudoEvent = iota // sudo asks for the password
	sudoReady                   // the shell under sudo runs
)

// sudoFilter is the session's stderr when becoming root: it hides sudo's
// prompt and the ready marker, reports them as events, and passes the
// rest through. Writes come from one goroutine (x/crypto's copy), and
// Run reads its state only after the session ended.
type sudoFilter struct {
	out     io.Writer
	m       *sudoMarkers
	events  chan sudoEvent
	buf     []byte
	ready   bool
	prompts int
}

func newSudoFilter(out io.Writer, m *sudoMarkers) *sudoFilter {
	return &sudoFilter{out: out, m: m, events: make(chan sudoEvent, 8)}
}

func (f *sudoFilter) Write(p []byte) (int, error) {
	if f.ready {
		return f.out.Write(p)
	}
	f.buf = append(f.buf, p...)
	for !f.ready {
		pi := bytes.Index(f.buf, []byte(f.m.prompt))
		ri := bytes.Index(f.buf, []byte(f.m.ready))
		switch {
		case pi >= 0 && (ri < 0 || pi < ri):
			if err := f.emit(f.buf[:pi]); err != nil {
				return 0, err
			}
			f.buf = f.buf[pi+len(f.m.prompt):]
			f.prompts++
			f.send(sudoPrompt)
		case ri >= 0:
			if err := f.emit(f.buf[:ri]); err != nil {
				return 0, err
			}
			rest := f.buf[ri+len(f.m.ready):]
			f.buf = nil
			f.ready = true
			f.send(sudoReady)
			if err := f.emit(rest); err != nil {
				return 0, err
			}
		default:
			// Keep what could be the start of a marker.
			keep := min(len(f.buf), max(len(f.m.prompt), len(f.m.ready))-1)
			if err := f.emit(f.buf[:len(f.buf)-keep]); err != nil {
				return 0, err
			}
			f.buf = f.buf[len(f.buf)-keep:]
			return len(p), nil
		}
	}
	return len(p), nil
}

func (f *sudoFilter) emit(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	_, err := f.out.Write(p)
	return err
}

func (f *sudoFilter) send(ev sudoEvent) {
	select {
	case f.events <- ev:
	default: // the feeder has stopped listening
	}
}

// flush writes what is held back once the session has ended.
func (f *sudoFilter) flush() {
	_ = f.emit(f.buf)
	f.buf = nil
}

// authErr says whether sudo refused to run the command for want of the
// right password.
func (f *sudoFilter) authErr(havePassword bool) error {
	switch {
	case f.prompts > 0 && !havePassword:
		return fmt.Errorf("%w: sudo asks for a password and none is configured (become_password_env)", transport.ErrAuth)
	case f.prompts > 1:
		return fmt.Errorf("%w: sudo refused the become password", transport.ErrAuth)
	}
	return nil
}

// feedSudo writes the session's stdin when becoming root: the password
// when sudo asks for it (once; a second prompt means it was wrong, and
// stdin is closed so that sudo gives up), then, once the shell runs, the
// command's own stdin.
func feedSudo(w io.WriteCloser, events <-chan sudoEvent, done <-chan struct{}, password string, stdin io.Reader) {
	defer w.Close()
	asked := false
	for {
		select {
		case <-done:
			return
		case ev := <-events:
			switch ev {
			case sudoPrompt:
				if asked || password == "" {
					return
				}
				asked = true
				if _, err := io.WriteString(w, password+"\n"); err != nil {
					return
				}
			case sudoReady:
				if stdin != nil {
					_, _ = copyInput(w, stdin)
				}
				return
			}
		}
	}
}
