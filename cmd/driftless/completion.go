package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/documents"
)

// runCompletion prints the completion script of the shell named.
func runCompletion(c *cli.Context) error {
	scripts := map[string]string{"bash": bashCompletion, "zsh": zshCompletion, "fish": fishCompletion}
	s, ok := scripts[c.Args().First()]
	if !ok || c.NArg() != 1 {
		return usageError("completion: expected bash, zsh or fish, got %q", strings.Join(c.Args().Slice(), " "))
	}
	fmt.Fprint(c.App.Writer, s)
	return nil
}

// completeCommand is the hidden first argument the completion scripts
// call driftless with: `driftless __complete words WORD...` (zsh, fish:
// the words after "driftless", the last one being completed) or
// `driftless __complete bash CUR LINE` (bash: its current word and the
// line up to the cursor). The answer is a kind on the first line (words,
// files or dirs: what to complete), then one candidate per line, with a
// tab and a description for zsh and fish. It reads only the config dir's
// inventory.toml and associations.toml and the names of its documents:
// no host, no secret, no journal; a file that cannot be read or parsed
// adds nothing, and nothing is ever printed on stderr.
const completeCommand = "__complete"

// Kinds of completion: the first line of the answer.
const (
	kindWords = "words"
	kindFiles = "files"
	kindDirs  = "dirs"
)

// complete answers a completion request (args follow __complete).
func complete(app *cli.App, args []string, w io.Writer) {
	// A short-lived process that allocates a few MB: collecting garbage
	// would only slow the answer down.
	debug.SetGCPercent(-1)
	var words []string
	var bashCur string
	bash := len(args) == 3 && args[0] == "bash"
	switch {
	case bash:
		bashCur = args[1]
		words = splitLine(args[2])
		if len(words) > 0 {
			words = words[1:] // the program name
		}
	case len(args) > 1 && args[0] == "words":
		words = args[1:]
		// A word whose quote is still open ('group:w) is completed
		// without it.
		last := words[len(words)-1]
		if strings.Count(last, "'") == 1 && last[0] == '\'' || strings.Count(last, `"`) == 1 && last[0] == '"' {
			words[len(words)-1] = last[1:]
		}
	default:
		return
	}
	if len(words) == 0 {
		words = []string{""}
	}
	kind, cands := completeWords(app, words[:len(words)-1], words[len(words)-1])
	var b strings.Builder
	b.WriteString(kind + "\n")
	cur := words[len(words)-1]
	for _, c := range cands {
		if bash {
			c.desc = ""
			var ok bool
			if c.word, ok = bashWord(c.word, cur, bashCur); !ok {
				continue
			}
		}
		b.WriteString(c.word)
		if c.desc != "" {
			b.WriteString("\t" + c.desc)
		}
		b.WriteString("\n")
	}
	io.WriteString(w, b.String())
}

// bashWord is what replaces bash's current word cur (split at its
// COMP_WORDBREAKS, such as : and =, and maybe opened with a quote) for the
// candidate cand of the whole word full.
func bashWord(cand, full, cur string) (string, bool) {
	if strings.HasPrefix(cur, "'") || strings.HasPrefix(cur, `"`) {
		return cur[:1] + cand, true
	}
	if !strings.HasSuffix(full, cur) {
		return cand, true
	}
	drop := len(full) - len(cur)
	if len(cand) < drop {
		return "", false
	}
	return cand[drop:], true
}

// splitLine splits a shell command line as far as the cursor into words:
// quotes and backslashes are removed, and a line that ends in a blank
// ends with an empty word (the one being started).
func splitLine(line string) []string {
	var words []string
	var cur strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case quote != 0 && ch == quote:
			quote = 0
		case quote == '\'':
			cur.WriteByte(ch)
		case ch == '\\' && i+1 < len(line) && quote == 0:
			i++
			cur.WriteByte(line[i])
			in = true
		case quote == '"':
			cur.WriteByte(ch)
		case ch == '\'' || ch == '"':
			quote, in = ch, true
		case ch == ' ' || ch == '\t' || ch == '\n':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(ch)
			in = true
		}
	}
	return append(words, cur.String())
}

