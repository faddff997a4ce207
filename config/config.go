// Package config loads a config dir (docs/config-dir.md) as a whole: the inventory,
// every document (files and built-ins) and the associations, and checks
// what spans them — documents referenced, parameters given and their
// values, selectors and the host fields that documents refer to. It never
// contacts a host. Every problem in every file is collected in one
// diag.List, so that one run reports them all.
package config

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/internal/cfgtree"
	"github.com/driftless-dev/driftless/internal/diag"
	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/schedule"
)

// Options say where the files are.
type Options struct {
	Dir          string // the config dir; default "."
	Inventory    string // default DIR/inventory.toml
	Associations string // default DIR/associations.toml
	// Env looks up driftless's environment for {{ env:NAME }}; default
	// os.LookupEnv.
	Env func(string) (string, bool)
	// Inv tunes the inventory loader (home directory, current user).
	Inv inventory.Options
}

func (o *Options) defaults() {
	if o.Dir == "" {
		o.Dir = "."
	}
	if o.Inventory == "" {
		o.Inventory = filepath.Join(o.Dir, "inventory.toml")
	}
	if o.Associations == "" {
		o.Associations = filepath.Join(o.Dir, "associations.toml")
	}
	if o.Env == nil {
		o.Env = os.LookupEnv
	}
}

// Config is a loaded and validated config dir.
type Config struct {
	Dir          string
	Inventory    *inventory.Inventory
	Documents    map[string]*documents.Document // by name, built-ins included
	Associations []*Association                 // file order
	Env          func(string) (string, bool)
	// Parameters are parameters.toml's: what {{ssm:NAME}} resolves to.
	Parameters map[string]SSMParam
	// Secrets are the values {{ssm-secure:NAME}} resolved to: redacted
	// wherever driftless prints or records.
	Secrets []string
	// docUnset holds, by document name, its {{ssm:NAME}} references to
	// parameters whose environment variable is not set.
	docUnset map[string][]unsetVar
	// Notify is notify.toml (docs/notify.md); nil without the file.
	Notify *Notify
}

// Association is one association of associations.toml, resolved.
type Association struct {
	Name            string
	DocumentName    string
	Doc             *documents.Document
	TargetTexts     []string
	Targets         []*inventory.Selector
	Hosts           []*inventory.Host // targets resolved, inventory order
	Params          map[string]documents.Value
	Schedule        string
	Sched           schedule.Schedule // parsed; nil when none
	Location        *time.Location    // of the schedule (UTC unless timezone)
	Timezone        string
	ApplyOnlyAtCron bool
	Mode            string // apply | check
	MaxConcurrency  Rate
	MaxErrors       Rate
	Severity        string
	Timeout         time.Duration // per host, whole document; 0 = none
	// Hash changes when the definition, a document it runs or its
	// resolved parameters change (docs/associations.md).
	Hash string
	File string
	Pos  diag.Pos
	// alias is set when DocumentName is an AWS document name that runs a
	// built-in.
	alias *documents.AWSAlias
	// unset is what running it needs from the environment and does not
	// find there (MissingEnv).
	unset []unsetVar
}

