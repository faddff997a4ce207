package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/internal/diag"
	"github.com/driftless-dev/driftless/inventory"
)

// Environment secrets (docs/config-dir.md#secrets): {{ env:NAME }} in an
// association's parameters or in a document, parameters.toml's
// { env = "NAME" } values, and a host's password_env and
// become_password_env. A variable that is not set is not an error of the
// config dir as a whole: only the commands that run what needs it stop on
// it (NeedEnv), before any host is contacted, and validate says which
// are missing (UnsetEnv).

// envHint is what to do about an unset variable.
const envHint = "export it before running driftless (secrets come from the environment, never from files)"

// unsetVar is an environment variable that is not set, as the place that
// asks for it reports it.
type unsetVar struct {
	name string
	err  *diag.Error
}

func newUnset(name, file string, pos diag.Pos, key, msg string) unsetVar {
	return unsetVar{name, &diag.Error{File: file, Pos: pos, Key: key, Msg: msg, Hint: envHint}}
}

func errorsOf(us []unsetVar) []*diag.Error {
	out := make([]*diag.Error, len(us))
	for i, u := range us {
		out[i] = u.err
	}
	return out
}

// MissingEnv returns what running the association needs from the
// environment and does not find there, each at the place that asks for
// it; nil when it has all it needs.
func (a *Association) MissingEnv() []*diag.Error { return errorsOf(a.unset) }

// unsetEnv records that running the association needs environment
// variable name, which is not set, as msg at file:pos, key.
func (a *Association) unsetEnv(name, file string, pos diag.Pos, key, msg string) {
	a.addUnset(newUnset(name, file, pos, key, msg))
}

// addUnset records us in a.unset, each once.
func (a *Association) addUnset(us ...unsetVar) {
	for _, u := range us {
		if !slices.ContainsFunc(a.unset, func(o unsetVar) bool { return o.err.Error() == u.err.Error() }) {
			a.unset = append(a.unset, u)
		}
	}
}

// unsetSSM is a {{ssm:NAME}} reference, at file:pos, to a parameters.toml
// parameter whose environment variable is not set.
func (cfg *Config) unsetSSM(file string, pos diag.Pos, key, prefix string, r documents.Ref) unsetVar {
	p := cfg.Parameters[r.Name]
	return newUnset(p.Env, file, pos, key, fmt.Sprintf("%s{{%s}}: its value comes from environment variable %s (%s:%d), which is not set",
		prefix, r, p.Env, filepath.Join(cfg.Dir, "parameters.toml"), p.Pos.Line))
}

// HostMissingEnv returns what reaching host h needs from the environment
// and does not find there: its password_env (always for a WinRM host,
// for an SSH host that sets one) and, with become, its
// become_password_env.
func (cfg *Config) HostMissingEnv(h *inventory.Host) []*diag.Error { return errorsOf(cfg.hostUnset(h)) }

func (cfg *Config) hostUnset(h *inventory.Host) []unsetVar {
	if h.Transport == inventory.Local {
		return nil
	}
	var out []unsetVar
	file := ""
	if cfg.Inventory != nil {
		file = cfg.Inventory.File
	}
	add := func(key, name, what string) {
		if _, ok := cfg.Env(name); ok || name == "" {
			return
		}
		out = append(out, newUnset(name, file, h.Pos, "hosts."+h.Name, fmt.Sprintf("%s %s is not set: it holds %s", key, name, what)))
	}
	add("password_env", h.PasswordEnv, "the password of "+h.Name)
	if h.Become != "" {
		add("become_password_env", h.BecomePassEnv, "the "+h.Become+" password of "+h.Name)
	}
	return out
}

// NeedEnv lists, in l, what running association a (nil for a command
// that runs none, such as exec) on hosts needs from the environment and
// does not find there. Errors already in l are not repeated, so that it
// can be called once per association of a command.
func (cfg *Config) NeedEnv(l *diag.List, a *Association, hosts []*inventory.Host) {
	seen := map[string]bool{}
	for _, e := range l.Errors() {
		seen[e.Error()] = true
	}
	add := func(errs []*diag.Error) {
		for _, e := range errs {
			if !seen[e.Error()] {
				seen[e.Error()] = true
				l.Add(e)
			}
		}
	}
	if a != nil {
		add(a.MissingEnv())
	}
	for _, h := range hosts {
		add(cfg.HostMissingEnv(h))
	}
}

// EnvProblem is an environment variable that parts of the config dir
// need and the environment lacks, for validate.
type EnvProblem struct {
	Var string
	// Needed names what needs it: "association join", "host win-1",
	// "parameters.toml parameter /db/pw".
	Needed []string
	// Places are the errors at each place that asks for it, in file
	// order.
	Places []*diag.Error
}

// UnsetEnv returns, for validate, every environment variable that some
// part of the config dir needs and the environment lacks, by name, with
// what needs it: parameters.toml entries, the associations, and every
// host.
func (cfg *Config) UnsetEnv() []EnvProblem {
	by := map[string]*EnvProblem{}
	add := func(who string, u unsetVar) {
		p := by[u.name]
		if p == nil {
			p = &EnvProblem{Var: u.name}
			by[u.name] = p
		}
		if !slices.Contains(p.Needed, who) {
			p.Needed = append(p.Needed, who)
		}
		if !slices.ContainsFunc(p.Places, func(e *diag.Error) bool { return e.Error() == u.err.Error() }) {
			p.Places = append(p.Places, u.err)
		}
	}
	file := filepath.Join(cfg.Dir, "parameters.toml")
	for name, p := range cfg.Parameters {
		if p.Unset {
			add("parameters.toml parameter "+name, newUnset(p.Env, file, p.Pos, name,
				fmt.Sprintf("parameter %q: environment variable %s is not set", name, p.Env)))
		}
	}
	for _, a := range cfg.Associations {
		for _, u := range a.unset {
			add("association "+a.Name, u)
		}
	}
	if cfg.Inventory != nil {
		for _, h := range cfg.Inventory.Hosts {
			for _, u := range cfg.hostUnset(h) {
				add("host "+h.Name, u)
			}
		}
	}
	out := make([]EnvProblem, 0, len(by))
	for _, p := range by {
		sort.Slice(p.Places, func(i, j int) bool { return p.Places[i].Error() < p.Places[j].Error() })
		sort.Strings(p.Needed)
		out = append(out, *p)
	}
	slices.SortFunc(out, func(x, y EnvProblem) int { return strings.Compare(x.Var, y.Var) })
	return out
}
