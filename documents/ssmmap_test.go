package documents

import (
	"strings"
	"testing"
)

// A StringMap (agent/framework/docparser, paramvalidator): a JSON object,
// marshalled to JSON text (Go's encoding/json: keys sorted, compact) when
// it is put in a longer string; minChars, maxChars, allowedPattern and
// allowedValues are checked on that text, minItems/maxItems on its keys.
// A console string is passed through as it is.
func TestSSMStringMap(t *testing.T) {
	src := `schemaVersion: "2.2"
parameters:
  info:
    type: StringMap
    default: {"url": "https://x/a.sh", "n": 2, "deep": {"b": true}}
    minChars: 10
    maxItems: 3
  tags:
    type: StringMap
    allowedPattern: '^\{"env":"(dev|prod)"\}$|^plain$'
    default: {env: dev}
  rows:
    type: MapList
    default: [{"a": "1"}, {"b": "2"}]
    maxChars: 9
mainSteps:
- action: aws:runShellScript
  name: run
  inputs:
    runCommand: ["echo '{{ info }}' {{ tags }} {{ rows }}"]
`
	d, l := parseDoc(t, "documents/m.yaml", src)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	info, tags, rows := d.Param("info"), d.Param("tags"), d.Param("rows")
	if got, want := info.Default.Str, `{"deep":{"b":true},"n":2,"url":"https://x/a.sh"}`; got != want {
		t.Errorf("info default = %s, want %s", got, want)
	}
	params := map[string]Value{"info": *info.Default, "tags": *tags.Default, "rows": *rows.Default}
	in := d.Steps[0].Input(d.Steps[0].InputNames()[0])
	got, err := in.RenderString(&Scope{Params: params})
	if err != nil {
		t.Fatal(err)
	}
	if want := `echo '{"deep":{"b":true},"n":2,"url":"https://x/a.sh"}' {"env":"dev"} [{"a":"1"},{"b":"2"}]`; got != want {
		t.Errorf("rendered %s\nwant     %s", got, want)
	}
	for _, c := range []struct {
		p    *Parameter
		v    Value
		want string // "" = accepted
	}{
		{tags, Value{Str: `{"env":"prod"}`, JSON: true}, ""},
		{tags, Str("plain"), ""}, // the console's string, passed through
		{tags, Value{Str: `{"env":"qa"}`, JSON: true}, "does not match the allowed pattern"},
		{info, Value{Str: `{"a":1}`, JSON: true}, `value "{\"a\":1}" is shorter than minChars 10`},
		{info, Value{Str: `{"a":1,"b":2,"c":3,"d":4}`, JSON: true}, "has 4 items, more than the maximum 3"},
		{info, List("a"), "expected a StringMap, got a list"},
		{rows, Value{Str: `[{"abc":"def"}]`, JSON: true}, "longer than maxChars 9"},
	} {
		err := c.p.Check(c.v)
		if (c.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s: err %v, want %q", c.p.Name, c.v.Str, err, c.want)
		}
	}
	// The default is checked as any value is.
	_, l = parseDoc(t, "documents/b.yaml", `schemaVersion: "2.2"
parameters:
  m: {type: StringMap, default: {a: b}, maxChars: 5}
  s: {type: StringMap, default: [x]}
mainSteps:
- {action: aws:runShellScript, name: r, inputs: {runCommand: [x]}}
`)
	checkErrors(t, l, []string{
		`documents/b.yaml:3:24: parameters.m.default: default value: value "{\"a\":\"b\"}" is longer than maxChars 5`,
		`documents/b.yaml:4:24: parameters.s.default: expected a table (a JSON object) or a string for a StringMap, got a list`,
	})
	// Native documents keep their four types.
	_, l = parseDoc(t, "documents/n.toml", "[parameters.m]\ntype = \"StringMap\"\n[[steps]]\naction = \"command\"\ncommand = \"x\"\n")
	if !hasErr(l, `expected one of "String", "StringList", "Integer" or "Boolean", got "StringMap"`) {
		t.Errorf("native StringMap: %v", l.Err())
	}
}
