// Package transporttest is the conformance suite of transport.Conn: one
// set of tests that every transport passes, written once, so that what
// the runner relies on is checked the same way for each (the habit of
// restic's backend test suite).
//
// A transport's own tests call Run with a Factory that opens connections
// to a host of that kind:
//
//	func TestConformance(t *testing.T) {
//		transporttest.Run(t, transporttest.Factory{
//			New: func(t *testing.T) transport.Conn { return local.New("laptop") },
//		})
//	}
//
// The suite writes each script twice, in POSIX sh and in PowerShell, and
// sends the one that transport.ShellOf says the connection runs. Hosts
// that run no real PowerShell (the WinRM test server, a fake OpenSSH for
// Windows) interpret the PowerShell scripts with PowerShell, a stand-in
// for powershell.exe that knows exactly the statements the suite uses.
//
// Every test asserts what a caller of Run and Close sees: exit codes,
// the bytes on Stdout and Stderr, the errors and how long they take, and
// (through later Runs on the same host) whether the processes a
// cancelled script started are gone.
package transporttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/transport"
)

// Factory opens the connections of one run of the suite.
type Factory struct {
	// New returns a new open connection to a host. Each test opens its
	// own and closes it; New registers with t.Cleanup whatever else
	// must end (a server is best started once, outside New).
	New func(t *testing.T) transport.Conn
	// Cannot says which capabilities the host lacks, each with the
	// reason: the tests that need one are skipped with it.
	Cannot map[Capability]string
}

// Capability is something a host may be unable to do; see Factory.Cannot.
type Capability string

// Capabilities.
const (
	// Signals: a script killed by signal N ends with exit code 128+N, as
	// in a POSIX shell. Windows has no signals.
	Signals Capability = "signals"
)

// Bounds of the suite.
const (
	// testTimeout bounds each Run the suite makes, so that a transport
	// that hangs fails instead of blocking the test binary.
	testTimeout = 60 * time.Second
	// stopBound is how long a cancelled or closed Run may take to
	// return, and the processes of a cancelled script to be gone.
	stopBound = 5 * time.Second
	// endedBound is how long a Run cancelled with ErrScriptEnded may
	// take to return: less than the 2 s grace a signal gets, so that
	// the session must be closed at once.
	endedBound = 1500 * time.Millisecond
	// sessions is more than the sessions OpenSSH allows on one
	// connection by default (MaxSessions 10).
	sessions = 14
)

// Run runs the suite against the connections f makes.
func Run(t *testing.T, f Factory) {
	tests := []struct {
		name string
		run  func(*testing.T, *suite)
	}{
		{"ExitCodes", testExitCodes},
		{"KilledBySignal", testKilledBySignal},
		{"OutputStreams", testOutputStreams},
		{"OneWriterForBoth", testOneWriterForBoth},
		{"Stdin", testStdin},
		{"NilStdinReadsEOF", testNilStdin},
		{"LongScript", testLongScript},
		{"ConcurrentRuns", testConcurrentRuns},
		{"CancelKillsProcesses", testCancel},
		{"DeadlineIsTimeout", testDeadline},
		{"ScriptEndedClosesAtOnce", testScriptEnded},
		{"NoWriteAfterReturn", testNoWriteAfterReturn},
		{"CloseEndsRuns", testCloseDuringRun},
		{"RunAfterClose", testRunAfterClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, &suite{f: f})
		})
	}
}

// suite is one test's view of the Factory.
type suite struct {
	f Factory
}

// conn opens a connection that the test closes when it ends.
func (s *suite) conn(t *testing.T) transport.Conn {
	t.Helper()
	c := s.f.New(t)
	t.Cleanup(func() { c.Close() })
	return c
}

// need skips t when the host lacks capability c.
func (s *suite) need(t *testing.T, c Capability) {
	t.Helper()
	if why, ok := s.f.Cannot[c]; ok {
		t.Skipf("the host cannot do %s: %s", c, why)
	}
}

// script is a script in both languages.
type script struct {
	posix, powershell string
}

// text is the script in the language c runs.
func (sc script) text(c transport.Conn) string {
	if transport.ShellOf(c) == transport.ShellPowerShell {
		return sc.powershell
	}
	return sc.posix
}

