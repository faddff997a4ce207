package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/driftless-dev/driftless/runner/plan"
	"github.com/driftless-dev/driftless/transport"

	"golang.org/x/sync/errgroup"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/journal"
)

// Dialer opens a connection to a host.
type Dialer func(ctx context.Context, h *inventory.Host) (transport.Conn, error)

// Events receives progress as hosts start and end. Implementations must
// be safe for concurrent use.
type Events interface {
	RunStarted(assoc string, hosts int)
	HostStarted(assoc, host string)
	HostDone(assoc string, r *journal.HostResult)
}

// Options of a Runner.
type Options struct {
	Config  *config.Config
	Dial    Dialer
	Journal *journal.Journal // nil: nothing recorded
	Events  Events           // nil: no progress
	Env     func(string) (string, bool)
	// HostDetail returns a note about a host once connected, e.g. "host
	// key SHA256:… recorded (accept-new)"; it goes into the journal.
	HostDetail func(host string) string
	// RebootCommand reboots a host when a step asks (exit 194, or a
	// patch that needs it); default DefaultRebootCommand. RebootTimeout
	// bounds the wait for the host to come back (default 10m); RebootPoll
	// is the pause between attempts to reconnect (default 2s).
	RebootCommand string
	RebootTimeout time.Duration
	RebootPoll    time.Duration
	// Now is the clock runs are recorded with; default time.Now. tick
	// --now runs "as if it were" another time.
	Now func() time.Time
	// LeaseWait is how long a manual apply or check waits for a host
	// whose lease another process holds before it records the host
	// Skipped; zero does not wait.
	LeaseWait time.Duration
	// LeaseTTL is how long a tick's leases live unrenewed (default
	// DefaultLeaseTTL): a node that died leaves its hosts after it.
	LeaseTTL time.Duration
	// Capacity bounds the hosts this process runs at once over every
	// association (--max-hosts); share one between the Runners of a
	// process. nil: no bound but each association's max_concurrency.
	Capacity *Capacity
	// Sites are the sites a tick runs the hosts of (--site; none: every
	// site), told to the other nodes so that they share work only with
	// the nodes that run the same hosts.
	Sites []string
}

// DefaultRebootCommand reboots a Linux or macOS host a second after the
// command returns, so that the session ends cleanly first.
const DefaultRebootCommand = `nohup sh -c 'sleep 1; /sbin/reboot || reboot || shutdown -r now' >/dev/null 2>&1 &`

// MaxReboots is how many times one host execution may reboot a host.
const MaxReboots = 3

// Runner runs associations and ad-hoc commands. It opens one connection
// per host for its whole life, shared by every association and step on
// that host; Close ends them.
type Runner struct {
	opts  Options
	mu    sync.Mutex
	conns map[string]*lazyConn
	uses  map[string]int // host name: runs still expected (Expect)
	fetch *fetcher
	// scripts are the scripts built so far, for hosts with equal steps.
	scripts scriptCache
}

type lazyConn struct {
	once sync.Once
	conn transport.Conn
	err  error
}

// New returns a Runner.
func New(opts Options) *Runner {
	if opts.Env == nil {
		opts.Env = os.LookupEnv
	}
	if opts.RebootCommand == "" {
		opts.RebootCommand = DefaultRebootCommand
	}
	if opts.RebootTimeout <= 0 {
		opts.RebootTimeout = 10 * time.Minute
	}
	if opts.RebootPoll <= 0 {
		opts.RebootPoll = 2 * time.Second
	}
	dir := ""
	if opts.Config != nil {
		dir = opts.Config.Dir
	}
	return &Runner{opts: opts, conns: map[string]*lazyConn{}, uses: map[string]int{}, fetch: newFetcher(dir)}
}

// Expect tells the runner that it will run one job on each of hosts (call
// it once per job, before running any). A connection is then closed as
// soon as the last expected job on its host ends, instead of when the
// Runner closes, so that memory follows max_concurrency, not the size of
// the fleet. Hosts never announced keep their connection until Close.
func (r *Runner) Expect(hosts []*inventory.Host) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range hosts {
		r.uses[h.Name]++
	}
}

