package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/internal/diag"
	"github.com/driftless-dev/driftless/runner"
	"github.com/driftless-dev/driftless/transport"
)

// printScript is documents NAME --script: the first script a host gets
// for NAME (runner.Script).
func printScript(c *cli.Context, u *ui) error {
	if c.NArg() != 1 {
		return usageError("documents --script needs NAME (an association or a document)")
	}
	cfg, err := scriptConfig(c, u)
	if err != nil {
		return err
	}
	if a := cfg.Association(c.Args().First()); a != nil {
		if err := needEnv(u, cfg, []runner.Job{{Assoc: a}}); err != nil {
			return err
		}
	}
	hs, err := runner.Script(cfg, runner.ScriptOptions{
		Name:  c.Args().First(),
		Host:  c.String("host"),
		Check: c.Bool("check"),
		Shell: transport.Shell(c.String("shell")),
	})
	if err != nil {
		return usageError("%v", err)
	}
	if u.json {
		return u.printJSON(hs)
	}
	_, err = fmt.Fprint(u.out, hs.Text())
	return err
}

// scriptConfig is the whole config dir when it has an inventory (hosts
// and associations), else its documents alone.
func scriptConfig(c *cli.Context, u *ui) (*config.Config, error) {
	opts := configOptions(c)
	if _, err := os.Stat(pathOr(opts.Inventory, opts.Dir, "inventory.toml")); !errors.Is(err, fs.ErrNotExist) {
		return loadConfig(c, u)
	}
	var list diag.List
	docs := config.LoadDocuments(opts.Dir, &list)
	if err := u.diagnostics(&list); err != nil {
		return nil, err
	}
	return &config.Config{Dir: opts.Dir, Documents: docs}, nil
}
