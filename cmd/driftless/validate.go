package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/config"
)

func runValidate(c *cli.Context, u *ui) error {
	cfg, list := config.Load(configOptions(c))
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