// done records the end of one job on h, and closes h's connection after
// the last one expected.
func (r *Runner) done(h *inventory.Host) {
	r.mu.Lock()
	n, ok := r.uses[h.Name]
	if !ok {
		r.mu.Unlock()
		return
	}
	var lc *lazyConn
	if n <= 1 {
		delete(r.uses, h.Name)
		lc = r.conns[h.Name]
		delete(r.conns, h.Name)
	} else {
		r.uses[h.Name] = n - 1
	}
	r.mu.Unlock()
	if lc != nil && lc.conn != nil {
		_ = lc.conn.Close()
	}
}

// conn returns the connection to h, dialing it on first use. A host that
// could not be reached is not dialed again in the same invocation.
func (r *Runner) conn(ctx context.Context, h *inventory.Host) (transport.Conn, error) {
	r.mu.Lock()
	lc := r.conns[h.Name]
	if lc == nil {
		lc = &lazyConn{}
		r.conns[h.Name] = lc
	}
	r.mu.Unlock()
	lc.once.Do(func() {
		start := time.Now()
		lc.conn, lc.err = r.opts.Dial(ctx, h)
		if debugOn() {
			slog.Debug("dial", "host", h.Name, "transport", h.Transport, "took", time.Since(start), "error", lc.err)
		}
	})
	return lc.conn, lc.err
}

func (r *Runner) now() time.Time {
	if r.opts.Now != nil {
		return r.opts.Now().UTC()
	}
	return time.Now().UTC()
}

// Close ends every connection.
func (r *Runner) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for _, lc := range r.conns {
		if lc.conn != nil {
			errs = append(errs, lc.conn.Close())
		}
	}
	r.conns = map[string]*lazyConn{}
	return errors.Join(errs...)
}

// Job is one association to run on some of its hosts.
type Job struct {
	Assoc   *config.Association
	Hosts   []*inventory.Host // default: the association's targets
	Check   bool              // force check mode
	Trigger journal.Trigger   // default manual
	// MaxConcurrency and MaxErrors override the association's.
	MaxConcurrency *config.Rate
	MaxErrors      *config.Rate
	// Round, for a tick, is the instant the hosts are due at: they are
	// shared with the other nodes on the journal, and the run has only
	// those this node claimed (claim.go).
	Round time.Time
}

// RunResult is what one association did.
type RunResult struct {
	Run   journal.Run
	Hosts []journal.HostResult // in target order
	// Held are the hosts of a tick's run (Job.Round) that another process
	// was still running from an earlier round: left alone.
	Held []Held
}

// Drifted reports whether a check found drift on any host.
func (r *RunResult) Drifted() bool {
	for _, h := range r.Hosts {
		for _, s := range h.Steps {
			if s.Status == journal.StatusDrifted {
				return true
			}
		}
	}
	return false
}

// Failed reports whether a host failed, timed out, was unreachable or was
// skipped by max_errors.
func (r *RunResult) Failed() bool {
	for _, h := range r.Hosts {
		if h.Status.Failed() || h.Status == journal.StatusSkipped {
			return true
		}
	}
	return false
}

