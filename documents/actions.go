package documents

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/driftless-dev/driftless/internal/cfgtree"
	"github.com/driftless-dev/driftless/internal/diag"
)

// Action is what a step does: one of the native actions below (an SSM
// step's action, such as aws:runShellScript, is mapped to one of them).
// See docs/actions.md.
type Action string

// Actions.
const (
	ActionShell      Action = "shell"
	ActionPowerShell Action = "powershell"
	ActionFile       Action = "file"
	ActionDirectory  Action = "directory"
	ActionLine       Action = "line"
	ActionPackage    Action = "package"
	ActionService    Action = "service"
	ActionPatch      Action = "patch"
	ActionDownload   Action = "download"
	ActionDocument   Action = "document"
)

type inputKind int

const (
	inStr    inputKind = iota // a string (template)
	inList                    // a string or a list of strings
	inBool                    // true/false, or a template that renders to one
	inMap                     // a table of strings
	inParams                  // a table of strings or lists of strings
	inEnum                    // one of enum, or a template that renders to one
	inMode                    // an octal file mode written as a string
	inRegexp                  // a regular expression
	inSHA256                  // 64 hex digits
	inURL                     // http(s) URL
)

type inputSpec struct {
	name     string
	kind     inputKind
	required bool
	enum     []string
}

type actionSpec struct {
	name   Action
	inputs []inputSpec
	// check enforces rules between inputs.
	check func(c cfgtree.Checker, n *cfgtree.Node, s *Step)
}

func (a *actionSpec) inputNames() []string {
	out := make([]string, len(a.inputs))
	for i, in := range a.inputs {
		out[i] = in.name
	}
	return out
}

var ownership = []inputSpec{{name: "mode", kind: inMode}, {name: "owner", kind: inStr}, {name: "group", kind: inStr}}

var scriptInputs = []inputSpec{
	{name: "run", kind: inList, required: true},
	{name: "check", kind: inList},
	{name: "working_directory", kind: inStr},
	{name: "env", kind: inMap},
}

// Managers lists the package managers of the package action.
var Managers = []string{"auto", "apt", "dnf", "yum", "apk", "zypper", "pacman", "brew", "winget", "choco"}

