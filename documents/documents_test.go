package documents

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/internal/diag"
	"github.com/driftless-dev/driftless/internal/diag/diagtest"
)

func parseDoc(t *testing.T, file, src string) (*Document, *diag.List) {
	t.Helper()
	var l diag.List
	ext := filepath.Ext(file)
	d := Parse(file, strings.TrimSuffix(filepath.Base(file), ext), ext, []byte(src), &l)
	return d, &l
}

// checkErrors checks that l holds as many errors as want, each starting
// with its line of want.
func checkErrors(t *testing.T, l *diag.List, want []string) {
	t.Helper()
	checkDiags(t, "error", l.Errors(), want)
}

// checkDiags checks that got holds as many diagnostics (what: "error",
// "warning") as want, each starting with its line of want.
func checkDiags(t *testing.T, what string, got []*diag.Error, want []string) {
	t.Helper()
	diagtest.Check(t, what, got, want)
}

const baseline = `description = "Application baseline"

[parameters.port]
type = "String"
default = "8080"
allowed_pattern = "^[0-9]+$"

[parameters.token]
type = "String"
secret = true

[parameters.pkgs]
type = "StringList"
default = ["curl", "git"]
min_items = 1

[[steps]]
name = "conf-dir"
action = "directory"
path = "~/app/conf"
mode = "0755"

[[steps]]
name = "config"
action = "file"
path = "~/app/conf/app.toml"
content = """
[server]
port = {{ port }}
host = "{{ host.name }}"
"""
mode = "0644"

[[steps]]
name = "installed"
action = "shell"
check = "test -f ~/app/.installed"
run = "make-install && touch ~/app/.installed"
precondition = { platform = "Linux" }
on_failure = "continue"
timeout = "5m"
max_attempts = 3
env = { TOKEN = "{{ token }}" }

[[steps]]
name = "tools"
action = "package"
names = ["{{ pkgs }}", "jq"]
`

func TestNative(t *testing.T) {
	d, l := parseDoc(t, "documents/baseline.toml", baseline)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	if d.Format != FormatNative || d.Name != "baseline" || len(d.Steps) != 4 || len(d.Params) != 3 {
		t.Fatalf("doc = %+v", d)
	}
	if !d.Param("token").Required() || d.Param("port").Required() || !d.Param("token").Secret {
		t.Error("required/secret flags wrong")
	}
	inst := d.Steps[2]
	if inst.OnFailure != OnFailureContinue || inst.MaxAttempts != 3 || inst.Timeout.Minutes() != 5 || inst.Precondition.Platform != "Linux" {
		t.Errorf("step keys: %+v", inst)
	}
	sc := &Scope{HostName: "web-1", Params: map[string]Value{"port": Str("9090"), "pkgs": List("curl", "git"), "token": Str("s3cr3t")}}
	content, err := d.Steps[1].Input("content").RenderString(sc)
	if err != nil || !strings.Contains(content, "port = 9090\nhost = \"web-1\"") {
		t.Errorf("content = %q, %v", content, err)
	}
	names, err := d.Steps[3].Input("names").RenderList(sc)
	if err != nil || strings.Join(names, " ") != "curl git jq" {
		t.Errorf("names = %v, %v", names, err)
	}
	if _, err := d.Steps[1].Input("content").RenderString(&Scope{Params: sc.Params}); err != nil {
		t.Errorf("host.name with empty host: %v", err)
	}
}

