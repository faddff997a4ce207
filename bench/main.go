// Command bench is driftless's fleet benchmark: it measures, in one run
// on one machine, driftless against the SSH floor (one connection and one
// exec per host, all hosts at once) and against Ansible.
//
//	go run ./bench                     # every mode: fleet, latency, scale, nodes
//	go run ./bench -mode fleet -n 50 -runs 5 -ansible
//
// Modes:
//
//   - fleet: N real OpenSSH sshd hosts on loopback (internal/sshtest; each
//     its own host key, unix user and home; needs root and sshd). Measured
//     per round: the floor, `driftless apply` of baseline.toml on fresh
//     hosts, the same again (converged), `driftless check`, and
//     ansible-playbook of playbook.yml (forks = N, pipelining) on fresh
//     and converged hosts when it is installed (-ansible installs Debian's
//     ansible-core).
//   - latency: the same hosts behind a TCP delay proxy adding -rtt
//     (default 50ms) to every connection, for driftless and the floor
//     alike: a converged `driftless check` of check10.toml (ten steps)
//     against the floor + 1 RTT.
//   - scale: -sim-hosts simulated hosts (internal/sshsim, x/crypto/ssh
//     servers in this process) with max_concurrency -concurrency: the
//     floor with the same concurrency, first and converged apply and
//     check, and converged apply on -concurrency hosts to show that
//     memory follows concurrency, not fleet size.
//   - nodes: -sim-hosts simulated hosts and a throwaway PostgreSQL server
//     (issue 17): a converged check with the SQLite journal against the
//     PostgreSQL journal, and a due tick of a 1 s step run by one node
//     and by three at once on one journal (nodes.go).
//
// driftless is built once with go build and run as a child process with
// a config dir the bench writes; so is the floor (this program again), so
// that both pay a process start and their peak RSS (rusage maxrss) is
// comparable. Rounds interleave the measurements, so that load from other
// processes spreads over all of them; the tables give min and median.
// The tables are printed and written to -out (bench/RESULTS.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == floorChildArg {
		os.Exit(floorChild(os.Args[2:], os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == spawnArg {
		os.Exit(spawnChild(os.Args[2:]))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command line's.
type options struct {
	mode        string
	hosts       int
	runs        int
	rtt         time.Duration
	rttSet      bool
	ansible     bool
	noAnsible   bool
	simHosts    int
	concurrency int
	scaleRuns   int
	stepSleep   time.Duration
	out         string
	driftless   string
	timeout     time.Duration
	keep        bool
	hold        bool
	args        []string // as given, for "how to reproduce"
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	o := options{args: args}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.mode, "mode", "all", "what to measure: fleet, latency, scale, nodes, or all")
	fs.IntVar(&o.hosts, "n", 50, "real sshd hosts (fleet and latency modes)")
	fs.IntVar(&o.runs, "runs", 5, "rounds of each measurement (fleet and latency modes)")
	fs.DurationVar(&o.rtt, "rtt", 50*time.Millisecond, "round-trip time the delay proxy adds (latency mode; in fleet mode only when set)")
	fs.BoolVar(&o.ansible, "ansible", false, "install ansible-core with apt-get when ansible-playbook is missing")
	fs.BoolVar(&o.noAnsible, "no-ansible", false, "do not measure Ansible even when it is installed")
	fs.IntVar(&o.simHosts, "sim-hosts", 2000, "simulated hosts (scale and nodes modes)")
	fs.IntVar(&o.concurrency, "concurrency", 500, "max_concurrency in scale mode (also the smaller fleet of the memory comparison) and of the nodes mode's check")
	fs.IntVar(&o.scaleRuns, "scale-runs", 3, "rounds of each measurement in scale and nodes modes")
	fs.DurationVar(&o.stepSleep, "step-sleep", time.Second, "how long the step of the nodes mode's tick sleeps")
	fs.StringVar(&o.out, "out", "", "markdown file for the results (default bench/RESULTS.md in the module; - for none)")
	fs.StringVar(&o.driftless, "driftless", "", "a driftless binary to measure (default: go build ./cmd/driftless)")
	fs.DurationVar(&o.timeout, "timeout", time.Hour, "stop everything after this long")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (config dirs, journals, logs)")
	fs.BoolVar(&o.hold, "hold", false, "fleet and scale modes: start the hosts, print how to run driftless and the floor on them, and wait for ^C (to profile)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./bench [flags]\n\n"+
			"Measures driftless against the SSH floor and Ansible on loopback hosts; see bench/README.md.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { o.rttSet = o.rttSet || f.Name == "rtt" })
	switch o.mode {
	case "fleet", "latency", "scale", "nodes", "all":
	default:
		return o, fmt.Errorf("-mode %q: want fleet, latency, scale, nodes or all", o.mode)
	}
	switch {
	case o.hosts < 1, o.runs < 1, o.scaleRuns < 1, o.simHosts < 1, o.concurrency < 1:
		return o, errors.New("-n, -runs, -scale-runs, -sim-hosts and -concurrency must be at least 1")
	case o.rtt < 0:
		return o, errors.New("-rtt must not be negative")
	case o.stepSleep < time.Millisecond:
		return o, errors.New("-step-sleep must be at least 1ms")
	}
	return o, nil
}

func (o options) wants(mode string) bool { return o.mode == "all" || o.mode == mode }

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := bench(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	return 0
}

// bench runs the modes o asks for and writes the report.
func bench(ctx context.Context, o options, stdout, stderr io.Writer) error {
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	root, err := moduleRoot(ctx)
	if err != nil && (o.driftless == "" || o.out == "") {
		return err
	}
	if o.out == "" {
		o.out = filepath.Join(root, "bench", "RESULTS.md")
	}
	work, err := os.MkdirTemp("", "driftless-bench-")
	if err != nil {
		return err
	}
	if o.keep {
		logf("work directory %s is kept", work)
	} else {
		defer os.RemoveAll(work)
	}

	rep := &report{machine: describeMachine(ctx), command: reproduceCommand(o)}
	bin := o.driftless
	if bin == "" {
		bin = filepath.Join(work, "driftless")
		logf("building driftless")
		if err := buildDriftless(ctx, root, bin); err != nil {
			return err
		}
		rep.machine.revision = revision(ctx, root)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program to run the floor: %w", err)
	}
	spawnerPath = self
	env := &benchEnv{bin: bin, self: self, work: work, logf: logf}

	if o.wants("fleet") || o.wants("latency") {
		if o.wants("fleet") && o.noAnsible {
			env.ansibleWhy = "-no-ansible was given"
		} else if o.wants("fleet") {
			env.ansible, env.ansibleWhy = findAnsible(ctx, o.ansible, logf)
			if env.ansible != nil {
				rep.machine.ansible = env.ansible.version
			} else {
				logf("Ansible is not measured: %s", env.ansibleWhy)
			}
		}
		logf("starting %d sshd hosts", o.hosts)
		fl, err := startRealFleet(ctx, o.hosts, stderr)
		if err != nil {
			return err
		}
		err = func() error {
			defer fl.close()
			if o.wants("fleet") {
				sec, err := fleetMode(ctx, o, env, fl)
				if err != nil {
					return fmt.Errorf("fleet mode: %w", err)
				}
				rep.add(sec, stdout)
			}
			if o.wants("latency") {
				sec, err := latencyMode(ctx, o, env, fl)
				if err != nil {
					return fmt.Errorf("latency mode: %w", err)
				}
				rep.add(sec, stdout)
			}
			return nil
		}()
		if err != nil {
			return err
		}
	}
	if o.wants("scale") {
		sec, err := scaleMode(ctx, o, env)
		if err != nil {
			return fmt.Errorf("scale mode: %w", err)
		}
		rep.add(sec, stdout)
	}
	if o.wants("nodes") {
		secs, err := nodesMode(ctx, o, env)
		if err != nil {
			return fmt.Errorf("nodes mode: %w", err)
		}
		for _, sec := range secs {
			rep.add(sec, stdout)
		}
	}
	rep.machine.loadAfter = loadAverage()
	if o.out != "-" {
		if err := os.WriteFile(o.out, []byte(rep.markdown()), 0o644); err != nil {
			return err
		}
		logf("wrote %s", o.out)
	}
	return nil
}

// benchEnv is what every measurement needs.
type benchEnv struct {
	bin  string // the driftless binary
	self string // this program (the floor child)
	work string // work directory
	logf func(format string, args ...any)

	ansible    *ansibleTool // nil: not measured, because of ansibleWhy
	ansibleWhy string
}

// reproduceCommand is the command line that repeats this run.
func reproduceCommand(o options) string {
	var b strings.Builder
	b.WriteString("go run ./bench")
	for _, a := range o.args {
		b.WriteString(" " + a)
	}
	return b.String()
}