var actionSpecs = map[Action]*actionSpec{
	ActionShell:      {name: ActionShell, inputs: scriptInputs, check: checkEnvNames},
	ActionPowerShell: {name: ActionPowerShell, inputs: scriptInputs, check: checkEnvNames},
	ActionFile: {name: ActionFile, inputs: append([]inputSpec{
		{name: "path", kind: inStr, required: true},
		{name: "content", kind: inStr},
		{name: "source", kind: inStr},
		{name: "state", kind: inEnum, enum: []string{"present", "absent"}},
		{name: "follow", kind: inBool},
		{name: "template", kind: inBool},
	}, ownership...), check: func(c cfgtree.Checker, n *cfgtree.Node, s *Step) {
		content, source := s.Inputs["content"], s.Inputs["source"]
		if content != nil && source != nil {
			c.Errf(n.Get("source"), "give either content or source, not both")
		}
		if content == nil && source == nil && literal(s.Inputs["state"]) != "absent" {
			c.Errf(n, "a file step needs content or source (or state = \"absent\")")
		}
		checkSourceInput(c, n, s)
	}},
	ActionDirectory: {name: ActionDirectory, inputs: append([]inputSpec{
		{name: "path", kind: inStr, required: true},
		{name: "state", kind: inEnum, enum: []string{"present", "absent"}},
		{name: "follow", kind: inBool},
	}, ownership...)},
	ActionLine: {name: ActionLine, inputs: []inputSpec{
		{name: "path", kind: inStr, required: true},
		{name: "line", kind: inStr},
		{name: "regexp", kind: inRegexp},
		{name: "state", kind: inEnum, enum: []string{"present", "absent"}},
		{name: "create", kind: inBool},
		{name: "follow", kind: inBool},
	}, check: func(c cfgtree.Checker, n *cfgtree.Node, s *Step) {
		if literal(s.Inputs["state"]) == "absent" {
			if s.Inputs["line"] == nil && s.Inputs["regexp"] == nil {
				c.Errf(n, "a line step with state = \"absent\" needs line or regexp")
			}
			return
		}
		if s.Inputs["line"] == nil {
			c.Errf(n, "a line step needs line (the line that must be present)")
		}
	}},
	ActionPackage: {name: ActionPackage, inputs: []inputSpec{
		{name: "names", kind: inList, required: true},
		{name: "state", kind: inEnum, enum: []string{"present", "latest", "absent"}},
		{name: "manager", kind: inEnum, enum: Managers},
	}},
	// The service's name is written service = "...": in a native step,
	// name already names the step.
	ActionService: {name: ActionService, inputs: []inputSpec{
		{name: "service", kind: inStr, required: true},
		{name: "state", kind: inEnum, enum: []string{"running", "stopped"}},
		{name: "enabled", kind: inBool},
	}, check: func(c cfgtree.Checker, n *cfgtree.Node, s *Step) {
		if s.Inputs["state"] == nil && s.Inputs["enabled"] == nil {
			c.Errf(n, "a service step needs state and/or enabled")
		}
	}},
	ActionPatch: {name: ActionPatch, inputs: []inputSpec{
		{name: "operation", kind: inEnum, enum: []string{"scan", "install"}},
		{name: "reboot", kind: inEnum, enum: []string{"never", "if-needed"}},
		{name: "reboot_timeout", kind: inStr},
	}},
	ActionDownload: {name: ActionDownload, inputs: []inputSpec{
		{name: "url", kind: inURL},
		{name: "source", kind: inStr},
		{name: "destination", kind: inStr, required: true},
		{name: "sha256", kind: inSHA256},
		{name: "mode", kind: inMode},
	}, check: func(c cfgtree.Checker, n *cfgtree.Node, s *Step) {
		if (s.Inputs["url"] == nil) == (s.Inputs["source"] == nil) {
			c.Errf(n, "a download step needs exactly one of url or source")
		}
		checkSourceInput(c, n, s)
	}},
	ActionDocument: {name: ActionDocument, inputs: []inputSpec{
		{name: "document", kind: inStr, required: true},
		{name: "parameters", kind: inParams},
	}},
}

// ActionNames lists the actions, in the order docs/actions.md gives them.
var ActionNames = []Action{ActionShell, ActionPowerShell, ActionFile, ActionDirectory, ActionLine, ActionPackage, ActionService, ActionPatch, ActionDownload, ActionDocument}

var envVarRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func checkEnvNames(c cfgtree.Checker, n *cfgtree.Node, s *Step) {
	env := n.Get("env")
	if env == nil || env.Kind != cfgtree.Map {
		return
	}
	for _, e := range env.Entries {
		if !envVarRe.MatchString(e.Key) {
			c.Errf(e, "invalid environment variable name %q", e.Key)
		}
	}
}

// literal returns the text of an input without references, or "".
// checkSourceInput checks a source written as it is (one with {{ }} is
// checked once rendered, when the plan reads it).
func checkSourceInput(c cfgtree.Checker, n *cfgtree.Node, s *Step) {
	if src := literal(s.Inputs["source"]); src != "" {
		if err := CheckSource(src); err != nil {
			c.Errf(n.Get("source"), "%v", err)
		}
	}
}

func literal(in *Input) string {
	if in == nil || in.Str == nil || in.Str.HasRefs() {
		return ""
	}
	return in.Str.Raw
}

// Input is one input of a step, references unresolved.
type Input struct {
	Name string
	Pos  diag.Pos
	Path string
	Str  *Template   // scalar inputs; booleans and numbers as text
	List []*Template // list inputs
	Map  []MapItem   // table inputs, in file order
	kind inputKind
	enum []string
	// jsonParams: a table input written as a template of a JSON object
	// (SSM documentParameters: "{{ params }}"), read once rendered.
	jsonParams bool
	// rename maps a rendered value, once checked against enum, to the
	// value the action takes (SSM's "Install" to "present").
	rename map[string]string
	// Body is the text of a file step's source with template = true, read
	// and parsed when the document was loaded (nil: read when planned).
	Body *Template
	// src: the input is read from an aws:downloadContent source written
	// with templates, once they are rendered (see ssmSource).
	src *ssmSource
}