// Run runs one association on its hosts with State Manager's rate control:
// at most max_concurrency hosts at once (a sliding window); once failures
// exceed max_errors no further host starts and those not started are
// Skipped; hosts already running finish. Cancelling ctx stops starting
// hosts and cancels running steps: the steps that ended keep their
// status, the one running is Cancelled, those not started are Skipped
// (journal.SkipCancelled), and the hosts and the run are Cancelled.
func (r *Runner) Run(ctx context.Context, job Job) (*RunResult, error) {
	a := job.Assoc
	hosts := job.Hosts
	if hosts == nil {
		hosts = a.Hosts
	}
	mode := journal.Mode(a.Mode)
	if job.Check {
		mode = journal.ModeCheck
	}
	trigger := job.Trigger
	if trigger == "" {
		trigger = journal.TriggerManual
	}
	res := &RunResult{Run: journal.Run{Association: a.Name, Document: a.DocumentName, DocHash: a.Doc.Hash, ParamsHash: a.Hash,
		Trigger: trigger, Mode: mode, Severity: a.Severity, StartedAt: r.now()}}
	if j := r.opts.Journal; j != nil {
		id, err := j.StartRun(context.WithoutCancel(ctx), &res.Run)
		if err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		res.Run.ID = id
	}
	ctx, stop := r.stopOnJournalFailure(ctx)
	defer stop()
	if ev := r.opts.Events; ev != nil {
		ev.RunStarted(a.Name, len(hosts))
	}
	conc, maxErr := a.MaxConcurrency, a.MaxErrors
	if job.MaxConcurrency != nil {
		conc = *job.MaxConcurrency
	}
	if job.MaxErrors != nil {
		maxErr = *job.MaxErrors
	}
	limit, tolerated := conc.Concurrency(len(hosts)), maxErr.Errors(len(hosts))

	if !job.Round.IsZero() && r.opts.Journal != nil {
		return r.runClaimed(ctx, job, res, hosts, mode, limit, tolerated, maxErr)
	}
	res.Hosts = make([]journal.HostResult, len(hosts))
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.Name
	}
	leases, err := r.takeLeases(ctx, a, res, names)
	if err != nil {
		return nil, err
	}
	r.fanOut(ctx, a.Name, a.Hash, res, hosts, limit, tolerated, maxErr, func(h *inventory.Host, hr *journal.HostResult) {
		if why := leases.await(ctx, h.Name); why != "" {
			r.done(h)
			r.finishHost(ctx, a.Name, hr, journal.StatusSkipped, why)
			return
		}
		r.runHost(ctx, a, mode, h, hr)
	})
	lerr := leases.release(ctx)
	if err := r.finishRun(ctx, res); err != nil {
		return res, err
	}
	return res, lerr
}

// fanOut runs one function per host with rate control, recording hosts
// not started as Skipped (max_errors) or Cancelled.
func (r *Runner) fanOut(ctx context.Context, name, defHash string, res *RunResult, hosts []*inventory.Host, limit, tolerated int, maxErr config.Rate, one func(*inventory.Host, *journal.HostResult)) {
	var failures atomic.Int64
	var g errgroup.Group
	// A place is taken before the failure count is read, so that a host
	// starts only once the hosts before it that could fail have ended
	// or are still running.
	ps := r.places(limit)
	for i, h := range hosts {
		hr := &res.Hosts[i]
		*hr = journal.HostResult{RunID: res.Run.ID, Host: h.Name, DefHash: defHash}
		if !ps.take(ctx) {
			r.finishHost(ctx, name, hr, journal.StatusCancelled, notStarted(ctx))
			continue
		}
		if n := failures.Load(); n > int64(tolerated) {
			ps.give()
			r.finishHost(ctx, name, hr, journal.StatusSkipped, fmt.Sprintf("not started: %d hosts failed, more than max_errors = %s", n, maxErr))
			continue
		}
		ps.run(&g, func() {
			one(h, hr)
			if hr.Status.Failed() {
				failures.Add(1)
			}
		})
	}
	g.Wait()
}

// notStarted says why a host of a cancelled run was not started.
func notStarted(ctx context.Context) string {
	if errors.Is(context.Cause(ctx), journal.ErrWriteFailed) {
		return "not started: the journal cannot be written"
	}
	return "not started: the run was interrupted"
}

