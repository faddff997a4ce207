package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/internal/diag"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner"
)

// parseNow returns --now, or the current time. tick refuses a time more
// than a minute ahead of the clock unless --force: it would record runs
// dated in the future, and the real schedule counts from their start.
func parseNow(c *cli.Context) (time.Time, error) {
	s := c.String("now")
	if s == "" {
		return time.Now().UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usageError("--now: expected an RFC 3339 time such as 2026-12-01T10:00:00Z, got %q", s)
	}
	clock := time.Now().UTC()
	if ahead := t.Sub(clock); c.Command.Name == "tick" && ahead > maxAhead && !c.Bool("force") {
		return time.Time{}, usageError("--now %s is %s ahead of this machine's clock (%s): tick would record runs dated in the future, and schedules count from the start of the last run, so the real ones would wait until then; nothing was run\n\thint: check the date (and the clock); to tick at that time anyway, add --force",
			s, aheadText(ahead), clock.Truncate(time.Second).Format(time.RFC3339))
	}
	return t.UTC(), nil
}

// maxAhead is how far ahead of the clock tick --now may be without --force:
// a tick started by cron a moment before the minute, on a clock that is a
// little behind, is not refused.
const maxAhead = time.Minute

// aheadText says how far ahead a time is: "3m20s", "5h0m0s", "26 days".
func aheadText(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	}
	return d.Round(time.Second).String()
}

// tick runs what is due, but not what needs an environment variable that
// is not set: that is said, file:line first, and makes tick exit 3 (its
// hosts were not run, SPEC §4.1; 1 would say nothing ran); the rest runs
// (docs/config-dir.md#secrets).
func tick(c *cli.Context, u *ui, now time.Time, cfg *config.Config, j *journal.Journal) error {
	p, err := processOf(c, cfg.Inventory)
	if err != nil {
		return err
	}
	cfg, blocked := runnable(p.only(cfg))
	sayBlocked(u, blocked)
	err = tickDue(c, u, now, cfg, j, p)
	if err == nil && len(blocked) > 0 {
		return exitWith(exitFailed, fmt.Errorf("what needs the environment variables named above was not run (they are not set); the rest was"))
	}
	return err
}

// sayHeld prints the hosts a tick left alone because another driftless
// holds them.
func sayHeld(u *ui, res *runner.TickResult) {
	if res == nil {
		return
	}
	for _, h := range res.Held {
		u.notef("%s %s: skipped, another driftless holds it (%s)", h.Association, h.Host, h.Holder)
	}
}

// sayBlocked prints what tick and daemon do not run, and why.
func sayBlocked(u *ui, blocked []*diag.Error) {
	for _, e := range blocked {
		fmt.Fprintln(u.err, "not run: "+e.Error())
	}
}

func tickDue(c *cli.Context, u *ui, now time.Time, cfg *config.Config, j *journal.Journal, p *process) error {
	d := newDialer()
	prog := newProgress(u)
	started := time.Now()
	notes := startNotify(c, u, cfg, j)
	defer notes.Close()
	r := runner.New(p.options(runner.Options{Config: cfg, Dial: d.dial, Journal: j, Events: prog, HostDetail: d.note,
		Now: func() time.Time { return now.Add(time.Since(started)) }}))
	defer r.Close()
	res, err := r.Tick(c.Context, now)
	prog.done()
	if res != nil {
		notifyRuns(notes, res.Runs)
	}
	sayHeld(u, res)
	if err != nil {
		return exitWith(exitFailed, err)
	}
	if len(res.Runs) == 0 {
		if u.json {
			return u.printJSON(toRunJSON(nil))
		}
		u.notef("nothing due at %s", now.Format(time.RFC3339))
		return nil
	}
	err = finishRuns(c, u, res.Runs)
	var ee *exitError
	if errors.As(err, &ee) && ee.code == exitDrift {
		return nil // tick reports drift in the journal; only failures fail it
	}
	return err
}

