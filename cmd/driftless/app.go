package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/internal/diag"
)

// Exit codes (docs/statuses.md#exit-codes).
const (
	exitOK          = 0
	exitInvalid     = 1
	exitDrift       = 2
	exitFailed      = 3
	exitInterrupted = 130
)

// exitError carries an exit code; its message (if any) is printed.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func exitWith(code int, err error) error { return &exitError{code: code, err: err} }

// usageError is bad flags or arguments: exit 1 with the message.
func usageError(format string, args ...any) error {
	return exitWith(exitInvalid, fmt.Errorf(format, args...))
}

func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "dir", Aliases: []string{"C"}, Usage: "config dir holding inventory.toml, associations.toml and documents/", EnvVars: []string{"DRIFTLESS_DIR"}, Value: "."},
		&cli.StringFlag{Name: "journal", Usage: "journal: a `FILE` (default DIR/.driftless/journal.db), or a PostgreSQL database: a postgres:// URL or a keyword/value string such as 'host=/run/postgresql dbname=driftless' (docs/journal.md#postgresql)", EnvVars: []string{"DRIFTLESS_JOURNAL"}},
		&cli.StringFlag{Name: "inventory", Usage: "inventory file (default DIR/inventory.toml)"},
		&cli.StringFlag{Name: "associations", Usage: "associations file (default DIR/associations.toml)"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output format: text or json (status also: prometheus)", Value: "text"},
		&cli.BoolFlag{Name: "json", Usage: "short for --output json"},
		&cli.BoolFlag{Name: "no-color", Usage: "no colours (also NO_COLOR)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the hosts that drifted, were corrected or failed, and the result"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print debug logs"},
		nodeFlag,
		versionFlag,
	}
}

