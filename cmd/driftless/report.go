package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner"
)

// outcome is how a host execution ended, for people: the host status,
// with a Success told apart by what its steps found (docs/commands.md#output).
type outcome string

const (
	outCompliant   outcome = "compliant"   // Success, nothing was out of state
	outOK          outcome = "ok"          // Success of an exec command
	outDrifted     outcome = "drifted"     // Success, a step found out of state and left so
	outCorrected   outcome = "corrected"   // Success, a step out of state was put back
	outFailed      outcome = "failed"      // Failed
	outTimedOut    outcome = "timed out"   // TimedOut
	outUnreachable outcome = "unreachable" // Unreachable
	outSkipped     outcome = "skipped"     // Skipped (max_errors, a lease held)
	outCancelled   outcome = "cancelled"   // Cancelled, Interrupted
)

// outcomeOrder is the order summaries list outcomes in: what needs a
// look first.
var outcomeOrder = []outcome{outFailed, outTimedOut, outUnreachable, outDrifted, outCorrected, outSkipped, outCancelled, outCompliant, outOK}

func hostOutcome(mode journal.Mode, h *journal.HostResult) outcome {
	switch h.Status {
	case journal.StatusSuccess:
	case journal.StatusTimedOut:
		return outTimedOut
	case journal.StatusUnreachable:
		return outUnreachable
	case journal.StatusSkipped:
		return outSkipped
	case journal.StatusCancelled, journal.StatusInterrupted:
		return outCancelled
	default:
		return outFailed
	}
	if mode == journal.ModeExec {
		return outOK
	}
	drifted, corrected := false, false
	for _, s := range h.Steps {
		drifted = drifted || s.Status == journal.StatusDrifted
		corrected = corrected || s.Status == journal.StatusCorrected
	}
	switch {
	case drifted:
		return outDrifted
	case corrected:
		return outCorrected
	}
	return outCompliant
}

// quietable is true of an outcome that --quiet leaves out and that a
// terminal only counts: nothing to look at.
func (o outcome) quietable() bool { return o == outCompliant || o == outOK }

// title is the outcome as a status word in tables: "Drifted".
func (o outcome) title() string {
	switch o {
	case outTimedOut:
		return string(journal.StatusTimedOut)
	case outOK:
		return string(journal.StatusSuccess)
	default: // the others are their own word, capitalised
		return strings.ToUpper(string(o[:1])) + string(o[1:])
	}
}

// hostLine is the plain line of one host result:
// "web-baseline web-2 Success (3 Compliant, 1 Drifted): note". width
// cuts the note on a terminal (0: whole).
func hostLine(assoc string, h *journal.HostResult, width int) string {
	line := assoc + " " + h.Host + " " + string(h.Status)
	if c := stepCounts(h.Steps); c != "" {
		line += " (" + c + ")"
	}
	if n := hostNote(*h, width); n != "" {
		line += ": " + n
	}
	return line
}

// diffShownLines is how many lines of what differed a run prints per
// step; driftless show has the rest.
const diffShownLines = 20

// printSteps prints, under a host line, each step of h that was found out
// of state (Drifted, Corrected, or a failed apply of a drifted step) with
// what differed: a unified diff, cut to diffShownLines lines, or with
// noDiff its gist ("~/app.conf: +1 -1 lines"). Secret content never
// reaches here: the runner records "content differs (secret)" for it.
func (u *ui) printSteps(w io.Writer, h *journal.HostResult, noDiff bool, width int) {
	for _, s := range h.Steps {
		if !s.Drifted && s.Status != journal.StatusDrifted && s.Status != journal.StatusCorrected {
			continue
		}
		name := s.Name
		if s.Action != "" {
			name += " (" + s.Action + ")"
		}
		differ := strings.TrimRight(safeText(s.Differ), "\n")
		// What is not a diff ("missing", "mode 0644 -> 0600") goes on the
		// step's line, the diff under it.
		notes, lines := splitDiffer(differ)
		if noDiff && len(lines) > 0 {
			notes, lines = differParts(differ), nil
		}
		head := fmt.Sprintf("  %s: %s", name, u.statusOut(w, string(s.Status)))
		if len(notes) > 0 {
			head += ": " + strings.Join(notes, "; ")
		}
		fmt.Fprintln(w, u.cutLine(head, width))
		more := 0
		if len(lines) > diffShownLines {
			more = len(lines) - diffShownLines
			lines = lines[:diffShownLines]
		}
		roles := diffRoles(lines)
		for i, l := range lines {
			fmt.Fprintln(w, "    "+u.diffLine(w, roles[i], u.cutLine(l, width-4)))
		}
		if more > 0 {
			fmt.Fprintf(w, "    … %d more %s: driftless show %d --host %s\n", more, plural(more, "line"), h.RunID, h.Host)
		}
	}
}

// splitDiffer parts what a step recorded as differing into its notes
// (lines that are not part of a unified diff) and its unified diffs.
func splitDiffer(differ string) (notes, diff []string) {
	if differ == "" {
		return nil, nil
	}
	lines := strings.Split(differ, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "--- ") && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "+++ ") {
			_, _, n := diffHunks(lines[i+2:])
			diff = append(diff, lines[i:i+2+n]...)
			i += 1 + n
			continue
		}
		if l := strings.TrimSpace(lines[i]); l != "" {
			notes = append(notes, l)
		}
	}
	return notes, diff
}