// Association returns the association named name, or nil.
func (c *Config) Association(name string) *Association {
	for _, a := range c.Associations {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// AssociationNames returns the names of the associations in file order.
func (c *Config) AssociationNames() []string {
	out := make([]string, len(c.Associations))
	for i, a := range c.Associations {
		out[i] = a.Name
	}
	return out
}

// Document returns the document named name (a file's base name or
// driftless:NAME), or nil.
func (c *Config) Document(name string) *documents.Document { return c.Documents[name] }

// DocumentNames returns document names: files first, then built-ins, each
// sorted.
func (c *Config) DocumentNames() []string {
	var files, builtin []string
	for name, d := range c.Documents {
		if d.File == "" {
			builtin = append(builtin, name)
		} else {
			files = append(files, name)
		}
	}
	slices.Sort(files)
	slices.Sort(builtin)
	return append(files, builtin...)
}

// Severities of compliance.
var Severities = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNSPECIFIED"}

// Load reads and validates the whole config dir.
func Load(opts Options) (*Config, *diag.List) {
	opts.defaults()
	var list diag.List
	cfg := &Config{Dir: opts.Dir, Env: opts.Env}
	go documents.Builtins() // parsed on another core while the files are read
	cfg.Documents = LoadDocuments(opts.Dir, &list)
	cfg.Parameters = LoadParameters(opts.Dir, opts.Env, &list)
	cfg.resolveSSM(&list)
	cfg.Notify = LoadNotify(opts.Dir, opts.Env, &list)
	inv, ilist := inventory.Load(opts.Inventory, opts.Inv)
	list.Merge(ilist)
	if inv == nil {
		if _, err := os.Stat(opts.Inventory); errors.Is(err, fs.ErrNotExist) {
			list = diag.List{}
			list.Merge(ilist)
			for _, e := range list.Errors() {
				e.Hint = "driftless init " + opts.Dir + " writes a small working example"
			}
		}
		return nil, &list
	}
	cfg.Inventory = inv
	if ilist.Len() > 0 {
		// Associations are checked against hosts; with a broken
		// inventory that would only add noise.
		loadAssociations(cfg, opts, &list, false)
		return cfg, &list
	}
	loadAssociations(cfg, opts, &list, true)
	return cfg, &list
}

// LoadDocuments reads every document of DIR/documents and the built-ins.
func LoadDocuments(dir string, list *diag.List) map[string]*documents.Document {
	out := map[string]*documents.Document{}
	defer func() {
		// Last: Load parses the built-ins meanwhile. A file of the
		// same name (driftless:NAME.toml) wins, as it always did.
		builtins, err := documents.Builtins()
		if err != nil {
			list.Addf("driftless", diag.Pos{}, "", "built-in documents: %v", err)
		}
		for _, d := range builtins {
			if _, ok := out[d.Name]; !ok {
				out[d.Name] = d
			}
		}
	}()
	docDir := filepath.Join(dir, "documents")
	entries, err := os.ReadDir(docDir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			list.Addf(docDir, diag.Pos{}, "", "cannot read documents: %v", err)
		}
		return out
	}
	seen := map[string]string{}
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		if e.IsDir() || strings.HasPrefix(name, ".") || !slices.Contains([]string{".toml", ".json", ".yaml", ".yml"}, ext) {
			continue
		}
		path := filepath.Join(docDir, name)
		base := strings.TrimSuffix(name, ext)
		if other, dup := seen[base]; dup {
			list.Addf(path, diag.Pos{}, "", "document %q is defined twice: here and in %s", base, other)
			continue
		}
		seen[base] = path
		if d := documents.LoadFile(path, list); d != nil {
			out[d.Name] = d
		}
	}
	return out
}

var assocKeys = []string{"document", "targets", "parameters", "schedule", "timezone", "apply_only_at_cron_interval",
	"mode", "max_concurrency", "max_errors", "compliance_severity", "timeout"}

func loadAssociations(cfg *Config, opts Options, list *diag.List, checkHosts bool) {
	file := opts.Associations
	src, err := cfgtree.ReadFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && filepath.Base(file) == "associations.toml" && filepath.Dir(file) == filepath.Clean(opts.Dir) {
			return // no associations yet: exec, inventory and documents still work
		}
		list.Add(cfgtree.ReadError(file, "associations", err))
		return
	}
	c := cfgtree.Checker{File: file, L: list}
	root, err := cfgtree.ParseTOML(file, src)
	if err != nil {
		list.Add(err.(*diag.Error))
		return
	}
	c.Keys(root, "associations")
	an := root.Get("associations")
	if an == nil || !c.Map(an) {
		return
	}
	for _, n := range an.Entries {
		if !c.Map(n) {
			continue
		}
		if a := parseAssociation(cfg, c, n, checkHosts); a != nil {
			cfg.Associations = append(cfg.Associations, a)
		}
	}
}