// commands is every command, in the order driftless --help lists them: its
// name, what it is for, its help text and its flags. What a command does is
// its action, in the command's own file (runStatus in status.go, ...).
func commands() []*cli.Command {
	return []*cli.Command{
		{
			Name:      "apply",
			Usage:     "run associations now: check every step and correct what drifted",
			ArgsUsage: "[ASSOC...]",
			Description: `Runs the named associations (all if none) on their targets, narrowed by --targets.
Exit 0 when everything ran, 2 when --check found drift, 3 when a host failed, 130 when interrupted.

Examples:
   driftless apply
   driftless apply web-baseline --targets 'group:canary'
   driftless apply --check --junit report.xml`,
			Flags:  append(runFlags(), &cli.BoolFlag{Name: "check", Usage: "only detect drift; change nothing"}),
			Action: withUI(func(c *cli.Context, u *ui) error { return runAssociations(c, u, c.Bool("check")) }),
		},
		{
			Name:      "check",
			Usage:     "detect drift and change nothing (apply --check)",
			ArgsUsage: "[ASSOC...]",
			Description: `Examples:
   driftless check
   driftless check web-baseline --targets web-1 --json`,
			Flags:  runFlags(),
			Action: withUI(func(c *cli.Context, u *ui) error { return runAssociations(c, u, true) }),
		},
		{
			Name:      "exec",
			Usage:     "run an ad-hoc command on hosts (like SSM Run Command), journaled",
			ArgsUsage: "-- COMMAND...",
			Description: `Runs COMMAND with sh on every target host, over one connection per host.
Exit 0 when it succeeded everywhere, 3 when a host failed or could not be reached.

Examples:
   driftless exec --targets 'group:web' -- uptime
   driftless exec -t '*' --max-concurrency 5 -- 'df -h / | tail -1'`,
			Flags: []cli.Flag{
				&cli.StringSliceFlag{Name: "targets", Aliases: []string{"t"}, Usage: "hosts matching `SEL` (repeat for a union; required)"},
				&cli.StringFlag{Name: "max-concurrency", Usage: "hosts at once, `N` or N% (default 50)"},
				&cli.DurationFlag{Name: "timeout", Usage: "per host"},
				junitFlag(),
			},
			Action: withUI(runExec),
		},
		{
			Name:  "tick",
			Usage: "run whatever is due (schedules, changes, new hosts), then exit: for cron, every minute",
			Description: `An association is due on a host when it never ran there, when its definition, document or
parameters changed, or when its schedule fired since its last run there (missed fire times are
not back-filled). Two ticks on one journal never run the same association on the same host at
once: the second skips what the first holds, and says so.
Exit 0 when nothing was due or everything that ran succeeded, 3 when a host failed.

With --site, only the hosts of those sites (and hosts without a site) are run: the others are
left to the driftless of their site, and are no failure.

Examples:
   * * * * * cd /srv/ops && driftless tick --quiet
   driftless tick --now 2026-12-01T03:00:00Z
   driftless tick --site eu-west --max-hosts 50`,
			Flags: []cli.Flag{nowFlag(), junitFlag(), noDiffFlag,
				&cli.BoolFlag{Name: "force", Usage: "accept a --now more than a minute ahead of the clock (runs are recorded at that time)"},
				siteFlag, maxHostsFlag, leaseTTLFlag()},
			Action: withConfigAndJournal(tick),
		},
		{
			Name:  "daemon",
			Usage: "run the scheduler in the foreground until SIGTERM: a tick at the start of every minute",
			Description: `Reloads the config dir every minute. On SIGTERM or SIGINT it starts nothing new and lets
running work finish for up to --grace, then cancels it (recorded Cancelled) and exits.

With --site, only the hosts of those sites (and hosts without a site) are run. --max-hosts
bounds the hosts running at once over every association together.

Examples:
   driftless daemon -C /srv/ops
   driftless daemon --grace 2m
   driftless daemon --node bastion-eu --site eu-west
   driftless daemon --metrics-listen 127.0.0.1:9469`,
			Flags: []cli.Flag{
				&cli.DurationFlag{Name: "grace", Value: 30 * time.Second, Usage: "how long running work may finish after SIGTERM"},
				&cli.StringFlag{Name: "metrics-listen", Usage: "serve Prometheus metrics on http://`ADDR`/metrics (e.g. 127.0.0.1:9469; docs/metrics.md)"},
				retentionFlag(),
				siteFlag, maxHostsFlag, leaseTTLFlag(),
			},
			Action: withConfigAndJournal(daemon),
		},
		{
			Name:  "schedule",
			Usage: "show, per association, its last run and when it is next due",
			Description: `NEXT is the next fire time of the schedule on the host that is due soonest; "now" means
something is due (a new host, a change, or a fire time passed since the last run).

Examples:
   driftless schedule
   driftless schedule --now 2026-12-01T10:00:00Z --json`,
			Flags:  []cli.Flag{nowFlag()},
			Action: withConfigAndJournal(showSchedule),
		},
		{
			Name:  "status",
			Usage: "compliance now: one row per association × host, from its latest run there",
			Description: `An association is COMPLIANT on a host when its latest run there (apply or check)
succeeded and every step was Compliant, Corrected, Success or skipped by its
precondition; otherwise NON_COMPLIANT, with the association's severity. status
exits 0 whatever it shows, unless --fail-on-noncompliant is given.

STEPS counts the steps of that run: "drifted" were found out of state and left so
(check mode, or the apply failed), "corrected" were out of state and put back,
"failed" failed or timed out (a failed apply is both drifted and failed).

Examples:
   driftless status
   driftless status --association web-baseline --severity HIGH
   driftless status --host web-1 --json
   driftless status --fail-on-noncompliant    # exit 2 if anything is NON_COMPLIANT
   driftless status --output prometheus --output-file /var/lib/node_exporter/textfile/driftless.prom`,
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "association", Usage: "only association `NAME`"},
				&cli.StringFlag{Name: "host", Usage: "only host `NAME`"},
				&cli.StringFlag{Name: "severity", Usage: "only associations of severity `S`: CRITICAL, HIGH, MEDIUM, LOW or UNSPECIFIED"},
				&cli.BoolFlag{Name: "fail-on-noncompliant", Usage: "exit 2 when any row is NON_COMPLIANT"},
				&cli.StringFlag{Name: "output-file", Usage: "with --output prometheus: replace `FILE` atomically instead of printing (node_exporter's textfile collector)"},
			},
			Action: withUI(runStatus),
		},
		{
			Name:  "history",
			Usage: "past runs, newest first",
			Description: `One row per run of an association (or of driftless exec): when it started, how long
it took, its status and how many hosts ended in each status. driftless show RUN
gives one run in full.

Examples:
   driftless history
   driftless history --association web-baseline --limit 5
   driftless history --host web-1 --json
   driftless history --limit 0      # every run`,
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "association", Usage: "only runs of association `NAME`"},
				&cli.StringFlag{Name: "host", Usage: "only runs that touched host `NAME`"},
				&cli.IntFlag{Name: "limit", Aliases: []string{"n"}, Value: defaultHistoryLimit, Usage: "show the newest `N` runs (0: all)"},
			},
			Action: withUI(runHistory),
		},
		{
			Name:      "show",
			Usage:     "one run in full: every host, every step, output, diff",
			ArgsUsage: "RUN",
			Description: `RUN is a run id, as driftless history and driftless status show it. In text, stdout
and stderr are cut to 40 lines each; --json gives everything the journal kept
(up to 1 MiB of each per step).

Examples:
   driftless show 12
   driftless show 12 --host web-1
   driftless show 12 --json | jq '.hosts[].steps[] | select(.drifted)'`,
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "host", Usage: "only host `NAME`"},
			},
			Action: withUI(runShow),
		},
		{
			Name:  "drift",
			Usage: "drift events: when each step was found out of state, and what differed",
			Description: `One row per step found out of state on a host, newest first, with what was done
about it (OUTCOME): corrected (applied, and the check now passes), detected
(check mode: only found) or failed (applying failed). The table shows the
gist of what differed; driftless show RUN, or --json, gives all of it.

--since takes a duration back from now (30m, 24h, 7d, 1d12h), an RFC 3339
time (2026-11-25T21:00:00Z) or a date (2026-11-25, UTC); "all" shows every
event in the journal.

Examples:
   driftless drift
   driftless drift --since 7d --association web-baseline
   driftless drift --since 2026-11-01T00:00:00Z --host web-1 --json
   driftless drift --since all`,
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "since", Value: defaultDriftSince, Usage: "events from `WHEN` on: a duration back from now (24h, 7d), an RFC 3339 time, or all"},
				&cli.StringFlag{Name: "association", Usage: "only association `NAME`"},
				&cli.StringFlag{Name: "host", Usage: "only host `NAME`"},
			},
			Action: withUI(runDrift),
		},
		journalCommand(),
		{
			Name:  "report",
			Usage: "write the compliance report: one self-contained HTML page",
			Description: `Writes one HTML page (inline CSS and script; it loads nothing from anywhere):
compliance by association and severity, every non-compliant association × host with the
steps that differed and their diffs, and a drift timeline per host over --since. The
host table sorts and filters in the browser. The page is written next to FILE and
renamed into place; --html - writes it to stdout. docs/report.md describes it.

Examples:
   driftless report --html compliance.html
   driftless report --html /var/www/drift/index.html --since 7d`,
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "html", Usage: "write the page to `FILE` (- for stdout)"},
				&cli.StringFlag{Name: "since", Value: defaultReportSince, Usage: "drift timeline from `WHEN` on: a duration back from now (30d, 24h), an RFC 3339 time, or all"},
			},
			Action: withUI(runReportHTML),
		},
		{
			Name:  "validate",
			Usage: "check every file of the config dir; exit 1 with all errors",
			Description: `Reads inventory.toml, associations.toml and every document, and reports every problem
as file:line:col: key: message. Nothing is contacted. An environment variable that the config
needs (a secret) and that is not set is a warning: only the commands that run what needs it
stop on it. With --require-env it is an error.

Examples:
   driftless validate
   driftless validate -C ops --json
   driftless validate --require-env    # where driftless runs: every secret it needs is set`,
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "require-env", Usage: "an environment variable that the config needs and is not set is an error, not a warning"},
			},
			Action: withUI(runValidate),
		},
		{
			Name:  "inventory",
			Usage: "list hosts with transport, address, groups and tags; resolve selectors",
			Description: `Examples:
   driftless inventory
   driftless inventory --targets 'tag:role=web & !group:canary'
   driftless inventory --targets web-1 --targets 'group:db' --json`,
			Flags: []cli.Flag{
				&cli.StringSliceFlag{Name: "targets", Aliases: []string{"t"}, Usage: "only hosts matching `SEL` (repeat for a union)"},
			},
			Action: withUI(runInventory),
		},
		{
			Name:      "documents",
			Usage:     "list documents (built-in too), or show one's parameters and steps, or the script a host gets",
			ArgsUsage: "[NAME]",
			Description: `With --script, NAME is an association (its parameters apply) or a document (its
parameters take their defaults), and what is printed is the first script a host gets:
the one that checks every step and, in an apply, corrects what it can. Secret values
read ******; the report marker is fixed (@@DL-MARKER).

Examples:
   driftless documents
   driftless documents baseline
   driftless documents driftless:RunShellScript --json
   driftless documents web-baseline --script --host web-2 --check`,
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "script", Usage: "print the script a host gets for NAME"},
				&cli.StringFlag{Name: "host", Usage: "with --script: inventory host `NAME` (default: the association's first target, else a local host)"},
				&cli.BoolFlag{Name: "check", Usage: "with --script: the script of a check (it changes nothing)"},
				&cli.StringFlag{Name: "shell", Usage: "with --script: `sh` or powershell (default: the host's; powershell for winrm)"},
			},
			Action: withUI(runDocuments),
		},
		{
			Name:  "demo",
			Usage: "see the whole product in one command, on a throwaway fleet of in-process SSH hosts",
			Description: `Starts four SSH hosts on loopback (in this process: real SSH, real host keys pinned in a
known_hosts file, commands run by /bin/sh in a directory per host), writes an example config
dir, applies it, tampers with one host, finds the drift with a check, corrects it, and shows the
journal, and ends by writing the compliance report (driftless report --html) and printing its
path. Nothing else is left behind unless --keep DIR is given (the report goes there then).

Examples:
   driftless demo
   driftless demo --keep /tmp/driftless-demo`,
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "keep", Usage: "keep the config dir and journal in `DIR` for exploring"},
			},
			Action: withUI(runDemo),
		},
		{
			Name:      "init",
			Usage:     "write a small working example config dir",
			ArgsUsage: "[DIR]",
			Description: `Writes inventory.toml (a local host, plus commented SSH and WinRM examples),
documents/baseline.toml and associations.toml into DIR (default: the current directory).
Existing files are never overwritten. The local host manages files under DIR only.

Examples:
   driftless init ops && driftless apply -C ops && driftless check -C ops`,
			Action: withUI(runInit),
		},
		{
			Name:      "completion",
			Usage:     "print a shell completion script (bash, zsh or fish)",
			ArgsUsage: "bash|zsh|fish",
			Description: `Examples:
   source <(driftless completion bash)
   driftless completion zsh > "${fpath[1]}/_driftless"
   driftless completion fish > ~/.config/fish/completions/driftless.fish`,
			Action: runCompletion,
		},
		{
			Name:  "man",
			Usage: "print the man page (roff, section 1), or write it into a directory",
			Description: `The page is made from this command line's definition: every command and flag, with
defaults and environment variables, then exit codes, environment and files.

Examples:
   driftless man | man -l -
   driftless man -o /usr/local/share/man/man1`,
			Flags:  manCommandFlags(),
			Action: runMan,
		},
		{
			Name:  "version",
			Usage: "print the version, the commit it was built from and the Go version",
			Description: `The version is the module's (a release tag when installed with go install ...@vX.Y.Z,
"(devel)" when built from a checkout); the commit and whether the checkout had
uncommitted changes come from the build's VCS stamp ("unknown" without one).

Examples:
   driftless version
   driftless --version
   driftless version --json`,
			Action: printVersion,
		},
	}
}

