package documents

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/internal/diag"
)

// authoringDoc is the text of testdata/authoring/name.
func authoringDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "authoring", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Every bad use of for_each, notify, handler, template and the filters is
// reported at its file:line:col, in one pass.
func TestAuthoringErrors(t *testing.T) {
	src := authoringDoc(t, "errors.toml")
	_, l := parseDoc(t, "documents/a.toml", src)
	want := []string{
		`documents/a.toml:7:1: parameters.sites.default: default value: has item "a" twice: step "loops" loops over it (for_each)`,
		`documents/a.toml:12:1: steps[0].for_each: for_each needs a StringList parameter; port is a String`,
		`documents/a.toml:18:1: steps[1].for_each: {{ stes }}: the document declares no parameter "stes" (did you mean "sites"?)`,
		`documents/a.toml:24:1: steps[2].for_each: expected "{{ NAME }}" naming a StringList parameter, or a list of strings, got "a,b"`,
		`documents/a.toml:30:23: steps[3].for_each[2]: item "x" appears twice`,
		`documents/a.toml:36:1: steps[4].for_each: the list is empty`,
		`documents/a.toml:39:1: step "item-outside" notifies "relaod": the document has no step "relaod" (did you mean "reload"?)`,
		`documents/a.toml:39:1: step "item-outside" notifies "plain", which is not a handler: add handler = true to step "plain"`,
		`documents/a.toml:39:1: step "item-outside" notifies itself`,
		`documents/a.toml:42:1: steps[5].run: {{ port | upper }}: unknown filter "upper"`,
		`documents/a.toml:50:1: step "reload" notifies "plain", which is not a handler`,
		`documents/a.toml:55:1: steps[7].notify: a handler cannot notify`,
		`documents/a.toml:74:1: steps[10].template: template is written true or false, not "{{ port }}"`,
	}
	checkErrors(t, l, want)
	warnings := l.Warnings()
	if len(warnings) != 3 || !strings.Contains(warnings[0].Error(), `documents/a.toml:39:1: step "item-outside" notifies, but has no check`) || !strings.Contains(warnings[2].Error(), `documents/a.toml:57:1: handler "lonely" is never notified: no step names it in notify, so it never runs`) {
		t.Errorf("warnings: %v", warnings)
	}
}

// {{ item }} outside a loop and join on a String are errors once the
// template parses.
func TestItemAndJoinChecks(t *testing.T) {
	src := authoringDoc(t, "items.toml")
	_, l := parseDoc(t, "documents/b.toml", src)
	checkErrors(t, l, []string{
		`documents/b.toml:8:1: steps[0].run: {{ item }}: the document declares no parameter "item"` + "\n\thint: {{ item }} is defined in a step with for_each",
		`documents/b.toml:8:1: steps[0].run: {{ port | join(" ") }}: join applies to a StringList parameter; port is a String`,
		`documents/b.toml:14:1: steps[1].run: {{ item | join(",") }}: join applies to a StringList parameter; {{ item }} is one string`,
	})
	if w := l.Warnings(); len(w) != 1 || w[0].Error() != `documents/b.toml:10:1: step "b" notifies, but has no check: it is never Corrected (it runs each time, Success), so it never notifies; give it a check` {
		t.Errorf("warnings: %v", w)
	}
}

// A parameter named item cannot be used with for_each; a handler cannot be
// a document step; SSM documents take no filters.
func TestAuthoringConflicts(t *testing.T) {
	_, l := parseDoc(t, "documents/c.toml", authoringDoc(t, "conflicts.toml"))
	checkErrors(t, l, []string{
		`documents/c.toml:8:1: steps[0].for_each: step "a" loops with for_each, but the document declares a parameter "item"`,
		`documents/c.toml:16:1: steps[1].handler: a document step cannot be a handler`,
	})
	_, l = parseDoc(t, "documents/s.yaml", `schemaVersion: "2.2"
parameters:
  xs: {type: StringList, default: [a]}
mainSteps:
  - action: aws:runShellScript
    name: a
    inputs:
      runCommand: ["echo {{ xs | join(' ') }}"]
`)
	if err := l.Err(); err == nil || !strings.Contains(err.Error(), `{{ xs | join(" ") }}: filters are for native documents`) {
		t.Errorf("SSM filter: %v", err)
	}
}