// Templated reports whether a table input is a template of a JSON object,
// whose entries are known only once it is rendered (see Entries).
func (in *Input) Templated() bool { return in.jsonParams }

// Entries returns the entries of a table input: as written, or, for one
// written as a template, rendered with sc and read as a JSON object of
// strings and lists of strings, as SSM reads documentParameters after it
// substitutes parameters.
func (in *Input) Entries(sc *Scope) ([]MapItem, error) {
	if !in.jsonParams {
		return in.Map, nil
	}
	text, err := in.Str.Render(sc)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		return nil, fmt.Errorf("documentParameters is not a JSON object once rendered: %v", err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]MapItem, 0, len(keys))
	for _, k := range keys {
		v := &Input{Name: k, Pos: in.Pos, Path: in.Path + "." + k, kind: inStr}
		if list, ok := m[k].([]any); ok {
			v.kind = inList
			for _, it := range list {
				v.List = append(v.List, Literal(fmt.Sprint(it)))
			}
		} else {
			v.Str = Literal(fmt.Sprint(m[k]))
		}
		out = append(out, MapItem{Key: k, Value: v})
	}
	return out, nil
}

// MapItem is one entry of a table input.
type MapItem struct {
	Key   string
	Value *Input
}

// IsList reports whether the input holds a list.
func (in *Input) IsList() bool { return in.kind == inList }

// Templates returns every template of the input.
func (in *Input) Templates() []*Template {
	var out []*Template
	if in.Str != nil {
		out = append(out, in.Str)
	}
	if in.src != nil && in.Name == "url" {
		out = append(out, in.src.typ, in.src.info)
	}
	out = append(out, in.List...)
	if in.Body != nil {
		out = append(out, in.Body)
	}
	for _, m := range in.Map {
		out = append(out, m.Value.Templates()...)
	}
	return out
}

// RenderString resolves a scalar input.
func (in *Input) RenderString(s *Scope) (string, error) {
	if in.src != nil {
		return in.src.field(s, in.Name)
	}
	if in.Str == nil {
		list, err := in.RenderList(s)
		return strings.Join(list, "\n"), err
	}
	v, err := in.Str.Render(s)
	if err != nil {
		return "", fmt.Errorf("%s: %w", in.Name, err)
	}
	if err := in.checkRendered(v); err != nil {
		return "", err
	}
	if r, ok := in.rename[v]; ok {
		v = r
	}
	return v, nil
}

// checkRendered validates what a templated enum, boolean or mode input
// became.
func (in *Input) checkRendered(v string) error {
	switch in.kind {
	case inEnum:
		if !slices.Contains(in.enum, v) {
			return fmt.Errorf("%s: expected one of %s, got %q", in.Name, strings.Join(in.enum, ", "), v)
		}
	case inBool:
		if _, err := strconv.ParseBool(strings.ToLower(v)); err != nil {
			return fmt.Errorf("%s: expected true or false, got %q", in.Name, v)
		}
	case inMode:
		if !modeRe.MatchString(v) {
			return fmt.Errorf("%s: expected an octal mode such as \"0644\", got %q", in.Name, v)
		}
	default: // the other values need nothing here
	}
	return nil
}

// RenderBool resolves a boolean input.
func (in *Input) RenderBool(s *Scope) (bool, error) {
	v, err := in.RenderString(s)
	if err != nil {
		return false, err
	}
	return strconv.ParseBool(strings.ToLower(v))
}