// runFlags are the flags of apply and check.
func runFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "targets", Aliases: []string{"t"}, Usage: "narrow each association's targets to hosts matching `SEL` (repeat for a union)"},
		&cli.StringFlag{Name: "max-concurrency", Usage: "hosts at once, `N` or N% (overrides the associations')"},
		&cli.StringFlag{Name: "max-errors", Usage: "failures tolerated before the rest is skipped, `N` or N%"},
		&cli.StringFlag{Name: "junit", Usage: "write a JUnit XML report (one testcase per association × host) to `FILE`"},
		noDiffFlag,
		&cli.DurationFlag{Name: "lease-wait", Value: time.Minute, Usage: "wait up to `DURATION` for a host that another driftless is running the association on, then record it Skipped"},
	}
}

// noDiffFlag is --no-diff, of the commands that run associations.
var noDiffFlag = &cli.BoolFlag{Name: "no-diff", Usage: "under each host, name what drifted without its diff"}

// junitFlag is --junit, of exec and tick.
func junitFlag() cli.Flag {
	return &cli.StringFlag{Name: "junit", Usage: "write a JUnit XML report to `FILE`"}
}

// nowFlag is --now, of tick and schedule.
func nowFlag() cli.Flag {
	return &cli.StringFlag{Name: "now", Usage: "act as if it were `TIME` (RFC 3339, e.g. 2026-12-01T10:00:00Z)"}
}

