package main

import (
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/runner"
)

func runExec(c *cli.Context, u *ui) error {
	args := c.Args().Slice()
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	command := strings.Join(args, " ")
	if strings.TrimSpace(command) == "" {
		return usageError("exec needs a command: driftless exec --targets SEL -- COMMAND")
	}
	sels := c.StringSlice("targets")
	if len(sels) == 0 {
		return usageError("exec needs --targets (use --targets '*' for every host)")
	}
	if _, err := nodeName(c); err != nil { // checked before any host is contacted
		return err
	}
	conc := config.Rate{N: 50}
	if c.IsSet("max-concurrency") {
		r, err := config.ParseRate(c.String("max-concurrency"), 1)
		if err != nil {
			return usageError("--max-concurrency: %v", err)
		}
		conc = r
	}
	opts := configOptions(c)
	cfg, list := config.Load(opts)
	if cfg == nil || cfg.Inventory == nil {
		return u.diagnostics(list)
	}
	// exec needs only a valid inventory: a broken association elsewhere
	// does not stop an ad-hoc command.
	inv, ilist := inventory.Load(pathOr(opts.Inventory, opts.Dir, "inventory.toml"), opts.Inv)
	if err := u.diagnostics(ilist); err != nil {
		return err
	}
	hosts, err := inv.ResolveTargets(sels)
	if err != nil {
		return targetsError(err)
	}
	if err := needEnv(u, cfg, []runner.Job{{Hosts: hosts}}); err != nil {
		return err
	}
	j, err := openJournal(c)
	if err != nil {
		return exitWith(exitInvalid, err)
	}
	defer j.Close()
	d := newDialer()
	prog := newProgress(u)
	r := runner.New(runner.Options{Config: cfg, Dial: d.dial, Journal: j, Events: prog, HostDetail: d.note})
	defer r.Close()
	r.Expect(hosts)
	res, err := r.Exec(c.Context, runner.ExecJob{Command: command, Hosts: hosts, MaxConcurrency: conc, Timeout: c.Duration("timeout")})
	prog.done()
	if err != nil {
		return exitWith(exitFailed, err)
	}
	if !u.json && !u.quiet {
		for _, h := range res.Hosts {
			for _, s := range h.Steps {
				for _, l := range strings.Split(safeText(strings.TrimRight(s.Stdout, "\n")), "\n") {
					if l != "" {
						u.printf("%s: %s\n", h.Host, l)
					}
				}
				for _, l := range strings.Split(safeText(strings.TrimRight(s.Stderr, "\n")), "\n") {
					if l != "" {
						u.eprintf("%s: %s\n", h.Host, l)
					}
				}
			}
		}
	}
	return finishRuns(c, u, []*runner.RunResult{res})
}
