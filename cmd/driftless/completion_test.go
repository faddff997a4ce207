package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/internal/configtest"
)

// completionDir is a valid config dir (loaded by configtest to prove it)
// with three hosts, two groups, tags, two associations and a document.
func completionDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	doc := "[[steps]]\nname = \"hello\"\naction = \"shell\"\nrun = \"true\"\n"
	configtest.Dir(t, dir, map[string]string{
		"inventory.toml": `[defaults]
transport = "local"
[hosts.web-1]
tags = { role = "web", env = "prod" }
site = "eu-west"
[hosts.web-2]
tags = { role = "web", env = "staging" }
[hosts.db-1]
tags = { role = "db", env = "prod" }
[groups.web]
members = ["web-1", "web-2"]
[groups.canary]
members = ["web-2"]
site = "us-east"
`,
		"associations.toml": `[associations.web-baseline]
document = "hello"
targets = ["group:web"]
[associations.db-baseline]
document = "hello"
targets = ["tag:role=db"]
`,
		"documents/hello.toml": doc,
	})
	return dir
}

// noExitSleep keeps the driftless processes the test starts from
// sleeping a second as they exit when built with the race detector (its
// atexit_sleep_ms).
func noExitSleep(t *testing.T) {
	t.Setenv("GORACE", "atexit_sleep_ms=0")
}

// shellSetup skips the test without shell, else returns a config dir
// (completionDir) and the completion script for shell.
func shellSetup(t *testing.T, shell string) (dir, scriptPath string) {
	t.Helper()
	if _, err := exec.LookPath(shell); err != nil {
		t.Skip("no " + shell)
	}
	return completionDir(t), script(t, shell)
}

// script is driftless's completion script for shell, as a user gets it.
func script(t *testing.T, shell string) string {
	t.Helper()
	noExitSleep(t)
	out, err := exec.Command("driftless", "completion", shell).Output()
	if err != nil {
		t.Fatalf("driftless completion %s: %v", shell, err)
	}
	p := filepath.Join(t.TempDir(), "driftless."+shell)
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// bashWords splits line as bash does into COMP_WORDS: at blanks outside
// quotes, and at the COMP_WORDBREAKS characters : and =, each of which
// becomes a word of its own. A line that ends in a blank ends with an
// empty word.
func bashWords(line string) []string {
	var words []string
	var cur strings.Builder
	quote := byte(0)
	flush := func() {
		if cur.Len() > 0 {
			words = append(words, cur.String())
			cur.Reset()
		}
	}
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
			cur.WriteByte(ch)
		case ch == '\'' || ch == '"':
			quote = ch
			cur.WriteByte(ch)
		case ch == ' ':
			flush()
		case ch == ':' || ch == '=':
			flush()
			words = append(words, string(ch))
		default:
			cur.WriteByte(ch)
		}
	}
	flush()
	if strings.HasSuffix(line, " ") {
		words = append(words, "")
	}
	return words
}

// bashComplete presses tab in bash after line: it sources the script,
// sets COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT as bash does,
// calls _driftless, and returns the lines as they read after each of
// COMPREPLY is put in place of the current word.
func bashComplete(t *testing.T, scriptPath, line string) []string {
	t.Helper()
	words := bashWords(line)
	args := append([]string{"--norc", "--noprofile", "-c", `source "$1"; COMP_LINE=$2; COMP_POINT=${#COMP_LINE}; shift 2
COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_driftless
printf '%s\n' "${COMPREPLY[@]}"`, "bash", scriptPath, line}, words...)
	cmd := exec.Command("bash", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("bash completion of %q: %v\n%s", line, err, stderr.String())
	}
	cur := words[len(words)-1]
	var lines []string
	for _, r := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		if r != "" {
			lines = append(lines, strings.TrimSuffix(line, cur)+r)
		}
	}
	return lines
}

