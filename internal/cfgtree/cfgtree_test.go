package cfgtree

import (
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/internal/diag"
)

const sample = `# header
title = "x"
[defaults]
user = "deploy"   # comment
port = 22

[hosts.web-1]
address = "10.0.0.1"
tags = { role = "web", env = "prod" }

[hosts."db.1"]
port = 5432
members = [
  "a",   # first
  "b",
]

[[steps]]
name = "one"
content = """
[server]
fake = 1
"""

[[steps]]
name = 'two'
a.b.c = 3
[steps.env]
X = "1"
`

func TestTOMLPositions(t *testing.T) {
	root, err := ParseTOML("f.toml", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path      []any
		line, col int
		wantPath  string
	}{
		{[]any{"title"}, 2, 1, "title"},
		{[]any{"defaults", "port"}, 5, 1, "defaults.port"},
		{[]any{"hosts", "web-1", "address"}, 8, 1, "hosts.web-1.address"},
		{[]any{"hosts", "web-1", "tags", "env"}, 9, 24, "hosts.web-1.tags.env"},
		{[]any{"hosts", "db.1", "port"}, 12, 1, `hosts."db.1".port`},
		{[]any{"hosts", "db.1", "members", 1}, 15, 3, `hosts."db.1".members[1]`},
		{[]any{"steps", 0, "name"}, 19, 1, "steps[0].name"},
		{[]any{"steps", 1, "name"}, 26, 1, "steps[1].name"},
		{[]any{"steps", 1, "a", "b", "c"}, 27, 5, "steps[1].a.b.c"},
		{[]any{"steps", 1, "env", "X"}, 29, 1, "steps[1].env.X"},
	}
	for _, c := range cases {
		n := root
		for _, p := range c.path {
			switch p := p.(type) {
			case string:
				n = n.Get(p)
			case int:
				n = n.Items[p]
			}
			if n == nil {
				t.Fatalf("%v: not found", c.path)
			}
		}
		if n.Pos != (diag.Pos{Line: c.line, Col: c.col}) || n.Path != c.wantPath {
			t.Errorf("%v: got %s at %v, want %s at %d:%d", c.path, n.Path, n.Pos, c.wantPath, c.line, c.col)
		}
	}
	// The table inside the multi-line string is content, not a table.
	if root.Get("server") != nil {
		t.Error("multi-line string content was read as a table")
	}
	// Entries keep file order.
	var keys []string
	for _, e := range root.Entries {
		keys = append(keys, e.Key)
	}
	if got := strings.Join(keys, ","); got != "title,defaults,hosts,steps" {
		t.Errorf("order = %s", got)
	}
}

func TestTOMLSyntaxError(t *testing.T) {
	_, err := ParseTOML("bad.toml", []byte("a = 1\nb = = 2\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "bad.toml:2:") {
		t.Fatalf("err = %v", err)
	}
}

func TestJSONAndYAML(t *testing.T) {
	js := "{\n\t\"schemaVersion\": \"2.2\",\n\t\"mainSteps\": [\n\t\t{\"name\": \"a\", \"n\": 3, \"b\": true}\n\t]\n}\n"
	root, err := ParseJSON("d.json", []byte(js))
	if err != nil {
		t.Fatal(err)
	}
	step := root.Get("mainSteps").Items[0]
	if n := step.Get("n"); n.Kind != Int || n.Int != 3 || n.Pos.Line != 4 || n.Path != "mainSteps[0].n" {
		t.Errorf("n = %+v", n)
	}
	if b := step.Get("b"); b.Kind != Bool || !b.Bool {
		t.Errorf("b = %+v", b)
	}
	_, err = ParseJSON("d.json", []byte("{\n  \"a\": 1,\n  \"b\": }\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "d.json:3:") {
		t.Errorf("json syntax err = %v", err)
	}
	// A key written twice keeps the last value, as the SSM agent reads
	// documents (encoding/json, yaml.v2 Unmarshal).
	for _, p := range []struct {
		parse func(string, []byte) (*Node, error)
		src   string
	}{{ParseYAML, "a: 1\nb: 0\na: 2\n"}, {ParseJSON, `{"a": 1, "b": 0, "a": 2}`}} {
		n, err := p.parse("d", []byte(p.src))
		if err != nil || len(n.Entries) != 2 || n.Entries[0].Key != "a" || n.Get("a").Int != 2 {
			t.Errorf("duplicate key in %s: %+v, %v", p.src, n, err)
		}
	}
}

func TestKeysSuggest(t *testing.T) {
	root, err := ParseTOML("f.toml", []byte("adress = \"x\"\nzzz = 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	var l diag.List
	Checker{File: "f.toml", L: &l}.Keys(root, "address", "port")
	errs := l.Errors()
	if len(errs) != 2 {
		t.Fatalf("got %d errors", len(errs))
	}
	if got := errs[0].Error(); got != `f.toml:1:1: adress: unknown key "adress" (did you mean "address"?)` {
		t.Errorf("got %q", got)
	}
	if errs[1].Pos.Line != 2 || errs[1].Hint == "" {
		t.Errorf("second = %+v", errs[1])
	}
}
