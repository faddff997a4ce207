package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/driftless-dev/driftless/internal/cfgtree"
	"github.com/driftless-dev/driftless/internal/diag"
)

// Transports.
const (
	SSH   = "ssh"
	WinRM = "winrm"
	Local = "local"
)

// Host is one managed machine with its connection settings fully resolved:
// host > groups (file order, a later group overriding an earlier one) >
// defaults > ~/.ssh/config > built-in defaults.
type Host struct {
	Name      string
	Address   string
	Port      int
	User      string
	Transport string

	IdentityFiles []string // expanded on the control machine
	// IdentityExplicit is set when identity_files came from the files (a
	// missing one is then an error, not a default that is skipped).
	IdentityExplicit bool
	KnownHosts       []string // the first is where accept-new appends
	HostKeyPolicy    string   // strict | accept-new
	ConnectTimeout   time.Duration
	JumpSpec         string // as written
	Jump             []Hop  // resolved ProxyJump chain, first hop first
	Become           string // "" | "sudo"
	BecomePassEnv    string
	PasswordEnv      string
	SSHConfig        bool
	WinRM            WinRMSettings

	Tags   map[string]string
	Vars   map[string]string
	Groups []string // groups the host belongs to, in file order
	// Site is where the host lives (site = "eu-west"): its own, else its
	// groups'; "" when none sets one. A driftless given --site runs only
	// the hosts of its sites and those without one.
	Site string

	Pos diag.Pos // where [hosts.NAME] is written

	jumpAt   diag.Pos // where the jump setting in force is written
	jumpPath string
}

// Hop is one host of a ProxyJump chain.
type Hop struct {
	Host    *Host // set when the hop names an inventory host
	User    string
	Address string
	Port    int
}

func (h Hop) String() string {
	if h.Host != nil {
		return h.Host.Name
	}
	return fmt.Sprintf("%s@%s:%d", h.User, h.Address, h.Port)
}

// WinRMSettings are the WinRM connection settings of a host.
type WinRMSettings struct {
	HTTPS              bool
	Port               int
	CAFile             string
	InsecureSkipVerify bool
	Auth               string // basic | ntlm
}

// Group is a named set of hosts.
type Group struct {
	Name      string
	Members   []string
	Select    []*Selector
	Vars      map[string]string
	Site      string // "" when the group sets none
	Pos       diag.Pos
	siteNode  *cfgtree.Node // where site is written
	settings  settings
	memberSet map[string]bool // resolved: members ∪ select
}

// Has reports whether the host named name is in the group.
func (g *Group) Has(name string) bool { return g.memberSet[name] }

// Inventory is a parsed and resolved inventory.toml.
type Inventory struct {
	File   string
	Hosts  []*Host // file order
	Groups []*Group
	hosts  map[string]*Host
	groups map[string]*Group
}

// Host returns the host named name, or nil.
func (inv *Inventory) Host(name string) *Host { return inv.hosts[name] }

// Group returns the group named name, or nil.
func (inv *Inventory) Group(name string) *Group { return inv.groups[name] }

// HostNames returns the names of all hosts in file order.
func (inv *Inventory) HostNames() []string {
	out := make([]string, len(inv.Hosts))
	for i, h := range inv.Hosts {
		out[i] = h.Name
	}
	return out
}

// GroupNames returns the names of all groups in file order.
func (inv *Inventory) GroupNames() []string {
	out := make([]string, len(inv.Groups))
	for i, g := range inv.Groups {
		out[i] = g.Name
	}
	return out
}

// Options tune Load.
type Options struct {
	// Home is the control machine's home directory, for "~" in local
	// paths and for ~/.ssh/config. Default: os.UserHomeDir().
	Home string
	// CurrentUser is the login name used when none is configured.
	// Default: $USER.
	CurrentUser string
}