// candidate is one completion, with what it is for.
type candidate struct{ word, desc string }

// completion is what the words before the cursor say: the config files,
// the command, its flags and arguments.
type completion struct {
	app      *cli.App
	cmd      *cli.Command
	dir      string
	inv      string
	assoc    string
	given    map[string]bool // flags given (by name)
	args     []string        // arguments of the command
	afterEnd bool            // after "--"
}

// completeWords completes cur, after the words before it.
func completeWords(app *cli.App, before []string, cur string) (string, []candidate) {
	c := &completion{app: app, given: map[string]bool{}}
	c.dir = os.Getenv("DRIFTLESS_DIR")
	var pending cli.Flag // a flag whose value is the next word
	for _, w := range before {
		switch {
		case pending != nil:
			c.setValue(pending, w)
			pending = nil
		case c.afterEnd:
			c.args = append(c.args, w)
		case w == "--":
			c.afterEnd = true
		case strings.HasPrefix(w, "-") && w != "-":
			name, value, hasValue := strings.Cut(strings.TrimLeft(w, "-"), "=")
			f := c.flag(name)
			if f == nil {
				continue
			}
			c.given[f.Names()[0]] = true
			if takesValue(f) {
				if hasValue {
					c.setValue(f, value)
				} else {
					pending = f
				}
			}
		case c.cmd == nil:
			c.cmd = app.Command(w)
			if c.cmd == nil {
				return kindWords, nil
			}
		case len(c.cmd.Subcommands) > 0 && len(c.args) == 0: // journal prune
			c.cmd = subcommand(c.cmd, w)
			if c.cmd == nil {
				return kindWords, nil
			}
		default:
			c.args = append(c.args, w)
		}
	}
	if pending != nil {
		return c.values(pending, "", cur)
	}
	if c.afterEnd {
		return kindFiles, nil
	}
	if strings.HasPrefix(cur, "-") {
		if name, value, ok := strings.Cut(cur, "="); ok {
			if f := c.flag(strings.TrimLeft(name, "-")); f != nil && takesValue(f) {
				return c.values(f, name+"=", value)
			}
			return kindWords, nil
		}
		return kindWords, filter(c.flagNames(), cur)
	}
	if c.cmd == nil {
		return kindWords, filter(commandWords(app.VisibleCommands()), cur)
	}
	if len(c.cmd.Subcommands) > 0 {
		return kindWords, filter(commandWords(c.cmd.VisibleCommands()), cur)
	}
	return c.arguments(cur)
}

// commandWords are the names of cmds, with what each is for.
func commandWords(cmds []*cli.Command) []candidate {
	var cands []candidate
	for _, cmd := range withoutHelp(cmds) {
		cands = append(cands, candidate{cmd.Name, cmd.Usage})
	}
	return cands
}

// subcommand is the subcommand of cmd named name, or nil.
func subcommand(cmd *cli.Command, name string) *cli.Command {
	for _, sub := range cmd.Subcommands {
		if sub.HasName(name) {
			return sub
		}
	}
	return nil
}

// flag is the flag named name (without dashes): the command's, else a
// global one.
func (c *completion) flag(name string) cli.Flag {
	if c.cmd != nil {
		if f := findFlag(c.cmd.Flags, name); f != nil {
			return f
		}
	}
	return findFlag(c.app.Flags, name)
}

// setValue remembers the values that say where the config files are,
// with ~/ and $VAR expanded as the shell will.
func (c *completion) setValue(f cli.Flag, value string) {
	if rest, ok := strings.CutPrefix(value, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			value = filepath.Join(home, rest)
		}
	}
	value = os.ExpandEnv(value)
	switch f.Names()[0] {
	case "dir":
		c.dir = value
	case "inventory":
		c.inv = value
	case "associations":
		c.assoc = value
	}
}