func (r *Runner) finishRun(ctx context.Context, res *RunResult) error {
	res.Run.EndedAt = r.now()
	res.Run.Counts = map[journal.Status]int{}
	for _, h := range res.Hosts {
		res.Run.Counts[h.Status]++
	}
	res.Run.Status = runStatus(ctx, res)
	j := r.opts.Journal
	if j == nil {
		return nil
	}
	// When records were lost the run failed, whatever its hosts did, and
	// the journal counts only the hosts it holds.
	counts, lost := res.Run.Counts, j.Failure()
	if lost != nil {
		res.Run.Status, counts = journal.StatusFailed, nil
	}
	err := j.FinishRun(context.WithoutCancel(ctx), res.Run.ID, res.Run.Status, counts, res.Run.EndedAt)
	if lost != nil {
		return fmt.Errorf("run %d stopped, it is not a success: %w", res.Run.ID, lost)
	}
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// stopOnJournalFailure returns ctx, cancelled as soon as the journal
// cannot be written: no host starts whose record would be lost, and the
// hosts running stop (docs/safety.md#the-journal-tells-what-happened).
func (r *Runner) stopOnJournalFailure(ctx context.Context) (context.Context, func()) {
	j := r.opts.Journal
	if j == nil {
		return ctx, func() {}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-j.Failed():
			cancel(j.Failure())
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(nil) }
}

// ExecJob is an ad-hoc command (like SSM Run Command), journaled.
type ExecJob struct {
	Command        string
	Hosts          []*inventory.Host
	MaxConcurrency config.Rate
	Timeout        time.Duration // per host; 0 = none
}

// Exec runs an ad-hoc shell command on hosts.
func (r *Runner) Exec(ctx context.Context, job ExecJob) (*RunResult, error) {
	res := &RunResult{Run: journal.Run{Association: "", Document: "exec", Trigger: journal.TriggerExec, Mode: journal.ModeExec,
		Command: job.Command, StartedAt: r.now()}}
	if j := r.opts.Journal; j != nil {
		id, err := j.StartRun(context.WithoutCancel(ctx), &res.Run)
		if err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		res.Run.ID = id
	}
	if ev := r.opts.Events; ev != nil {
		ev.RunStarted("exec", len(job.Hosts))
	}
	res.Hosts = make([]journal.HostResult, len(job.Hosts))
	all := config.Rate{N: 100, Percent: true}
	r.fanOut(ctx, "exec", "", res, job.Hosts, job.MaxConcurrency.Concurrency(len(job.Hosts)), len(job.Hosts), all, func(h *inventory.Host, hr *journal.HostResult) {
		r.execHost(ctx, job, h, hr)
	})
	return res, r.finishRun(ctx, res)
}

func (r *Runner) execHost(ctx context.Context, job ExecJob, h *inventory.Host, hr *journal.HostResult) {
	defer r.done(h)
	hr.StartedAt = r.now()
	if ev := r.opts.Events; ev != nil {
		ev.HostStarted("exec", h.Name)
	}
	hctx, cancel := ctx, context.CancelFunc(func() {})
	if job.Timeout > 0 {
		hctx, cancel = context.WithTimeout(ctx, job.Timeout)
	}
	defer cancel()
	conn, err := r.conn(hctx, h)
	if err != nil {
		r.failHost(ctx, "exec", hr, err)
		return
	}
	r.noteHost(h, hr)
	var stdout, stderr journal.OutputBuffer
	start := time.Now()
	code, err := conn.Run(hctx, &transport.Command{Script: job.Command, Stdout: &stdout, Stderr: &stderr})
	step := journal.StepResult{Name: "command", Action: string(documents.ActionShell), Stdout: stdout.String(), Stderr: stderr.String(), Duration: time.Since(start), StartedAt: hr.StartedAt}
	status := journal.StatusSuccess
	switch {
	case err != nil && ctx.Err() != nil:
		status, step.Status, hr.Error = journal.StatusCancelled, journal.StatusCancelled, err.Error()
	case err != nil && hctx.Err() != nil:
		status, step.Status, hr.Error = journal.StatusTimedOut, journal.StatusTimedOut, fmt.Sprintf("timed out after %s", job.Timeout)
	case err != nil:
		status, step.Status, hr.Error = journal.StatusFailed, journal.StatusFailed, err.Error()
		if errors.Is(err, transport.ErrConnLost) {
			status = journal.StatusUnreachable
		}
	case code != 0:
		step.ExitCode = &code
		status, step.Status, step.Error = journal.StatusFailed, journal.StatusFailed, fmt.Sprintf("exited %d", code)
	default:
		step.ExitCode = &code
		step.Status = journal.StatusSuccess
	}
	hr.Steps = []journal.StepResult{step}
	r.finishHost(ctx, "exec", hr, status, "")
}

// reboot reboots h, waits for the connection to drop, then reconnects
// until timeout, and returns the new connection (also kept for the rest
// of the invocation).
func (r *Runner) reboot(ctx context.Context, h *inventory.Host, conn transport.Conn, timeout time.Duration) (transport.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd, wait := r.opts.RebootCommand, "sleep 3600"
	if transport.ShellOf(conn) == transport.ShellPowerShell {
		cmd, wait = `& shutdown.exe /r /t 2 /c 'driftless: a step asked for a reboot'`, "Start-Sleep -Seconds 3600"
	}
	if _, err := conn.Run(ctx, &transport.Command{Script: cmd}); err != nil && !errors.Is(err, transport.ErrConnLost) {
		return nil, fmt.Errorf("reboot %s: %w", h.Name, err)
	}
	// The host is down when this connection ends.
	conn.Run(ctx, &transport.Command{Script: wait})
	conn.Close()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("reboot %s: %w: the host did not go down within %s", h.Name, transport.ErrTimeout, timeout)
	}
	r.mu.Lock()
	delete(r.conns, h.Name)
	r.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("reboot %s: %w: the host did not come back within %s", h.Name, transport.ErrTimeout, timeout)
		case <-time.After(r.opts.RebootPoll):
		}
		c, err := r.conn(ctx, h)
		if err == nil {
			return c, nil
		}
		r.mu.Lock()
		delete(r.conns, h.Name) // not cached: try again
		r.mu.Unlock()
	}
}

