package config

import (
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/internal/diag"
	"github.com/driftless-dev/driftless/inventory"
)

// An unset environment variable is not an error of the config dir: each
// association, host and parameters.toml entry that needs it says so, and
// the others are untouched.
func TestUnsetEnvIsScoped(t *testing.T) {
	dir := writeDir(t, map[string]string{
		"inventory.toml":   "[hosts.a]\n[hosts.w]\ntransport = \"winrm\"\npassword_env = \"WIN_PW\"\n[hosts.s]\nbecome = \"sudo\"\nbecome_password_env = \"SUDO_PW\"\n",
		"parameters.toml":  "\"db/pw\" = { env = \"DB_PW\" }\n\"db/host\" = \"10.0.0.5\"\n",
		"documents/d.toml": "[parameters.p]\ntype = \"String\"\ndefault = \"x\"\n[[steps]]\nname = \"s\"\naction = \"shell\"\nrun = \"echo {{ p }}\"\n",
		"documents/e.toml": "[[steps]]\nname = \"s\"\naction = \"shell\"\nrun = \"echo {{ env:DOC_VAR }} {{ssm:db/host}}\"\n",
		"documents/f.toml": "[[steps]]\nname = \"s\"\naction = \"document\"\ndocument = \"g\"\n",
		"documents/g.toml": "[[steps]]\nname = \"s\"\naction = \"shell\"\nrun = \"echo {{ssm:db/pw}}\"\n",
		"associations.toml": `[associations.ok]
document = "d"
targets = ["a"]
[associations.param]
document = "d"
targets = ["a"]
parameters = { p = "{{ env:PARAM_VAR }}" }
[associations.ssm]
document = "d"
targets = ["a"]
parameters = { p = "{{ssm:db/pw}}" }
[associations.doc]
document = "e"
targets = ["a"]
[associations.nested]
document = "f"
targets = ["a"]
`,
	})
	cfg, list := Load(Options{Dir: dir, Env: func(string) (string, bool) { return "", false }})
	if err := list.Err(); err != nil {
		t.Fatalf("an unset variable made the config dir invalid: %v", err)
	}
	want := map[string]string{
		"ok":     "",
		"param":  "parameter p: {{ env:PARAM_VAR }}: environment variable PARAM_VAR is not set",
		"ssm":    "parameter p: {{ssm:db/pw}}: its value comes from environment variable DB_PW (" + dir + "/parameters.toml:1), which is not set",
		"doc":    `document "e" step "s": {{ env:DOC_VAR }}: environment variable DOC_VAR is not set`,
		"nested": "{{ssm:db/pw}}: its value comes from environment variable DB_PW",
	}
	for name, msg := range want {
		a := cfg.Association(name)
		got := a.MissingEnv()
		if msg == "" {
			if len(got) != 0 || a.Hash == "" {
				t.Errorf("%s: missing %v, hash %q", name, got, a.Hash)
			}
			continue
		}
		if len(got) != 1 || !strings.Contains(got[0].Msg, msg) || got[0].Hint == "" {
			t.Errorf("%s: missing %v, want %q", name, got, msg)
		}
		if a.Hash != "" {
			t.Errorf("%s: a hash without its secrets", name)
		}
	}
	if got := cfg.Association("nested").MissingEnv(); len(got) == 1 && !strings.HasSuffix(got[0].File, "documents/g.toml") {
		t.Errorf("nested: at %s, want the nested document", got[0].File)
	}

	var l diag.List
	cfg.NeedEnv(&l, cfg.Association("ok"), []*inventory.Host{cfg.Inventory.Hosts[0]})
	if l.Len() != 0 {
		t.Errorf("ok on a: %v", l.Err())
	}
	cfg.NeedEnv(&l, cfg.Association("param"), cfg.Inventory.Hosts)
	cfg.NeedEnv(&l, cfg.Association("param"), cfg.Inventory.Hosts) // not repeated
	var msgs []string
	for _, e := range l.Errors() {
		msgs = append(msgs, e.Key+": "+e.Msg)
	}
	wantMsgs := []string{
		"associations.param.parameters.p: parameter p: {{ env:PARAM_VAR }}: environment variable PARAM_VAR is not set",
		"hosts.w: password_env WIN_PW is not set: it holds the password of w",
		"hosts.s: become_password_env SUDO_PW is not set: it holds the sudo password of s",
	}
	if strings.Join(msgs, "\n") != strings.Join(wantMsgs, "\n") {
		t.Errorf("NeedEnv:\n%s\nwant\n%s", strings.Join(msgs, "\n"), strings.Join(wantMsgs, "\n"))
	}

	var vars []string
	for _, p := range cfg.UnsetEnv() {
		vars = append(vars, p.Var+" <- "+strings.Join(p.Needed, ", "))
	}
	wantVars := "DB_PW <- association nested, association ssm, parameters.toml parameter db/pw\n" +
		"DOC_VAR <- association doc\nPARAM_VAR <- association param\nSUDO_PW <- host s\nWIN_PW <- host w"
	if got := strings.Join(vars, "\n"); got != wantVars {
		t.Errorf("UnsetEnv:\n%s\nwant\n%s", got, wantVars)
	}

	// Set, they resolve as before.
	env := map[string]string{"PARAM_VAR": "v", "DB_PW": "pw", "DOC_VAR": "d", "WIN_PW": "w", "SUDO_PW": "s"}
	cfg, list = Load(Options{Dir: dir, Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err := list.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cfg.UnsetEnv()) != 0 || cfg.Association("ssm").Params["p"].Str != "pw" || cfg.Association("param").Hash == "" {
		t.Errorf("with the variables set: %v, %+v", cfg.UnsetEnv(), cfg.Association("ssm").Params)
	}
}
