package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/internal/diag"
)

func parse(t *testing.T, name, src string) *documents.Document {
	t.Helper()
	var l diag.List
	d := documents.Parse(name+".toml", name, ".toml", []byte(src), &l)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	return d
}

const loopDoc = `[parameters.xs]
type = "StringList"
default = ["a", "b"]

[[steps]]
name = "h2"
action = "shell"
handler = true
run = "echo h2"

[[steps]]
name = "each"
action = "shell"
for_each = "{{ xs }}"
run = "echo {{ item }}"
notify = ["h1"]

[[steps]]
name = "nest"
action = "document"
document = "inner"
parameters = { v = "{{ xs | join(\"+\") }}" }
notify = ["h2"]

[[steps]]
name = "h1"
action = "shell"
handler = true
for_each = ["x", "y"]
run = "echo {{ item }}"
`

const innerDoc = `[parameters.v]
type = "String"

[[steps]]
name = "one"
action = "shell"
run = "echo {{ v }}"
notify = ["ih"]

[[steps]]
name = "ih"
action = "shell"
handler = true
run = "echo inner handler"
`

// for_each makes a step per item, with {{ item }} and DL_ITEM; handlers
// come last, in document order, each with the steps that notify it (a
// document step's nested steps, each repetition of a loop).
func TestPlanLoopsAndHandlers(t *testing.T) {
	outer, inner := parse(t, "outer", loopDoc), parse(t, "inner", innerDoc)
	docs := func(n string) *documents.Document {
		if n == "inner" {
			return inner
		}
		return nil
	}
	plan := func(xs ...string) []*Step {
		sc := &documents.Scope{Params: map[string]documents.Value{"xs": documents.List(xs...)}}
		return Plan(outer, sc, Options{Docs: docs})
	}
	steps := plan("a", "b")
	var got []string
	for i, s := range steps {
		if s.Idx != i {
			t.Errorf("step %s has index %d at %d", s.Name, s.Idx, i)
		}
		if s.Err != nil {
			t.Errorf("%s: %v", s.Name, s.Err)
		}
		got = append(got, s.Name)
	}
	if want := "each[a] each[b] nest/one h2 nest/ih h1[x] h1[y]"; strings.Join(got, " ") != want {
		t.Fatalf("steps %s, want %s", strings.Join(got, " "), want)
	}
	if s := steps[1]; s.Run != "echo b" || s.Env["DL_ITEM"] != "b" || s.Handler {
		t.Errorf("each[b]: run %q, DL_ITEM %q, handler %v", s.Run, s.Env["DL_ITEM"], s.Handler)
	}
	if s := steps[2]; s.Run != "echo a+b" {
		t.Errorf("nest/one: run %q", s.Run)
	}
	for _, c := range []struct {
		idx int
		by  string
	}{{3, "[2]"}, {4, "[2]"}, {5, "[0 1]"}, {6, "[0 1]"}} {
		s := steps[c.idx]
		if !s.Handler || fmt.Sprint(s.NotifiedBy) != c.by {
			t.Errorf("%s: handler %v, notified by %v, want %s", s.Name, s.Handler, s.NotifiedBy, c.by)
		}
	}
	// An empty list: the step is there once, skipped, saying why.
	steps = plan()
	if s := steps[0]; s.Name != "each" || s.Skip != "for_each: parameter xs is an empty list" || s.Err != nil {
		t.Errorf("empty: %s skip %q err %v", s.Name, s.Skip, s.Err)
	}
	// A list with an item twice fails the step (a value checked nowhere
	// else, such as one a document step passes).
	steps = plan("a", "a")
	if s := steps[0]; s.Err == nil || !strings.Contains(s.Err.Error(), `item "a" appears twice in parameter xs`) {
		t.Errorf("duplicates: %s %v", s.Name, s.Err)
	}
}

// A template source whose name has references is read and rendered when
// the host's plan is made; an undefined reference in it fails the step.
func TestTemplateSourceNamedPerHost(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "t"), 0o755)
	os.WriteFile(filepath.Join(dir, "t", "h1.conf"), []byte("v={{ v | json }} on {{ host.name }}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "t", "h2.conf"), []byte("{{ nope }}\n"), 0o644)
	d := parse(t, "d", `[parameters.v]
type = "String"
default = "x"

[[steps]]
name = "f"
action = "file"
path = "/tmp/f"
source = "t/{{ host.name }}.conf"
template = true
`)
	for host, want := range map[string]string{"h1": `v="x" on h1` + "\n", "h2": `source "t/h2.conf": {{ nope }}: no parameter "nope"`, "h3": `source "t/h3.conf" does not exist in the config dir`} {
		sc := &documents.Scope{Params: map[string]documents.Value{"v": documents.Str("x")}, HostName: host}
		s := Plan(d, sc, Options{Dir: dir})[0]
		got := string(s.Content)
		if s.Err != nil {
			got = s.Err.Error()
		}
		if !strings.HasPrefix(got, want) {
			t.Errorf("%s: %q, want %q", host, got, want)
		}
	}
}
