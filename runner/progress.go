package runner

import (
	"context"
	"errors"
	"io"
	"maps"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner/frame"
	"github.com/driftless-dev/driftless/runner/plan"
)

// The journal tells what happened (docs/safety.md#the-journal-tells-what-happened):
// the steps a host has ended reach the journal while the host still runs,
// so that a kill -9 loses at most the last 100 ms (progressDelay, then
// the journal's group commit), and a cancelled run keeps the real status
// of every step that ended.

// progressDelay is how long after a step ended the steps ended so far
// are recorded, if the host still runs. A host whose steps end faster
// (a converged host) costs no write: its RecordHost comes first.
const progressDelay = 40 * time.Millisecond

// Phases of a host's run, for what has ended so far.
const (
	phaseNone = iota
	phaseCheck
	phaseApply
)

// liveState is what the scripts of a host's current phase have reported
// so far. It is guarded by hostRun.mu.
type liveState struct {
	phase   int
	started time.Time
	todo    []plan.ApplyStep // phaseApply: the steps of the apply script
	done    []frame.Frame    // frames of the phase's scripts that ended
	fw, ew  *frame.Writer    // the running script's, nil between scripts
}

// frames is everything the phase's scripts have sent so far, and whether
// the last of them is over.
func (l *liveState) frames() ([]frame.Frame, bool) {
	if l.fw == nil {
		return slices.Clone(l.done), true
	}
	cur := frame.Merge(slices.Clone(l.fw.Frames), slices.Clone(l.ew.Frames))
	end := slices.ContainsFunc(cur, func(f frame.Frame) bool { return f.Step == -1 && f.Kind == frame.End })
	return append(slices.Clone(l.done), cur...), end
}

// lockedWriter writes to w under mu: the frames a script has sent are
// read, while it runs, by the progress record.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// openStep is the first step of a phase whose frames so far do not show
// it ended (math.MaxInt: all did, complete says the script is over; 0
// while no step has reported): the
// step of the last frame (a step's end is known when a later step
// reports, or its "after" frame, which comes last), or the first of a
// trailing batch of stat frames (the check script stats its paths at
// once before any step runs); and any step that wrote a path and has not
// yet reported what is there after.
func openStep(frames []frame.Frame, complete bool) int {
	open := math.MaxInt
	if !complete {
		open = 0 // no step has reported yet
		for i := len(frames) - 1; i >= 0; i-- {
			f := frames[i]
			if f.Step < 0 {
				continue
			}
			switch f.Kind {
			case frame.After:
				open = f.Step + 1
			case frame.Stat:
				open = f.Step
				for k := i - 1; k >= 0 && frames[k].Step >= 0 && frames[k].Kind == frame.Stat; k-- {
					open = min(open, frames[k].Step)
				}
			default:
				open = f.Step
			}
			break
		}
	}
	wrote := map[int]bool{}
	for _, f := range frames {
		switch f.Kind {
		case frame.Applied:
			wrote[f.Step] = true
		case frame.After:
			delete(wrote, f.Step)
		default: // the other kinds end nothing
		}
	}
	for s := range wrote {
		open = min(open, s)
	}
	return open
}

// checkEnded sets the results of the steps that frames, the check phase's
// so far, show ended (complete: the script is over), and returns the
// first step not known to have ended.
func (h *hostRun) checkEnded(frames []frame.Frame, complete bool, started time.Time) int {
	limit := openStep(frames, complete)
	per := frame.ByStep(frames)
	if f := per[-1]; len(f) > 0 && len(f[0].Fields) > 0 {
		h.os = f[0].Fields[0]
	}
	took := frame.Durations(frames, started)
	for _, s := range h.steps {
		if s.Idx < limit {
			h.results[s.Idx].Duration = took[s.Idx]
		}
	}
	h.decide(per, started, limit)
	return limit
}

// applyEnded sets the results of the steps of todo that frames, the apply
// phase's so far, show ended, and returns the first step not known to
// have ended.
func (h *hostRun) applyEnded(todo []plan.ApplyStep, frames []frame.Frame, complete bool, started time.Time) int {
	limit := openStep(frames, complete)
	per := frame.ByStep(frames)
	took := frame.Durations(frames, started)
	for _, a := range todo {
		if a.Step.Idx >= limit {
			break
		}
		h.applied(a, per[a.Step.Idx], started)
		h.result(a.Step).Duration += took[a.Step.Idx]
	}
	return limit
}

