package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"
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
	width    int
	r        *lipgloss.Renderer
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
	u := &ui{out: c.App.Writer, err: c.App.ErrWriter, quiet: c.Bool("quiet"), verbose: c.Bool("verbose")}
	switch o := c.String("output"); {
	case c.Bool("json") || o == "json":
		u.json = true
	case o == "text" || o == "":
	default:
		return nil, usageError("--output: expected text or json, got %q", o)
	}
	var fd int
	u.tty, fd = isTerminal(u.out)
	u.errTTY, _ = isTerminal(u.err)
	_, noColor := os.LookupEnv("NO_COLOR")
	u.color = u.tty && !noColor && !c.Bool("no-color") && os.Getenv("TERM") != "dumb"
	u.width = 100
	if u.tty {
		if w, _, err := term.GetSize(fd); err == nil && w > 20 {
			u.width = w
		}
	}
	profile := termenv.Ascii
	if u.color {
		profile = termenv.ANSI256
	}
	u.r = lipgloss.NewRenderer(u.out, termenv.WithProfile(profile))
	if u.verbose {
		// Debug logs (constant keys: host, association, step) on stderr.
		slog.SetDefault(slog.New(slog.NewTextHandler(u.err, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}
	return u, nil
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

// table prints rows under header: a lipgloss table that fits the terminal
// on a TTY, plain aligned columns elsewhere (no escape codes).
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
	headerStyle := u.r.NewStyle().Bold(true).Padding(0, 1)
	cell := u.r.NewStyle().Padding(0, 1)
	border := u.r.NewStyle()
	if u.color {
		border = border.Foreground(lipgloss.Color("240"))
	}
	t := table.New().
		Border(lipgloss.RoundedBorder()).
		BorderStyle(border).
		Headers(header...).
		Rows(rows...).
		Width(min(u.width, tableWidth(header, rows))).
		StyleFunc(func(row, col int) lipgloss.Style {
			if row == table.HeaderRow {
				return headerStyle
			}
			return cell
		})
	fmt.Fprintln(u.out, t.Render())
}

// tableWidth is the width the table needs without wrapping.
func tableWidth(header []string, rows [][]string) int {
	w := make([]int, len(header))
	for i, h := range header {
		w[i] = lipgloss.Width(h)
	}
	for _, r := range rows {
		for i, c := range r {
			if i < len(w) {
				w[i] = max(w[i], lipgloss.Width(c))
			}
		}
	}
	total := 1
	for _, x := range w {
		total += x + 3
	}
	return total
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