// daemon ticks every minute until stopped. Its first tick runs the config
// it started with (first), each later one loads the config dir again; now,
// the time it started, goes unused.
func daemon(c *cli.Context, u *ui, _ time.Time, first *config.Config, j *journal.Journal) error {
	p, err := processOf(c, first.Inventory) // one capacity for every tick
	if err != nil {
		return err
	}
	stopRetention, err := startRetention(c, u, j) // --retention (journalcmd.go)
	if err != nil {
		return err
	}
	defer stopRetention()
	// The signal stops new ticks at once; work in flight gets --grace.
	work, cancelWork := context.WithCancel(context.WithoutCancel(c.Context))
	defer cancelWork()
	stop := c.Context
	go func() {
		<-stop.Done()
		select {
		case <-time.After(c.Duration("grace")):
			cancelWork()
		case <-work.Done():
		}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	defer signal.Stop(sig)
	m, err := startMetrics(c, u, j)
	if err != nil {
		return err
	}
	defer m.stop()
	u.notef("driftless daemon: ticking at the start of every minute (config %s, journal %s, %s)", c.String("dir"), j.Path(), p.about())
	for {
		if stop.Err() != nil {
			u.notef("driftless daemon: stopped")
			return nil
		}
		cfg, list := first, ""
		if first = nil; cfg == nil {
			cfg, list = loadConfigQuiet(c)
		}
		if cfg == nil {
			u.notef("driftless daemon: config invalid, nothing run this minute:\n%s", list)
		} else {
			cfg, blocked := runnable(p.only(cfg))
			sayBlocked(u, blocked)
			d := newDialer()
			notes := startNotify(c, u, cfg, j)
			recoverGone(work, u, j)
			r := runner.New(p.options(runner.Options{Config: cfg, Dial: d.dial, Journal: j, Events: newProgress(u), HostDetail: d.note}))
			res, err := r.Tick(work, time.Now().UTC())
			r.Close()
			m.observeTick(cfg, res, err)
			if res != nil {
				notifyRuns(notes, res.Runs)
			}
			notes.Close()
			if err != nil {
				u.notef("driftless daemon: %v", err)
			}
			sayHeld(u, res)
			if work.Err() != nil {
				return exitWith(exitInterrupted, fmt.Errorf("stopped: running work was cancelled after the grace period"))
			}
		}
		waitForMinute(stop) // a stop is said at the top of the loop
	}
}

// waitForMinute waits for the start of the next minute of the clock, the
// daemon's tick, or for stop. A timer follows the monotonic clock, so when
// the wall clock was set back meanwhile it waits again: a tick never comes
// before its minute (a rate(1 minute) run at 22:06:59.9 would count for
// 22:06, and 22:07 would not be due).
func waitForMinute(stop context.Context) {
	next := time.Now().Truncate(time.Minute).Add(time.Minute)
	for {
		wait := time.Until(next)
		if wait <= 0 {
			return
		}
		select {
		case <-stop.Done():
			return
		case <-time.After(wait):
		}
	}
}

// loadConfigQuiet loads the config dir without printing; the error text
// lists the problems.
func loadConfigQuiet(c *cli.Context) (*config.Config, string) {
	cfg, list := config.Load(configOptions(c))
	if list.Len() > 0 {
		var b strings.Builder
		for _, e := range list.Errors() {
			b.WriteString(e.Error() + "\n")
		}
		return nil, b.String()
	}
	return cfg, ""
}

// leaseTTLFlag is tick's and daemon's --lease-ttl.
func leaseTTLFlag() cli.Flag {
	return &cli.DurationFlag{Name: "lease-ttl", Value: runner.DefaultLeaseTTL,
		Usage: "how long a host's lease lives unrenewed, a duration `D` of 3s or more: when a node dies, others take its hosts over after it (docs/journal.md#several-nodes)"}
}

// leaseTTL is --lease-ttl, at least 3 s (leases are renewed every third of
// it).
func leaseTTL(c *cli.Context) (time.Duration, error) {
	ttl := c.Duration("lease-ttl")
	if ttl < 3*time.Second {
		return 0, usageError("--lease-ttl: expected 3s or more, got %s", ttl)
	}
	return ttl, nil
}

// recoverGone marks Interrupted the runs of processes that are gone, at
// each daemon tick: on a shared journal, those of a node that died.
func recoverGone(ctx context.Context, u *ui, j *journal.Journal) {
	ids, err := j.RecoverInterrupted(ctx)
	if err != nil {
		u.notef("driftless daemon: %v", err)
		return
	}
	for _, id := range ids {
		u.notef("driftless daemon: marked run %d Interrupted: the process recording it is gone", id)
	}
}