func TestBashCompletion(t *testing.T) {
	dir, s := shellSetup(t, "bash")
	d := "driftless -C " + dir
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"driftless ch", []string{"driftless check"}},
		{"driftless d", []string{"driftless daemon", "driftless drift", "driftless documents", "driftless demo"}},
		{"driftless m", []string{"driftless man"}},
		{"driftless apply --max-", []string{"driftless apply --max-concurrency", "driftless apply --max-errors"}},
		{"driftless status --fa", []string{"driftless status --fail-on-noncompliant"}},
		{"driftless --ver", []string{"driftless --verbose", "driftless --version"}},
		{d + " apply ", []string{d + " apply db-baseline", d + " apply web-baseline"}},
		{d + " check web-baseline ", []string{d + " check web-baseline db-baseline"}},
		{d + " check w", []string{d + " check web-baseline"}},
		{"driftless check w --dir=" + dir, []string{"driftless check w --dir=" + dir}}, // by bash: compgen -d
		{d + " status --host w", []string{d + " status --host web-1", d + " status --host web-2"}},
		{d + " drift --association=d", []string{d + " drift --association=db-baseline"}},
		{d + " status --severity H", []string{d + " status --severity HIGH"}},
		{d + " check --targets group:", []string{d + " check --targets group:canary", d + " check --targets group:web"}},
		{d + " check -t tag:role=w", []string{d + " check -t tag:role=web"}},
		{d + " check --targets=tag:e", []string{d + " check --targets=tag:env=prod", d + " check --targets=tag:env=staging"}},
		{d + " inventory -t db", []string{d + " inventory -t db-1"}},
		{d + " check --targets site:", []string{d + " check --targets site:eu-west", d + " check --targets site:us-east"}},
		{d + " tick --site ", []string{d + " tick --site eu-west", d + " tick --site us-east"}},
		{d + " daemon --site=u", []string{d + " daemon --site=us-east"}},
		{"driftless tick --max", []string{"driftless tick --max-hosts"}},
		{"driftless --nod", []string{"driftless --node"}},
		{"driftless tick --lease", []string{"driftless tick --lease-ttl"}},
		{"driftless daemon --max-h", []string{"driftless daemon --max-hosts"}},
		{"driftless journal ", []string{"driftless journal prune", "driftless journal stats", "driftless journal migrate"}},
		{"driftless journal pr", []string{"driftless journal prune"}},
		{"driftless journal migrate --t", []string{"driftless journal migrate --to"}},
		{"driftless journal --json prune --old", []string{"driftless journal --json prune --older-than"}},
		{"driftless journal nosuch --", nil},
		{d + " inventory -t 'group:web & !w", []string{d + " inventory -t 'group:web & !web-1", d + " inventory -t 'group:web & !web-2"}},
		{d + " documents h", []string{d + " documents hello"}},
		{d + " documents driftless:Run", []string{d + " documents driftless:RunPowerShellScript", d + " documents driftless:RunShellScript"}},
		{d + " documents --script web", []string{d + " documents --script web-baseline"}},
		{"driftless completion ", []string{"driftless completion bash", "driftless completion zsh", "driftless completion fish"}},
		{"driftless -o j", []string{"driftless -o json"}},
		{"driftless status -o p", []string{"driftless status -o prometheus"}},
		{"driftless history -o p", nil},
		{"driftless nosuch ", nil},
	} {
		got := bashComplete(t, s, tc.line)
		if !sameSet(got, tc.want) {
			t.Errorf("tab after %q:\n got %q\nwant %q", tc.line, got, tc.want)
		}
	}

	// --junit FILE and --dir DIR complete file and directory names.
	if got := bashComplete(t, s, "driftless apply --junit "+dir+"/asso"); !slices.Equal(got, []string{"driftless apply --junit " + dir + "/associations.toml"}) {
		t.Errorf("--junit: got %q", got)
	}
	if got := bashComplete(t, s, "driftless apply -C "+dir+"/doc"); !slices.Equal(got, []string{"driftless apply -C " + dir + "/documents"}) {
		t.Errorf("-C: got %q", got)
	}
}