func parseAssociation(cfg *Config, c cfgtree.Checker, n *cfgtree.Node, checkHosts bool) *Association {
	a := &Association{Name: n.Key, File: c.File, Pos: n.Pos, Mode: "apply", Severity: "UNSPECIFIED",
		MaxConcurrency: Rate{N: 50}, MaxErrors: Rate{N: 100, Percent: true}}
	before := c.L.Len()
	if !stepNameOK(a.Name) {
		c.Errf(n, "invalid association name %q: use letters, digits, '.', '_' and '-'", a.Name)
	}
	c.Keys(n, assocKeys...)
	if d := n.Get("document"); d == nil {
		c.Errf(n, "association %q needs document", a.Name)
	} else if name, ok := c.NonEmpty(d); ok {
		a.DocumentName = name
		a.Doc = cfg.Documents[name]
		if alias := documents.AWSAliases[name]; a.Doc == nil && alias != nil {
			// An AWS document name with a built-in equivalent (a file
			// of that name wins, as above).
			if alias.Refused != "" {
				c.Errf(d, "document %q: %s", name, alias.Refused)
				return nil
			}
			a.Doc, a.alias = cfg.Documents[alias.Builtin], alias
		}
		if a.Doc == nil {
			e := c.Errf(d, "unknown document %q", name)
			if sug := diag.Suggest(name, cfg.DocumentNames()); sug != "" {
				e.Msg += fmt.Sprintf(" (did you mean %q?)", sug)
			} else {
				e.Hint = fmt.Sprintf("put it in %s.toml (or .json/.yaml), or use a built-in (driftless documents lists them)", filepath.Join(cfg.Dir, "documents", name))
			}
		}
	}
	if t := n.Get("targets"); t == nil {
		c.Errf(n, "association %q needs targets (e.g. targets = [\"*\"])", a.Name)
	} else if texts, ok := c.StrOrList(t); ok {
		if len(texts) == 0 {
			c.Errf(t, "targets must not be empty")
		}
		for i, text := range texts {
			item := t
			if t.Kind == cfgtree.List {
				item = t.Items[i]
			}
			sel, err := inventory.ParseSelector(text)
			if err == nil {
				err = cfg.Inventory.CheckSelector(sel)
			}
			if err != nil {
				c.Errf(item, "%v", err)
				continue
			}
			a.TargetTexts = append(a.TargetTexts, text)
			a.Targets = append(a.Targets, sel)
			if checkHosts && len(cfg.Inventory.Select([]*inventory.Selector{sel})) == 0 {
				c.Warnf(item, "selector %q matches no host", text)
			}
		}
		a.Hosts = cfg.Inventory.Select(a.Targets)
	}
	if v := n.Get("schedule"); v != nil {
		a.Schedule, _ = c.NonEmpty(v)
	}
	if v := n.Get("timezone"); v != nil {
		if tz, ok := c.NonEmpty(v); ok {
			if _, err := time.LoadLocation(tz); err != nil {
				c.Errf(v, "unknown time zone %q (expected an IANA name such as \"Europe/Berlin\")", tz)
			}
			a.Timezone = tz
		}
	}
	if v := n.Get("schedule"); v != nil && a.Schedule != "" {
		loc := time.UTC
		if a.Timezone != "" {
			if l, err := time.LoadLocation(a.Timezone); err == nil {
				loc = l
			}
		}
		a.Location = loc
		sched, err := schedule.Parse(a.Schedule, loc)
		var se *schedule.Error
		switch {
		case errors.As(err, &se):
			e := c.Errf(v, "schedule %q, column %d: %s", a.Schedule, se.Offset+1, se.Msg)
			e.Hint = se.Hint
		case err != nil:
			c.Errf(v, "schedule %q: %v", a.Schedule, err)
		default:
			a.Sched = sched
		}
	}
	if v := n.Get("apply_only_at_cron_interval"); v != nil {
		a.ApplyOnlyAtCron, _ = c.Bool(v)
		if a.ApplyOnlyAtCron && n.Get("schedule") == nil {
			c.Errf(v, "apply_only_at_cron_interval needs a schedule")
		}
	}
	if v := n.Get("mode"); v != nil {
		a.Mode, _ = c.OneOf(v, "apply", "check")
	}
	if v := n.Get("compliance_severity"); v != nil {
		a.Severity, _ = c.OneOf(v, Severities...)
	}
	if v := n.Get("timeout"); v != nil {
		a.Timeout, _ = c.Duration(v)
	}
	if v := n.Get("max_concurrency"); v != nil {
		if r, err := ParseRate(scalar(v), 1); err != nil {
			c.Errf(v, "max_concurrency: %v", err)
		} else {
			a.MaxConcurrency = r
		}
	}
	if v := n.Get("max_errors"); v != nil {
		if r, err := ParseRate(scalar(v), 0); err != nil {
			c.Errf(v, "max_errors: %v", err)
		} else {
			a.MaxErrors = r
		}
	}
	if a.Doc != nil {
		errs := c.L.Len()
		a.Params = resolveParams(cfg, c, n, a)
		// With a bad parameter, or one whose secret is not in the
		// environment, rendering would only repeat the problem.
		checkDocTree(cfg, c, n, a, c.L.Len() == errs && len(a.unset) == 0)
	}
	if c.L.Len() > before || len(a.unset) > 0 {
		return a // no hash: what it would run with is not known
	}
	a.Hash = a.hash(cfg)
	return a
}

