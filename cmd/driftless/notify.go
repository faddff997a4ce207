package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/notify"
	"github.com/driftless-dev/driftless/runner"
)

// startNotify begins the webhook deliveries of a command that runs
// associations (apply, check, tick, a daemon's tick; docs/notify.md):
// what earlier runs could not deliver goes while this one runs. The
// caller sends its results with notifyRuns once they are recorded, and
// closes the session last: that waits at most notify.toml's max_wait and
// never changes the exit code.
func startNotify(c *cli.Context, u *ui, cfg *config.Config, j *journal.Journal) *notify.Session {
	return notify.Start(c.Context, notify.Options{
		Notify:    cfg.Notify,
		Journal:   j,
		Gist:      func(differ string) string { return strings.Join(differParts(safeText(differ)), "; ") },
		Warnf:     func(format string, args ...any) { fmt.Fprintf(u.err, format+"\n", args...) },
		Notef:     u.notef,
		UserAgent: "driftless/" + buildVersion().Version,
	})
}

// notifyRuns queues the notifications of finished runs.
func notifyRuns(s *notify.Session, results []*runner.RunResult) {
	runs := make([]notify.Run, len(results))
	for i, r := range results {
		runs[i] = notify.Run{Run: r.Run, Hosts: r.Hosts}
	}
	s.Send(runs)
}