// cancelled sets the results of a phase whose script ctx ended (the run
// was cancelled, or the association's timeout expired): the steps that
// ended keep what they did, the step running (every step from the first
// not known to have ended that has reported something, else that first
// step) is Cancelled, and the steps not started are Skipped, "cancelled".
// items are the steps of the phase, in order.
func (h *hostRun) cancelled(ctx context.Context, items []*plan.Step, frames []frame.Frame, limit int) {
	per := frame.ByStep(frames)
	first := true
	for _, s := range items {
		r := h.result(s)
		if r.Status != "" {
			continue
		}
		if s.Idx >= limit && (first || len(per[s.Idx]) > 0) {
			r.Status, r.Error = journal.StatusCancelled, "cancelled while it ran: "+cancelCause(ctx)
			first = false
			continue
		}
		r.Status, r.SkipReason, r.Error = journal.StatusSkipped, journal.SkipCancelled, "not started: "+cancelCause(ctx)
	}
	// Steps outside the phase's script not reached yet (precluded steps
	// after the one running in the check phase are among items).
	for i := range h.results {
		if r := &h.results[i]; r.Status == "" {
			r.Status, r.SkipReason, r.Error = journal.StatusSkipped, journal.SkipCancelled, "not started: "+cancelCause(ctx)
		}
	}
}

// cancelCause says why a host's run was cancelled, for its steps.
func cancelCause(ctx context.Context) string {
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, journal.ErrWriteFailed):
		return "the journal cannot be written"
	case errors.Is(cause, context.DeadlineExceeded):
		return "the association's timeout expired"
	}
	return "the run was interrupted"
}

// ended returns a copy of the results of the steps that have ended so
// far (in step order), for the progress record.
func (h *hostRun) ended() []journal.StepResult {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := &h.live
	if h.results == nil || l.phase == phaseNone {
		return nil
	}
	frames, complete := l.frames()
	c := &hostRun{conn: h.conn, steps: h.steps, check: h.check, red: h.red, os: h.os, written: maps.Clone(h.written)}
	switch l.phase {
	case phaseCheck:
		c.results = fresh(h.steps)
		c.written = map[string]*[]byte{}
		c.checkEnded(frames, complete, l.started)
	case phaseApply:
		c.results = slices.Clone(h.results)
		c.applyEnded(l.todo, frames, complete, l.started)
	}
	out := make([]journal.StepResult, 0, len(c.results))
	for _, r := range c.results {
		if r.Status != "" {
			out = append(out, r)
		}
	}
	return out
}

// fresh is the results of steps before anything is known of them.
func fresh(steps []*plan.Step) []journal.StepResult {
	rs := make([]journal.StepResult, len(steps))
	for _, s := range steps {
		rs[s.Idx] = journal.StepResult{Index: s.Idx, Name: s.Name, Action: string(s.Kind)}
	}
	return rs
}

// progress records the steps of one running host that have ended, some
// time after each ends (progressDelay), until the host ends (stop).
// Locks: writeMu before hostRun.mu before armMu.
type progress struct {
	armMu   sync.Mutex
	timer   *time.Timer
	changes bool // the timer is armed for a step that may have changed the host

	writeMu sync.Mutex
	done    bool
	run     *hostRun
	last    []journal.StepResult // the steps last written
	write   func([]journal.StepResult) error
}

func newProgress(write func([]journal.StepResult) error) *progress {
	return &progress{write: write}
}

// track makes run the host's run whose steps are recorded (a reboot
// starts a new one).
func (p *progress) track(run *hostRun) {
	if p == nil {
		return
	}
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	p.run = run
	run.prog = p
}

// stepEnded arms the timer, unless it is armed: a record follows within
// progressDelay. changed says the step may have changed the host (it ran
// a command or wrote a path).
func (p *progress) stepEnded(changed bool) {
	if p == nil {
		return
	}
	p.armMu.Lock()
	defer p.armMu.Unlock()
	p.changes = p.changes || changed
	if p.timer == nil {
		p.timer = time.AfterFunc(progressDelay, p.fire)
	}
}

// idle is called when a script has sent its last frame: the host ends
// soon (or goes on and arms the timer again). Unless a step that may have
// changed the host waits for its record, the timer is disarmed, so that a
// host that only checked (a converged check) writes nothing but its
// result, however long driftless takes to end it.
func (p *progress) idle() {
	if p == nil {
		return
	}
	p.armMu.Lock()
	defer p.armMu.Unlock()
	if p.timer != nil && !p.changes {
		p.timer.Stop()
		p.timer = nil
	}
}

// quiet disarms the timer.
func (p *progress) quiet() {
	if p == nil {
		return
	}
	p.armMu.Lock()
	defer p.armMu.Unlock()
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
}

func (p *progress) fire() {
	p.armMu.Lock()
	p.timer, p.changes = nil, false
	p.armMu.Unlock()
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	if p.done || p.run == nil {
		return
	}
	steps := p.run.ended()
	if len(steps) == 0 || sameSteps(steps, p.last) {
		return
	}
	if err := p.write(steps); err != nil {
		p.stepEnded(true) // the queue is full: later
		return
	}
	p.last = steps
}

// stop ends the recording: the host's RecordHost follows, and replaces
// what was recorded.
func (p *progress) stop() {
	if p == nil {
		return
	}
	p.writeMu.Lock()
	p.done = true
	p.writeMu.Unlock()
	p.quiet()
}

// sameSteps reports whether a and b record the same steps with the same
// statuses.
func sameSteps(a, b []journal.StepResult) bool {
	return slices.EqualFunc(a, b, func(x, y journal.StepResult) bool { return x.Index == y.Index && x.Status == y.Status })
}
