package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// manText renders page as man(1) shows it, at 200 columns so that no
// flag is hyphenated, and fails on any warning of the renderer.
func manText(t *testing.T, page string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "driftless.1")
	if err := os.WriteFile(p, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	var cmd *exec.Cmd
	switch {
	case lookPath("man"):
		cmd = exec.Command("man", "--warnings=w", "-l", p)
		cmd.Env = append(os.Environ(), "MANPAGER=cat", "PAGER=cat", "MANWIDTH=200", "MAN_KEEP_FORMATTING=0")
	case lookPath("groff"):
		cmd = exec.Command("groff", "-man", "-Tutf8", "-ww", "-rLL=200n", p)
	default:
		t.Skip("neither man nor groff is installed")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("%s: %v\n%s", cmd, err, stderr.String())
	}
	// Bold and underline by overstrike (groff -Tutf8 without a pager).
	return regexp.MustCompile(`.\x08`).ReplaceAllString(string(out), "")
}

func lookPath(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// driftless man renders without a warning and names every command of
// the app and every flag of each, with its placeholder, default and
// environment variables: a command or flag added to app.go is in the man
// page, and one without help text fails here.
func TestManPage(t *testing.T) {
	noExitSleep(t)
	out, err := exec.Command("driftless", "man").Output()
	if err != nil {
		t.Fatalf("driftless man: %v", err)
	}
	text := manText(t, string(out))
	for _, want := range []string{"DRIFTLESS(1)", "NAME", "SYNOPSIS", "GLOBAL FLAGS", "COMMANDS", "EXIT STATUS", "ENVIRONMENT", "FILES",
		"DIR/inventory.toml", "DIR/.driftless/journal.db", "DRIFTLESS_DIR", "DRIFTLESS_KEY_PASSPHRASE", "130", "association × host"} {
		if !strings.Contains(text, want) {
			t.Errorf("man page lacks %q", want)
		}
	}
	app := NewApp(nil, nil, nil)
	checkFlags := func(where string, flags []cli.Flag) {
		for _, f := range flags {
			dg := f.(cli.DocGenerationFlag)
			if strings.TrimSpace(dg.GetUsage()) == "" {
				t.Errorf("%s: flag --%s has no help text", where, f.Names()[0])
			}
			for _, n := range f.Names() {
				dash := "--"
				if len(n) == 1 {
					dash = "-"
				}
				name := dash + n
				if dg.TakesValue() {
					_, placeholder := flagPlaceholder(f)
					name += " " + placeholder
				}
				if !strings.Contains(text, name) {
					t.Errorf("%s: man page lacks %q", where, name)
				}
			}
			for _, env := range dg.GetEnvVars() {
				if !strings.Contains(text, env) {
					t.Errorf("%s: man page lacks %s, the environment of --%s", where, env, f.Names()[0])
				}
			}
		}
	}
	checkFlags("global", app.Flags)
	// Every command and subcommand (journal migrate) has a section of its
	// own, with its flags.
	var walk func(parent string, cmds []*cli.Command)
	walk = func(parent string, cmds []*cli.Command) {
		for _, cmd := range cmds {
			if cmd.Hidden || cmd.Name == "help" {
				continue
			}
			name := parent + " " + cmd.Name
			if strings.TrimSpace(cmd.Usage) == "" {
				t.Errorf("command %s has no usage", name)
			}
			if !regexp.MustCompile(`(?m)^\s*` + name + `( |$)`).MatchString(text) {
				t.Errorf("man page lacks a section for command %s", name)
			}
			checkFlags(name, cmd.Flags)
			walk(name, cmd.Subcommands)
		}
	}
	walk("driftless", app.Commands)
	for _, want := range []string{"--lease-wait DURATION", "(default: 1m0s)", "--dir DIR, -C DIR", "(default: .; environment: DRIFTLESS_DIR)", "--targets SEL, -t SEL",
		"driftless journal prune|stats|migrate", "driftless journal migrate [flags]", "--to URL", "--older-than AGE", "--node NAME", "environment: DRIFTLESS_NODE",
		"--site NAME", "--max-hosts N", "(default: 200)", "--lease-ttl D", "PGPASSWORD"} {
		if !strings.Contains(text, want) {
			t.Errorf("man page lacks %q", want)
		}
	}
}

// driftless man -o DIR writes DIR/driftless.1, the page it prints; -o
// there is man's own flag, not --output.
func TestManOutputDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "man1")
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"driftless", "man", "-o", dir}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if stdout.Len() != 0 || !strings.Contains(stderr.String(), "wrote "+filepath.Join(dir, "driftless.1")) {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	written, err := os.ReadFile(filepath.Join(dir, "driftless.1"))
	if err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if code := Main([]string{"driftless", "man"}, nil, &stdout, &stderr); code != 0 || stdout.String() != string(written) {
		t.Errorf("driftless man (exit %d) prints something other than driftless.1", code)
	}
	if !strings.HasPrefix(string(written), ".TH DRIFTLESS 1 ") {
		t.Errorf("not a section 1 page: %.40q", written)
	}
	if code := Main([]string{"driftless", "man", "extra"}, nil, &stdout, &stderr); code != exitInvalid {
		t.Errorf("man extra: exit %d, want 1", code)
	}
}

// roffText keeps a text line from being read as a request and a flag's
// minus signs from becoming hyphens or dashes.
func TestRoffText(t *testing.T) {
	for in, want := range map[string]string{
		".hidden":         `\&.hidden`,
		"a\n'b":           "a\n\\&'b",
		"--dir a\\b":      `\-\-dir a\eb`,
		"association × h": `association \[u00D7] h`,
		"it's":            "it's",
	} {
		if got := roffText(in); got != want {
			t.Errorf("roffText(%q) = %q, want %q", in, got, want)
		}
	}
}

// The man page's ENVIRONMENT names every variable of the table in
// docs/commands.md#environment-variables.
func TestManEnvironmentAsDocs(t *testing.T) {
	docs, err := os.ReadFile("../../docs/commands.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(docs), "\n## Environment variables\n")
	if !ok {
		t.Fatal("docs/commands.md has no Environment variables section")
	}
	_, env, _ := strings.Cut(manPage(NewApp(nil, nil, nil)), ".SH ENVIRONMENT\n")
	env, _, _ = strings.Cut(env, ".SH FILES\n")
	names := regexp.MustCompile("(?m)^\\| `([A-Z_]+)`").FindAllStringSubmatch(table, -1)
	if len(names) < 10 {
		t.Fatalf("%d variables read from docs/commands.md, want 10 or more", len(names))
	}
	for _, m := range names {
		if !strings.Contains(env, m[1]) {
			t.Errorf("the man page's ENVIRONMENT lacks %s (docs/commands.md has it)", m[1])
		}
	}
}
