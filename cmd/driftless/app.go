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
		&cli.StringFlag{Name: "journal", Usage: "journal file (default DIR/.driftless/journal.db)", EnvVars: []string{"DRIFTLESS_JOURNAL"}},
		&cli.StringFlag{Name: "inventory", Usage: "inventory file (default DIR/inventory.toml)"},
		&cli.StringFlag{Name: "associations", Usage: "associations file (default DIR/associations.toml)"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output format: text or json", Value: "text"},
		&cli.BoolFlag{Name: "json", Usage: "short for --output json"},
		&cli.BoolFlag{Name: "no-color", Usage: "no colours (also NO_COLOR)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only problems and the result"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print debug logs"},
		versionFlag,
	}
}

// NewApp builds the command line application on the given streams.
func NewApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:                 "driftless",
		Usage:                "keep machines in a declared state over SSH and WinRM, and remember every drift",
		Version:              buildVersion().Version,
		Description:          "driftless reads a config dir (inventory.toml, associations.toml, documents/), checks every step\non every target host, corrects what drifted and records it all in a local journal.",
		Reader:               stdin,
		Writer:               stdout,
		ErrWriter:            stderr,
		Flags:                globalFlags(),
		HideHelpCommand:      true,
		EnableBashCompletion: true,
		Commands: []*cli.Command{
			applyCommand(),
			checkCommand(),
			execCommand(),
			tickCommand(),
			daemonCommand(),
			scheduleCommand(),
			statusCommand(),
			historyCommand(),
			showCommand(),
			driftCommand(),
			validateCommand(),
			inventoryCommand(),
			documentsCommand(),
			demoCommand(),
			initCommand(),
			completionCommand(),
			versionCommand(),
		},
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
	return app
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
	norm, err := args, error(nil)
	if !slices.Contains(args, "--generate-bash-completion") {
		norm, err = normalizeArgs(app, args)
	}
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
		f, isGlobal := findFlag(app.Flags, name), true
		if f == nil && cmd != nil {
			f, isGlobal = findFlag(cmd.Flags, name), false
		}
		if f == nil {
			return nil, unknownFlag(app, cmd, a, name)
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
	out := append([]string{args[0]}, global...)
	if cmdName != "" {
		out = append(out, cmdName)
	}
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

func unknownFlag(app *cli.App, cmd *cli.Command, arg, name string) error {
	var names []string
	for _, f := range app.Flags {
		names = append(names, f.Names()...)
	}
	where := "driftless --help"
	if cmd != nil {
		for _, f := range cmd.Flags {
			names = append(names, f.Names()...)
		}
		where = "driftless " + cmd.Name + " --help"
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