func TestNativeErrors(t *testing.T) {
	src := `description = 3
[parameters.port]
type = "Strin"
[parameters.p2]
type = "String"
allowed_values = ["a", "b"]
default = "c"

[[steps]]
name = "a"
action = "fille"

[[steps]]
name = "a"
action = "file"
path = "/x"
mode = 644
content = "{{ prot }}"

[[steps]]
name = "b"
action = "shell"
runn = "x"

[[steps]]
name = "c"
action = "aws:runShellScript"

[[steps]]
name = "d"
action = "line"
path = "/etc/x"
regexp = "(["
state = "sideways"
`
	_, l := parseDoc(t, "documents/bad.toml", src)
	want := []string{
		`documents/bad.toml:1:1: description: expected a string, got 3`,
		`documents/bad.toml:3:1: parameters.port.type: expected one of "String", "StringList", "Integer" or "Boolean", got "Strin" (did you mean "String"?)`,
		`documents/bad.toml:7:1: parameters.p2.default: default value: value "c" is not one of the allowed values a, b`,
		`documents/bad.toml:11:1: steps[0].action: unknown action "fille" (did you mean "file"?)`,
		`documents/bad.toml:17:1: steps[1].mode: a mode is written as a string: mode = "0644"`,
		`documents/bad.toml:18:1: steps[1].content: {{ prot }}: the document declares no parameter "prot" (did you mean "port"?)`,
		`documents/bad.toml:20:1: steps[2]: shell step "b" needs run`,
		`documents/bad.toml:23:1: steps[2].runn: unknown key "runn" (did you mean "run"?)`,
		`documents/bad.toml:27:1: steps[3].action: unknown action "aws:runShellScript": in a native document write action = "shell"`,
		`documents/bad.toml:29:1: steps[4]: a line step needs line`,
		`documents/bad.toml:33:1: steps[4].regexp: invalid regular expression`,
		`documents/bad.toml:34:1: steps[4].state: expected one of "present" or "absent", got "sideways"`,
	}
	checkErrors(t, l, want)
}

const ssmJSON = `{
  "schemaVersion": "2.2",
  "description": "demo",
  "parameters": {
    "commands": {"type": "StringList", "minItems": 1},
    "Flag": {"type": "String", "default": "True", "allowedValues": ["True", "False"]}
  },
  "mainSteps": [
    {
      "action": "aws:runShellScript",
      "name": "run",
      "precondition": {"StringEquals": ["platformType", "Linux"]},
      "inputs": {"runCommand": "{{ commands }}", "timeoutSeconds": "120", "workingDirectory": "/tmp", "onFailure": "exit"}
    },
    {
      "action": "aws:runDocument",
      "name": "nested",
      "inputs": {"documentType": "SSMDocument", "documentPath": "other", "documentParameters": "{\"a\": \"{{ Flag }}\", \"l\": [\"x\", \"y\"]}"}
    },
    {
      "action": "aws:downloadContent",
      "name": "dl",
      "inputs": {"sourceType": "HTTP", "sourceInfo": "{\"url\": \"https://example.com/x.tgz\"}", "destinationPath": "/opt/x.tgz"}
    },
    {
      "action": "aws:runShellScript",
      "name": "cleanup",
      "inputs": {"runCommand": ["echo done"], "finallyStep": true}
    }
  ]
}`

func TestSSM(t *testing.T) {
	d, l := parseDoc(t, "documents/demo.json", ssmJSON)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	run := d.Steps[0]
	if run.Action != ActionShell || run.SourceAction != "aws:runShellScript" || run.Timeout.Seconds() != 120 || run.OnFailure != OnFailureStop || run.Precondition.Platform != "Linux" {
		t.Errorf("run step: %+v", run)
	}
	cmds, err := run.Input("run").RenderList(&Scope{Params: map[string]Value{"commands": List("a", "b")}})
	if err != nil || strings.Join(cmds, ";") != "a;b" {
		t.Errorf("runCommand expansion = %v, %v", cmds, err)
	}
	if d.Steps[1].OnFailure != OnFailureContinue {
		t.Errorf("SSM default on failure = %s, want continue", d.Steps[1].OnFailure)
	}
	if p := d.Steps[1].Input("parameters"); p == nil || len(p.Map) != 2 {
		t.Errorf("documentParameters = %+v", p)
	}
	if u := d.Steps[2].Input("url"); u == nil || u.Str.Raw != "https://example.com/x.tgz" {
		t.Errorf("download url = %+v", u)
	}
	if !d.Steps[3].Finally {
		t.Error("finallyStep lost")
	}
}