// flagNames are the flags that may come next: the command's and the
// global ones, less those given already (a slice flag may be repeated).
func (c *completion) flagNames() []candidate {
	flags := slices.Clone(c.app.Flags)
	if c.cmd != nil {
		flags = append(slices.Clone(c.cmd.Flags), flags...)
	}
	out := []candidate{{"--help", "show help"}}
	seen := map[string]bool{}
	for _, f := range flags {
		_, repeatable := f.(cli.DocGenerationSliceFlag)
		if c.given[f.Names()[0]] && !repeatable || seen[f.Names()[0]] {
			continue
		}
		seen[f.Names()[0]] = true
		usage, _ := flagPlaceholder(f)
		for _, n := range f.Names() {
			dash := "--"
			if len(n) == 1 {
				dash = "-"
			}
			out = append(out, candidate{dash + n, usage})
		}
	}
	return out
}

// values completes the value of flag f; prefix ("--targets=") is put
// back before each candidate.
func (c *completion) values(f cli.Flag, prefix, cur string) (string, []candidate) {
	var cands []candidate
	switch f.Names()[0] {
	case "targets":
		return kindWords, withPrefix(prefix, c.selectors(cur))
	case "host":
		cands = c.hosts()
	case "site":
		if inv := c.inventory(); inv != nil {
			cands = inv.sites
		}
	case "association":
		cands = c.associations()
	case "severity":
		cands = words(config.Severities...)
	case "output":
		cands = words("text", "json")
		if c.cmd != nil && c.cmd.Name == "status" {
			cands = words("text", "json", "prometheus")
		}
	case "shell":
		cands = words("sh", "powershell")
	case "since":
		cands = words("24h", "7d", "30d", "all")
	default:
		switch _, placeholder := flagPlaceholder(f); placeholder {
		case "DIR":
			return kindDirs, nil
		case "FILE":
			return kindFiles, nil
		}
	}
	return kindWords, withPrefix(prefix, filter(cands, cur))
}

// arguments completes the command's next argument.
func (c *completion) arguments(cur string) (string, []candidate) {
	var cands []candidate
	switch c.cmd.Name {
	case "apply", "check":
		for _, a := range c.associations() {
			if !slices.Contains(c.args, a.word) {
				cands = append(cands, a)
			}
		}
	case "documents":
		if len(c.args) > 0 {
			return kindWords, nil
		}
		cands = c.documents()
		if c.given["script"] {
			cands = append(cands, c.associations()...)
		}
	case "completion":
		if len(c.args) == 0 {
			cands = words("bash", "zsh", "fish")
		}
	case "init":
		if len(c.args) == 0 {
			return kindDirs, nil
		}
	case "exec":
		return kindWords, filter(words("--"), cur)
	}
	return kindWords, filter(cands, cur)
}

func words(ws ...string) []candidate {
	out := make([]candidate, len(ws))
	for i, w := range ws {
		out[i] = candidate{word: w}
	}
	return out
}

// filter keeps the candidates that start with prefix.
func filter(cands []candidate, prefix string) []candidate {
	var out []candidate
	for _, c := range cands {
		if strings.HasPrefix(c.word, prefix) {
			out = append(out, c)
		}
	}
	return out
}

func withPrefix(prefix string, cands []candidate) []candidate {
	for i := range cands {
		cands[i].word = prefix + cands[i].word
	}
	return cands
}

// usagePlaceholder splits a flag's usage into its text without back
// quotes and the placeholder they quote ("write to `FILE`": FILE).
func usagePlaceholder(usage string) (string, string) {
	start := strings.IndexByte(usage, '`')
	if start < 0 {
		return usage, ""
	}
	end := strings.IndexByte(usage[start+1:], '`')
	if end < 0 {
		return usage, ""
	}
	name := usage[start+1 : start+1+end]
	return usage[:start] + name + usage[start+end+2:], name
}

