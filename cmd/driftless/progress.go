package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/driftless-dev/driftless/journal"
)

// progress reports hosts as they end (docs/commands.md#output).
//
// Off a terminal it prints one plain line per host result, and under it
// each step found out of state with what differed, for cron mail and CI
// logs; --quiet leaves out only the hosts with nothing to look at.
//
// On a terminal, stdout gets the same for the hosts that drifted, were
// corrected or failed (the others are counted), and stderr a live region
// redrawn in place: the run, hosts done out of the total, how many
// drifted and failed, and the hosts in flight.
type progress struct {
	u      *ui
	noDiff bool
	live   bool

	mu       sync.Mutex
	assoc    string
	total    int
	done_    int
	failed   int
	drifted  int
	inFlight map[string]time.Time
	drawn    int  // lines of the live region on screen
	ticking  bool // the redraw ticker runs
}

func newProgress(u *ui) *progress {
	return &progress{u: u, noDiff: u.noDiff, live: u.errTTY && !u.json && !u.quiet, inFlight: map[string]time.Time{}}
}

func (p *progress) RunStarted(assoc string, hosts int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.assoc, p.total, p.done_, p.failed, p.drifted = assoc, hosts, 0, 0, 0
	clear(p.inFlight)
	p.draw()
}

func (p *progress) HostStarted(assoc, host string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inFlight[host] = time.Now()
	if p.live && !p.ticking {
		p.ticking = true
		go p.tick()
	}
	p.draw()
}

// tick redraws the live region every second while hosts are in flight,
// so that a slow host's time goes on.
func (p *progress) tick() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for range t.C {
		p.mu.Lock()
		if len(p.inFlight) == 0 {
			p.ticking = false
			p.mu.Unlock()
			return
		}
		p.draw()
		p.mu.Unlock()
	}
}

func (p *progress) HostDone(assoc string, r *journal.HostResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.inFlight, r.Host)
	p.done_++
	// An exec host's "ok" and a "compliant" one are alike here.
	o := hostOutcome(journal.ModeApply, r)
	switch {
	case r.Status.Failed():
		p.failed++
	case o == outDrifted:
		p.drifted++
	}
	terminal := p.u.tty && !p.u.json
	if o.quietable() && (p.u.quiet || terminal && !p.u.verbose) {
		p.draw()
		return
	}
	w, width := p.u.out, 0
	if p.u.json {
		w = p.u.err
	}
	if terminal {
		width = p.u.width
	}
	p.clearLive()
	fmt.Fprintln(w, p.u.cutLine(hostLine(assoc, r, width), width))
	p.u.printSteps(w, r, p.noDiff, width)
	p.draw()
}

// clearLive takes the live region off the screen.
func (p *progress) clearLive() {
	if !p.live || p.drawn == 0 {
		return
	}
	if p.drawn > 1 {
		fmt.Fprintf(p.u.err, "\x1b[%dA", p.drawn-1)
	}
	fmt.Fprint(p.u.err, "\r\x1b[J")
	p.drawn = 0
}

// draw redraws the live region: a bar line and the hosts in flight, each
// line cut to the terminal so that none wraps.
func (p *progress) draw() {
	if !p.live {
		return
	}
	p.clearLive()
	width := max(p.u.errWidth-1, 20)
	lines := []string{p.barLine()}
	if len(p.inFlight) > 0 {
		lines = append(lines, inFlightLines(p.inFlight, width, 3)...)
	}
	for i, l := range lines {
		lines[i] = cutRunes(l, width)
	}
	io.WriteString(p.u.err, strings.Join(lines, "\n"))
	p.drawn = len(lines)
}

func (p *progress) barLine() string {
	bar := ""
	if p.total > 0 {
		const width = 20
		filled := p.done_ * width / p.total
		bar = "[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "] "
	}
	line := fmt.Sprintf("%s%s: %d/%d hosts done", bar, p.assoc, p.done_, p.total)
	if p.drifted > 0 {
		line += fmt.Sprintf(", %d drifted", p.drifted)
	}
	if p.failed > 0 {
		line += fmt.Sprintf(", %d failed", p.failed)
	}
	return line
}

// inFlightLines lists the hosts in flight, longest running first, with
// how long each has run once it is a second or more, on at most maxLines
// lines of width columns: "  running: web-3 12s  web-4 3s  web-5 … +40 more".
func inFlightLines(inFlight map[string]time.Time, width, maxLines int) []string {
	hosts := make([]string, 0, len(inFlight))
	for h := range inFlight {
		hosts = append(hosts, h)
	}
	slices.SortFunc(hosts, func(a, b string) int {
		if c := inFlight[a].Compare(inFlight[b]); c != 0 {
			return c
		}
		return naturalCompare(a, b)
	})
	now := time.Now()
	var lines []string
	line := "  running:"
	for i, h := range hosts {
		item := " " + h
		if d := now.Sub(inFlight[h]); d >= time.Second {
			item += " " + d.Truncate(time.Second).String()
		}
		rest := fmt.Sprintf(" +%d more", len(hosts)-i)
		if len(line)+len(item)+len(rest) > width && line != "  running:" && line != " " {
			if len(lines) == maxLines-1 {
				return append(lines, line+rest)
			}
			lines = append(lines, line)
			line = " "
		}
		line += item
	}
	return append(lines, line)
}

// done ends the live region.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLive()
	clear(p.inFlight)
}