// result is what a caller of Run sees.
type result struct {
	code           int
	stdout, stderr string
	err            error
}

func (r result) String() string {
	return fmt.Sprintf("code %d, err %v, stdout %.200q, stderr %.200q", r.code, r.err, r.stdout, r.stderr)
}

// run runs sc on c with stdin, collecting its output.
func run(ctx context.Context, c transport.Conn, sc script, stdin *strings.Reader) result {
	var out, errOut syncBuffer
	cmd := &transport.Command{Script: sc.text(c), Stdout: &out, Stderr: &errOut}
	if stdin != nil {
		cmd.Stdin = stdin
	}
	code, err := c.Run(ctx, cmd)
	return result{code, out.String(), errOut.String(), err}
}

// mustRun runs sc, which must exit 0, and returns its stdout.
func mustRun(t *testing.T, c transport.Conn, sc script) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	r := run(ctx, c, sc, nil)
	if r.err != nil || r.code != 0 {
		t.Fatalf("%.80q: %v", sc.text(c), r)
	}
	return r.stdout
}

func printf(s string) script {
	return script{
		posix:      "printf '%s' " + shQuote(s),
		powershell: "[Console]::Out.Write(" + psQuote(s) + ")",
	}
}

func lines(l ...string) string { return strings.Join(l, "\n") + "\n" }

func testExitCodes(t *testing.T, s *suite) {
	c := s.conn(t)
	for _, code := range []int{0, 3, 1, 255} {
		// No Stdout or Stderr: output is dropped.
		sc := script{
			posix:      lines("printf out", "printf err >&2", "exit "+strconv.Itoa(code)),
			powershell: lines("[Console]::Out.Write('out')", "[Console]::Error.Write('err')", "exit "+strconv.Itoa(code)),
		}
		got, err := c.Run(context.Background(), &transport.Command{Script: sc.text(c)})
		if err != nil || got != code {
			t.Errorf("exit %d: code %d, err %v", code, got, err)
		}
	}
}

func testKilledBySignal(t *testing.T, s *suite) {
	s.need(t, Signals)
	c := s.conn(t)
	// The shell running the script is killed (the sh is its child).
	sc := script{posix: lines("sh -c 'kill -s KILL $PPID'", "sleep 5", "exit 1")}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if r := run(ctx, c, sc, nil); r.err != nil || r.code != 128+9 {
		t.Errorf("killed by SIGKILL: %v; want code 137", r)
	}
}

// pad makes a line of the big output 64 bytes long.
const pad = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"

// bigLines is the number of lines of bigOutput: 1 MiB on stdout.
const bigLines = 16384

// bigOutput writes 1 MiB of numbered lines to stdout and every 64th
// line's number to stderr.
var bigOutput = script{
	posix: lines(
		"i=0",
		"while [ $i -lt "+strconv.Itoa(bigLines)+" ]; do",
		"\tprintf '%05d "+pad+"\\n' $i",
		"\tif [ $((i % 64)) -eq 0 ]; then printf 'err %05d\\n' $i >&2; fi",
		"\ti=$((i + 1))",
		"done",
	),
	powershell: "foreach ($i in 0.." + strconv.Itoa(bigLines-1) + ") { [Console]::Out.Write(('{0:d5} " + pad + "' -f $i) + \"`n\"); " +
		"if ($i % 64 -eq 0) { [Console]::Error.Write(('err {0:d5}' -f $i) + \"`n\") } }\n",
}

// bigWant is what bigOutput writes.
func bigWant() (stdout, stderr string) {
	var o, e strings.Builder
	for i := range bigLines {
		fmt.Fprintf(&o, "%05d %s\n", i, pad)
		if i%64 == 0 {
			fmt.Fprintf(&e, "err %05d\n", i)
		}
	}
	return o.String(), e.String()
}