// failHost records a host whose connection could not be opened.
func (r *Runner) failHost(ctx context.Context, assoc string, hr *journal.HostResult, err error) {
	hr.Error = err.Error()
	status := journal.StatusFailed
	switch {
	case ctx.Err() != nil:
		status = journal.StatusCancelled
	case errors.Is(err, transport.ErrUnreachable) || errors.Is(err, transport.ErrTimeout):
		status = journal.StatusUnreachable
	}
	r.finishHost(ctx, assoc, hr, status, "")
}

// noteHost adds what the transport has to say about the host (e.g. a host
// key recorded under accept-new) to its result.
func (r *Runner) noteHost(h *inventory.Host, hr *journal.HostResult) {
	if r.opts.HostDetail != nil {
		if d := r.opts.HostDetail(h.Name); d != "" {
			hr.Detail = d
		}
	}
}

func runStatus(ctx context.Context, res *RunResult) journal.Status {
	if ctx.Err() != nil || res.Run.Counts[journal.StatusCancelled] > 0 {
		return journal.StatusCancelled
	}
	switch {
	case res.Run.Counts[journal.StatusFailed]+res.Run.Counts[journal.StatusUnreachable]+res.Run.Counts[journal.StatusSkipped] > 0:
		return journal.StatusFailed
	case res.Run.Counts[journal.StatusTimedOut] > 0:
		return journal.StatusTimedOut
	}
	return journal.StatusSuccess
}