// NewApp builds the command line application on the given streams.
func NewApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:            "driftless",
		Usage:           "keep machines in a declared state over SSH and WinRM, and remember every drift",
		Version:         buildVersion().Version,
		Description:     "driftless reads a config dir (inventory.toml, associations.toml, documents/), checks every step\non every target host, corrects what drifted and records it all in a local journal.",
		Reader:          stdin,
		Writer:          stdout,
		ErrWriter:       stderr,
		Flags:           globalFlags(),
		HideHelpCommand: true,
		// --targets takes one selector, whose commas belong to tag:
		// values (tag:role=web,lb); the flag is repeated for a union.
		DisableSliceFlagSeparator: true,
		Commands:                  commands(),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return unknownCommand(c.App, c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return usageError("%v", err)
		},
		ExitErrHandler: func(*cli.Context, error) {}, // Main maps errors to exit codes
	}
	for _, cmd := range app.Commands {
		cmd.OnUsageError = app.OnUsageError
	}
	refuseArgs(app.Commands)
	return app
}

// refuseArgs makes every command that takes no arguments (no ArgsUsage)
// refuse them, subcommands too: a selector or a site typed where a flag
// was meant (driftless tick eu-west) would otherwise be ignored and the
// command run on everything. argsHints says what to type instead.
func refuseArgs(cmds []*cli.Command) {
	for _, cmd := range cmds {
		refuseArgs(cmd.Subcommands)
		if cmd.ArgsUsage != "" || cmd.Action == nil || len(cmd.Subcommands) > 0 {
			continue
		}
		run, hint := cmd.Action, ""
		if h := argsHints[cmd.Name]; h != "" {
			hint = "\n\thint: " + h
		}
		cmd.Action = func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError("%s takes no arguments, got %q%s", c.Command.Name, c.Args().First(), hint)
			}
			return run(c)
		}
	}
}

