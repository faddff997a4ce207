package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeDir(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	return dir
}

func load(t *testing.T, dir string) *Config {
	t.Helper()
	cfg, list := Load(Options{Dir: dir, Env: func(k string) (string, bool) { return "from-env", k == "TOKEN" }})
	if err := list.Err(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The content hash changes with the definition, the document and the
// resolved parameters, and only with them (docs/associations.md).
func TestHash(t *testing.T) {
	files := map[string]string{
		"inventory.toml":    "[hosts.a]\n[hosts.b]\n",
		"documents/d.toml":  "[parameters.p]\ntype = \"String\"\ndefault = \"x\"\n[[steps]]\nname = \"s\"\naction = \"shell\"\nrun = \"echo {{ p }}\"\n",
		"associations.toml": "[associations.x]\ndocument = \"d\"\ntargets = [\"*\"]\n",
	}
	dir := writeDir(t, files)
	base := load(t, dir).Associations[0].Hash
	if again := load(t, dir).Associations[0].Hash; again != base {
		t.Fatal("hash is not stable")
	}
	// A comment in the inventory changes nothing.
	os.WriteFile(filepath.Join(dir, "inventory.toml"), []byte("# c\n[hosts.a]\n[hosts.b]\n"), 0o644)
	if h := load(t, dir).Associations[0].Hash; h != base {
		t.Error("an unrelated file changed the hash")
	}
	for name, content := range map[string]string{
		"associations.toml": "[associations.x]\ndocument = \"d\"\ntargets = [\"*\"]\nparameters = { p = \"y\" }\n",
		"documents/d.toml":  files["documents/d.toml"] + "# edited\n",
	} {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
		if h := load(t, dir).Associations[0].Hash; h == base {
			t.Errorf("changing %s kept the hash", name)
		}
		os.WriteFile(filepath.Join(dir, name), []byte(files[name]), 0o644)
	}
}

func TestRates(t *testing.T) {
	cases := []struct {
		in         string
		min, total int
		conc, errs int
		bad        string
	}{
		{in: "10%", min: 1, total: 25, conc: 2, errs: 2},
		{in: "1%", min: 1, total: 25, conc: 1, errs: 0},
		{in: "100%", min: 0, total: 7, conc: 7, errs: 7},
		{in: "3", min: 1, total: 100, conc: 3, errs: 3},
		{in: "0", min: 1, bad: "out of range 1..∞"},
		{in: "101%", min: 0, bad: "out of range 0%..100%"},
		{in: "x", min: 0, bad: "expected N or N%"},
	}
	for _, c := range cases {
		r, err := ParseRate(c.in, c.min)
		if c.bad != "" {
			if err == nil || !strings.Contains(err.Error(), c.bad) {
				t.Errorf("%q: %v", c.in, err)
			}
			continue
		}
		if err != nil || r.Concurrency(c.total) != c.conc || r.Errors(c.total) != c.errs {
			t.Errorf("%q of %d: conc %d errs %d (%v)", c.in, c.total, r.Concurrency(c.total), r.Errors(c.total), err)
		}
	}
}

func TestEnvParameter(t *testing.T) {
	dir := writeDir(t, map[string]string{
		"inventory.toml":    "[hosts.a]\n",
		"associations.toml": "[associations.x]\ndocument = \"driftless:RunShellScript\"\ntargets = [\"*\"]\nparameters = { commands = [\"echo {{ env:TOKEN }}\"] }\n",
	})
	cfg := load(t, dir)
	if got := cfg.Associations[0].Params["commands"].List[0]; got != "echo from-env" {
		t.Errorf("commands = %q", got)
	}
}