// A broken or missing config gives no candidates and not a word on
// stderr: the shell's line stays as it was.
func TestCompletionBrokenConfig(t *testing.T) {
	noExitSleep(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "inventory.toml"), []byte("[hosts.web-1\naddress = "), 0o600)
	os.WriteFile(filepath.Join(dir, "associations.toml"), []byte("associations = 3\n"), 0o600)
	notTables := t.TempDir() // valid TOML whose entries are no tables
	os.WriteFile(filepath.Join(notTables, "inventory.toml"), []byte("[hosts]\nweb = \"x\"\n[groups]\ndb = 3\n"), 0o600)
	for _, words := range [][]string{
		{"-C", notTables, "tick", "--site", ""},
		{"-C", dir, "check", "--targets", ""},
		{"-C", dir, "check", ""},
		{"-C", filepath.Join(dir, "nosuch"), "status", "--host", ""},
		{"--dir", dir, "documents", "nosuch", ""},
	} {
		cmd := exec.Command("driftless", append([]string{completeCommand, "words"}, words...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 || string(out) != "words\n" {
			t.Errorf("%q: exit %v, stdout %q, stderr %q; want only the kind line", words, err, out, stderr.String())
		}
	}
}

// zsh: the script's function, called as compsys calls it (words,
// CURRENT), hands _describe the candidates with descriptions, colons
// escaped.
func TestZshCompletion(t *testing.T) {
	dir, s := shellSetup(t, "zsh")
	run := func(words ...string) string {
		t.Helper()
		prog := `compdef() { : }
_describe() { print -rl -- "${(@P)${@[-1]}}" }
_files() { print -r -- "_files $*" }
source "$1"; shift
words=("$@"); CURRENT=$#; PREFIX=${words[CURRENT]}
_driftless`
		cmd := exec.Command("zsh", append([]string{"-f", "-c", prog, "zsh", s}, words...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Fatalf("zsh completion of %q: %v\n%s", words, err, stderr.String())
		}
		return string(out)
	}
	if got := run("driftless", "-C", dir, "check", "--targets", "group:"); got != "group\\:canary:group\ngroup\\:web:group\n" {
		t.Errorf("--targets group: got %q", got)
	}
	if got := run("driftless", "-C", dir, "apply", "w"); got != "web-baseline:document hello\n" {
		t.Errorf("apply w: got %q", got)
	}
	if got := run("driftless", "sta"); !strings.HasPrefix(got, "status:compliance now: one row") {
		t.Errorf("sta: got %q", got)
	}
	if got := run("driftless", "status", "--ho"); got != "--host:only host NAME\n" {
		t.Errorf("--ho: got %q", got)
	}
	if got := run("driftless", "-C", dir, "status", "--host", "'db"); got != "db-1:host\n" {
		t.Errorf("quoted 'db: got %q", got)
	}
	if got := run("driftless", "init", ""); got != "_files -/\n" {
		t.Errorf("init: got %q", got)
	}
}

// fish: when fish is installed, complete -C (what fish offers at the
// end of a command line) lists the candidates with their descriptions.
func TestFishCompletion(t *testing.T) {
	dir, s := shellSetup(t, "fish")
	d := "driftless -C " + dir
	for line, want := range map[string]string{
		d + " apply w":                    "web-baseline\tdocument hello\n",
		d + " check --targets group:":     "group:canary\tgroup\ngroup:web\tgroup\n",
		d + " status --host=d":            "--host=db-1\thost\n",
		"driftless che":                   "check\tdetect drift and change nothing (apply --check)\n",
		"driftless --dir=" + dir + "/doc": "--dir=" + dir + "/documents/\tDirectory\n",
	} {
		out, err := exec.Command("fish", "--no-config", "-c", "source "+s+"; complete -C '"+line+"'").CombinedOutput()
		if err != nil || string(out) != want {
			t.Errorf("fish, tab after %q: %v\n got %q\nwant %q", line, err, out, want)
		}
	}
}

// Completing --targets on a 2,000-host inventory reads only that file:
// it stays well under the 100 ms a tab may take.
func TestCompletionLargeInventory(t *testing.T) {
	noExitSleep(t)
	dir := t.TempDir()
	var inv strings.Builder
	inv.WriteString("[defaults]\ntransport = \"ssh\"\nuser = \"deploy\"\n")
	for i := range 2000 {
		fmt.Fprintf(&inv, "[hosts.h%04d]\naddress = \"10.0.%d.%d\"\ntags = { role = \"r%d\", env = \"prod\" }\n", i, i/250, i%250, i%20)
	}
	for g := range 50 {
		fmt.Fprintf(&inv, "[groups.g%02d]\nselect = [\"tag:role=r%d\"]\n", g, g%20)
	}
	os.WriteFile(filepath.Join(dir, "inventory.toml"), []byte(inv.String()), 0o600)
	var best time.Duration
	var out []byte
	// CPU time (user + system), which other processes on a loaded
	// machine do not inflate as they do the wall clock.
	for range 5 {
		cmd := exec.Command("driftless", completeCommand, "words", "-C", dir, "check", "--targets", "h19")
		var err error
		out, err = cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if d := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(); best == 0 || d < best {
			best = d
		}
	}
	if n := strings.Count(string(out), "\n"); n != 1+100 { // h1900..h1999
		t.Errorf("%d lines for h19, want the kind and 100 hosts:\n%s", n, out)
	}
	t.Logf("completion on 2,000 hosts: %v of CPU (best of 5)", best)
	limit := 100 * time.Millisecond
	if raceEnabled {
		limit = 2 * time.Second // the race detector's instrumentation: 5 to 40 times slower
	}
	if best > limit {
		t.Errorf("completion on 2,000 hosts took %v of CPU, want under %v", best, limit)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// interactive types each of lines into an interactive shell on a
// terminal (script(1) gives it one), each followed by a tab and ctrl-t,
// bound to print the line as it then reads: what a user sees after
// pressing tab, through the shell's own completion system (bash's
// readline, zsh's compinit).
func interactive(t *testing.T, shell string, setup string, lines []string) []string {
	t.Helper()
	for _, p := range []string{shell, "script"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skip("no " + p)
		}
	}
	tmp := t.TempDir()
	out := filepath.Join(tmp, "lines")
	var start string
	switch shell {
	case "bash":
		start = "bash --norc --noprofile -i"
		setup += fmt.Sprintf(`
dump() { printf '%%s\n' "$READLINE_LINE" >> %s; READLINE_LINE=; }
bind -x '"\C-t": dump'
`, out)
	case "zsh":
		start = "zsh -f -i"
		setup += fmt.Sprintf(`
dump() { print -r -- "$BUFFER" >> %s; BUFFER=; }
zle -N dump; bindkey '^T' dump
`, out)
	}
	cmd := exec.Command("script", "-q", "-c", start, "/dev/null")
	cmd.Dir = tmp
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var tty bytes.Buffer
	cmd.Stdout, cmd.Stderr = &tty, &tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	}()
	// One line of setup at a time, in the shell's own syntax.
	for _, l := range strings.Split(setup, "\n") {
		if strings.TrimSpace(l) != "" {
			fmt.Fprintf(stdin, "%s\n", l)
		}
	}
	for _, l := range lines {
		fmt.Fprintf(stdin, "%s\t\x14", l)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		b, _ := os.ReadFile(out)
		got := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(b) > 0 && len(got) >= len(lines) {
			for i := range got {
				got[i] = strings.TrimRight(got[i], " ")
			}
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %d tabs in a minute; got %q; terminal:\n%s", shell, len(lines), b, tty.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Tab in a real interactive bash and zsh completes from the config dir.
func TestInteractiveCompletion(t *testing.T) {
	dir := completionDir(t)
	d := "driftless -C " + dir
	lines := []string{
		"driftless che",
		d + " check web-b",
		d + " check --targets group:w",
		d + " inventory -t 'tag:env=st",
		d + " status --host d",
		d + " documents driftless:RunSh",
		d + " drift --association=d",
		"driftless -C " + dir + "/doc",
		"driftless check --junit=" + dir + "/inv",
	}
	want := []string{
		"driftless check",
		d + " check web-baseline",
		d + " check --targets group:web",
		d + " inventory -t 'tag:env=staging'",
		d + " status --host db-1",
		d + " documents driftless:RunShellScript",
		d + " drift --association=db-baseline",
		"driftless -C " + dir + "/documents/",
		"driftless check --junit=" + dir + "/inventory.toml",
	}
	for _, shell := range []string{"bash", "zsh"} {
		t.Run(shell, func(t *testing.T) {
			s := script(t, shell)
			var setup string
			if shell == "bash" {
				setup = "source " + s
			} else {
				fpath := filepath.Join(t.TempDir(), "fpath")
				os.MkdirAll(fpath, 0o755)
				b, _ := os.ReadFile(s)
				os.WriteFile(filepath.Join(fpath, "_driftless"), b, 0o644)
				setup = "fpath=(" + fpath + " $fpath)\nautoload -U compinit\ncompinit -u -d " + filepath.Join(t.TempDir(), "zcompdump")
			}
			got := interactive(t, shell, setup, lines)
			t.Logf("%q", got)
			if !slices.Equal(got, want) {
				t.Errorf("after tab:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// Whatever the shell sends, __complete answers with a kind line and
// candidates, one a line, and never panics; the bash answer replaces
// only the current word.
func FuzzComplete(f *testing.F) {
	dir := completionDir(f)
	for _, seed := range []string{"driftless ", "driftless -C " + dir + " check --targets 'group:w", "driftless apply --targets=tag:r", `driftless "a\`, "driftless exec -- ls", "driftless -C \\ x man -o "} {
		f.Add(seed)
	}
	app := NewApp(nil, nil, nil)
	f.Fuzz(func(t *testing.T, line string) {
		words := splitLine(line)
		if len(words) == 0 {
			t.Fatalf("splitLine(%q) gave no word", line)
		}
		cur := words[len(words)-1]
		for _, args := range [][]string{{"bash", cur, line}, append([]string{"words"}, words...)} {
			var b bytes.Buffer
			complete(app, args, &b)
			out := strings.Split(b.String(), "\n")
			if !slices.Contains([]string{kindWords, kindFiles, kindDirs}, out[0]) || out[len(out)-1] != "" {
				t.Fatalf("complete(%q) = %q", args, b.String())
			}
		}
	})
}

// Completion is derived from the app's definition: after each visible
// command (and subcommand: journal migrate) it offers its subcommands,
// and after "-" every flag of the command and every global one, by each
// of its names, with its usage. A command or flag added to app.go that
// completion does not offer fails here.
func TestCompletionEveryCommandAndFlag(t *testing.T) {
	app := NewApp(nil, nil, nil)
	answer := func(words ...string) map[string]string {
		var b bytes.Buffer
		complete(app, append([]string{"words"}, words...), &b)
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")[1:] {
			word, desc, _ := strings.Cut(line, "\t")
			if _, ok := got[word]; !ok { // a command's -o before the global one
				got[word] = desc
			}
		}
		return got
	}
	wantFlags := func(path []string, flags, own []cli.Flag) {
		got := answer(append(slices.Clone(path), "-")...)
		for _, f := range flags {
			usage, _ := flagPlaceholder(f)
			for _, n := range f.Names() {
				if findFlag(own, n) != nil {
					continue // the command's own flag of that name
				}
				name := "--" + n
				if len(n) == 1 {
					name = "-" + n
				}
				if desc, ok := got[name]; !ok || desc != usage {
					t.Errorf("driftless %s <tab>: %s missing or described %q, want %q", strings.Join(path, " "), name, desc, usage)
				}
			}
		}
	}
	var walk func(path []string, cmds []*cli.Command)
	walk = func(path []string, cmds []*cli.Command) {
		got := answer(append(slices.Clone(path), "")...)
		for _, cmd := range cmds {
			if cmd.Hidden || cmd.Name == "help" {
				continue
			}
			if desc, ok := got[cmd.Name]; !ok || desc != cmd.Usage {
				t.Errorf("driftless %s <tab>: %s missing or described %q", strings.Join(path, " "), cmd.Name, desc)
			}
			sub := append(slices.Clone(path), cmd.Name)
			wantFlags(sub, cmd.Flags, nil)
			wantFlags(sub, app.Flags, cmd.Flags)
			walk(sub, cmd.Subcommands)
		}
	}
	walk(nil, app.Commands)
	for _, want := range [][]string{{"tick", "--node"}, {"tick", "--site"}, {"tick", "--max-hosts"}, {"tick", "--lease-ttl"},
		{"daemon", "--node"}, {"daemon", "--site"}, {"daemon", "--max-hosts"}, {"daemon", "--lease-ttl"}, {"journal", "migrate", "--to"}} {
		if _, ok := answer(append(slices.Clone(want[:len(want)-1]), "--")...)[want[len(want)-1]]; !ok {
			t.Errorf("driftless %s is not completed", strings.Join(want, " "))
		}
	}
	if got := answer("journal", ""); len(got) != 3 {
		t.Errorf("driftless journal <tab>: %v, want prune, stats and migrate", got)
	}
}
