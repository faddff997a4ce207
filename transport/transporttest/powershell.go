package transporttest

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PowerShell stands in for powershell.exe on test servers that run no
// PowerShell: it runs the suite's PowerShell scripts, which use a handful
// of statements (one a line), and nothing else. It plays a Windows host's
// process table so that a script can look for the processes an earlier
// one started.
//
// A script's process lives while Run runs; a process it starts with
// Start-Process lives until its sleep ends or ctx ends, which is when
// WinRS terminates the command (and with it the job its processes are
// in). A process started with -NoNewWindow shares the script's output, so
// Run returns only once it has ended too. When ctx ends, Run returns at
// once with exit code 1.
//
// A statement it does not know is written to stderr, and the script exits
// 1 there: a transport that mangles a script fails the suite.
type PowerShell struct {
	mu    sync.Mutex
	last  int
	procs map[int]bool
}

// NewPowerShell returns a stand-in with no process running.
func NewPowerShell() *PowerShell {
	return &PowerShell{last: 4000, procs: map[int]bool{}}
}

var (
	psExit    = regexp.MustCompile(`^exit (\d+)$`)
	psWrite   = regexp.MustCompile(`^\[Console\]::(Out|Error)\.Write\('((?:[^']|'')*)'\)$`)
	psWriteID = regexp.MustCompile(`^\[Console\]::Out\.Write\(\[string\]\$(PID|p\.Id) \+ ' '\)$`)
	psSleep   = regexp.MustCompile(`^Start-Sleep -(Seconds|Milliseconds) (\d+)$`)
	psStart   = regexp.MustCompile(`^\$p = Start-Process -PassThru (-NoNewWindow )?powershell\.exe '-NoProfile -Command Start-Sleep (\d+)'$`)
	psAlive   = regexp.MustCompile(`^foreach \(\$id in ([0-9, ]+)\) \{ if \(Get-Process -Id \$id -ErrorAction SilentlyContinue\) \{ \[Console\]::Out\.Write\(\[string\]\$id \+ ' '\) \} \}$`)
)

// Loops of the suite, run as whole statements.
var (
	psBigOutput = strings.TrimSpace(bigOutput.powershell)
	psBothLoop  = strings.TrimSpace(bothScript.powershell)
	psFlood     = strings.TrimSpace(floodScript.powershell)
	psReadStdin = "[Console]::Out.Write([Console]::In.ReadToEnd())"
)

// Run runs script with stdin and returns its exit code. stdin may be nil
// (a console with nothing to read).
func (ps *PowerShell) Run(ctx context.Context, script string, stdin io.Reader, stdout, stderr io.Writer) int {
	pid := ps.start()
	defer ps.end(pid)
	var (
		p      int             // $p
		shared []chan struct{} // processes holding the output
	)
	code := func() int {
		for _, l := range strings.Split(script, "\n") {
			l = strings.TrimSpace(l)
			var m []string
			switch {
			case l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "$ProgressPreference = "):
			case matches(psExit, l, &m):
				n, _ := strconv.Atoi(m[1])
				return n
			case matches(psWrite, l, &m):
				w := stdout
				if m[1] == "Error" {
					w = stderr
				}
				io.WriteString(w, strings.ReplaceAll(m[2], "''", "'"))
			case matches(psWriteID, l, &m):
				id := pid
				if m[1] == "p.Id" {
					id = p
				}
				fmt.Fprintf(stdout, "%d ", id)
			case matches(psSleep, l, &m):
				n, _ := strconv.Atoi(m[2])
				d := time.Duration(n) * time.Millisecond
				if m[1] == "Seconds" {
					d = time.Duration(n) * time.Second
				}
				if !sleep(ctx, d) {
					return 1
				}
			case matches(psStart, l, &m):
				n, _ := strconv.Atoi(m[2])
				var ended chan struct{}
				p, ended = ps.spawn(ctx, time.Duration(n)*time.Second)
				if m[1] != "" {
					shared = append(shared, ended)
				}
			case matches(psAlive, l, &m):
				for _, f := range strings.Split(m[1], ",") {
					if id, _ := strconv.Atoi(strings.TrimSpace(f)); ps.running(id) {
						fmt.Fprintf(stdout, "%d ", id)
					}
				}
			case l == psReadStdin:
				if stdin != nil {
					io.Copy(stdout, stdin)
				}
			case l == psBigOutput:
				var o strings.Builder // written when stderr is, in the loop's order
				for i := range bigLines {
					fmt.Fprintf(&o, "%05d %s\n", i, pad)
					if i%64 == 0 {
						io.WriteString(stdout, o.String())
						o.Reset()
						fmt.Fprintf(stderr, "err %05d\n", i)
					}
				}
				io.WriteString(stdout, o.String())
			case l == psBothLoop:
				for range 200 {
					io.WriteString(stdout, "o\n")
					io.WriteString(stderr, "e\n")
				}
			case l == psFlood:
				x := strings.Repeat("x", 1024)
				for sleep(ctx, time.Millisecond) {
					io.WriteString(stdout, x)
					io.WriteString(stderr, x)
				}
				return 1
			default:
				fmt.Fprintf(stderr, "transporttest.PowerShell: unknown statement %.100q\n", l)
				return 1
			}
		}
		return 0
	}()
	for _, ended := range shared {
		select {
		case <-ended:
		case <-ctx.Done():
			return 1
		}
	}
	if ctx.Err() != nil {
		return 1
	}
	return code
}

func matches(re *regexp.Regexp, l string, m *[]string) bool {
	*m = re.FindStringSubmatch(l)
	return *m != nil
}

// sleep waits d, or less when ctx ends first, and reports whether it
// waited the whole d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// start adds a process to the table and returns its id.
func (ps *PowerShell) start() int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.last += 4
	ps.procs[ps.last] = true
	return ps.last
}

func (ps *PowerShell) end(pid int) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	delete(ps.procs, pid)
}

func (ps *PowerShell) running(pid int) bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.procs[pid]
}

// spawn starts a process that sleeps d unless ctx ends first; ended is
// closed when it ends.
func (ps *PowerShell) spawn(ctx context.Context, d time.Duration) (pid int, ended chan struct{}) {
	pid, ended = ps.start(), make(chan struct{})
	go func() {
		defer close(ended)
		defer ps.end(pid)
		sleep(ctx, d)
	}()
	return pid, ended
}