var (
	hostNameRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)
	tagKeyRe   = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._/-]*$`)
)

var connKeys = []string{"user", "port", "transport", "identity_files", "known_hosts", "host_key_policy",
	"connect_timeout", "jump", "become", "become_password_env", "ssh_config", "password_env", "winrm", "vars"}

// settings are the connection keys as set at one level (defaults, a group,
// a host); nil means "not set here".
type settings struct {
	user, transport, hostKeyPolicy, jump, become, becomePassEnv, passwordEnv, address *string
	port                                                                              *int
	identityFiles, knownHosts                                                         []string
	identitySet, knownHostsSet                                                        bool
	connectTimeout                                                                    *time.Duration
	sshConfig                                                                         *bool
	winrmHTTPS, winrmInsecure                                                         *bool
	winrmPort                                                                         *int
	winrmCAFile, winrmAuth                                                            *string
	vars                                                                              map[string]string
	varsOrder                                                                         []string
	jumpAt                                                                            diag.Pos
	jumpPath                                                                          string
}

// Load reads and validates the inventory file at path. The returned
// inventory is usable only when list has no errors.
func Load(path string, opts Options) (*Inventory, *diag.List) {
	var list diag.List
	src, err := cfgtree.ReadFile(path)
	if err != nil {
		list.Add(cfgtree.ReadError(path, "the inventory", err))
		return nil, &list
	}
	inv := Parse(path, src, opts, &list)
	return inv, &list
}

// Parse validates and resolves an inventory read from src; file names it in
// messages. Problems are added to list.
func Parse(file string, src []byte, opts Options, list *diag.List) *Inventory {
	if opts.Home == "" {
		opts.Home, _ = os.UserHomeDir()
	}
	if opts.CurrentUser == "" {
		opts.CurrentUser = os.Getenv("USER")
	}
	root, err := cfgtree.ParseTOML(file, src)
	if err != nil {
		list.Add(err.(*diag.Error))
		return nil
	}
	p := &parser{c: cfgtree.Checker{File: file, L: list}, opts: opts, baseDir: filepath.Dir(file)}
	inv := &Inventory{File: file, hosts: map[string]*Host{}, groups: map[string]*Group{}}
	p.c.Keys(root, "defaults", "hosts", "groups")

	var defaults settings
	if n := root.Get("defaults"); n != nil && p.c.Map(n) {
		p.c.Keys(n, slices.Concat(connKeys, []string{"site"})...)
		if v := n.Get("site"); v != nil {
			e := p.c.Errf(v, "site is set on hosts and groups, not in [defaults]")
			e.Hint = "a host without a site runs on every driftless, whatever its --site"
		}
		defaults = p.settings(n)
	}

	hostSettings := map[string]settings{}
	if n := root.Get("hosts"); n != nil && p.c.Map(n) {
		inv.Hosts = make([]*Host, 0, len(n.Entries))
		p.eachEntry(n, "host", []string{"address", "tags", "site"}, func(hn *cfgtree.Node) {
			h := &Host{Name: hn.Key, Pos: hn.Pos, Tags: map[string]string{}}
			h.Site, _ = p.site(hn)
			if a := hn.Get("address"); a != nil {
				if s, ok := p.c.NonEmpty(a); ok {
					if strings.ContainsAny(s, " \t/") {
						p.c.Errf(a, "invalid address %q", s)
					}
					h.Address = s
				}
			}
			if t := hn.Get("tags"); t != nil {
				tags, keys, _ := p.c.StrMap(t)
				for _, k := range keys {
					if !tagKeyRe.MatchString(k) {
						p.c.Errf(t.Get(k), "invalid tag key %q", k)
					}
				}
				if tags != nil {
					h.Tags = tags
				}
			}
			hostSettings[h.Name] = p.settings(hn)
			inv.Hosts = append(inv.Hosts, h)
			inv.hosts[h.Name] = h
		})
	}

	if n := root.Get("groups"); n != nil && p.c.Map(n) {
		p.eachEntry(n, "group", []string{"members", "select", "site"}, func(gn *cfgtree.Node) {
			g := &Group{Name: gn.Key, Pos: gn.Pos, memberSet: map[string]bool{}}
			g.Site, g.siteNode = p.site(gn)
			if m := gn.Get("members"); m != nil {
				names, _ := p.c.StrList(m)
				for i, name := range names {
					if inv.hosts[name] == nil && name != "" {
						e := p.c.Errf(m.Items[i], "unknown host %q", name)
						if s := diag.Suggest(name, inv.HostNames()); s != "" {
							e.Msg += fmt.Sprintf(" (did you mean %q?)", s)
						}
						continue
					}
					g.Members = append(g.Members, name)
				}
			}
			if s := gn.Get("select"); s != nil {
				texts, _ := p.c.StrOrList(s)
				for i, text := range texts {
					item := s
					if s.Kind == cfgtree.List {
						item = s.Items[i]
					}
					sel, err := ParseSelector(text)
					if err != nil {
						p.c.Errf(item, "%v", err)
						continue
					}
					if sel.hasSite() {
						e := p.c.Errf(item, "selector %q: a group's select cannot use site: (groups give their members a site)", text)
						e.Hint = "select the hosts by name, tag or group, and set site on the group"
						continue
					}
					sel.Pos = item.Pos
					sel.Path = item.Path
					g.Select = append(g.Select, sel)
				}
			}
			g.settings = p.settings(gn)
			g.Vars = g.settings.vars
			inv.Groups = append(inv.Groups, g)
			inv.groups[g.Name] = g
		})
	}

	p.resolveGroups(inv)
	p.resolveHosts(inv, defaults, hostSettings)
	p.resolveSites(inv)
	return inv
}

type parser struct {
	c       cfgtree.Checker
	opts    Options
	baseDir string
	statted map[string]error // statErr's answers: a fleet shares its few key files
}

// statErr is os.Stat's error for the file f, asked once per file and load.
func (p *parser) statErr(f string) error {
	err, ok := p.statted[f]
	if !ok {
		_, err = os.Stat(f)
		if p.statted == nil {
			p.statted = map[string]error{}
		}
		p.statted[f] = err
	}
	return err
}

// eachEntry runs fn on each table under n, the [hosts] or [groups] table,
// in file order. It reports and passes over an entry whose name is not a
// valid kind ("host" or "group") name or that is not a table, and checks
// that an entry holds only keys and the connection keys.
func (p *parser) eachEntry(n *cfgtree.Node, kind string, keys []string, fn func(*cfgtree.Node)) {
	for _, en := range n.Entries {
		if !hostNameRe.MatchString(en.Key) {
			p.c.Errf(en, "invalid %s name %q: use letters, digits, '.', '_' and '-'", kind, en.Key)
			continue
		}
		if !p.c.Map(en) {
			continue
		}
		p.c.Keys(en, append(keys, connKeys...)...)
		fn(en)
	}
}

func (p *parser) settings(n *cfgtree.Node) settings {
	var s settings
	str := func(key string, check func(*cfgtree.Node) (string, bool)) *string {
		if v := n.Get(key); v != nil {
			if x, ok := check(v); ok {
				return &x
			}
		}
		return nil
	}
	s.user = str("user", p.c.NonEmpty)
	s.transport = str("transport", func(v *cfgtree.Node) (string, bool) { return p.c.OneOf(v, SSH, WinRM, Local) })
	s.hostKeyPolicy = str("host_key_policy", func(v *cfgtree.Node) (string, bool) {
		if v.Kind == cfgtree.String && slices.Contains([]string{"ignore", "insecure", "no", "off", "none", "accept-any"}, v.Str) {
			e := p.c.Errf(v, "host key verification cannot be turned off: expected \"strict\" or \"accept-new\", got %q", v.Str)
			e.Hint = "accept-new records the key of a host seen for the first time and still refuses a changed key"
			return "", false
		}
		return p.c.OneOf(v, "strict", "accept-new")
	})
	s.jump = str("jump", p.c.Str)
	if v := n.Get("jump"); v != nil {
		s.jumpAt, s.jumpPath = v.Pos, v.Path
	}
	s.become = str("become", func(v *cfgtree.Node) (string, bool) { return p.c.OneOf(v, "", "sudo") })
	s.becomePassEnv = str("become_password_env", p.c.EnvName)
	s.passwordEnv = str("password_env", p.c.EnvName)
	if v := n.Get("port"); v != nil {
		if x, ok := p.c.IntRange(v, 1, 65535); ok {
			port := int(x)
			s.port = &port
		}
	}
	if v := n.Get("connect_timeout"); v != nil {
		if d, ok := p.c.Duration(v); ok {
			s.connectTimeout = &d
		}
	}
	if v := n.Get("ssh_config"); v != nil {
		if b, ok := p.c.Bool(v); ok {
			s.sshConfig = &b
		}
	}
	if v := n.Get("identity_files"); v != nil {
		s.identityFiles, s.identitySet = p.paths(v)
	}
	if v := n.Get("known_hosts"); v != nil {
		s.knownHosts, s.knownHostsSet = p.paths(v)
	}
	if v := n.Get("vars"); v != nil {
		s.vars, s.varsOrder, _ = p.c.StrMap(v)
	}
	if v := n.Get("winrm"); v != nil && p.c.Map(v) {
		p.c.Keys(v, "https", "port", "ca_file", "insecure_skip_verify", "auth")
		for _, e := range v.Entries {
			switch e.Key {
			case "https":
				if b, ok := p.c.Bool(e); ok {
					s.winrmHTTPS = &b
				}
			case "insecure_skip_verify":
				if b, ok := p.c.Bool(e); ok {
					s.winrmInsecure = &b
				}
			case "port":
				if x, ok := p.c.IntRange(e, 1, 65535); ok {
					port := int(x)
					s.winrmPort = &port
				}
			case "ca_file":
				if x, ok := p.c.Str(e); ok {
					x = p.expand(e, x)
					if x != "" {
						if _, err := os.Stat(x); err != nil {
							p.c.Errf(e, "CA file %q: %v", x, pathErr(err))
						}
					}
					s.winrmCAFile = &x
				}
			case "auth":
				if x, ok := p.c.OneOf(e, "basic", "ntlm"); ok {
					s.winrmAuth = &x
				}
			}
		}
	}
	return s
}

func pathErr(err error) string {
	if os.IsNotExist(err) {
		return "no such file"
	}
	return err.Error()
}

// paths reads a list of local file paths, "~" expanded, relative paths
// taken from the inventory's directory.
func (p *parser) paths(n *cfgtree.Node) ([]string, bool) {
	raw, ok := p.c.StrOrList(n)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(raw))
	for i, r := range raw {
		item := n
		if n.Kind == cfgtree.List {
			item = n.Items[i]
		}
		if strings.TrimSpace(r) == "" {
			p.c.Errf(item, "empty path")
			continue
		}
		out = append(out, p.expand(item, r))
	}
	return out, true
}

// expand expands "~/" to the control machine's home and makes a relative
// path relative to the inventory's directory.
func (p *parser) expand(n *cfgtree.Node, path string) string {
	switch {
	case path == "~" || strings.HasPrefix(path, "~/"):
		return filepath.Join(p.opts.Home, path[1:])
	case strings.HasPrefix(path, "~"):
		p.c.Errf(n, "%q: only \"~/\" (your own home) is expanded, not ~user", path)
		return path
	case path == "" || filepath.IsAbs(path):
		return path
	}
	return filepath.Join(p.baseDir, path)
}

// resolveGroups computes every group's members: members ∪ hosts selected.
// A group may select other groups; a cycle is an error.
func (p *parser) resolveGroups(inv *Inventory) {
	state := map[string]int{} // 0 new, 1 resolving, 2 done
	var resolve func(g *Group, stack []string) bool
	resolve = func(g *Group, stack []string) bool {
		switch state[g.Name] {
		case 1:
			p.c.L.Addf(inv.File, g.Pos, "groups."+g.Name, "groups select each other in a cycle: %s", strings.Join(append(stack, g.Name), " -> "))
			return false
		case 2:
			return true
		}
		state[g.Name] = 1
		for _, m := range g.Members {
			g.memberSet[m] = true
		}
		ok := true
		for _, sel := range g.Select {
			for _, name := range sel.Groups() {
				dep := inv.groups[name]
				if dep == nil {
					continue // reported by CheckSelector below
				}
				if !resolve(dep, append(stack, g.Name)) {
					ok = false
				}
			}
		}
		if ok {
			for _, sel := range g.Select {
				if err := inv.CheckSelector(sel); err != nil {
					p.c.L.Addf(inv.File, sel.Pos, sel.Path, "%v", err)
					continue
				}
				for _, h := range inv.Hosts {
					if sel.Match(inv, h) {
						g.memberSet[h.Name] = true
					}
				}
			}
		}
		state[g.Name] = 2
		return ok
	}
	for _, g := range inv.Groups {
		resolve(g, nil)
	}
}

func (p *parser) resolveHosts(inv *Inventory, defaults settings, hostSettings map[string]settings) {
	sshCfg := loadSSHConfig(p.opts.Home)
	for _, h := range inv.Hosts {
		var eff settings
		eff.merge(defaults)
		for _, g := range inv.Groups {
			if g.memberSet[h.Name] {
				h.Groups = append(h.Groups, g.Name)
				eff.merge(g.settings)
			}
		}
		eff.merge(hostSettings[h.Name])

		h.Vars = eff.vars
		if h.Vars == nil {
			h.Vars = map[string]string{}
		}
		h.Transport = deref(eff.transport, SSH)
		h.SSHConfig = deref(eff.sshConfig, true)
		if h.SSHConfig && h.Transport == SSH && sshCfg != nil {
			sshCfg.fill(h.Name, &eff, p.opts.Home)
		}
		if h.Address == "" {
			h.Address = deref(eff.address, h.Name)
		}
		h.User = deref(eff.user, p.opts.CurrentUser)
		h.HostKeyPolicy = deref(eff.hostKeyPolicy, "strict")
		h.JumpSpec = deref(eff.jump, "")
		h.jumpAt, h.jumpPath = eff.jumpAt, eff.jumpPath
		if h.jumpPath == "" {
			h.jumpAt, h.jumpPath = h.Pos, "hosts."+h.Name+".jump"
		}
		h.Become = deref(eff.become, "")
		h.BecomePassEnv = deref(eff.becomePassEnv, "")
		h.PasswordEnv = deref(eff.passwordEnv, "")
		h.ConnectTimeout = 10 * time.Second
		if eff.connectTimeout != nil {
			h.ConnectTimeout = *eff.connectTimeout
		}
		if eff.identitySet {
			h.IdentityFiles, h.IdentityExplicit = eff.identityFiles, true
		} else {
			for _, f := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
				h.IdentityFiles = append(h.IdentityFiles, filepath.Join(p.opts.Home, ".ssh", f))
			}
		}
		if eff.knownHostsSet {
			h.KnownHosts = eff.knownHosts
		} else {
			h.KnownHosts = []string{filepath.Join(p.opts.Home, ".ssh", "known_hosts")}
		}
		h.WinRM = WinRMSettings{
			HTTPS:              deref(eff.winrmHTTPS, false),
			CAFile:             deref(eff.winrmCAFile, ""),
			InsecureSkipVerify: deref(eff.winrmInsecure, false),
			Auth:               deref(eff.winrmAuth, "ntlm"),
		}
		h.WinRM.Port = 5985
		if h.WinRM.HTTPS {
			h.WinRM.Port = 5986
		}
		if eff.winrmPort != nil {
			h.WinRM.Port = *eff.winrmPort
		}
		// port is the SSH port; a WinRM host uses winrm.port (default
		// 5985, or 5986 with https).
		h.Port = 22
		if eff.port != nil {
			h.Port = *eff.port
		}
		if h.Transport == WinRM {
			h.Port = h.WinRM.Port
		}
		if h.Become != "" && h.Transport != SSH && h.Transport != Local {
			p.c.L.Addf(inv.File, h.Pos, "hosts."+h.Name, "become = %q works only with transport \"ssh\" or \"local\"", h.Become)
		}
		if h.Transport == WinRM && h.PasswordEnv == "" {
			e := p.c.L.Addf(inv.File, h.Pos, "hosts."+h.Name, "a winrm host needs password_env (the environment variable that holds its password)")
			e.Hint = `add password_env = "WIN_PASSWORD" to the host, a group or [defaults]`
		}
		if h.IdentityExplicit {
			for _, f := range h.IdentityFiles {
				if err := p.statErr(f); err != nil {
					p.c.L.Warnf(inv.File, h.Pos, "hosts."+h.Name, "identity file %s: %s", f, pathErr(err))
				}
			}
		}
	}
	// Jump chains, once every host is resolved.
	for _, h := range inv.Hosts {
		if h.JumpSpec == "" || h.Transport != SSH {
			continue
		}
		chain, err := p.jumpChain(inv, h, nil)
		if err != nil {
			p.c.L.Addf(inv.File, h.jumpAt, h.jumpPath, "%v", err)
			continue
		}
		h.Jump = chain
	}
}

// jumpChain resolves h's ProxyJump chain: named hops bring their own
// chain first (like ssh -J with each hop's own ProxyJump).
func (p *parser) jumpChain(inv *Inventory, h *Host, seen []string) ([]Hop, error) {
	if slices.Contains(seen, h.Name) {
		return nil, fmt.Errorf("jump hosts form a cycle: %s -> %s", strings.Join(seen, " -> "), h.Name)
	}
	seen = append(seen, h.Name)
	if h.JumpSpec == "" || strings.EqualFold(h.JumpSpec, "none") {
		return nil, nil
	}
	var chain []Hop
	for _, part := range strings.Split(h.JumpSpec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("empty hop in %q", h.JumpSpec)
		}
		if named := inv.hosts[part]; named != nil {
			if named.Transport != SSH {
				return nil, fmt.Errorf("jump host %q uses transport %q; a jump host must use ssh", part, named.Transport)
			}
			sub, err := p.jumpChain(inv, named, seen)
			if err != nil {
				return nil, err
			}
			chain = append(chain, sub...)
			chain = append(chain, Hop{Host: named, User: named.User, Address: named.Address, Port: named.Port})
			continue
		}
		hop, err := parseHop(part, h.User)
		if err != nil {
			return nil, err
		}
		chain = append(chain, hop)
	}
	return chain, nil
}

// parseHop reads "[user@]host[:port]" ("[v6]:port" too).
func parseHop(s, defaultUser string) (Hop, error) {
	hop := Hop{User: defaultUser, Port: 22}
	if at := strings.LastIndex(s, "@"); at >= 0 {
		hop.User = s[:at]
		s = s[at+1:]
		if hop.User == "" {
			return hop, fmt.Errorf("jump %q: empty user before '@'", s)
		}
	}
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return hop, fmt.Errorf("jump %q: missing ']'", s)
		}
		host, port = s[1:end], strings.TrimPrefix(s[end+1:], ":")
	} else if i := strings.LastIndex(s, ":"); i >= 0 {
		host, port = s[:i], s[i+1:]
	}
	if host == "" || strings.ContainsAny(host, " /") {
		return hop, fmt.Errorf("jump %q: not a host name: use an inventory host name or user@host:port", s)
	}
	hop.Address = host
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return hop, fmt.Errorf("jump %q: invalid port %q", s, port)
		}
		hop.Port = n
	}
	return hop, nil
}

// set sets *dst to src when src is set (not nil).
func set[T any](dst **T, src *T) {
	if src != nil {
		*dst = src
	}
}

// merge overrides s with what o sets.
func (s *settings) merge(o settings) {
	set(&s.user, o.user)
	set(&s.transport, o.transport)
	set(&s.hostKeyPolicy, o.hostKeyPolicy)
	if o.jump != nil {
		s.jump, s.jumpAt, s.jumpPath = o.jump, o.jumpAt, o.jumpPath
	}
	set(&s.become, o.become)
	set(&s.becomePassEnv, o.becomePassEnv)
	set(&s.passwordEnv, o.passwordEnv)
	set(&s.winrmCAFile, o.winrmCAFile)
	set(&s.winrmAuth, o.winrmAuth)
	set(&s.address, o.address)
	set(&s.port, o.port)
	set(&s.winrmPort, o.winrmPort)
	set(&s.connectTimeout, o.connectTimeout)
	set(&s.sshConfig, o.sshConfig)
	set(&s.winrmHTTPS, o.winrmHTTPS)
	set(&s.winrmInsecure, o.winrmInsecure)
	if o.identitySet {
		s.identityFiles, s.identitySet = o.identityFiles, true
	}
	if o.knownHostsSet {
		s.knownHosts, s.knownHostsSet = o.knownHosts, true
	}
	if len(o.vars) > 0 {
		if s.vars == nil {
			s.vars = make(map[string]string, len(o.vars))
		} else {
			s.vars = cloneMap(s.vars)
		}
		for k, v := range o.vars {
			s.vars[k] = v
		}
	}
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func deref[T any](p *T, def T) T {
	if p != nil {
		return *p
	}
	return def
}