func (r *Runner) finishHost(ctx context.Context, assoc string, hr *journal.HostResult, status journal.Status, detail string) {
	now := r.now()
	if hr.StartedAt.IsZero() {
		hr.StartedAt = now
	}
	hr.EndedAt = now
	hr.Status = status
	if debugOn() {
		slog.Debug("host done", "association", assoc, "host", hr.Host, "status", status, "took", hr.EndedAt.Sub(hr.StartedAt), "error", hr.Error)
	}
	if detail != "" {
		hr.Detail = detail
	}
	if j := r.opts.Journal; j != nil {
		if err := j.RecordHost(context.WithoutCancel(ctx), *hr); err != nil && hr.Error == "" {
			hr.Error = "journal: " + err.Error()
		}
	}
	if ev := r.opts.Events; ev != nil {
		ev.HostDone(assoc, hr)
	}
}

// runHost runs the association's document on one host.
func (r *Runner) runHost(ctx context.Context, a *config.Association, mode journal.Mode, h *inventory.Host, hr *journal.HostResult) {
	defer r.done(h)
	hr.StartedAt = r.now()
	if ev := r.opts.Events; ev != nil {
		ev.HostStarted(a.Name, h.Name)
	}
	if j := r.opts.Journal; j != nil {
		_ = j.StartHost(context.WithoutCancel(ctx), hr.RunID, h.Name, hr.StartedAt)
	}
	hctx, cancel := ctx, context.CancelFunc(func() {})
	if a.Timeout > 0 {
		hctx, cancel = context.WithTimeout(ctx, a.Timeout)
	}
	defer cancel()

	red := r.hostSecrets(a, h)
	scope := &documents.Scope{Params: a.Params, HostName: h.Name, HostAddress: h.Address, Tags: h.Tags, Vars: h.Vars, Env: r.opts.Env}
	steps := plan.Plan(a.Doc, scope, plan.Options{Dir: r.opts.Config.Dir, Docs: r.opts.Config.Document, Secrets: red, Fetch: r.fetch.fetch})

	conn, err := r.conn(hctx, h)
	if err != nil {
		r.failHost(ctx, a.Name, hr, err)
		return
	}
	r.noteHost(h, hr)
	// The steps that end reach the journal while the host runs
	// (progress.go); its record below replaces them.
	var prog *progress
	if j := r.opts.Journal; j != nil {
		runID, started := hr.RunID, hr.StartedAt
		prog = newProgress(func(steps []journal.StepResult) error {
			return j.RecordProgress(journal.HostResult{RunID: runID, Host: h.Name, StartedAt: started, Steps: steps})
		})
		defer prog.stop()
	}
	var story []string
	guard := guardKey(a.Name, h.Name)
	run := &hostRun{conn: conn, scripts: &r.scripts, steps: steps, check: mode == journal.ModeCheck, red: red, guard: guard}
	prog.track(run)
	err = run.handlers(hctx, run.run(hctx))
	for reboots := 1; err == nil && run.reboot && mode != journal.ModeCheck; reboots++ {
		prog.stepEnded(true) // what ran before the reboot is recorded while the host reboots
		if reboots > MaxReboots {
			err = fmt.Errorf("%s, after %d reboots already: giving up", run.rebootBy, MaxReboots)
			break
		}
		story = append(story, fmt.Sprintf("reboot %d: %s; %s", reboots, run.rebootBy, statusCounts(run.results)))
		timeout := r.opts.RebootTimeout
		if run.rebootTimeout > 0 {
			timeout = run.rebootTimeout
		}
		start := time.Now()
		if conn, err = r.reboot(hctx, h, conn, timeout); err != nil {
			break
		}
		from := run.resumeAt()
		again := "document run again"
		if from > 0 {
			again = fmt.Sprintf("document resumed at step %q", run.steps[from].Name)
		}
		story[len(story)-1] += fmt.Sprintf("; back after %s, %s", time.Since(start).Round(time.Second), again)
		run = &hostRun{conn: conn, steps: plan.Plan(a.Doc, scope, plan.Options{Dir: r.opts.Config.Dir, Docs: r.opts.Config.Document, Secrets: red, Fetch: r.fetch.fetch}), red: red,
			from: from, prior: run.results, guard: guard, handlerState: handlerState{pending: run.pending}}
		prog.track(run)
		err = run.handlers(hctx, run.run(hctx))
	}
	if len(story) > 0 {
		hr.Detail = strings.TrimPrefix(hr.Detail+"; "+strings.Join(story, "; "), "; ")
	}
	hr.Steps = run.results
	status := settleSteps(hr.Steps, err)
	if err != nil {
		status = hostFailed(ctx, hctx, a, hr, red, err)
	}
	prog.stop()
	r.finishHost(ctx, a.Name, hr, status, "")
}

