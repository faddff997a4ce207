package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// Every command that takes no arguments refuses one, exit 1, before it
// runs anything (in a config dir that does not exist, so that a command
// that ran would fail otherwise): a site or a selector typed where a flag
// was meant is not ignored.
func TestCommandsRefuseStrayArguments(t *testing.T) {
	dir := t.TempDir() + "/nothing-here"
	var walk func(path []string, cmds []*cli.Command)
	walk = func(path []string, cmds []*cli.Command) {
		for _, cmd := range cmds {
			p := append(append([]string{}, path...), cmd.Name)
			if len(cmd.Subcommands) > 0 {
				walk(p, cmd.Subcommands)
				continue
			}
			if cmd.ArgsUsage != "" || cmd.Hidden {
				continue
			}
			var out, errb bytes.Buffer
			args := append(append([]string{"driftless", "-C", dir}, p...), "eu-west")
			code := Main(args, strings.NewReader(""), &out, &errb)
			want := cmd.Name + ` takes no arguments, got "eu-west"`
			if code != 1 || !strings.Contains(errb.String(), want) || out.Len() != 0 {
				t.Errorf("driftless %s eu-west: exit %d, stdout %q, stderr %q; want exit 1 and %q", strings.Join(p, " "), code, out.String(), errb.String(), want)
			}
		}
	}
	walk(nil, NewApp(nil, nil, nil).Commands)

	var errb bytes.Buffer
	if code := Main([]string{"driftless", "-C", dir, "tick", "eu-west"}, strings.NewReader(""), &bytes.Buffer{}, &errb); code != 1 ||
		!strings.Contains(errb.String(), "hint: use --site NAME") {
		t.Errorf("tick eu-west: exit %d, %q; want the --site hint", code, errb.String())
	}
}
