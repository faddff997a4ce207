package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/diag"
	"github.com/driftless-dev/driftless/internal/diag/diagtest"
)

func parse(t testing.TB, src string, opts Options) (*Inventory, *diag.List) {
	t.Helper()
	if opts.Home == "" {
		opts.Home = t.TempDir()
	}
	if opts.CurrentUser == "" {
		opts.CurrentUser = "me"
	}
	var l diag.List
	inv := Parse("inventory.toml", []byte(src), opts, &l)
	return inv, &l
}

func mustParse(t testing.TB, src string, opts Options) *Inventory {
	t.Helper()
	inv, l := parse(t, src, opts)
	if err := l.Err(); err != nil {
		t.Fatalf("unexpected errors:\n%v", err)
	}
	return inv
}

const example = `
[defaults]
user = "deploy"
port = 2222
connect_timeout = "5s"
vars = { tier = "base", region = "eu" }

[hosts.web-1]
address = "10.0.1.11"
tags = { role = "web", env = "prod" }
vars = { app_port = "8080" }

[hosts.web-2]
address = "10.0.1.12"
tags = { role = "web", env = "staging" }
user = "alice"

[hosts.db-1]
tags = { role = "db", env = "prod" }
port = 22

[hosts.win-1]
address = "10.0.2.5"
transport = "winrm"
password_env = "WIN_PASSWORD"
winrm = { https = true }

[groups.web]
select = ["tag:role=web"]
vars = { tier = "frontend" }
user = "www"

[groups.canary]
members = ["web-2"]
vars = { tier = "canary" }
`

func TestPrecedence(t *testing.T) {
	inv := mustParse(t, example, Options{})
	w1, w2, db, win := inv.Host("web-1"), inv.Host("web-2"), inv.Host("db-1"), inv.Host("win-1")
	// host > group > defaults
	if w1.User != "www" || w2.User != "alice" || db.User != "deploy" {
		t.Errorf("users: %s %s %s", w1.User, w2.User, db.User)
	}
	if w1.Port != 2222 || db.Port != 22 {
		t.Errorf("ports: %d %d", w1.Port, db.Port)
	}
	// Groups apply in file order: canary (later) overrides web.
	if w1.Vars["tier"] != "frontend" || w2.Vars["tier"] != "canary" || db.Vars["tier"] != "base" {
		t.Errorf("tier: %q %q %q", w1.Vars["tier"], w2.Vars["tier"], db.Vars["tier"])
	}
	if w1.Vars["region"] != "eu" || w1.Vars["app_port"] != "8080" {
		t.Errorf("vars merge: %v", w1.Vars)
	}
	if db.Address != "db-1" {
		t.Errorf("address defaults to the name, got %q", db.Address)
	}
	if w1.ConnectTimeout != 5*time.Second || w1.HostKeyPolicy != "strict" || w1.Transport != SSH {
		t.Errorf("defaults: %+v", w1)
	}
	if win.Port != 5986 || !win.WinRM.HTTPS || win.WinRM.Auth != "ntlm" {
		t.Errorf("winrm: port %d %+v", win.Port, win.WinRM)
	}
	if strings.Join(w2.Groups, ",") != "web,canary" {
		t.Errorf("groups of web-2: %v", w2.Groups)
	}
}

func TestSSHConfig(t *testing.T) {
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
	os.WriteFile(filepath.Join(home, ".ssh", "config"), []byte(`
Host web-*
  HostName %h.example.internal
  User sshcfguser
  Port 2200
  IdentityFile ~/.ssh/web_key
  ProxyJump jump@bastion:2022
Host db-1
  User dbcfg
`), 0o600)
	inv := mustParse(t, `
[hosts.web-1]
[hosts.web-2]
user = "inv"
ssh_config = true
[hosts.db-1]
address = "10.9.9.9"
ssh_config = false
`, Options{Home: home})
	w1 := inv.Host("web-1")
	if w1.Address != "web-1.example.internal" || w1.User != "sshcfguser" || w1.Port != 2200 {
		t.Errorf("web-1 from ssh_config: %s@%s:%d", w1.User, w1.Address, w1.Port)
	}
	if len(w1.IdentityFiles) != 1 || w1.IdentityFiles[0] != filepath.Join(home, ".ssh/web_key") {
		t.Errorf("identity: %v", w1.IdentityFiles)
	}
	if len(w1.Jump) != 1 || w1.Jump[0].String() != "jump@bastion:2022" {
		t.Errorf("jump: %v", w1.Jump)
	}
	if u := inv.Host("web-2").User; u != "inv" {
		t.Errorf("inventory beats ssh_config: %s", u)
	}
	if db := inv.Host("db-1"); db.User != "me" || db.Address != "10.9.9.9" {
		t.Errorf("ssh_config=false: %s@%s", db.User, db.Address)
	}
}

