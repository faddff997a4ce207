package main

import (
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/internal/diag"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner"
	"github.com/driftless-dev/driftless/schedule"
)

type scheduleJSON struct {
	Association string         `json:"association"`
	Schedule    string         `json:"schedule,omitempty"`
	Timezone    string         `json:"timezone,omitempty"`
	CronOnly    bool           `json:"apply_only_at_cron_interval,omitempty"`
	LastRun     *int64         `json:"last_run,omitempty"`
	LastStart   *time.Time     `json:"last_start,omitempty"`
	LastResult  journal.Status `json:"last_result,omitempty"`
	DueNow      []string       `json:"due_now"`
	Next        *time.Time     `json:"next,omitempty"`
	// NotRun says why tick will not run it (or some of its hosts): an
	// environment variable it needs is not set.
	NotRun []string `json:"not_run,omitempty"`
}

func showSchedule(c *cli.Context, u *ui, now time.Time, cfg *config.Config, j *journal.Journal) error {
	plan, err := runner.Plan(c.Context, cfg, j, now)
	if err != nil {
		return exitWith(exitFailed, err)
	}
	var out []scheduleJSON
	var rows [][]string
	var notes []string
	for _, d := range plan {
		sj := scheduleJSON{Association: d.Assoc.Name, Schedule: d.Assoc.Schedule, Timezone: d.Assoc.Timezone, CronOnly: d.Assoc.ApplyOnlyAtCron, LastResult: d.LastState, DueNow: []string{}}
		last, next, lastResult := "never", "-", "-"
		if !d.LastStart.IsZero() {
			t, id := d.LastStart.UTC().Truncate(time.Second), d.LastRun
			sj.LastStart, sj.LastRun = &t, &id
			last = t.Format("2006-01-02 15:04:05Z") + " (#" + itoa64(id) + ")"
			lastResult = string(d.LastState)
		}
		missing := d.Assoc.MissingEnv()
		for _, reason := range []schedule.Reason{schedule.ReasonChange, schedule.ReasonNewTarget, schedule.ReasonSchedule} {
			for _, h := range d.Hosts[reason] {
				if len(missing) == 0 && len(cfg.HostMissingEnv(h)) == 0 {
					sj.DueNow = append(sj.DueNow, h.Name)
				}
			}
		}
		var l diag.List
		cfg.NeedEnv(&l, d.Assoc, d.Assoc.Hosts)
		for _, e := range l.Errors() {
			sj.NotRun = append(sj.NotRun, e.Error())
			notes = append(notes, d.Assoc.Name+": not run by tick: "+e.Error())
		}
		if !d.Next.IsZero() {
			t := d.Next.UTC().Truncate(time.Second)
			sj.Next = &t
			next = t.Format("2006-01-02 15:04:05Z")
		}
		if n := len(sj.DueNow); n > 0 {
			next = "now (" + itoa64(int64(n)) + " " + plural(n, "host") + ")"
		}
		if len(missing) > 0 {
			sj.Next, next = nil, "not run: env unset"
		}
		sched := d.Assoc.Schedule
		if sched == "" {
			sched = "(on change)"
		}
		out = append(out, sj)
		rows = append(rows, []string{d.Assoc.Name, sched, last, u.status(lastResult), next})
	}
	if u.json {
		if out == nil {
			out = []scheduleJSON{}
		}
		return u.printJSON(out)
	}
	u.table([]string{"ASSOCIATION", "SCHEDULE", "LAST RUN", "LAST RESULT", "NEXT"}, rows)
	for _, n := range notes {
		u.notef("%s", n)
	}
	return nil
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
