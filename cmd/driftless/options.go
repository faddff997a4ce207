package main

import (
	"path/filepath"

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

// pathOr returns path, or dir/name when path is empty.
func pathOr(path, dir, name string) string {
	if path != "" {
		return path
	}
	return filepath.Join(dir, name)
}
