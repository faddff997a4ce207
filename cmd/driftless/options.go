package main

import (
	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/config"
)

// configOptions turns the global flags into config.Options.
func configOptions(c *cli.Context) config.Options {
	return config.Options{
		Dir:          c.String("dir"),
		Inventory:    c.String("inventory"),
		Associations: c.String("associations"),
	}
}