func scalar(n *cfgtree.Node) string {
	s, _ := n.Scalar()
	return s
}

// Rate is a count or a percentage of the targets (max_concurrency,
// max_errors).
type Rate struct {
	N       int
	Percent bool
}

func (r Rate) String() string {
	if r.Percent {
		return strconv.Itoa(r.N) + "%"
	}
	return strconv.Itoa(r.N)
}

// ParseRate reads "N" or "N%". min is the least N allowed (1 for
// max_concurrency, 0 for max_errors); a percentage is at most 100.
func ParseRate(s string, min int) (Rate, error) {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
	if err != nil {
		return Rate{}, fmt.Errorf("expected N or N%%, got %q", s)
	}
	if n < min || (pct && n > 100) {
		hi := "∞"
		if pct {
			hi = "100%"
		}
		lo := strconv.Itoa(min)
		if pct {
			lo += "%"
		}
		return Rate{}, fmt.Errorf("%q is out of range %s..%s", s, lo, hi)
	}
	return Rate{N: n, Percent: pct}, nil
}

// Concurrency is how many of total hosts may run at once: a percentage is
// rounded down, and at least one host runs.
func (r Rate) Concurrency(total int) int {
	if !r.Percent {
		return max(r.N, 1)
	}
	return max(total*r.N/100, 1)
}

// Errors is how many failures of total hosts are tolerated before the rest
// is stopped (a percentage is rounded down).
func (r Rate) Errors(total int) int {
	if !r.Percent {
		return r.N
	}
	return total * r.N / 100
}

