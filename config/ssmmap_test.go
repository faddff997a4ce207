package config

import (
	"strings"
	"testing"
)

// A StringMap parameter takes a TOML inline table (the JSON object the
// AWS CLI gives) or a string (as the console gives it); a MapList takes
// only its default, as the SSM agent takes it in a Command document.
func TestStringMapParameter(t *testing.T) {
	doc := `schemaVersion: "2.2"
parameters:
  info: {type: StringMap, maxItems: 2}
  rows: {type: MapList, default: [{a: "1"}]}
mainSteps:
- {action: aws:runShellScript, name: r, inputs: {runCommand: ["echo {{ info }}"]}}
`
	for _, c := range []struct{ value, want, err string }{
		{`{ url = "https://x/{{ env:TOKEN }}", n = 2 }`, `{"n":2,"url":"https://x/from-env"}`, ""},
		{`"key=value"`, `key=value`, ""},
		{`{ a = "1", b = "2", c = "3" }`, "", "parameter info: has 3 items, more than the maximum 2"},
		{`["a"]`, "", "expected a table (a JSON object) or a string for a StringMap, got a list"},
	} {
		dir := writeDir(t, map[string]string{
			"inventory.toml":    "[hosts.a]\n",
			"documents/m.yaml":  doc,
			"associations.toml": "[associations.x]\ndocument = \"m\"\ntargets = [\"*\"]\nparameters = { info = " + c.value + " }\n",
		})
		cfg, list := Load(Options{Dir: dir, Env: func(k string) (string, bool) { return "from-env", k == "TOKEN" }})
		if c.err != "" {
			if err := list.Err(); err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v, want %q", c.value, err, c.err)
			}
			continue
		}
		if err := list.Err(); err != nil {
			t.Fatalf("%s: %v", c.value, err)
		}
		p := cfg.Associations[0].Params
		if got := p["info"].String(); got != c.want {
			t.Errorf("%s: info = %s, want %s", c.value, got, c.want)
		}
		if got := p["rows"].String(); got != `[{"a":"1"}]` {
			t.Errorf("rows = %s", got)
		}
	}
	dir := writeDir(t, map[string]string{
		"inventory.toml":    "[hosts.a]\n",
		"documents/m.yaml":  doc,
		"associations.toml": "[associations.x]\ndocument = \"m\"\ntargets = [\"*\"]\nparameters = { info = \"x\", rows = [{ a = \"2\" }] }\n",
	})
	_, list := Load(Options{Dir: dir})
	if err := list.Err(); err == nil || !strings.Contains(err.Error(), "parameter rows is a MapList, which takes only its default: the SSM agent drops a value given for a MapList in a Command document") {
		t.Errorf("MapList value: %v", err)
	}
}