func TestJumpChains(t *testing.T) {
	inv := mustParse(t, `
[hosts.outer]
address = "1.1.1.1"
user = "o"
[hosts.bastion]
address = "2.2.2.2"
jump = "outer"
[hosts.app]
jump = "bastion,ops@10.0.0.9:2200"
`, Options{})
	var got []string
	for _, h := range inv.Host("app").Jump {
		got = append(got, h.String())
	}
	if strings.Join(got, " ") != "outer bastion ops@10.0.0.9:2200" {
		t.Errorf("chain = %v", got)
	}
	_, l := parse(t, "[hosts.a]\njump = \"b\"\n[hosts.b]\njump = \"a\"\n", Options{})
	if !strings.Contains(fmt.Sprint(l.Err()), "cycle") {
		t.Errorf("cycle not reported: %v", l.Err())
	}
}

func TestErrorsAllReported(t *testing.T) {
	src := `[defaults]
usr = "x"
port = 70000

[hosts.web-1]
address = "10.0.0.1"
host_key_policy = "ignore"
connect_timeout = "soon"

[hosts.web-2]
transport = "telnet"

[groups.g]
members = ["web-3"]
select = ["group:nope"]
`
	_, l := parse(t, src, Options{})
	want := []string{
		`inventory.toml:2:1: defaults.usr: unknown key "usr" (did you mean "user"?)`,
		`inventory.toml:3:1: defaults.port: expected an integer from 1 to 65535, got 70000`,
		`inventory.toml:7:1: hosts.web-1.host_key_policy: host key verification cannot be turned off`,
		`inventory.toml:8:1: hosts.web-1.connect_timeout: expected a positive duration`,
		`inventory.toml:11:1: hosts.web-2.transport: expected one of "ssh", "winrm" or "local", got "telnet"`,
		`inventory.toml:14:12: groups.g.members[0]: unknown host "web-3" (did you mean "web-1"?)`,
		`inventory.toml:15:11: groups.g.select[0]: selector "group:nope": unknown group "nope"`,
	}
	diagtest.CheckErrors(t, l, want)
}

func TestGroupCycle(t *testing.T) {
	_, l := parse(t, `
[hosts.a]
[groups.x]
select = ["group:y"]
[groups.y]
select = ["group:x & a"]
`, Options{})
	if !strings.Contains(fmt.Sprint(l.Err()), "cycle") {
		t.Fatalf("cycle not reported: %v", l.Err())
	}
}

func TestSelectors(t *testing.T) {
	inv := mustParse(t, example+"\n[groups.prod]\nselect = [\"tag:env=prod\"]\n", Options{})
	cases := []struct {
		sel  string
		want string
	}{
		{"*", "web-1 web-2 db-1 win-1"},
		{"web-*", "web-1 web-2"},
		{"name:web-?", "web-1 web-2"},
		{"db-1", "db-1"},
		{"tag:role=web", "web-1 web-2"},
		{"tag:role=web,db", "web-1 web-2 db-1"},
		{"tag-key:env", "web-1 web-2 db-1"},
		{"group:web", "web-1 web-2"},
		{"group:web & !web-2", "web-1"},
		{"tag:role=web & tag:env=prod", "web-1"},
		{"group:prod & !group:canary & !tag:role=db", "web-1"},
		{"  tag:role = web  ", "web-1 web-2"},
	}
	for _, c := range cases {
		s, err := ParseSelector(c.sel)
		if err != nil {
			if c.want != "" {
				t.Errorf("%q: %v", c.sel, err)
			}
			continue
		}
		var names []string
		for _, h := range inv.Select([]*Selector{s}) {
			names = append(names, h.Name)
		}
		if got := strings.Join(names, " "); got != c.want {
			t.Errorf("%q selects %q, want %q", c.sel, got, c.want)
		}
	}
	hosts, err := inv.ResolveTargets([]string{"db-1", "web-1"})
	if err != nil || len(hosts) != 2 || hosts[0].Name != "web-1" {
		t.Errorf("union in inventory order: %v %v", hosts, err)
	}
	if _, err := inv.ResolveTargets([]string{"nothing-*"}); err == nil || !strings.Contains(err.Error(), "matches no host") {
		t.Errorf("empty match: %v", err)
	}
}