func TestSSMErrors(t *testing.T) {
	src := `schemaVersion: "3.0"
parameters:
  m:
    type: MapList
mainSteps:
- action: aws:softwareInventory
  name: inv
  inputs: {}
- action: aws:runShellScript
  name: run
  inputs:
    runCommnd: [x]
- action: aws:downloadContent
  name: dl
  inputs:
    sourceType: S3
    sourceInfo: '{"path": "s3://b/k"}'
    destinationPath: /x
`
	_, l := parseDoc(t, "documents/bad.yaml", src)
	want := []string{
		`documents/bad.yaml:1:1: schemaVersion: schemaVersion "3.0" is not one the SSM agent runs`,
		`documents/bad.yaml:3:3: parameters.m: MapList parameter "m" has no default: the SSM agent takes a MapList only from its default in a Command document`,
		`documents/bad.yaml:6:3: mainSteps[0].action: SSM action "aws:softwareInventory" is not supported by driftless`,
		`documents/bad.yaml:11:3: mainSteps[1].inputs: aws:runShellScript step "run" needs runCommand`,
		`documents/bad.yaml:16:5: mainSteps[2].inputs.sourceType: aws:downloadContent sourceType "S3" is not supported`,
	}
	checkErrors(t, l, want)
	// The agent ignores an input it does not know: a warning, which
	// points at the typo of the missing runCommand.
	if w := l.Warnings(); len(w) != 1 || !strings.HasPrefix(w[0].Error(), `documents/bad.yaml:12:5: mainSteps[1].inputs.runCommnd: unknown input "runCommnd" is ignored, as the SSM agent ignores it (did you mean "runCommand"?)`) {
		t.Errorf("warnings: %v", w)
	}
}

// sharedDocs is the directory of real public SSM documents, kept in the
// repository with their licence (testdata/ssm-documents).
func sharedDocs(t *testing.T) string {
	dir := filepath.Join("..", "testdata", "ssm-documents")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the SSM documents of testdata are missing: %v", err)
	}
	return dir
}

// TestStepNameAndAction covers what both formats say about a step's name
// and action, hints included, as `driftless validate` prints it.
func TestStepNameAndAction(t *testing.T) {
	const ssm = "schemaVersion: '2.2'\nmainSteps:\n"
	for _, tc := range []struct{ file, src, want string }{
		{"d.toml", "[[steps]]\naction='shell'\nrun='x'\n",
			"d.toml:1:1: steps[0]: the step has no name"},
		{"d.toml", "[[steps]]\nname='a'\n",
			`d.toml:1:1: steps[0]: step "a" has no action: expected one of shell, powershell, file, directory, line, package, service, patch, download, document`},
		{"d.toml", "[[steps]]\nname='a'\naction=3\n",
			"d.toml:3:1: steps[0].action: expected a string, got 3"},
		{"d.toml", "[[steps]]\nname='a'\naction='shel'\n",
			`d.toml:3:1: steps[0].action: unknown action "shel" (did you mean "shell"?)`},
		{"d.toml", "[[steps]]\nname='a'\naction='zzzzzz'\n",
			"d.toml:3:1: steps[0].action: unknown action \"zzzzzz\"\n\thint: expected one of: shell, powershell, file, directory, line, package, service, patch, download, document"},
		{"d.toml", "[[steps]]\nname='a'\naction='aws:runDocument'\n",
			`d.toml:3:1: steps[0].action: unknown action "aws:runDocument": in a native document write action = "document"`},
		{"d.toml", "[[steps]]\nname='a'\naction='aws:runDocumen'\n",
			"d.toml:3:1: steps[0].action: unknown action \"aws:runDocumen\"\n\thint: aws: actions belong in SSM documents (documents/NAME.json or .yaml)"},
		{"d.yaml", ssm + "- action: aws:runShellScript\n  inputs: {runCommand: x}\n",
			"d.yaml:3:3: mainSteps[0]: the step has no name"},
		{"d.yaml", ssm + "- name: a\n  inputs: {runCommand: x}\n",
			`d.yaml:3:3: mainSteps[0]: step "a" has no action`},
		{"d.yaml", ssm + "- name: a\n  action: [1]\n",
			"d.yaml:4:3: mainSteps[0].action: expected a string, got a list"},
		{"d.yaml", ssm + "- name: a\n  action: aws:runShelScript\n",
			`d.yaml:4:3: mainSteps[0].action: SSM action "aws:runShelScript" is not supported by driftless (did you mean "aws:runShellScript"?)`},
		{"d.yaml", ssm + "- name: a\n  action: shell\n",
			"d.yaml:4:3: mainSteps[0].action: SSM action \"shell\" is not supported by driftless\n\thint: supported SSM actions: aws:runShellScript, aws:runPowerShellScript, aws:configurePackage, aws:downloadContent, aws:runDocument"},
	} {
		d, l := parseDoc(t, tc.file, tc.src)
		if got := l.Err(); got == nil || got.Error() != tc.want {
			t.Errorf("%s %q:\n got  %v\n want %s", tc.file, tc.src, got, tc.want)
		}
		if d != nil && len(d.Steps) > 0 && d.Steps[0].Name != "" {
			t.Errorf("%s %q: a step with no action was kept", tc.file, tc.src)
		}
	}
	// The SSM hint and suggestions list every alias, and only those.
	if len(ssmActionNames) != len(ssmAliases) {
		t.Fatalf("ssmActionNames %v does not match ssmAliases", ssmActionNames)
	}
	for _, n := range ssmActionNames {
		if ssmAliases[n] == "" {
			t.Errorf("ssmActionNames lists %q, which ssmAliases lacks", n)
		}
	}
}

