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
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner"
)

// parseNow returns --now, or the current time.
func parseNow(c *cli.Context) (time.Time, error) {
	s := c.String("now")
	if s == "" {
		return time.Now().UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usageError("--now: expected an RFC 3339 time such as 2026-12-01T10:00:00Z, got %q", s)
	}
	return t.UTC(), nil
}

func tick(c *cli.Context, u *ui, now time.Time, cfg *config.Config, j *journal.Journal) error {
	d := newDialer()
	prog := newProgress(u)
	started := time.Now()
	notes := startNotify(c, u, cfg, j)
	defer notes.Close()
	r := runner.New(runner.Options{Config: cfg, Dial: d.dial, Journal: j, Events: prog, HostDetail: d.note,
		Now: func() time.Time { return now.Add(time.Since(started)) }})
	defer r.Close()
	res, err := r.Tick(c.Context, now)
	prog.done()
	if res != nil {
		notifyRuns(notes, res.Runs)
	}
	if res != nil {
		for _, h := range res.Held {
			u.notef("%s %s: skipped, another driftless holds it (%s)", h.Association, h.Host, h.Holder)
		}
	}
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

// daemon ticks every minute until stopped. It loads the config dir again
// at each tick; now, the time it started, and cfg, the config then, go
// unused.
func daemon(c *cli.Context, u *ui, _ time.Time, _ *config.Config, j *journal.Journal) error {
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
	u.notef("driftless daemon: ticking every minute (config %s, journal %s)", c.String("dir"), j.Path())
	for {
		if stop.Err() != nil {
			u.notef("driftless daemon: stopped")
			return nil
		}
		cfg, list := loadConfigQuiet(c)
		if cfg == nil {
			u.notef("driftless daemon: config invalid, nothing run this minute:\n%s", list)
		} else {
			d := newDialer()
			notes := startNotify(c, u, cfg, j)
			r := runner.New(runner.Options{Config: cfg, Dial: d.dial, Journal: j, Events: newProgress(u), HostDetail: d.note})
			res, err := r.Tick(work, time.Now().UTC())
			r.Close()
			if res != nil {
				notifyRuns(notes, res.Runs)
			}
			notes.Close()
			if err != nil {
				u.notef("driftless daemon: %v", err)
			}
			if res != nil {
				for _, h := range res.Held {
					u.notef("%s %s: skipped, another driftless holds it (%s)", h.Association, h.Host, h.Holder)
				}
			}
			if work.Err() != nil {
				return exitWith(exitInterrupted, fmt.Errorf("stopped: running work was cancelled after the grace period"))
			}
		}
		next := time.Now().Truncate(time.Minute).Add(time.Minute)
		select {
		case <-stop.Done():
		case <-time.After(time.Until(next)):
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