func stepNameOK(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// resolveParams checks the parameters an association gives against its
// document and returns the values to run with, defaults applied.
func resolveParams(cfg *Config, c cfgtree.Checker, n *cfgtree.Node, a *Association) map[string]documents.Value {
	out := map[string]documents.Value{}
	given := n.Get("parameters")
	if given != nil && c.Map(given) {
		for _, e := range given.Entries {
			key := e.Key
			if a.alias != nil && a.alias.Params[key] != "" {
				key = a.alias.Params[key]
			}
			p := a.Doc.Param(key)
			if p == nil {
				names := make([]string, len(a.Doc.Params))
				for i, p := range a.Doc.Params {
					names[i] = p.Name
				}
				err := c.Errf(e, "document %q has no parameter %q", a.DocumentName, e.Key)
				if sug := diag.Suggest(e.Key, names); sug != "" {
					err.Msg += fmt.Sprintf(" (did you mean %q?)", sug)
				} else if len(names) > 0 {
					err.Hint = "its parameters: " + strings.Join(names, ", ")
				}
				continue
			}
			v, ok := paramValue(c, e, p)
			if !ok {
				continue
			}
			v, ok = renderEnv(cfg, c, e, a, p, v)
			if !ok {
				continue
			}
			if a.alias != nil && !v.IsList {
				if to, ok := a.alias.Values[p.Name][v.Str]; ok {
					v = documents.Str(to)
				}
			}
			if err := p.Check(v); err != nil {
				c.Errf(e, "parameter %s: %v", p.Name, err)
				continue
			}
			out[p.Name] = v
		}
	}
	for _, p := range a.Doc.Params {
		if _, ok := out[p.Name]; ok {
			continue
		}
		if p.Default != nil {
			out[p.Name] = *p.Default
			continue
		}
		if given == nil || given.Get(p.Name) == nil {
			node := n
			if given != nil {
				node = given
			}
			c.Errf(node, "document %q needs parameter %q (it has no default)", a.DocumentName, p.Name)
		}
	}
	return out
}

func paramValue(c cfgtree.Checker, n *cfgtree.Node, p *documents.Parameter) (documents.Value, bool) {
	switch p.Type {
	case documents.TypeStringMap:
		// A table is the JSON object the CLI gives; a string is taken
		// as it is, as the SSM console gives it.
		return documents.MapValue(c, n)
	case documents.TypeMapList:
		c.Errf(n, "parameter %s is a MapList, which takes only its default: the SSM agent drops a value given for a MapList in a Command document", p.Name)
		return documents.Value{}, false
	}
	if n.Kind == cfgtree.Map {
		c.Errf(n, "parameter %s is a %s, not a table (only a StringMap takes one)", p.Name, p.Type)
		return documents.Value{}, false
	}
	if n.Kind == cfgtree.List {
		items, ok := c.StrList(n)
		if !ok {
			return documents.Value{}, false
		}
		if p.Type != documents.TypeStringList {
			c.Errf(n, "parameter %s is a %s, not a list", p.Name, p.Type)
			return documents.Value{}, false
		}
		return documents.List(items...), true
	}
	s, ok := c.ScalarString(n)
	if !ok {
		return documents.Value{}, false
	}
	if p.Type == documents.TypeStringList {
		return documents.List(s), true
	}
	return documents.Str(s), true
}

// renderEnv resolves {{ env:NAME }} in an association's parameter values:
// the way to pass secrets from the environment. Other references are not
// allowed here. A variable that is not set is recorded in a.unset, not in
// the list: only running a needs it.
func renderEnv(cfg *Config, c cfgtree.Checker, n *cfgtree.Node, a *Association, p *documents.Parameter, v documents.Value) (documents.Value, bool) {
	scope := &documents.Scope{Env: cfg.Env, SSM: func(name string) (string, bool) {
		p, ok := cfg.Parameters[name]
		return p.Value, ok
	}}
	render := func(s string) (string, bool) {
		t, err := documents.ParseTemplate(s)
		if err != nil {
			c.Errf(n, "%v", err)
			return "", false
		}
		unset := false
		for _, r := range t.Refs() {
			switch r.Kind {
			case documents.RefEnv:
				if _, ok := cfg.Env(r.Name); !ok {
					a.unsetEnv(r.Name, c.File, n.Pos, n.Path, fmt.Sprintf("parameter %s: {{ %s }}: environment variable %s is not set", p.Name, r, r.Name))
					unset = true
				}
			case documents.RefSSM, documents.RefSSMSecure:
				if sp, ok := cfg.Parameters[r.Name]; ok && sp.Unset {
					a.addUnset(cfg.unsetSSM(c.File, n.Pos, n.Path, "parameter "+p.Name+": ", r))
					unset = true
				} else if ok && r.Kind == documents.RefSSMSecure {
					cfg.Secrets = append(cfg.Secrets, sp.Value)
				}
			default:
				c.Errf(n, "{{ %s }}: association parameters may refer only to the environment ({{ env:NAME }}) and to parameters.toml ({{ssm:NAME}})", r)
				return "", false
			}
		}
		if unset {
			return "", false
		}
		out, err := t.Render(scope)
		if err != nil {
			e := c.Errf(n, "parameter %s: %v", p.Name, err)
			e.Hint = "export it before running driftless (secrets come from the environment, never from files)"
			if _, ok := err.(*documents.UndefinedError); ok && strings.Contains(err.Error(), "parameters.toml") {
				e.Hint = "add it to " + filepath.Join(cfg.Dir, "parameters.toml")
			}
			return "", false
		}
		return out, true
	}
	if v.IsList {
		out := make([]string, len(v.List))
		for i, s := range v.List {
			r, ok := render(s)
			if !ok {
				return v, false
			}
			out[i] = r
		}
		return documents.List(out...), true
	}
	s, ok := render(v.Str)
	v.Str = s // a StringMap's JSON text stays JSON (Check reads it again)
	return v, ok
}

// checkDocTree checks, for the association's document and every document
// it nests: nested references, environment references, the host fields
// templates use (on every target host), and templated inputs that depend
// only on parameters (rendered with the association's values).
func checkDocTree(cfg *Config, c cfgtree.Checker, n *cfgtree.Node, a *Association, paramsOK bool) {
	var walk func(d *documents.Document, params map[string]documents.Value, stack []string)
	walk = func(d *documents.Document, params map[string]documents.Value, stack []string) {
		if slices.Contains(stack, d.Name) {
			c.Errf(n, "documents nest each other in a cycle: %s -> %s", strings.Join(stack, " -> "), d.Name)
			return
		}
		stack = append(stack, d.Name)
		a.addUnset(cfg.docUnset[d.Name]...)
		scope := &documents.Scope{Params: params, Env: cfg.Env}
		for _, s := range d.Steps {
			where := fmt.Sprintf("document %q step %q", d.Name, s.Name)
			for _, name := range s.InputNames() {
				in := s.Input(name)
				for _, t := range in.Templates() {
					checkRefs(cfg, c, n, a, t, where)
				}
				if paramsOnly(d, in) && params != nil {
					if _, err := in.RenderString(scope); err != nil {
						c.Errf(n, "%s: %v", where, err)
					}
				}
			}
			if s.TimeoutExpr != nil && params != nil && declared(d, s.TimeoutExpr) {
				if _, err := s.StepTimeout(scope); err != nil {
					c.Errf(n, "%s: %v", where, err)
				}
			}
			if s.Action != documents.ActionDocument {
				continue
			}
			ref := s.Input("document")
			if ref == nil || ref.Str == nil || ref.Str.HasRefs() {
				continue
			}
			nested := cfg.Documents[ref.Str.Raw]
			if nested == nil {
				e := c.Errf(n, "%s: unknown document %q", where, ref.Str.Raw)
				if sug := diag.Suggest(ref.Str.Raw, cfg.DocumentNames()); sug != "" {
					e.Msg += fmt.Sprintf(" (did you mean %q?)", sug)
				}
				continue
			}
			walk(nested, nestedParams(c, n, where, d, s, nested, scope), stack)
		}
	}
	params := a.Params
	if !paramsOK {
		params = nil
	}
	walk(a.Doc, params, nil)
}

// nestedParams checks the parameters a document step passes and returns
// them rendered when they depend only on parameters (else nil: checked at
// run time).
func nestedParams(c cfgtree.Checker, n *cfgtree.Node, where string, parent *documents.Document, s *documents.Step, nested *documents.Document, scope *documents.Scope) map[string]documents.Value {
	out := map[string]documents.Value{}
	renderable := true
	in := s.Input("parameters")
	entries := []documents.MapItem(nil)
	if in != nil {
		entries = in.Map
		if in.Templated() {
			// documentParameters as a template: read once rendered,
			// here when it depends on parameters only, else at run time.
			if !paramsOnly(parent, in) || scope.Params == nil {
				return nil
			}
			var err error
			if entries, err = in.Entries(scope); err != nil {
				c.Errf(n, "%s: %v", where, err)
				return nil
			}
		}
	}
	if in != nil {
		for _, m := range entries {
			p := nested.Param(m.Key)
			if p == nil {
				c.Errf(n, "%s: document %q has no parameter %q", where, nested.Name, m.Key)
				continue
			}
			if !paramsOnly(parent, m.Value) || scope.Params == nil {
				renderable = false
				continue
			}
			var v documents.Value
			if m.Value.IsList() {
				items, err := m.Value.RenderList(scope)
				if err != nil {
					c.Errf(n, "%s: %v", where, err)
					continue
				}
				v = documents.List(items...)
			} else {
				str, err := m.Value.RenderString(scope)
				if err != nil {
					c.Errf(n, "%s: %v", where, err)
					continue
				}
				v = documents.Str(str)
				if p.Type == documents.TypeStringList {
					v = documents.List(str)
				}
			}
			if err := p.Check(v); err != nil {
				c.Errf(n, "%s: parameter %s of document %q: %v", where, p.Name, nested.Name, err)
				continue
			}
			out[p.Name] = v
		}
	}
	for _, p := range nested.Params {
		if _, ok := out[p.Name]; ok {
			continue
		}
		if p.Default != nil {
			out[p.Name] = *p.Default
		} else if !slices.ContainsFunc(entries, func(m documents.MapItem) bool { return m.Key == p.Name }) {
			c.Errf(n, "%s: document %q needs parameter %q", where, nested.Name, p.Name)
		}
	}
	if !renderable {
		return nil
	}
	return out
}

// paramsOnly reports whether an input's templates refer to parameters of
// d and nothing else (so it can be rendered before a host is known; an
// undeclared parameter is reported with the document).
func paramsOnly(d *documents.Document, in *documents.Input) bool {
	for _, t := range in.Templates() {
		if !declared(d, t) {
			return false
		}
	}
	return true
}

func declared(d *documents.Document, t *documents.Template) bool {
	for _, r := range t.Refs() {
		if r.Kind != documents.RefParam || d.Param(r.Name) == nil {
			return false
		}
	}
	return true
}

func checkRefs(cfg *Config, c cfgtree.Checker, n *cfgtree.Node, a *Association, t *documents.Template, where string) {
	for _, r := range t.Refs() {
		switch r.Kind {
		case documents.RefEnv:
			if _, ok := cfg.Env(r.Name); !ok {
				a.unsetEnv(r.Name, c.File, n.Pos, n.Path, fmt.Sprintf("%s: {{ %s }}: environment variable %s is not set", where, r, r.Name))
			}
		case documents.RefHostTag, documents.RefHostVar:
			var missing []string
			for _, h := range a.Hosts {
				m := h.Tags
				if r.Kind == documents.RefHostVar {
					m = h.Vars
				}
				if _, ok := m[r.Name]; !ok {
					missing = append(missing, h.Name)
				}
			}
			if len(missing) > 0 {
				what := "tag"
				if r.Kind == documents.RefHostVar {
					what = "var"
				}
				shown := missing
				if len(shown) > 5 {
					shown = append(shown[:5:5], fmt.Sprintf("and %d more", len(missing)-5))
				}
				c.Errf(n, "%s: {{ %s }}: target host %s has no %s %q", where, r, strings.Join(shown, ", "), what, r.Name)
			}
		default: // the other values need nothing here
		}
	}
}

// hash is the content hash of everything that defines what the
// association does on a host.
func (a *Association) hash(cfg *Config) string {
	type doc struct{ Name, Hash string }
	var docs []doc
	seen := map[string]bool{}
	var collect func(d *documents.Document)
	collect = func(d *documents.Document) {
		if seen[d.Name] {
			return
		}
		seen[d.Name] = true
		docs = append(docs, doc{d.Name, d.Hash})
		for _, s := range d.Steps {
			if in := s.Input("document"); s.Action == documents.ActionDocument && in != nil && in.Str != nil {
				if nd := cfg.Documents[in.Str.Raw]; nd != nil {
					collect(nd)
				}
			}
		}
	}
	collect(a.Doc)
	slices.SortFunc(docs, func(x, y doc) int { return cmp.Compare(x.Name, y.Name) })
	keys := make([]string, 0, len(a.Params))
	for k := range a.Params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	params := make([][2]any, len(keys))
	for i, k := range keys {
		params[i] = [2]any{k, a.Params[k]}
	}
	b, _ := json.Marshal(struct {
		Doc     string
		Docs    []doc
		Params  [][2]any
		Targets []string
		Mode    string
		Sched   string
		TZ      string
		Timeout time.Duration
	}{a.DocumentName, docs, params, a.TargetTexts, a.Mode, a.Schedule, a.Timezone, a.Timeout})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
