package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
)

// runMan prints the man page (roff, section 1), or writes it to
// DIR/driftless.1 with -o DIR.
func runMan(c *cli.Context) error {
	page := manPage(c.App)
	dir := c.String("output-dir")
	if dir == "" {
		fmt.Fprint(c.App.Writer, page)
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("man: %w", err)
	}
	path := filepath.Join(dir, "driftless.1")
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		return fmt.Errorf("man: %w", err)
	}
	fmt.Fprintln(c.App.ErrWriter, "wrote "+path)
	return nil
}

// manExitCodes are the exit codes (SPEC §4.1, docs/statuses.md).
var manExitCodes = []struct {
	code int
	text string
}{
	{exitOK, "Everything ran; in check mode, no drift."},
	{exitInvalid, "Nothing ran: bad flags, invalid files, unknown association, empty target set."},
	{exitDrift, "Check mode found drift (and nothing failed); status --fail-on-noncompliant found a NON_COMPLIANT row."},
	{exitFailed, "At least one host failed, timed out, was unreachable or was skipped by max_errors."},
	{exitInterrupted, "Interrupted (SIGINT or SIGTERM); the journal records the run as Cancelled."},
}

// manFiles are the files of a config dir (SPEC §1, docs/config-dir.md).
var manFiles = [][2]string{
	{"DIR/inventory.toml", "Hosts, groups and connection defaults (--inventory moves it)."},
	{"DIR/associations.toml", "Which document runs on which targets, when, with which parameters (--associations moves it)."},
	{"DIR/documents/NAME.toml", "A document in the native format; NAME is the document's name."},
	{"DIR/documents/NAME.{json,yaml,yml}", "An SSM Command document, schema 2.2, run unchanged."},
	{"DIR/.driftless/journal.db", "The journal (SQLite, mode 0600): every run, host result, step result and drift (--journal or DRIFTLESS_JOURNAL moves it, to another file or to PostgreSQL with a postgres:// URL or a keyword/value string)."},
}

// manEnv are the environment variables driftless reads that are not a
// flag's (docs/commands.md#environment-variables).
var manEnv = [][2]string{
	{"NO_COLOR", "No colours, whatever its value (as --no-color)."},
	{"DRIFTLESS_KEY_PASSPHRASE", "The passphrase of encrypted SSH identity files. Without it driftless asks on the terminal, or fails when there is none."},
	{"SSH_AUTH_SOCK", "The ssh-agent whose keys are offered."},
	{"USER", "The default login user."},
	{"PGPASSWORD, PGPASSFILE, PGHOST, PGSERVICE ...", "libpq's variables: for a PostgreSQL journal, what its URL or keyword/value string does not say (a password is best given so, or in ~/.pgpass, rather than on the command line)."},
	{"DRIFTLESS_CPUPROFILE", "Write a CPU profile of the invocation to this file (for go tool pprof)."},
	{"DRIFTLESS_MEMPROFILE", "Write a heap profile at the end of the invocation to this file (after a collection: what was still live, and every allocation made)."},
	{"GOGC", "Go's garbage collector target; driftless uses 200 when it is not set."},
	{"GOMAXPROCS", "Fixes the number of Go scheduler processors. Without it driftless starts with Go's default (the usable CPUs, or the container's CPU limit) and keeps as many as it keeps busy (not on Windows)."},
}

// manPage is the man page of app, from its definition: every visible
// command and flag, with defaults and environment variables, then exit
// codes, environment and files.
func manPage(app *cli.App) string {
	var b strings.Builder
	fmt.Fprintf(&b, ".TH DRIFTLESS 1 \"\" %s \"User Commands\"\n", roffQuote("driftless "+app.Version))
	b.WriteString(".SH NAME\ndriftless \\- " + roffText(app.Usage) + "\n")
	b.WriteString(".SH SYNOPSIS\n.B driftless\n[\\fIglobal flags\\fR] \\fICOMMAND\\fR [\\fIflags\\fR] [\\fIarguments\\fR]\n")
	b.WriteString(".SH DESCRIPTION\n" + roffText(app.Description) + "\n.PP\n")
	b.WriteString(roffText("Flags may stand anywhere: before or after the command name, and before or after its arguments; -- ends the flags. driftless COMMAND --help shows a command's help.") + "\n")
	b.WriteString(".SH GLOBAL FLAGS\n")
	for _, f := range app.VisibleFlags() {
		if f.Names()[0] != "help" {
			manFlag(&b, f)
		}
	}
	manFlag(&b, &cli.BoolFlag{Name: "help", Aliases: []string{"h"}, Usage: "show help (of a command, after its name)"})
	b.WriteString(".SH COMMANDS\n")
	for _, cmd := range app.VisibleCommands() {
		manCommand(&b, "driftless", cmd)
	}
	b.WriteString(".SH EXIT STATUS\n")
	for _, e := range manExitCodes {
		fmt.Fprintf(&b, ".TP\n.B %d\n%s\n", e.code, roffText(e.text))
	}
	b.WriteString(".SH ENVIRONMENT\n")
	for _, f := range app.VisibleFlags() {
		if dg, ok := f.(cli.DocGenerationFlag); ok {
			for _, env := range dg.GetEnvVars() {
				fmt.Fprintf(&b, ".TP\n.B %s\nAs %s.\n", roffText(env), roffFlagName(f.Names()[0]))
			}
		}
	}
	for _, e := range manEnv {
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", roffText(e[0]), roffText(e[1]))
	}
	b.WriteString(".SH FILES\n" + roffText("DIR is the config dir: --dir, -C or DRIFTLESS_DIR, default the current directory.") + "\n")
	for _, f := range manFiles {
		fmt.Fprintf(&b, ".TP\n.I %s\n%s\n", roffQuote(f[0]), roffText(f[1]))
	}
	b.WriteString(".SH SEE ALSO\n.BR ssh (1),\n.BR ssh_config (5),\n.BR cron (8)\n")
	return b.String()
}