// cutLine cuts s to width columns on a terminal (width 0: whole).
func (u *ui) cutLine(s string, width int) string {
	if width <= 0 || ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// diffRoles says what each line of unified diffs is: 'h' a file header
// (---, +++), '@' a hunk header, '+' added, '-' removed, ' ' context. A
// removed line that starts with "--" is told from a header by the line
// counts of its hunk.
func diffRoles(lines []string) []byte {
	roles := make([]byte, len(lines))
	oldLeft, newLeft := 0, 0
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, `\`): // "\ No newline at end of file"
			roles[i] = ' '
		case oldLeft > 0 || newLeft > 0:
			switch {
			case strings.HasPrefix(l, "+"):
				roles[i], newLeft = '+', newLeft-1
			case strings.HasPrefix(l, "-"):
				roles[i], oldLeft = '-', oldLeft-1
			default:
				roles[i], oldLeft, newLeft = ' ', oldLeft-1, newLeft-1
			}
		case strings.HasPrefix(l, "@@"):
			roles[i] = '@'
			oldLeft, newLeft, _ = hunkHeader(l)
		case strings.HasPrefix(l, "--- "), strings.HasPrefix(l, "+++ "):
			roles[i] = 'h'
		default:
			roles[i] = ' '
		}
	}
	return roles
}

// diffLine colours a line of a unified diff, of the role diffRoles gives
// it, when w is a colour terminal: additions green, removals red, hunk
// headers cyan, file headers bold.
func (u *ui) diffLine(w io.Writer, role byte, l string) string {
	if !u.color || w == u.err && !u.errTTY {
		return l
	}
	st := u.r.NewStyle()
	switch role {
	case 'h':
		st = st.Bold(true)
	case '+':
		st = st.Foreground(lipgloss.Color("2"))
	case '-':
		st = st.Foreground(lipgloss.Color("1"))
	case '@':
		st = st.Foreground(lipgloss.Color("6"))
	default:
		return l
	}
	return st.Render(l)
}

// statusOut is a status word, coloured when w is a colour terminal.
func (u *ui) statusOut(w io.Writer, s string) string {
	if w == u.err && !u.errTTY {
		return s
	}
	return u.status(s)
}

// runSummary is one line per run: how many hosts ended each way, the
// hosts that need a look by name, and where the whole run is:
// "web-baseline check, 48 hosts: 3 drifted: web-1 web-4 web-9; 45 compliant (driftless show 12)".
func runSummary(r *runner.RunResult) string {
	byOutcome := map[outcome][]string{}
	for i := range r.Hosts {
		o := hostOutcome(r.Run.Mode, &r.Hosts[i])
		byOutcome[o] = append(byOutcome[o], r.Hosts[i].Host)
	}
	var parts []string
	for _, o := range outcomeOrder {
		hosts := byOutcome[o]
		if len(hosts) == 0 {
			continue
		}
		part := fmt.Sprintf("%d %s", len(hosts), o)
		if !o.quietable() {
			part += ": " + hostNames(hosts, summaryNames)
		}
		parts = append(parts, part)
	}
	name := fmt.Sprintf("%s %s", r.Run.Association, r.Run.Mode)
	if r.Run.Association == "" {
		name = string(r.Run.Mode) // exec
	}
	line := fmt.Sprintf("%s, %d %s: %s", name, len(r.Hosts), plural(len(r.Hosts), "host"), strings.Join(parts, "; "))
	if len(r.Hosts) == 0 {
		line = name + ": no host ran"
	}
	if r.Run.ID > 0 {
		line += fmt.Sprintf(" (driftless show %d)", r.Run.ID)
	}
	return line
}

// summaryNames is how many hosts a summary names per outcome; the rest
// are counted ("+37 more").
const summaryNames = 8

// hostNames lists hosts in natural order (web-2 before web-10), at most
// max of them, then how many more.
func hostNames(hosts []string, max int) string {
	hosts = slices.Clone(hosts)
	slices.SortFunc(hosts, naturalCompare)
	if len(hosts) <= max {
		return strings.Join(hosts, " ")
	}
	return strings.Join(hosts[:max], " ") + fmt.Sprintf(" +%d more", len(hosts)-max)
}

// naturalCompare orders strings with their runs of digits compared as
// numbers: web-2 < web-10.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitPrefix(a), digitPrefix(b)
		if da != "" && db != "" {
			na, _ := strconv.ParseUint(da, 10, 64)
			nb, _ := strconv.ParseUint(db, 10, 64)
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digitPrefix(s string) string {
	i := 0
	for i < len(s) && i < 18 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// endTable is what a run leaves on a terminal: one row per host that is
// not compliant (drifted, failed, unreachable, …) with its step counts and
// why, sized to the terminal. Compliant and corrected hosts are counted in
// the summary lines.
func endTable(u *ui, results []*runner.RunResult) {
	var rows [][]string
	for _, r := range results {
		name := r.Run.Association
		if name == "" {
			name = "exec"
		}
		for i := range r.Hosts {
			h := &r.Hosts[i]
			o := hostOutcome(r.Run.Mode, h)
			if o.quietable() || o == outCorrected {
				continue
			}
			detail := stepCounts(h.Steps)
			if note := hostNote(*h, 0); note != "" {
				detail = strings.TrimPrefix(detail+": "+note, ": ")
			}
			rows = append(rows, []string{name, h.Host, u.status(o.title()), detail})
		}
	}
	if len(rows) == 0 {
		return
	}
	header := []string{"ASSOCIATION", "HOST", "RESULT", "DETAIL"}
	u.table(header, rows)
}