func TestSelectorErrors(t *testing.T) {
	cases := []struct {
		sel string
		col int
		msg string
	}{
		{"", 1, "empty selector"},
		{"web & ", 7, "expected a selector after"},
		{"& web", 1, "expected a selector before"},
		{"!web", 1, `write "* & !web"`},
		{"web & !", 8, `expected a selector after "!"`},
		{"tag:role", 1, "expected tag:KEY=VALUE"},
		{"tag:role=web,", 1, "empty tag value"},
		{"web & grp:x", 7, `unknown selector kind "grp:"`},
		{"web-[", 1, "bad glob"},
		{"a, b", 1, "not a host name pattern"},
		{"web-1,web-2", 1, "--targets web-1 --targets web-2"},
		{"tag-key:", 1, "expected tag-key:KEY"},
	}
	for _, c := range cases {
		_, err := ParseSelector(c.sel)
		se, ok := err.(*SelectorError)
		if !ok {
			t.Errorf("%q: err = %v", c.sel, err)
			continue
		}
		if se.Col != c.col || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%q: col %d %q, want col %d %q", c.sel, se.Col, se.Msg, c.col, c.msg)
		}
	}
}

func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{"*", "web-*", "tag:a=b,c & !group:g", "tag-key:k", "name:x?", "!a", "a&&b", "site:eu,us & !web-1", "site:"} {
		f.Add(s)
	}
	inv := mustParse(f, example, Options{})
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := ParseSelector(s)
		if err != nil {
			se := err.(*SelectorError)
			if se.Col < 1 || se.Col > len(s)+1 {
				t.Fatalf("%q: column %d out of range", s, se.Col)
			}
			return
		}
		// Evaluation never panics, and "X & !X" is empty.
		_ = inv.Select([]*Selector{sel})
		if !strings.Contains(s, "&") {
			neg, err := ParseSelector("* & " + s + " & !" + s)
			if err == nil && len(inv.Select([]*Selector{neg})) != 0 {
				t.Fatalf("%q & !%q matched", s, s)
			}
		}
	})
}

func FuzzParseInventory(f *testing.F) {
	f.Add(example)
	f.Add("[hosts.a]\njump = \"b,c@d:1\"\n[hosts.b]\n[groups.g]\nselect = \"group:g\"\n")
	f.Add(sites)
	f.Fuzz(func(t *testing.T, s string) {
		var l diag.List
		inv := Parse("inventory.toml", []byte(s), Options{Home: "/nonexistent", CurrentUser: "u"}, &l)
		for _, e := range l.Errors() {
			if !strings.HasPrefix(e.Error(), "inventory.toml:") {
				t.Fatalf("error without position: %v", e)
			}
		}
		if l.Len() == 0 && inv != nil {
			for _, h := range inv.Hosts {
				if h.Port < 1 || h.Port > 65535 || h.Address == "" || h.User == "" {
					t.Fatalf("host %s resolved badly: %+v", h.Name, h)
				}
			}
		}
	})
}

func bigInventory(n int) string {
	var b strings.Builder
	b.WriteString("[defaults]\nuser = \"deploy\"\nconnect_timeout = \"5s\"\n\n")
	roles := []string{"web", "db", "cache", "api"}
	for i := range n {
		fmt.Fprintf(&b, "[hosts.h%05d]\naddress = \"10.%d.%d.%d\"\ntags = { role = %q, env = \"prod\", rack = \"r%d\" }\nvars = { idx = \"%d\" }\n\n",
			i, i>>16&255, i>>8&255, i&255, roles[i%len(roles)], i%40, i)
	}
	b.WriteString("[groups.canary]\nselect = [\"h000*\"]\n[groups.web]\nselect = [\"tag:role=web\"]\nuser = \"www\"\n")
	return b.String()
}

func TestLoad10k(t *testing.T) {
	inv := mustParse(t, bigInventory(10000), Options{})
	s, _ := ParseSelector("tag:role=web & !group:canary")
	got := inv.Select([]*Selector{s})
	// 2500 web hosts, of which h00000..h00099 (25 of them) are canaries.
	if len(got) != 2475 {
		t.Fatalf("selected %d hosts, want 2475", len(got))
	}
}

// BenchmarkLoadInventory10k loads and validates a 10,000-host inventory and
// resolves a selector over it.
func BenchmarkLoadInventory10k(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "inventory.toml")
	os.WriteFile(path, []byte(bigInventory(10000)), 0o600)
	b.ResetTimer()
	for b.Loop() {
		inv, l := Load(path, Options{Home: dir, CurrentUser: "me"})
		if l.Len() > 0 {
			b.Fatal(l.Err())
		}
		s, _ := ParseSelector("tag:role=web & !group:canary")
		if n := len(inv.Select([]*Selector{s})); n != 2475 {
			b.Fatal(n)
		}
	}
}