// flagPlaceholder is the usage of flag f without back quotes and the
// placeholder of its value: the one quoted in its usage ("write to
// `FILE`"), else FILE for a file, else its name in capitals (DIR, GRACE).
func flagPlaceholder(f cli.Flag) (string, string) {
	usage, placeholder := usagePlaceholder(f.(cli.DocGenerationFlag).GetUsage())
	switch {
	case placeholder != "":
	case strings.HasPrefix(usage, f.Names()[0]+" file"):
		placeholder = "FILE"
	default:
		placeholder = strings.ToUpper(strings.ReplaceAll(f.Names()[0], "-", "_"))
	}
	return usage, placeholder
}

// file is where a config file is: the flag's value, else DIR/name.
func (c *completion) file(flagValue, name string) string {
	if flagValue != "" {
		return flagValue
	}
	dir := c.dir
	if dir == "" {
		dir = "."
	}
	return filepath.Join(dir, name)
}

// inventoryNames are the names of inventory.toml completion offers.
type inventoryNames struct {
	hosts, groups, sites []candidate
	tags                 map[string]map[string]bool // key -> values
}

// inventory reads inventory.toml (decoded into maps: faster than into
// structs), or nil.
func (c *completion) inventory() *inventoryNames {
	var file map[string]any
	if _, err := toml.DecodeFile(c.file(c.inv, "inventory.toml"), &file); err != nil {
		return nil
	}
	hosts, _ := file["hosts"].(map[string]any)
	groups, _ := file["groups"].(map[string]any)
	inv := &inventoryNames{
		hosts:  sortedWords(hosts, func(string) string { return "host" }),
		groups: sortedWords(groups, func(string) string { return "group" }),
		tags:   map[string]map[string]bool{},
	}
	sites := map[string]bool{}
	site := func(entry map[string]any) {
		if s, ok := entry["site"].(string); ok && s != "" {
			sites[s] = true
		}
	}
	for _, g := range groups {
		group, _ := g.(map[string]any) // an entry that is no table has nothing to offer
		site(group)
	}
	for _, h := range hosts {
		host, _ := h.(map[string]any)
		site(host)
		tags, _ := host["tags"].(map[string]any)
		for k, v := range tags {
			if inv.tags[k] == nil {
				inv.tags[k] = map[string]bool{}
			}
			inv.tags[k][fmt.Sprint(v)] = true
		}
	}
	inv.sites = sortedWords(sites, func(string) string { return "site" })
	return inv
}

// hosts are the inventory's host names.
func (c *completion) hosts() []candidate {
	if inv := c.inventory(); inv != nil {
		return inv.hosts
	}
	return nil
}

// selectors completes one selector: host names, group:NAME, tag:KEY=VALUE,
// tag-key:KEY, site:NAME and *, and after "&" (or "& !") the next term.
func (c *completion) selectors(cur string) []candidate {
	head, term := "", cur
	if i := strings.LastIndexByte(cur, '&'); i >= 0 {
		rest := cur[i+1:]
		trimmed := strings.TrimLeft(rest, " !")
		head, term = cur[:len(cur)-len(trimmed)], trimmed
	}
	inv := c.inventory()
	if inv == nil {
		return nil
	}
	cands := append([]candidate{{"*", "every host"}}, inv.hosts...)
	cands = append(cands, withPrefix("group:", inv.groups)...)
	cands = append(cands, withPrefix("site:", slices.Clone(inv.sites))...)
	tags := inv.tags
	cands = append(cands, withPrefix("tag-key:", sortedWords(tags, func(string) string { return "hosts with this tag" }))...)
	for _, k := range sortedKeys(tags) {
		for _, v := range sortedKeys(tags[k]) {
			cands = append(cands, candidate{"tag:" + k + "=" + v, "tag"})
		}
	}
	return withPrefix(head, filter(cands, term))
}

