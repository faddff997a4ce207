package main

import (
	"path/filepath"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/internal/diag"
	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/runner"
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

// needEnv stops a command that runs jobs, before any host is contacted,
// when what it runs needs environment variables that are not set
// (docs/config-dir.md#secrets): each is named where the file asks for
// it, and the command exits 1. What it does not run may lack its own.
func needEnv(u *ui, cfg *config.Config, jobs []runner.Job) error {
	var l diag.List
	for _, j := range jobs {
		cfg.NeedEnv(&l, j.Assoc, j.Hosts)
	}
	return u.diagnostics(&l)
}

// runnable is cfg without what tick and daemon cannot run for want of an
// environment variable: the associations that need one, and the hosts
// that do on the others. blocked says what and why, for the user.
func runnable(cfg *config.Config) (out *config.Config, blocked []*diag.Error) {
	c := *cfg
	c.Associations = nil
	for _, a := range cfg.Associations {
		if missing := a.MissingEnv(); len(missing) > 0 {
			blocked = append(blocked, missing...)
			continue
		}
		var l diag.List
		cfg.NeedEnv(&l, nil, a.Hosts)
		if l.Len() == 0 {
			c.Associations = append(c.Associations, a)
			continue
		}
		b := *a
		b.Hosts = slices.DeleteFunc(slices.Clone(a.Hosts), func(h *inventory.Host) bool { return len(cfg.HostMissingEnv(h)) > 0 })
		c.Associations = append(c.Associations, &b)
		for _, e := range l.Errors() {
			if !slices.ContainsFunc(blocked, func(o *diag.Error) bool { return o.Error() == e.Error() }) {
				blocked = append(blocked, e)
			}
		}
	}
	return &c, blocked
}