// TestSharedSSMDocuments loads every real SSM document we were given.
func TestSharedSSMDocuments(t *testing.T) {
	dir := sharedDocs(t)
	n, windows := 0, 0
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		ext := filepath.Ext(path)
		if ext != ".yml" && ext != ".yaml" && ext != ".json" {
			return nil
		}
		var l diag.List
		d := LoadFile(path, &l)
		if err := l.Err(); err != nil {
			t.Errorf("%s:\n%v", path, err)
			return nil
		}
		n++
		if len(d.Steps) == 0 || d.Format != FormatSSM {
			t.Errorf("%s: %d steps, format %s", path, len(d.Steps), d.Format)
		}
		for _, s := range d.Steps {
			if s.Action == ActionPowerShell {
				windows++
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 || windows < 7 {
		t.Errorf("loaded %d documents (%d Windows), want all of them", n, windows)
	}
}

func TestBuiltins(t *testing.T) {
	docs, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Action{"driftless:RunShellScript": ActionShell, "driftless:RunPowerShellScript": ActionPowerShell}
	for name, action := range want {
		d := Builtin(name)
		if d == nil || d.Steps[0].Action != action || !d.Param("commands").Required() {
			t.Errorf("%s: %+v", name, d)
			continue
		}
		sc := &Scope{Params: map[string]Value{"commands": List("echo a", "echo b"), "working_directory": Str(""), "timeout_seconds": Str("30")}}
		run, err := d.Steps[0].Input("run").RenderList(sc)
		if err != nil || strings.Join(run, "\n") != "echo a\necho b" {
			t.Errorf("%s run = %q %v", name, run, err)
		}
		if to, err := d.Steps[0].StepTimeout(sc); err != nil || to.Seconds() != 30 {
			t.Errorf("%s timeout = %v %v", name, to, err)
		}
	}
	if len(docs) < len(want) {
		t.Errorf("%d built-ins", len(docs))
	}
}

func TestTemplates(t *testing.T) {
	sc := &Scope{
		Params:   map[string]Value{"p": Str("v"), "l": List("a", "b")},
		HostName: "web-1", HostAddress: "10.0.0.1",
		Tags: map[string]string{"role": "web"}, Vars: map[string]string{"x": "1"},
		Env: func(k string) (string, bool) { return map[string]string{"HOME": "/h"}[k], k == "HOME" },
	}
	ok := map[string]string{
		"plain":                              "plain",
		"{{p}}-{{ l }}":                      "v-a,b",
		"{{ host.name }}@{{ host.address }}": "web-1@10.0.0.1",
		"{{ host.tags.role }}/{{ host.vars.x }}/{{ env:HOME }}": "web/1//h",
		`{{ "{{" }} literal`: "{{ literal",
	}
	checkRenders(t, sc, ok)
	bad := map[string]string{
		"{{ p ":           "not closed",
		"{{ ssm:a b }}":   "Parameter Store",
		"{{ host.ip }}":   "unknown host field",
		"{{ .Values.x }}": "is not a reference",
		"{{ env:1X }}":    "expected env:NAME",
		"{{}}":            "empty reference",
	}
	for in, want := range bad {
		if _, err := ParseTemplate(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", in, err, want)
		}
	}
	undefined := []string{"{{ nope }}", "{{ host.tags.zone }}", "{{ host.vars.y }}", "{{ env:NOPE }}"}
	for _, in := range undefined {
		tp, _ := ParseTemplate(in)
		if _, err := tp.Render(sc); err == nil {
			t.Errorf("%q rendered without error", in)
		}
	}
}

// checkRenders checks that each template of want, parsed and rendered in
// sc, gives its value.
func checkRenders(t *testing.T, sc *Scope, want map[string]string) {
	t.Helper()
	for in, w := range want {
		tp, err := ParseTemplate(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if got, err := tp.Render(sc); err != nil || got != w {
			t.Errorf("%q rendered %q, %v; want %q", in, got, err, w)
		}
	}
}

func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{"a{{b}}c", "{{ host.tags.k }}", "{{ env:X }}", `{{ "{{" }}`, "{{", "}}{{", `{{ a | join(", ") }}`, "{{ a|json }}", `{{ a | join('|') }}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tp, err := ParseTemplate(s)
		if err != nil {
			return
		}
		out, err := tp.Render(&Scope{})
		if err == nil && !tp.HasRefs() && !strings.Contains(s, "{{") && out != s {
			t.Fatalf("%q rendered %q", s, out)
		}
	})
}

func FuzzParseNative(f *testing.F) {
	f.Add(baseline)
	f.Add("[[steps]]\nname='x'\naction='document'\ndocument='y'\nparameters={a=['b']}\n")
	f.Add("[parameters.l]\ntype='StringList'\ndefault=['a']\n[[steps]]\nname='x'\naction='shell'\nfor_each='{{ l }}'\nrun='echo {{ item | json }} {{ l | join(\" \") }}'\nnotify=['h']\n[[steps]]\nname='h'\naction='shell'\nhandler=true\nrun='true'\n")
	f.Fuzz(func(t *testing.T, s string) {
		var l diag.List
		d := Parse("d.toml", "d", ".toml", []byte(s), &l)
		checkFuzzed(t, d, &l)
	})
}

func FuzzParseSSM(f *testing.F) {
	f.Add(ssmJSON, true)
	f.Add("schemaVersion: '2.2'\nmainSteps:\n- action: aws:runShellScript\n  name: a\n  inputs: {runCommand: x}\n", false)
	f.Add("schemaVersion: '2.2'\nparameters:\n  t: {type: String, interpolationType: ENV_VAR, default: HTTP}\n  i: {type: StringMap, default: {}}\noutputs: []\nmainSteps:\n- action: aws:downloadContent\n  name: d\n  maxAttempts: 2\n  inputs: {SourceType: '{{ t }}', sourceInfo: '{{ i }}', finallyStep: true}\n", false)
	f.Fuzz(func(t *testing.T, s string, isJSON bool) {
		var l diag.List
		ext := ".yaml"
		if isJSON {
			ext = ".json"
		}
		d := Parse("d"+ext, "d", ext, []byte(s), &l)
		checkFuzzed(t, d, &l)
	})
}

func checkFuzzed(t *testing.T, d *Document, l *diag.List) {
	for _, e := range l.Errors() {
		if e.File == "" {
			t.Fatalf("error without file: %v", e)
		}
	}
	if l.Len() == 0 && d != nil {
		for _, s := range d.Steps {
			if actionSpecs[s.Action] == nil || s.Name == "" || s.MaxAttempts < 1 {
				t.Fatalf("invalid step accepted: %+v", s)
			}
		}
	}
}

// follow (file, line, directory) is a boolean, and only those actions
// take it.
func TestFollowKey(t *testing.T) {
	src := `[[steps]]
name = "a"
action = "file"
path = "/x"
content = "x"
follow = true

[[steps]]
name = "b"
action = "directory"
path = "/d"
follow = "sometimes"

[[steps]]
name = "c"
action = "line"
path = "/l"
line = "x"
follow = 1

[[steps]]
name = "d"
action = "shell"
run = "true"
follow = true
`
	_, l := parseDoc(t, "documents/follow.toml", src)
	want := []string{
		`documents/follow.toml:12:1: steps[1].follow: expected true or false, got "sometimes"`,
		`documents/follow.toml:19:1: steps[2].follow: expected true or false, got 1`,
		"documents/follow.toml:25:1: steps[3].follow: unknown key \"follow\"\n\thint: expected one of: name, action, description, precondition, on_failure, timeout, max_attempts, for_each, notify, handler, run, check, working_directory, env",
	}
	checkErrors(t, l, want)
}