// associations are the names in associations.toml, with their documents.
func (c *completion) associations() []candidate {
	var file struct {
		Associations map[string]struct{ Document any } `toml:"associations"`
	}
	if _, err := toml.DecodeFile(c.file(c.assoc, "associations.toml"), &file); err != nil {
		return nil
	}
	return sortedWords(file.Associations, func(name string) string {
		return fmt.Sprintf("document %v", file.Associations[name].Document)
	})
}

// documents are the names of the documents of DIR/documents, then the
// built-in ones.
func (c *completion) documents() []candidate {
	dir := c.dir
	if dir == "" {
		dir = "."
	}
	var out []candidate
	entries, _ := os.ReadDir(filepath.Join(dir, "documents"))
	for _, e := range entries {
		name, ext := e.Name(), filepath.Ext(e.Name())
		if e.IsDir() || strings.HasPrefix(name, ".") || !slices.Contains([]string{".toml", ".json", ".yaml", ".yml"}, ext) {
			continue
		}
		out = append(out, candidate{strings.TrimSuffix(name, ext), "document " + name})
	}
	builtins, _ := documents.Builtins()
	for _, d := range builtins {
		out = append(out, candidate{d.Name, "built-in document"})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedWords[V any](m map[string]V, desc func(string) string) []candidate {
	var out []candidate
	for _, k := range sortedKeys(m) {
		out = append(out, candidate{k, desc(k)})
	}
	return out
}

const bashCompletion = `# driftless bash completion: source <(driftless completion bash)
_driftless() {
	local cur="${COMP_WORDS[COMP_CWORD]}" kind line
	local -a out=()
	while IFS= read -r line; do
		out+=("$line")
	done < <("${COMP_WORDS[0]}" ` + completeCommand + ` bash "$cur" "${COMP_LINE:0:COMP_POINT}" 2>/dev/null)
	kind="${out[0]}"
	COMPREPLY=()
	case "$kind" in
	files)
		compopt -o filenames 2>/dev/null
		while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen -f -- "$cur")
		;;
	dirs)
		compopt -o filenames 2>/dev/null
		while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen -d -- "$cur")
		;;
	*)
		COMPREPLY=("${out[@]:1}")
		;;
	esac
}
complete -F _driftless driftless
`

const zshCompletion = `#compdef driftless
# driftless zsh completion: driftless completion zsh > "${fpath[1]}/_driftless"
_driftless() {
	local -a out cands
	local line
	out=("${(@f)$(${words[1]} ` + completeCommand + ` words "${(@Q)words[2,CURRENT-1]}" "${(Q)PREFIX}" 2>/dev/null)}")
	case "${out[1]}" in
	files|dirs)
		[[ "$PREFIX" == -* ]] && compset -P '*='
		if [[ "${out[1]}" == dirs ]]; then _files -/; else _files; fi
		;;
	*)
		for line in "${(@)out[2,-1]}"; do
			[[ -n "$line" ]] || continue
			cands+=("${${line%%$'\t'*}//:/\\:}${${(M)line%%$'\t'*}:+:${line#*$'\t'}}")
		done
		_describe -t values driftless cands
		;;
	esac
}
if [[ "$funcstack[1]" == "_driftless" ]]; then
	_driftless "$@"
else
	compdef _driftless driftless
fi
`

const fishCompletion = `# driftless fish completion: driftless completion fish > ~/.config/fish/completions/driftless.fish
function __driftless_complete
	set -l args (commandline -opc)
	set -l tok (commandline -ct)
	set -l out (command $args[1] ` + completeCommand + ` words $args[2..-1] $tok 2>/dev/null)
	# --flag=VALUE: complete the value, keep the --flag= before it
	set -l pre (string match -r -- '^-[^=]*=' $tok)
	set -l val (string replace -r -- '^-[^=]*=' '' $tok)
	switch "$out[1]"
		case files
			__fish_complete_path "$val" | string replace -r -- '^' "$pre"
		case dirs
			__fish_complete_directories "$val" | string replace -r -- '^' "$pre"
		case '*'
			printf '%s\n' $out[2..-1]
	end
end
complete -c driftless -f -a '(__driftless_complete)'
`
