package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// section is one table of the report.
type section struct {
	title  string
	notes  []string
	header []string
	rows   [][]string
}

func (s *section) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", s.title)
	b.WriteString("| " + strings.Join(s.header, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat("---|", len(s.header)) + "\n")
	for _, r := range s.rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	b.WriteString("\n")
	for _, n := range s.notes {
		b.WriteString(n + "\n")
	}
	return b.String()
}

// ratioHeader is the header of tables comparing with the floor.
var ratioHeader = []string{"measurement", "hosts", "min", "median", "× floor (min)", "× floor (median)", "peak RSS", "sessions/host", "target", "met"}

// ratioRow is a row of a ratioHeader table; floor nil leaves the ratios
// out.
func ratioRow(m, floor *measurement, target, met string) []string {
	rmin, rmed := "—", "—"
	if floor != nil {
		rmin = fmt.Sprintf("%.2f", float64(minimum(m))/float64(minimum(floor)))
		rmed = fmt.Sprintf("%.2f", float64(median(m))/float64(median(floor)))
	}
	return []string{m.name, fmt.Sprint(m.hosts), fmtDur(minimum(m)), fmtDur(median(m)), rmin, rmed, fmtRSS(peak(m)), fmtSessions(m), target, met}
}

// scaleHeader is ratioHeader with the measured client's own CPU time
// (user + system, from its rusage) and its ratio to the floor client's,
// with their target: what a bastion pays when the hosts are remote
// machines, which wall time on one machine that also runs the hosts
// does not tell.
var scaleHeader = []string{"measurement", "hosts", "min", "median", "× floor (min)", "× floor (median)",
	"client CPU (median)", "× floor's CPU", "peak RSS", "sessions/host", "target", "met", "CPU target", "CPU met"}

// scaleRow is a row of a scaleHeader table. cpuRatio > 0 is the CPU
// target (at most that many times the floor's CPU time); floor nil leaves
// the ratios out.
func scaleRow(m, floor *measurement, target, met string, cpuRatio float64) []string {
	r := ratioRow(m, floor, target, met)
	cpu, rcpu := fmtDur(medianCPU(m)), "—"
	if floor != nil {
		rcpu = fmt.Sprintf("%.2f", cpuTimes(m, floor))
	}
	cpuTarget, cpuMet := "", ""
	if cpuRatio > 0 && floor != nil {
		cpuTarget = fmt.Sprintf("≤ %.1f× floor's CPU", cpuRatio)
		cpuMet = verdict(math.Round(cpuTimes(m, floor)*100)/100 <= cpuRatio)
	}
	row := append([]string{}, r[:6]...)
	row = append(row, cpu, rcpu)
	row = append(row, r[6:]...)
	return append(row, cpuTarget, cpuMet)
}

// cpuTimes is m's median CPU time over floor's.
func cpuTimes(m, floor *measurement) float64 {
	return float64(medianCPU(m)) / float64(max(medianCPU(floor), 1))
}

// medianCPU is the median of the runs' CPU time (user + system) of the
// measured child process.
func medianCPU(m *measurement) time.Duration {
	c := make([]time.Duration, len(m.samples))
	for i, s := range m.samples {
		c[i] = s.cpu
	}
	return medianOf(c)
}

func verdict(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func walls(m *measurement) []time.Duration {
	w := make([]time.Duration, len(m.samples))
	for i, s := range m.samples {
		w[i] = s.wall
	}
	slices.Sort(w)
	return w
}

func minimum(m *measurement) time.Duration {
	if w := walls(m); len(w) > 0 {
		return w[0]
	}
	return 0
}

// median is the middle run (the mean of the two middle ones for an even
// count).
func median(m *measurement) time.Duration { return medianOf(walls(m)) }

// medianOf is the middle of durations (the mean of the two middle ones
// for an even count).
func medianOf(d []time.Duration) time.Duration {
	w := slices.Clone(d)
	slices.Sort(w)
	switch {
	case len(w) == 0:
		return 0
	case len(w)%2 == 1:
		return w[len(w)/2]
	}
	return (w[len(w)/2-1] + w[len(w)/2]) / 2
}

// peak is the largest peak RSS of the runs.
func peak(m *measurement) int64 {
	var p int64
	for _, s := range m.samples {
		p = max(p, s.rss)
	}
	return p
}

func fmtDur(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.3f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func fmtRSS(b int64) string {
	if b <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f MB", float64(b)/(1<<20))
}

func fmtSessions(m *measurement) string {
	if len(m.sessions) == 0 {
		return "—"
	}
	s := slices.Clone(m.sessions)
	slices.Sort(s)
	return fmt.Sprintf("%.1f", s[len(s)/2])
}

// machine describes where the bench ran.
type machine struct {
	cpus       int
	cpuModel   string
	kernel     string
	openssh    string
	goVersion  string
	ansible    string
	revision   string // of the driftless measured, when built here
	loadBefore string
	loadAfter  string
	date       time.Time
}

func describeMachine(ctx context.Context) machine {
	m := machine{cpus: runtime.NumCPU(), goVersion: runtime.Version(), date: time.Now().UTC(), loadBefore: loadAverage()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpuModel = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if out, err := exec.CommandContext(ctx, "uname", "-sr").Output(); err == nil {
		m.kernel = strings.TrimSpace(string(out))
	}
	// ssh -V prints the version of the client, which Debian ships with
	// the same OpenSSH as sshd, on stderr.
	if out, err := exec.CommandContext(ctx, "ssh", "-V").CombinedOutput(); err == nil {
		m.openssh = strings.TrimSpace(string(out))
	}
	return m
}

// revision describes the git revision of the module at root: the commit,
// and whether the work tree had changes.
func revision(ctx context.Context, root string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "log", "-1", "--format=%h %s").Output()
	if err != nil {
		return ""
	}
	rev := "built from commit " + strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		rev += ", with uncommitted changes"
	}
	return rev
}

// loadAverage is /proc/loadavg's first three fields.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// report is everything measured in one run.
type report struct {
	machine  machine
	command  string
	sections []*section
}

// add records a section and prints it.
func (r *report) add(s *section, w io.Writer) {
	r.sections = append(r.sections, s)
	fmt.Fprintf(w, "\n%s\n", s.markdown())
}

func (r *report) markdown() string {
	m := r.machine
	var b strings.Builder
	b.WriteString("# Fleet benchmark results\n\n")
	b.WriteString("Written by `go run ./bench` (see bench/README.md); every number below comes from one run.\n\n")
	fmt.Fprintf(&b, "- Date: %s\n", m.date.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- Machine: %d CPUs (nproc), %s; %s\n", m.cpus, orUnknown(m.cpuModel), orUnknown(m.kernel))
	fmt.Fprintf(&b, "- OpenSSH: %s; Go: %s", orUnknown(m.openssh), m.goVersion)
	if m.ansible != "" {
		fmt.Fprintf(&b, "; Ansible: %s", m.ansible)
	}
	b.WriteString("\n")
	if m.revision != "" {
		fmt.Fprintf(&b, "- driftless: %s\n", m.revision)
	}
	fmt.Fprintf(&b, "- Load average before / after: %s / %s (the machine may be shared: compare rows of one run, not runs of different days)\n", m.loadBefore, m.loadAfter)
	fmt.Fprintf(&b, "- Reproduce: `%s`\n\n", r.command)
	for _, s := range r.sections {
		b.WriteString(s.markdown())
		b.WriteString("\n")
	}
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