// manCommand writes one command, named after parent: its synopsis,
// purpose, description (examples kept as they are laid out) and flags,
// then each of its subcommands (journal prune) the same way.
func manCommand(b *strings.Builder, parent string, cmd *cli.Command) {
	synopsis := parent + " " + cmd.Name
	subs := withoutHelp(cmd.VisibleCommands())
	if len(subs) > 0 {
		names := make([]string, len(subs))
		for i, sub := range subs {
			names[i] = sub.Name
		}
		synopsis += " " + strings.Join(names, "|")
	}
	if len(cmd.VisibleFlags()) > 0 {
		synopsis += " [flags]"
	}
	if cmd.ArgsUsage != "" {
		synopsis += " " + cmd.ArgsUsage
	}
	fmt.Fprintf(b, ".SS %s\n%s.\n", roffQuote(synopsis), roffText(upperFirst(cmd.Usage)))
	for _, para := range strings.Split(cmd.Description, "\n\n") {
		b.WriteString(".PP\n")
		verbatim := false
		for _, line := range strings.Split(para, "\n") {
			indented := strings.HasPrefix(line, " ")
			switch {
			case indented && !verbatim:
				b.WriteString(".RS\n.nf\n")
				verbatim = true
			case !indented && verbatim:
				b.WriteString(".fi\n.RE\n")
				verbatim = false
			}
			if verbatim {
				line = strings.TrimSpace(line)
			}
			b.WriteString(roffText(line) + "\n")
		}
		if verbatim {
			b.WriteString(".fi\n.RE\n")
		}
	}
	for _, f := range cmd.VisibleFlags() {
		if f.Names()[0] != "help" { // the same for every command: in GLOBAL FLAGS
			manFlag(b, f)
		}
	}
	for _, sub := range subs {
		manCommand(b, parent+" "+cmd.Name, sub)
	}
}

// manFlag writes one flag as a tagged paragraph: its names with the
// placeholder of its value, its usage, default and environment.
func manFlag(b *strings.Builder, f cli.Flag) {
	dg := f.(cli.DocGenerationFlag)
	usage, placeholder := flagPlaceholder(f)
	var names []string
	for _, n := range f.Names() {
		s := roffFlagName(n)
		if dg.TakesValue() {
			s += " \\fI" + roffText(placeholder) + "\\fR"
		}
		names = append(names, s)
	}
	text := usage
	var notes []string
	if def := dg.GetDefaultText(); dg.TakesValue() && def != "" && def != `""` && def != "0s" {
		notes = append(notes, "default: "+strings.Trim(def, `"`))
	}
	if s, ok := f.(cli.DocGenerationSliceFlag); ok && s.IsSliceFlag() && !strings.Contains(usage, "repeat") {
		notes = append(notes, "may be repeated")
	}
	if envs := dg.GetEnvVars(); len(envs) > 0 {
		notes = append(notes, "environment: "+strings.Join(envs, ", "))
	}
	if len(notes) > 0 {
		text += " (" + strings.Join(notes, "; ") + ")"
	}
	fmt.Fprintf(b, ".TP\n%s\n%s\n", strings.Join(names, ", "), roffText(upperFirst(text))+".")
}

func roffFlagName(n string) string {
	if len(n) == 1 {
		return "\\fB\\-" + n + "\\fR"
	}
	return "\\fB\\-\\-" + roffText(n) + "\\fR"
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// roffText escapes text for a roff text line: backslashes, minus signs
// (so that flags and commands are not hyphenated or turned into dashes),
// a leading . or ' (a request otherwise), and every non-ASCII character
// (written \[uXXXX], as groff reads it whatever its input encoding).
func roffText(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case (r == '.' || r == '\'') && (i == 0 || s[i-1] == '\n'):
			b.WriteString(`\&` + string(r))
		case r > 127:
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// roffQuote is s as one argument of a request: escaped and in double
// quotes (a double quote inside written \(dq).
func roffQuote(s string) string {
	return `"` + strings.ReplaceAll(roffText(s), `"`, `\(dq`) + `"`
}

// manCommandFlags is the flag of driftless man.
func manCommandFlags() []cli.Flag {
	return []cli.Flag{&cli.StringFlag{Name: "output-dir", Aliases: []string{"o"}, Usage: "write driftless.1 into `DIR` instead of printing it"}}
}
