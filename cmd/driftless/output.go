package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/driftless-dev/driftless/internal/diag"
)

// ui is how a command talks to the user: JSON or text on stdout, notes
// and problems on stderr, lipgloss styling only on a terminal.
type ui struct {
	out, err io.Writer
	json     bool
	tty      bool // stdout is a terminal
	errTTY   bool // stderr is a terminal
	color    bool
	quiet    bool
	verbose  bool
	noDiff   bool   // --no-diff: what differed as a gist, no diff
	junit    string // --junit FILE, written also when the files are invalid
	width    int    // of stdout: the terminal's, else 100
	errWidth int    // of stderr: the terminal's, else 100
	r        *lipgloss.Renderer

	// prometheus: `status --output prometheus`, the compliance gauges
	// in the Prometheus text format.
	prometheus bool
}

// withUI is the action of a command that prints: it opens the command's
// UI (--output, --quiet, --verbose, colours) before anything else, so that
// a bad --output is the first problem reported, and runs run with it.
func withUI(run func(c *cli.Context, u *ui) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		u, err := newUI(c)
		if err != nil {
			return err
		}
		return run(c, u)
	}
}

func newUI(c *cli.Context) (*ui, error) {
	u := &ui{out: c.App.Writer, err: c.App.ErrWriter, quiet: c.Bool("quiet"), verbose: c.Bool("verbose"),
		noDiff: c.Bool("no-diff"), junit: c.String("junit")}
	// status also prints Prometheus gauges (docs/metrics.md).
	status := c.Command != nil && c.Command.Name == "status"
	switch o := c.String("output"); {
	case o == "prometheus" && status && c.Bool("json"):
		return nil, usageError("--json and --output prometheus: give one of them")
	case c.Bool("json") || o == "json":
		u.json = true
	case o == "text" || o == "":
	case o == "prometheus" && status:
		u.prometheus = true
	case status:
		return nil, usageError("--output: expected text, json or prometheus, got %q", o)
	default:
		return nil, usageError("--output: expected text or json, got %q", o)
	}
	var fd, errFD int
	u.tty, fd = isTerminal(u.out)
	u.errTTY, errFD = isTerminal(u.err)
	_, noColor := os.LookupEnv("NO_COLOR")
	u.color = u.tty && !noColor && !c.Bool("no-color") && os.Getenv("TERM") != "dumb"
	u.width, u.errWidth = termWidth(u.tty, fd), termWidth(u.errTTY, errFD)
	profile := termenv.Ascii
	if u.color {
		profile = termenv.ANSI256
	}
	// SetColorProfile, not termenv.WithProfile: the renderer would otherwise
	// ask the environment again (and CI=true makes termenv see no terminal).
	u.r = lipgloss.NewRenderer(u.out, termenv.WithProfile(profile))
	u.r.SetColorProfile(profile)
	if u.verbose {
		// Debug logs (constant keys: host, association, step) on stderr.
		slog.SetDefault(slog.New(slog.NewTextHandler(u.err, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}
	return u, nil
}

// termWidth is the width of the terminal fd, 100 when it is none.
func termWidth(tty bool, fd int) int {
	if tty {
		if w, _, err := term.GetSize(fd); err == nil && w > 20 {
			return w
		}
	}
	return 100
}

func isTerminal(w io.Writer) (bool, int) {
	f, ok := w.(interface{ Fd() uintptr })
	if !ok {
		return false, 0
	}
	fd := int(f.Fd())
	return term.IsTerminal(fd), fd
}

func (u *ui) printJSON(v any) error {
	enc := json.NewEncoder(u.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printJSONList prints items, each converted by conv, as a JSON array:
// [] when there are none, never null.
func printJSONList[T, J any](u *ui, items []T, conv func(T) J) error {
	out := make([]J, 0, len(items))
	for _, it := range items {
		out = append(out, conv(it))
	}
	return u.printJSON(out)
}

// notef prints a note for people: stderr, unless --quiet.
func (u *ui) notef(format string, args ...any) {
	if !u.quiet {
		fmt.Fprintf(u.err, format+"\n", args...)
	}
}

// bold styles s on a terminal.
func (u *ui) bold(s string) string {
	if !u.tty {
		return s
	}
	return u.r.NewStyle().Bold(true).Render(s)
}

// table prints rows under header. Off a terminal: plain columns aligned
// to their content, every cell whole, one line per row. On a terminal:
// columns two spaces apart, sized to their content and, when that is wider
// than the terminal, narrowed widest first: a narrowed cell wraps between
// words, never inside one, and only a word longer than its column is cut
// with "…" (docs/commands.md#output).
func (u *ui) table(header []string, rows [][]string) {
	if !u.tty {
		tw := tabwriter.NewWriter(u.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, r := range rows {
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		tw.Flush()
		return
	}
	widths := fitColumns(header, rows, u.width)
	bold := make([]string, len(header))
	for i, h := range header {
		bold[i] = u.bold(h)
	}
	for _, r := range append([][]string{bold}, rows...) {
		cells := make([][]string, len(widths))
		height := 1
		for i := range widths {
			cell := ""
			if i < len(r) {
				cell = r[i]
			}
			cells[i] = wrapWords(cell, widths[i])
			height = max(height, len(cells[i]))
		}
		for l := range height {
			var b strings.Builder
			for i, w := range widths {
				part := ""
				if l < len(cells[i]) {
					part = cells[i][l]
				}
				if i == len(widths)-1 {
					b.WriteString(part)
					break
				}
				b.WriteString(part + strings.Repeat(" ", w-ansi.StringWidth(part)+tableGap))
			}
			fmt.Fprintln(u.out, strings.TrimRight(b.String(), " "))
		}
	}
}

// tableFirstFit prints the first of tables that fits the terminal (each
// gives a header and rows: a narrower layout of the same table), or the
// last one, narrowed.
func (u *ui) tableFirstFit(tables ...func() ([]string, [][]string)) {
	for i, t := range tables {
		header, rows := t()
		if i == len(tables)-1 || u.fits(header, rows) {
			u.table(header, rows)
			return
		}
	}
}

// fits is true when the table of header and rows is not wider than the
// terminal (always, off a terminal).
func (u *ui) fits(header []string, rows [][]string) bool {
	if !u.tty {
		return true
	}
	return sum(fitColumns(header, rows, math.MaxInt))+tableGap*(len(header)-1) <= u.width
}

// tableGap is the room between two columns of a terminal table.
const tableGap = 2

// fitColumns is the width of each column: its widest cell, narrowed when
// the table is wider than width. Each step narrows by one the column
// where that adds the fewest lines to the table (the widest among
// equals), first down to each column's longest word (so that no word is
// cut), then, if the table is still too wide, down to 12 columns
// (cutting longer words); a header is never narrowed.
func fitColumns(header []string, rows [][]string, width int) []int {
	n := len(header)
	widths, words := make([]int, n), make([]int, n)
	for i, h := range header {
		widths[i], words[i] = ansi.StringWidth(h), ansi.StringWidth(h)
	}
	cell := func(r []string, i int) string {
		if i < len(r) {
			return r[i]
		}
		return ""
	}
	for _, r := range rows {
		for i := range n {
			widths[i] = max(widths[i], ansi.StringWidth(cell(r, i)))
			for word := range strings.FieldsSeq(cell(r, i)) {
				words[i] = max(words[i], ansi.StringWidth(word))
			}
		}
	}
	room := width - tableGap*(n-1)
	if sum(widths) <= room {
		return widths
	}
	// heights[i][r]: the lines cell i of row r takes at widths[i].
	heightsAt := func(i, w int) []int {
		hs := make([]int, len(rows))
		for r, row := range rows {
			hs[r] = len(wrapWords(cell(row, i), w))
		}
		return hs
	}
	heights := make([][]int, n)
	for i := range n {
		heights[i] = heightsAt(i, widths[i])
	}
	for _, floor := range []func(i int) int{
		func(i int) int { return words[i] },
		func(i int) int { return max(ansi.StringWidth(header[i]), min(words[i], 12)) },
	} {
		for sum(widths) > room {
			best, bestCost, bestHeights := -1, 0, []int(nil)
			for i, w := range widths {
				if w <= floor(i) {
					continue
				}
				hs := heightsAt(i, w-1)
				cost := 0
				for r := range rows {
					h := hs[r]
					for j := range n {
						if j != i {
							h = max(h, heights[j][r])
						}
					}
					cost += h
				}
				if best < 0 || cost < bestCost || cost == bestCost && w > widths[best] {
					best, bestCost, bestHeights = i, cost, hs
				}
			}
			if best < 0 {
				break
			}
			widths[best]--
			heights[best] = bestHeights
		}
	}
	return widths
}

func sum(xs []int) int {
	t := 0
	for _, x := range xs {
		t += x
	}
	return t
}

// wrapWords breaks s into lines of at most width columns between words;
// a word wider than width is cut with "…".
func wrapWords(s string, width int) []string {
	if ansi.StringWidth(s) <= width {
		return []string{s}
	}
	var lines []string
	line := ""
	for w := range strings.FieldsSeq(s) {
		if ansi.StringWidth(w) > width {
			w = ansi.Truncate(w, width, "…")
		}
		switch {
		case line == "":
			line = w
		case ansi.StringWidth(line)+1+ansi.StringWidth(w) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	return append(lines, line)
}

// diagnostics prints warnings and errors on stderr, and returns an error
// that exits 1 when there are errors.
func (u *ui) diagnostics(list *diag.List) error {
	for _, w := range list.Warnings() {
		fmt.Fprintln(u.err, "warning: "+w.Error())
	}
	errs := list.Errors()
	if len(errs) == 0 {
		return nil
	}
	for _, e := range errs {
		fmt.Fprintln(u.err, e.Error())
	}
	files := map[string]bool{}
	for _, e := range errs {
		files[e.File] = true
	}
	if u.junit != "" {
		if err := writeValidationJUnit(u.junit, errs); err != nil {
			fmt.Fprintf(u.err, "junit: %v\n", err)
		}
	}
	return exitWith(exitInvalid, fmt.Errorf("%d %s in %d %s; nothing was run", len(errs), plural(len(errs), "error"), len(files), plural(len(files), "file")))
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// jsonDiag is a diagnostic in JSON output.
type jsonDiag struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Key     string `json:"key,omitempty"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

func toJSONDiags(errs []*diag.Error) []jsonDiag {
	out := make([]jsonDiag, 0, len(errs))
	for _, e := range errs {
		out = append(out, jsonDiag{File: e.File, Line: e.Pos.Line, Column: e.Pos.Col, Key: e.Key, Message: e.Msg, Hint: e.Hint})
	}
	return out
}

// status colours a status word on a terminal.
func (u *ui) status(s string) string {
	if !u.color {
		return s
	}
	color := map[string]string{
		"Success": "2", "Compliant": "2", "Corrected": "6", "COMPLIANT": "2",
		"Drifted": "3", "Skipped": "8", "Cancelled": "8",
		"Failed": "1", "TimedOut": "1", "Unreachable": "1", "NON_COMPLIANT": "1", "Interrupted": "1",
	}[s]
	if color == "" {
		return s
	}
	return u.r.NewStyle().Foreground(lipgloss.Color(color)).Render(s)
}

func (u *ui) printf(format string, args ...any)  { fmt.Fprintf(u.out, format, args...) }
func (u *ui) eprintf(format string, args ...any) { fmt.Fprintf(u.err, format, args...) }
