package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
)

func runInit(c *cli.Context, u *ui) error {
	if c.NArg() > 1 {
		return usageError("init takes at most one DIR")
	}
	dir := c.Args().First()
	if dir == "" {
		dir = c.String("dir")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return exitWith(exitInvalid, err)
	}
	files := exampleFiles(abs)
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(abs, f.path)); err == nil {
			return usageError("%s already exists; init never overwrites files", filepath.Join(dir, f.path))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return exitWith(exitInvalid, err)
		}
	}
	for _, f := range files {
		p := filepath.Join(abs, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return exitWith(exitInvalid, fmt.Errorf("init: %w", err))
		}
		if err := os.WriteFile(p, []byte(f.content), 0o644); err != nil {
			return exitWith(exitInvalid, fmt.Errorf("init: %w", err))
		}
		u.notef("wrote %s", filepath.Join(dir, f.path))
	}
	fmt.Fprintf(u.out, "Next:\n  driftless validate -C %[1]s\n  driftless apply -C %[1]s\n  driftless check -C %[1]s\n  driftless status -C %[1]s\n", dir)
	return nil
}

type exampleFile struct{ path, content string }

func exampleFiles(abs string) []exampleFile {
	q := fmt.Sprintf("%q", abs)
	return []exampleFile{
		{"inventory.toml", strings.ReplaceAll(exampleInventory, "@ROOT@", q)},
		{"documents/baseline.toml", exampleDocument},
		{"associations.toml", exampleAssociations},
		{".gitignore", ".driftless/\n"},
	}
}

const exampleInventory = `# Hosts driftless manages. Every key of [defaults] may also be set per
# group or per host; precedence: host > groups > defaults > ~/.ssh/config.

[defaults]
connect_timeout = "10s"
host_key_policy = "strict"   # or "accept-new"; host keys are always verified

# The machine driftless runs on. Its example files live under this config
# dir only (vars.root), so trying driftless changes nothing else.
[hosts.this-machine]
transport = "local"
tags = { role = "example" }
vars = { root = @ROOT@ }

# An SSH host:
# [hosts.web-1]
# address = "10.0.1.11"
# user = "deploy"
# identity_files = ["~/.ssh/id_ed25519"]
# jump = "bastion"                 # ProxyJump through another host
# become = "sudo"                  # become_password_env = "SUDO_PASSWORD"
# tags = { role = "web", env = "prod" }

# A Windows host over WinRM (the password comes from the environment):
# [hosts.win-1]
# address = "10.0.2.5"
# transport = "winrm"
# user = "Administrator"
# password_env = "WIN_PASSWORD"
# winrm = { https = true, port = 5986, auth = "ntlm" }

# [groups.web]
# select = ["tag:role=web"]
`

const exampleDocument = `description = "Example baseline: a directory, a config file, a line in it, and a guarded command."

[parameters.greeting]
type = "String"
default = "hello from driftless"
description = "Written into the example config file."

[[steps]]
name = "dir"
action = "directory"
path = "{{ host.vars.root }}/managed"
mode = "0755"

[[steps]]
name = "config"
action = "file"
path = "{{ host.vars.root }}/managed/app.conf"
content = """
# managed by driftless: edit documents/baseline.toml, not this file
greeting = {{ greeting }}
host = {{ host.name }}
"""
mode = "0644"

[[steps]]
name = "motd"
action = "line"
path = "{{ host.vars.root }}/managed/motd"
line = "Welcome to {{ host.name }}"
regexp = "^Welcome to "
create = true

[[steps]]
name = "stamp"
action = "shell"
check = "test -f \"$DL_ROOT/managed/.installed\""
run = "date -u > \"$DL_ROOT/managed/.installed\""
env = { DL_ROOT = "{{ host.vars.root }}" }
`

const exampleAssociations = `# Which document runs where, when, with which parameters.
[associations.baseline]
document = "baseline"
targets = ["tag:role=example"]
parameters = { greeting = "hello from driftless" }
schedule = "rate(30 minutes)"       # for driftless tick / daemon
compliance_severity = "MEDIUM"
`