// withoutHelp is cmds but urfave/cli's help command (which --help is):
// the commands that the man page describes and completion offers.
func withoutHelp(cmds []*cli.Command) []*cli.Command {
	return slices.DeleteFunc(slices.Clone(cmds), func(cmd *cli.Command) bool { return cmd.Name == "help" })
}

// argsHints say, for a command given an argument it does not take, what
// to type instead.
var argsHints = map[string]string{
	"status":    "use --association or --host to narrow it",
	"history":   "use --association or --host to narrow it",
	"drift":     "use --since, --association or --host to narrow it",
	"prune":     "use --older-than AGE to say which runs",
	"stats":     "it shows the whole journal",
	"migrate":   "the journal to copy is --journal FILE (or -C DIR), the one to copy into --to URL",
	"report":    "driftless report --html FILE",
	"tick":      "use --site NAME to run only some sites' hosts; apply ASSOC runs one association now",
	"daemon":    "use --site NAME to run only some sites' hosts",
	"inventory": "use --targets SEL to resolve a selector",
}

func unknownCommand(app *cli.App, name string) error {
	var names []string
	for _, c := range app.Commands {
		names = append(names, c.Names()...)
	}
	msg := fmt.Sprintf("unknown command %q", name)
	if s := diag.Suggest(name, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return usageError("%s\n\thint: driftless --help lists the commands", msg)
}

// Main runs driftless with args and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	defer startProfile(stderr)()
	app := NewApp(stdin, stdout, stderr)
	if len(args) > 1 && args[1] == completeCommand {
		complete(app, args[2:], stdout)
		return exitOK
	}
	norm, err := normalizeArgs(app, args)
	if err == nil {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err = app.RunContext(ctx, norm)
	}
	if err == nil {
		return exitOK
	}
	code := exitInvalid
	var ee *exitError
	var ce cli.ExitCoder
	switch {
	case errors.As(err, &ee):
		code = ee.code
	case errors.As(err, &ce):
		code = ce.ExitCode()
	}
	if msg := err.Error(); msg != "" {
		if errors.Is(err, diag.ErrInvalid) {
			fmt.Fprintln(stderr, msg)
		} else {
			fmt.Fprintln(stderr, "driftless: "+msg)
		}
	}
	return code
}