// RenderList resolves a list input. An item that is exactly one StringList
// parameter ("{{ commands }}") expands into that list's items.
func (in *Input) RenderList(s *Scope) ([]string, error) {
	items := in.List
	if items == nil && in.Str != nil {
		items = []*Template{in.Str}
	}
	out := make([]string, 0, len(items))
	for _, t := range items {
		if name, ok := t.SoleParam(); ok {
			if v, ok := s.Params[name]; ok && v.IsList {
				out = append(out, v.List...)
				continue
			}
		}
		v, err := t.Render(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", in.Name, err)
		}
		out = append(out, v)
	}
	return out, nil
}

var (
	modeRe   = regexp.MustCompile(`^0?[0-7]{3,4}$`)
	sha256Re = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
)

// parseInput reads one input of kind spec from n.
func parseInput(c cfgtree.Checker, n *cfgtree.Node, spec inputSpec) *Input {
	in := &Input{Name: spec.name, Pos: n.Pos, Path: n.Path, kind: spec.kind, enum: spec.enum}
	tmpl := func(node *cfgtree.Node, s string) *Template {
		t, err := ParseTemplate(s)
		if err != nil {
			c.Errf(node, "%v", err)
			return nil
		}
		return t
	}
	switch spec.kind {
	case inList:
		items, ok := c.StrOrList(n)
		if !ok {
			return nil
		}
		if len(items) == 0 {
			c.Errf(n, "must not be empty")
			return nil
		}
		for i, s := range items {
			node := n
			if n.Kind == cfgtree.List {
				node = n.Items[i]
			}
			t := tmpl(node, s)
			if t == nil {
				return nil
			}
			in.List = append(in.List, t)
		}
		return in
	case inMap, inParams:
		if !c.Map(n) {
			return nil
		}
		for _, e := range n.Entries {
			sub := inputSpec{name: e.Key, kind: inStr}
			if spec.kind == inParams && e.Kind == cfgtree.List {
				sub.kind = inList
			}
			v := parseInput(c, e, sub)
			if v == nil {
				return nil
			}
			in.Map = append(in.Map, MapItem{Key: e.Key, Value: v})
		}
		return in
	case inBool:
		if n.Kind == cfgtree.Bool {
			in.Str = Literal(strconv.FormatBool(n.Bool))
			return in
		}
	default: // the other values need nothing here
	}
	s, ok := c.ScalarString(n)
	if !ok {
		return nil
	}
	if spec.kind == inMode && n.Kind == cfgtree.Int {
		e := c.Errf(n, "a mode is written as a string: mode = \"%04d\"", n.Int)
		e.Hint = "TOML reads an unquoted 0644 as a decimal number"
		return nil
	}
	t := tmpl(n, s)
	if t == nil {
		return nil
	}
	in.Str = t
	if t.HasRefs() || checkLiteral(c, n, spec, s) {
		return in // one with references is checked once rendered
	}
	return nil
}

// checkLiteral reports whether s, the value of input n without
// references, is one of spec's kind, telling c what is wrong if not.
func checkLiteral(c cfgtree.Checker, n *cfgtree.Node, spec inputSpec, s string) bool {
	ok := true
	switch spec.kind {
	case inStr:
		if spec.required && strings.TrimSpace(s) == "" {
			c.Errf(n, "must not be empty")
			return false
		}
	case inEnum:
		_, ok = c.OneOf(n, spec.enum...)
	case inBool:
		_, ok = c.Bool(n)
	case inMode:
		ok = matches(c, n, s, modeRe, `an octal mode such as "0644"`)
	case inRegexp:
		_, ok = c.Regexp(n)
	case inSHA256:
		ok = matches(c, n, s, sha256Re, "a SHA-256 checksum (64 hexadecimal digits)")
	case inURL:
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			c.Errf(n, "expected an http:// or https:// URL, got %q", s)
			return false
		}
	default: // the other values need nothing here
	}
	return ok
}

// matches reports whether s, the value of n, matches re, telling c that
// it expected what if not.
func matches(c cfgtree.Checker, n *cfgtree.Node, s string, re *regexp.Regexp, what string) bool {
	if !re.MatchString(s) {
		c.Errf(n, "expected %s, got %q", what, s)
		return false
	}
	return true
}