// Filters render a StringList with a separator or as JSON; without one it
// is joined with commas as before.
func TestFilters(t *testing.T) {
	sc := &Scope{Params: map[string]Value{"xs": List("a", "b c"), "s": Str(`q"x`), "m": {Str: `{"k":"v"}`, JSON: true}}}
	checkRenders(t, sc, map[string]string{
		"{{ xs }}":                 "a,b c",
		`{{ xs | join(" ") }}`:     "a b c",
		`{{xs|join("\n")}}`:        "a\nb c",
		`{{ xs | join('\n') }}`:    `a\nb c`,
		`{{ xs | join("") }}`:      "ab c",
		"{{ xs | json }}":          `["a","b c"]`,
		"{{ s | json }}":           `"q\"x"`,
		"{{ m | json }}":           `{"k":"v"}`,
		`x={{ xs | join(", ") }};`: "x=a, b c;",
	})
	for in, want := range map[string]string{
		"{{ xs | }}":             `unknown filter ""`,
		"{{ xs | join }}":        `unknown filter "join"`,
		"{{ xs | join(a) }}":     "unknown filter",
		"{{ host.name | json }}": "a filter applies to a parameter",
		"{{ env:X | json }}":     "a filter applies to a parameter",
	} {
		if _, err := ParseTemplate(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
	// A filtered list is not expanded into a list input's items.
	tp, _ := ParseTemplate(`{{ xs | join(" ") }}`)
	if _, ok := tp.SoleParam(); ok {
		t.Error("a filtered reference is a sole parameter")
	}
}

// A template source is read and checked when the document is loaded: its
// references at the source's own file:line:col.
func TestTemplateSourceChecked(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "documents"), 0o755)
	os.MkdirAll(filepath.Join(dir, "templates"), 0o755)
	os.WriteFile(filepath.Join(dir, "templates", "ok.conf"), []byte("listen {{ port }};\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "templates", "bad.conf"), []byte("a\nlisten {{ prot }};\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "templates", "open.conf"), []byte("x {{ port\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "templates", "bin"), []byte("a\x00b"), 0o644)
	doc := `[parameters.port]
type = "String"
default = "80"
`
	for i, src := range []string{"templates/ok.conf", "templates/bad.conf", "templates/open.conf", "templates/bin", "templates/none"} {
		doc += "[[steps]]\nname = \"s" + string(rune('0'+i)) + "\"\naction = \"file\"\npath = \"/x" + string(rune('0'+i)) + "\"\nsource = \"" + src + "\"\ntemplate = true\n"
	}
	path := filepath.Join(dir, "documents", "t.toml")
	os.WriteFile(path, []byte(doc), 0o644)
	var l diag.List
	d := LoadFile(path, &l)
	tpl := filepath.Join(dir, "templates")
	errs := l.Errors()
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	for _, want := range []string{
		tpl + `/bad.conf:2:8: {{ prot }}: the document declares no parameter "prot" (did you mean "port"?)`,
		tpl + `/open.conf:1:3: "{{" is not closed by "}}"`,
		`steps[3].source: source "templates/bin" is not text`,
		`steps[4].source: source "templates/none" does not exist in the config dir`,
	} {
		found := false
		for _, g := range got {
			found = found || strings.Contains(g, want)
		}
		if !found {
			t.Errorf("no error %q in:\n%s", want, strings.Join(got, "\n"))
		}
	}
	if len(got) != 4 {
		t.Errorf("%d errors:\n%s", len(got), strings.Join(got, "\n"))
	}
	if b := d.Steps[0].Input("source").Body; b == nil || b.Raw != "listen {{ port }};\n" {
		t.Errorf("body of s0: %+v", b)
	}
}
