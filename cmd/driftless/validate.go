package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/internal/diag"
)

func runValidate(c *cli.Context, u *ui) error {
	cfg, list := config.Load(configOptions(c))
	envProblems(cfg, list, c.Bool("require-env"))
	if u.json {
		errs, warns := list.Errors(), list.Warnings()
		out := map[string]any{"valid": len(errs) == 0, "errors": toJSONDiags(errs), "warnings": toJSONDiags(warns)}
		if cfg != nil && cfg.Inventory != nil && len(errs) == 0 {
			out["hosts"] = len(cfg.Inventory.Hosts)
			out["documents"] = len(cfg.Documents)
			out["associations"] = len(cfg.Associations)
			if cfg.Notify != nil {
				out["webhooks"] = len(cfg.Notify.Webhooks)
			}
		}
		if err := u.printJSON(out); err != nil {
			return err
		}
		if len(errs) > 0 {
			return exitWith(exitInvalid, nil)
		}
		return nil
	}
	if err := u.diagnostics(list); err != nil {
		return err
	}
	hooks := ""
	if cfg.Notify != nil {
		hooks = fmt.Sprintf(", %d %s", len(cfg.Notify.Webhooks), plural(len(cfg.Notify.Webhooks), "webhook"))
	}
	fmt.Fprintf(u.out, "ok: %d %s, %d %s, %d %s%s\n",
		len(cfg.Inventory.Hosts), plural(len(cfg.Inventory.Hosts), "host"),
		len(cfg.Documents), plural(len(cfg.Documents), "document"),
		len(cfg.Associations), plural(len(cfg.Associations), "association"), hooks)
	return nil
}

// envProblems adds to list the environment variables that parts of the
// config need and the environment lacks (docs/config-dir.md#secrets): one
// warning per variable, saying what needs it, since the files are right
// and only the commands that run those parts stop on it; with
// --require-env (the check to make where driftless runs, with its
// environment) an error at every place that asks for one.
func envProblems(cfg *config.Config, list *diag.List, require bool) {
	if cfg == nil {
		return
	}
	for _, p := range cfg.UnsetEnv() {
		if require {
			for _, e := range p.Places {
				list.Add(e)
			}
			continue
		}
		at := p.Places[0]
		w := list.Warnf(at.File, at.Pos, "", "environment variable %s is not set: needed by %s; the commands that run them stop on it (validate --require-env makes this an error)",
			p.Var, strings.Join(p.Needed, ", "))
		w.Hint = at.Hint
	}
}