// hostSecrets is a redactor of the association's secret parameters and
// of the host's become password, for what the run records of host h.
func (r *Runner) hostSecrets(a *config.Association, h *inventory.Host) *plan.Redactor {
	red := &plan.Redactor{}
	red.Add(r.opts.Config.Secrets...) // {{ssm-secure:NAME}} values
	for _, p := range a.Doc.Params {
		if v, ok := a.Params[p.Name]; ok && p.Secret {
			red.Add(v.Items()...)
		}
	}
	if h.BecomePassEnv != "" {
		if v, ok := r.opts.Env(h.BecomePassEnv); ok {
			red.Add(v)
		}
	}
	return red
}

// settleSteps gives the steps a host's run did not reach (no status) a
// status: skipped, or cancelled when the run ended with err. It returns
// the host's status from its steps: failed when one failed, else timed
// out when one timed out, else success.
func settleSteps(steps []journal.StepResult, err error) journal.Status {
	status := journal.StatusSuccess
	for i := range steps {
		s := &steps[i]
		if s.Status == "" {
			s.Status, s.SkipReason = journal.StatusSkipped, journal.SkipStopped
			if err != nil {
				s.Status, s.SkipReason = journal.StatusCancelled, ""
			}
		}
		switch s.Status {
		case journal.StatusFailed:
			status = journal.StatusFailed
		case journal.StatusTimedOut:
			if status == journal.StatusSuccess {
				status = journal.StatusTimedOut
			}
		default: // the other values need nothing here
		}
	}
	return status
}

// hostFailed records in hr the error err that ended a host's run and
// returns the host's status: cancelled (ctx ended), timed out (hctx, the
// association's timeout, ended: so did its cancelled steps), unreachable
// (the connection was lost) or failed.
func hostFailed(ctx, hctx context.Context, a *config.Association, hr *journal.HostResult, red *plan.Redactor, err error) journal.Status {
	var status journal.Status
	hr.Error = red.Redact(err.Error())
	switch {
	case ctx.Err() != nil:
		status = journal.StatusCancelled
		hr.Error = "cancelled: " + cancelCause(ctx)
	case hctx.Err() != nil:
		status = journal.StatusTimedOut
		hr.Error = fmt.Sprintf("timed out after %s (association timeout)", a.Timeout)
	case errors.Is(err, transport.ErrConnLost):
		status = journal.StatusUnreachable
	default:
		status = journal.StatusFailed
	}
	for i := range hr.Steps {
		s := &hr.Steps[i]
		switch {
		case status != journal.StatusTimedOut:
		case s.Status == journal.StatusCancelled:
			s.Status, s.Error = journal.StatusTimedOut, fmt.Sprintf("the association's timeout (%s) expired while it ran", a.Timeout)
		case s.Status == journal.StatusSkipped && s.SkipReason == journal.SkipCancelled:
			s.Error = fmt.Sprintf("not started: the association's timeout (%s) expired", a.Timeout)
		}
	}
	return status
}

// statusCounts summarises step statuses: "2 Compliant, 1 Corrected".
func statusCounts(steps []journal.StepResult) string {
	n := map[journal.Status]int{}
	var order []journal.Status
	for _, s := range steps {
		if n[s.Status] == 0 {
			order = append(order, s.Status)
		}
		n[s.Status]++
	}
	parts := make([]string, len(order))
	for i, st := range order {
		parts[i] = fmt.Sprintf("%d %s", n[st], st)
	}
	return strings.Join(parts, ", ")
}
