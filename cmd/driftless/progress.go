package main

import (
	"fmt"
	"strings"
	"sync"

	"github.com/driftless-dev/driftless/journal"
)

// progress reports hosts as they end: on a terminal one live line
// (hosts done/total, failures) redrawn in place on stderr; elsewhere one
// plain line per host result, no escape codes, for cron mail and CI logs.
type progress struct {
	u      *ui
	mu     sync.Mutex
	assoc  string
	total  int
	done_  int
	failed int
	live   bool
}

func newProgress(u *ui) *progress {
	return &progress{u: u, live: u.errTTY && !u.json && !u.quiet}
}

func (p *progress) RunStarted(assoc string, hosts int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.assoc, p.total, p.done_, p.failed = assoc, hosts, 0, 0
	p.draw()
}

func (p *progress) HostStarted(assoc, host string) {}

func (p *progress) HostDone(assoc string, r *journal.HostResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done_++
	if r.Status.Failed() {
		p.failed++
	}
	if p.live {
		p.draw()
		return
	}
	if p.u.quiet && r.Status == journal.StatusSuccess {
		return
	}
	line := fmt.Sprintf("%s %s %s", assoc, r.Host, r.Status)
	if c := stepCounts(r.Steps); c != "" {
		line += " (" + c + ")"
	}
	width := 0
	if p.u.tty && !p.u.json {
		width = noteWidth
	}
	if n := hostNote(*r, width); n != "" {
		line += ": " + n
	}
	if p.u.json {
		fmt.Fprintln(p.u.err, line)
	} else {
		fmt.Fprintln(p.u.out, line)
	}
}

func (p *progress) draw() {
	if !p.live {
		return
	}
	bar := ""
	if p.total > 0 {
		width := 20
		filled := p.done_ * width / p.total
		bar = "[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "] "
	}
	fail := ""
	if p.failed > 0 {
		fail = fmt.Sprintf(", %d failed", p.failed)
	}
	fmt.Fprintf(p.u.err, "\r\x1b[2K%s%s: %d/%d hosts done%s", bar, p.assoc, p.done_, p.total, fail)
}

// done ends the live line.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live {
		fmt.Fprint(p.u.err, "\r\x1b[2K")
	}
}