// normalizeArgs lets flags stand anywhere (docs/commands.md): before or after the
// command name and before or after its arguments. It moves global flags
// before the command and the command's own flags right after it; "--"
// ends flag parsing (exec's command follows it). Unknown flags are
// reported here with a suggestion.
func normalizeArgs(app *cli.App, args []string) ([]string, error) {
	if len(args) == 0 {
		return args, nil
	}
	var global, local, positional []string
	var cmd *cli.Command
	var cmdName string
	var path []string // the command and its subcommand: journal prune
	rest := args[1:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			positional = append(positional, rest[i:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			if cmd == nil && cmdName == "" {
				cmdName = a
				cmd = app.Command(a)
				if cmd == nil {
					return nil, unknownCommand(app, a)
				}
				path = append(path, a)
				continue
			}
			if sub := cmd.Command(a); sub != nil && len(positional) == 0 && len(local) == 0 {
				cmd, path = sub, append(path, a)
				continue
			}
			positional = append(positional, a)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "h" || name == "help" {
			local = append(local, a)
			continue
		}
		var f cli.Flag
		if cmd != nil {
			f = findFlag(cmd.Flags, name) // a command's own flag first (man -o)
		}
		isGlobal := f == nil
		if isGlobal {
			f = findFlag(app.Flags, name)
		}
		if f == nil {
			return nil, unknownFlag(app, cmd, strings.Join(path, " "), a, name)
		}
		group := []string{a}
		if takesValue(f) && !hasValue && i+1 < len(rest) {
			group = append(group, rest[i+1])
			i++
		}
		if isGlobal {
			global = append(global, group...)
		} else {
			local = append(local, group...)
		}
	}
	out := append(append([]string{args[0]}, global...), path...)
	out = append(out, local...)
	return append(out, positional...), nil
}

func findFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	return nil
}

func takesValue(f cli.Flag) bool {
	dg, ok := f.(cli.DocGenerationFlag)
	return ok && dg.TakesValue()
}

func unknownFlag(app *cli.App, cmd *cli.Command, cmdPath, arg, name string) error {
	var names []string
	for _, f := range app.Flags {
		names = append(names, f.Names()...)
	}
	where := "driftless --help"
	if cmd != nil {
		for _, f := range cmd.Flags {
			names = append(names, f.Names()...)
		}
		where = "driftless " + cmdPath + " --help"
	}
	msg := fmt.Sprintf("unknown flag %s", arg)
	if s := diag.Suggest(name, names); s != "" {
		dash := "--"
		if len(s) == 1 {
			dash = "-"
		}
		msg += fmt.Sprintf(" (did you mean %s%s?)", dash, s)
	}
	return usageError("%s\n\thint: %s lists the flags", msg, where)
}
