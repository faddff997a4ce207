package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/internal/cfgtree"
	"github.com/driftless-dev/driftless/internal/diag"
)

// SSMParam is one parameter of parameters.toml: what {{ssm:NAME}} and
// {{ssm-secure:NAME}} resolve to (docs/config-dir.md#parameterstoml).
type SSMParam struct {
	Value string
	Pos   diag.Pos
	// Env is the environment variable the value comes from ({ env =
	// "NAME" }), and Unset says it is not set: the value is unknown, and
	// only what uses the parameter needs it (docs/config-dir.md#secrets).
	Env   string
	Unset bool
}

var ssmParamNameRe = regexp.MustCompile(`^[/\w.:-]+$`)

// LoadParameters reads DIR/parameters.toml; a missing file is no
// parameters. env resolves { env = "NAME" } values.
func LoadParameters(dir string, env func(string) (string, bool), list *diag.List) map[string]SSMParam {
	file := filepath.Join(dir, "parameters.toml")
	src, err := cfgtree.ReadFile(file)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			list.Add(cfgtree.ReadError(file, "parameters", err))
		}
		return map[string]SSMParam{}
	}
	return ParseParameters(file, src, env, list)
}

// ParseParameters reads parameters.toml from src: each key a Parameter
// Store name, each value a string or { env = "NAME" }.
func ParseParameters(file string, src []byte, env func(string) (string, bool), list *diag.List) map[string]SSMParam {
	out := map[string]SSMParam{}
	root, c := parseTOML(file, src, list)
	if root == nil {
		return out
	}
	var walk func(n *cfgtree.Node, prefix string)
	walk = func(n *cfgtree.Node, prefix string) {
		for _, e := range n.Entries {
			name := prefix + e.Key
			switch {
			case e.Kind == cfgtree.Map && e.Get("env") != nil:
				if !ssmParamNameRe.MatchString(name) {
					c.Errf(e, "invalid parameter name %q: use letters, digits, '/', '.', '_', ':' and '-'", name)
					continue
				}
				c.Keys(e, "env")
				if v, ok := c.NonEmpty(e.Get("env")); ok {
					val, set := env(v)
					out[name] = SSMParam{Value: val, Pos: e.Pos, Env: v, Unset: !set}
				}
				continue
			case e.Kind == cfgtree.Map:
				// "app.db" = ... written as a dotted key or a table
				// is the name "app.db" too.
				walk(e, name+".")
				continue
			}
			if !ssmParamNameRe.MatchString(name) {
				c.Errf(e, "invalid parameter name %q: use letters, digits, '/', '.', '_', ':' and '-'", name)
				continue
			}
			if v, ok := c.Str(e); ok {
				out[name] = SSMParam{Value: v, Pos: e.Pos}
			}
		}
	}
	walk(root, "")
	return out
}

// parseTOML parses a config file of the config dir's own (parameters.toml,
// notify.toml), a table, and returns it with a checker of the file. A
// syntax error, or a file that is not a table, goes to list, and the
// root is nil.
func parseTOML(file string, src []byte, list *diag.List) (*cfgtree.Node, cfgtree.Checker) {
	c := cfgtree.Checker{File: file, L: list}
	root, err := cfgtree.ParseTOML(file, src)
	if err != nil {
		var de *diag.Error
		if errors.As(err, &de) {
			list.Add(de)
		} else {
			list.Addf(file, diag.Pos{}, "", "%v", err)
		}
		return nil, c
	}
	if !c.Map(root) {
		return nil, c
	}
	return root, c
}

// ssmRefRe is a Parameter Store reference as the SSM agent finds it.
var ssmRefRe = regexp.MustCompile(`\{\{ *ssm(-secure)?:([/\w.:-]+) *\}\}`)

// resolveSSM resolves {{ssm:NAME}} and {{ssm-secure:NAME}} in the
// documents read from files, in place: in every template and in parameter
// defaults. An unknown name is an error where it is written; the values
// of secure ones become secrets.
func (cfg *Config) resolveSSM(list *diag.List) {
	var used []string // name=value of the document at hand, for its hash
	lookup := func(name string) (string, bool) {
		p, ok := cfg.Parameters[name]
		if ok && !p.Unset {
			used = append(used, name+"="+p.Value)
		}
		return p.Value, ok && !p.Unset
	}
	var d *documents.Document
	missing := func(file string, pos diag.Pos, path string, r documents.Ref) {
		if p, ok := cfg.Parameters[r.Name]; ok && p.Unset {
			// Known, but its variable is not set: only what runs
			// this document needs it.
			cfg.docUnset[d.Name] = append(cfg.docUnset[d.Name], cfg.unsetSSM(file, pos, path, "", r))
			return
		}
		e := list.Addf(file, pos, path, "{{%s}}: parameters.toml has no parameter %q", r, r.Name)
		e.Hint = "add \"" + r.Name + "\" = \"...\" to " + filepath.Join(cfg.Dir, "parameters.toml")
	}
	cfg.docUnset = map[string][]unsetVar{}
	for _, d = range cfg.Documents {
		if d.File == "" {
			continue
		}
		used = used[:0]
		for _, p := range d.Params {
			if p.Default == nil {
				continue
			}
			items := p.Default.Items()
			for i, s := range items {
				items[i] = ssmRefRe.ReplaceAllStringFunc(s, func(m string) string {
					sub := ssmRefRe.FindStringSubmatch(m)
					kind := documents.RefSSM
					if sub[1] != "" {
						kind = documents.RefSSMSecure
					}
					v, ok := lookup(sub[2])
					if !ok {
						missing(d.File, p.DefaultPos, "parameters."+p.Name+".default", documents.Ref{Kind: kind, Name: sub[2]})
						return m
					}
					if kind == documents.RefSSMSecure {
						p.Secret = true
						cfg.Secrets = append(cfg.Secrets, v)
					}
					return v
				})
			}
			if p.Default.IsList {
				p.Default.List = items
			} else {
				p.Default.Str = items[0]
			}
		}
		for _, s := range d.Steps {
			for _, name := range s.InputNames() {
				in := s.Input(name)
				for _, t := range in.Templates() {
					miss, sec := t.ResolveSSM(lookup)
					for _, r := range miss {
						missing(d.File, in.Pos, in.Path, r)
					}
					cfg.Secrets = append(cfg.Secrets, sec...)
				}
			}
			var others []*documents.Template
			if s.TimeoutExpr != nil {
				others = append(others, s.TimeoutExpr)
			}
			if p := s.Precondition; p != nil && p.Equals[0] != nil {
				others = append(others, p.Equals[0], p.Equals[1])
			}
			for _, t := range others {
				miss, sec := t.ResolveSSM(lookup)
				for _, r := range miss {
					missing(d.File, s.Pos, "", r)
				}
				cfg.Secrets = append(cfg.Secrets, sec...)
			}
		}
		// A changed value of parameters.toml is a changed document: its
		// associations are due again.
		if len(used) > 0 {
			slices.Sort(used)
			sum := sha256.Sum256([]byte(d.Hash + "\x00" + strings.Join(used, "\x00")))
			d.Hash = hex.EncodeToString(sum[:])
		}
	}
	cfg.Secrets = slicesCompactNonEmpty(cfg.Secrets)
}

func slicesCompactNonEmpty(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if strings.TrimSpace(s) != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