func testOutputStreams(t *testing.T, s *suite) {
	c := s.conn(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	r := run(ctx, c, bigOutput, nil)
	if r.err != nil || r.code != 0 {
		t.Fatalf("%v", r)
	}
	wantOut, wantErr := bigWant()
	if r.stdout != wantOut {
		t.Errorf("stdout: %d bytes, want %d; first difference at byte %d", len(r.stdout), len(wantOut), firstDiff(r.stdout, wantOut))
	}
	if r.stderr != wantErr {
		t.Errorf("stderr: %d bytes, want %d; first difference at byte %d", len(r.stderr), len(wantErr), firstDiff(r.stderr, wantErr))
	}
}

func firstDiff(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// bothScript writes 200 lines to stdout and 200 to stderr, in turns.
var bothScript = script{
	posix:      lines("i=0", "while [ $i -lt 200 ]; do", "\tprintf 'o\\n'", "\tprintf 'e\\n' >&2", "\ti=$((i + 1))", "done"),
	powershell: "foreach ($i in 1..200) { [Console]::Out.Write(\"o`n\"); [Console]::Error.Write(\"e`n\") }\n",
}

func testOneWriterForBoth(t *testing.T, s *suite) {
	c := s.conn(t)
	// A writer that is not safe for concurrent use: the race detector
	// sees two goroutines writing to it at once.
	var both bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	code, err := c.Run(ctx, &transport.Command{Script: bothScript.text(c), Stdout: &both, Stderr: &both})
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v", code, err)
	}
	if o, e := strings.Count(both.String(), "o\n"), strings.Count(both.String(), "e\n"); o != 200 || e != 200 {
		t.Errorf("one writer for both streams got %d stdout and %d stderr lines, want 200 each", o, e)
	}
}

// catScript copies stdin to stdout, then writes "eof".
var catScript = script{
	posix:      lines("cat", "printf eof"),
	powershell: lines("[Console]::Out.Write([Console]::In.ReadToEnd())", "[Console]::Out.Write('eof')"),
}

func testStdin(t *testing.T, s *suite) {
	c := s.conn(t)
	var in strings.Builder
	for i := range 10000 { // 110 KB: several writes of any transport
		fmt.Fprintf(&in, "line %05d\n", i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	r := run(ctx, c, catScript, strings.NewReader(in.String()))
	if r.err != nil || r.code != 0 || r.stdout != in.String()+"eof" {
		t.Errorf("stdin not delivered whole: %v (%d bytes of stdout, want %d)", r, len(r.stdout), in.Len()+3)
	}
}

func testNilStdin(t *testing.T, s *suite) {
	c := s.conn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if r := run(ctx, c, catScript, nil); r.err != nil || r.code != 0 || r.stdout != "eof" {
		t.Errorf("without Stdin the script must read end of file: %v", r)
	}
}

func testLongScript(t *testing.T, s *suite) {
	c := s.conn(t)
	// 200 KiB: more than any command line takes, so the transport
	// uploads the script first. Quotes of both kinds, $ and ` are text.
	const comment = "# padding 'single' \"double\" $HOME `x` padding padding padding padding\n"
	body := strings.Repeat(comment, 200<<10/len(comment)+1)
	sc := script{
		posix:      body + "V=\"it's\"\nprintf '%s' \"long $V\"\n",
		powershell: body + "[Console]::Out.Write('long it''s')\n",
	}
	if got := mustRun(t, c, sc); got != "long it's" {
		t.Errorf("long script wrote %q, want %q", got, "long it's")
	}
}

func testConcurrentRuns(t *testing.T, s *suite) {
	c := s.conn(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for i := range sessions {
		wg.Go(func() {
			sc := script{
				posix:      lines("sleep 0.2", fmt.Sprintf("printf %d", i)),
				powershell: lines("Start-Sleep -Milliseconds 200", fmt.Sprintf("[Console]::Out.Write('%d')", i)),
			}
			if r := run(ctx, c, sc, nil); r.err != nil || r.code != 0 || r.stdout != strconv.Itoa(i) {
				t.Errorf("run %d of %d at once: %v", i, sessions, r)
			}
		})
	}
	wg.Wait()
}

// started runs sc in the background until its stdout has n
// space-separated fields (process ids), and returns them with what will
// receive Run's result.
func started(t *testing.T, ctx context.Context, c transport.Conn, sc script, n int) ([]string, <-chan result) {
	t.Helper()
	out := &syncBuffer{}
	done := make(chan result, 1)
	go func() {
		code, err := c.Run(ctx, &transport.Command{Script: sc.text(c), Stdout: out})
		done <- result{code: code, err: err, stdout: out.String()}
	}()
	deadline := time.Now().Add(testTimeout)
	for len(strings.Fields(out.String())) < n {
		select {
		case r := <-done:
			t.Fatalf("the script ended before it started its processes: %v", r)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the script did not start its processes: stdout %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return strings.Fields(out.String())[:n], done
}

// wait waits for the result of a Run that must end within bound.
func wait(t *testing.T, done <-chan result, bound time.Duration, what string) result {
	t.Helper()
	start := time.Now()
	select {
	case r := <-done:
		if d := time.Since(start); d > bound {
			t.Errorf("%s: Run returned after %v, want within %v", what, d.Round(time.Millisecond), bound)
		}
		return r
	case <-time.After(testTimeout):
		t.Fatalf("%s: Run did not return", what)
		return result{}
	}
}

// alive lists which of pids are still running on the host (zombies are
// not).
func alive(pids []string) script {
	return script{
		posix: lines(
			"for p in "+strings.Join(pids, " ")+"; do",
			"\tif [ -d /proc/self ]; then",
			"\t\tcase $(cat /proc/$p/stat 2>/dev/null) in ''|*') Z '*) continue ;; esac",
			"\telif ! kill -0 $p 2>/dev/null; then",
			"\t\tcontinue",
			"\tfi",
			"\tprintf '%s ' $p",
			"done",
		),
		powershell: "foreach ($id in " + strings.Join(pids, ", ") + ") { if (Get-Process -Id $id -ErrorAction SilentlyContinue) { [Console]::Out.Write([string]$id + ' ') } }\n",
	}
}

// waitGone waits until none of pids runs on the host.
func waitGone(t *testing.T, c transport.Conn, pids []string, what string) {
	t.Helper()
	deadline := time.Now().Add(stopBound)
	for {
		left := strings.TrimSpace(mustRun(t, c, alive(pids)))
		if left == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: processes %s still run %v later", what, left, stopBound)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// groupScript starts a background process that ignores SIGTERM, writes
// its id and the script's own, then sleeps.
var groupScript = script{
	posix: lines(
		"(trap '' TERM; exec sleep 300) &",
		"printf '%s ' $!",
		"sh -c 'printf \"%s \" $PPID'",
		"sleep 300",
		"printf 'not reached'",
	),
	powershell: lines(
		"$p = Start-Process -PassThru powershell.exe '-NoProfile -Command Start-Sleep 300'",
		"[Console]::Out.Write([string]$p.Id + ' ')",
		"[Console]::Out.Write([string]$PID + ' ')",
		"Start-Sleep -Seconds 300",
		"[Console]::Out.Write('not reached')",
	),
}

func testCancel(t *testing.T, s *suite) {
	c := s.conn(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pids, done := started(t, ctx, c, groupScript, 2)
	cancel()
	r := wait(t, done, stopBound, "cancelled")
	if !errors.Is(r.err, context.Canceled) {
		t.Errorf("cancelled: err = %v, want it to wrap context.Canceled", r.err)
	}
	if strings.Contains(r.stdout, "not reached") {
		t.Errorf("cancelled: the script went on: %q", r.stdout)
	}
	// The script and what it started (even what ignores SIGTERM) end.
	waitGone(t, c, pids, "after cancel")
}

func testDeadline(t *testing.T, s *suite) {
	c := s.conn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	r := run(ctx, c, script{posix: "sleep 300\n", powershell: "Start-Sleep -Seconds 300\n"}, nil)
	if !errors.Is(r.err, transport.ErrTimeout) || !errors.Is(r.err, context.DeadlineExceeded) {
		t.Errorf("deadline: err = %v, want it to wrap transport.ErrTimeout and context.DeadlineExceeded", r.err)
	}
	// The connection stays usable.
	if got := mustRun(t, c, printf("still here")); got != "still here" {
		t.Errorf("after a deadline: %q", got)
	}
}

func testScriptEnded(t *testing.T, s *suite) {
	c := s.conn(t)
	// The script ends at once, but a process it left behind (which
	// ignores SIGTERM) holds its stdout open.
	sc := script{
		posix: lines(
			"(trap '' TERM HUP INT; exec sleep 300) &",
			"printf '%s ' $!",
			"printf ready",
		),
		powershell: lines(
			"$p = Start-Process -PassThru -NoNewWindow powershell.exe '-NoProfile -Command Start-Sleep 300'",
			"[Console]::Out.Write([string]$p.Id + ' ')",
			"[Console]::Out.Write('ready')",
		),
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	pids, done := started(t, ctx, c, sc, 2)
	t.Cleanup(func() { // before c closes
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		run(ctx, c, script{posix: "kill -s KILL " + pids[0] + " 2>/dev/null; exit 0\n", powershell: "exit 0\n"}, nil)
	})
	cancel(transport.ErrScriptEnded)
	r := wait(t, done, endedBound, "cancelled with ErrScriptEnded")
	if !errors.Is(r.err, context.Canceled) {
		t.Errorf("cancelled with ErrScriptEnded: err = %v, want it to wrap context.Canceled", r.err)
	}
	// The connection stays usable.
	if got := mustRun(t, c, printf("still here")); got != "still here" {
		t.Errorf("after ErrScriptEnded: %q", got)
	}
}

// floodScript writes to both streams until it is stopped.
var floodScript = script{
	posix:      lines("x=xxxxxxxxxxxxxxxx; x=$x$x$x$x$x$x$x$x; x=$x$x$x$x$x$x$x$x", "while :; do printf '%s' $x; printf '%s' $x >&2; done"),
	powershell: "while ($true) { [Console]::Out.Write('x' * 1024); [Console]::Error.Write('x' * 1024) }\n",
}

func testNoWriteAfterReturn(t *testing.T, s *suite) {
	c := s.conn(t)
	out, errOut := &lateWriter{}, &lateWriter{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := c.Run(ctx, &transport.Command{Script: floodScript.text(c), Stdout: out, Stderr: errOut})
		out.close()
		errOut.close()
		done <- err
	}()
	deadline := time.Now().Add(testTimeout)
	for out.count() == 0 || errOut.count() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no output from the flood")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want it to wrap context.Canceled", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Run did not return")
	}
	time.Sleep(300 * time.Millisecond) // time for stray writes
	if n, m := out.late(), errOut.late(); n > 0 || m > 0 {
		t.Errorf("%d writes to Stdout and %d to Stderr after Run returned", n, m)
	}
}

func testCloseDuringRun(t *testing.T, s *suite) {
	c := s.conn(t)
	sc := script{
		posix:      lines("printf '1 '", "sleep 30"),
		powershell: lines("[Console]::Out.Write('1 ')", "Start-Sleep -Seconds 30"),
	}
	_, done := started(t, context.Background(), c, sc, 1)
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	r := wait(t, done, stopBound, "closed")
	if !errors.Is(r.err, transport.ErrConnLost) {
		t.Errorf("a Run in flight when the connection closed: err = %v, want it to wrap transport.ErrConnLost", r.err)
	}
}

func testRunAfterClose(t *testing.T, s *suite) {
	c := s.conn(t)
	mustRun(t, c, printf("x"))
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if r := run(ctx, c, printf("x"), nil); !errors.Is(r.err, transport.ErrConnLost) || r.stdout != "" {
		t.Errorf("Run after Close: %v; want an error wrapping transport.ErrConnLost", r)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lateWriter counts the writes made to it, and those made after close.
type lateWriter struct {
	mu           sync.Mutex
	closed       bool
	writes, past int
}

func (w *lateWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	if w.closed {
		w.past++
	}
	return len(p), nil
}

func (w *lateWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}

func (w *lateWriter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes
}

func (w *lateWriter) late() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.past
}

// shQuote quotes s for a POSIX shell.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// psQuote quotes s for PowerShell (a single-quoted string).
func psQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// Dial opens a connection with dial, giving it 20 s, and closes it when
// the test ends; a connection that cannot be opened fails the test.
func Dial[C io.Closer](t testing.TB, dial func(context.Context) (C, error)) C {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := dial(ctx)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
