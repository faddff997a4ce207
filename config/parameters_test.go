package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/internal/diag"
)

const ssmRefDoc = `schemaVersion: "2.2"
parameters:
  host:
    type: String
    default: "{{ssm:/app/db/host}}"
mainSteps:
- action: aws:runShellScript
  name: run
  inputs:
    runCommand:
    - connect {{ dbhost }} {{ssm-secure:/app/db/password}}
`

// {{ssm:NAME}} and {{ssm-secure:NAME}} resolve from parameters.toml, in
// defaults and in inputs; secure values are secrets; an unknown one is a
// validation error where it is written.
func TestParametersTOML(t *testing.T) {
	doc := strings.Replace(ssmRefDoc, "  host:", "  dbhost:", 1)
	files := map[string]string{
		"inventory.toml":    "[hosts.a]\n",
		"documents/db.yaml": doc,
		"parameters.toml":   "\"/app/db/host\" = \"10.0.0.5\"\n\"/app/db/password\" = { env = \"TOKEN\" }\n",
		"associations.toml": "[associations.x]\ndocument = \"db\"\ntargets = [\"*\"]\n",
	}
	dir := writeDir(t, files)
	cfg := load(t, dir)
	a := cfg.Associations[0]
	if v := a.Params["dbhost"].Str; v != "10.0.0.5" {
		t.Errorf("default = %q", v)
	}
	run := a.Doc.Steps[0].Input("run").List[0]
	if got, err := run.Render(&documents.Scope{Params: a.Params}); err != nil || got != "connect 10.0.0.5 from-env" {
		t.Errorf("rendered %q, %v", got, err)
	}
	if len(cfg.Secrets) != 1 || cfg.Secrets[0] != "from-env" {
		t.Errorf("secrets = %q", cfg.Secrets)
	}
	h := a.Hash
	os.WriteFile(filepath.Join(dir, "parameters.toml"), []byte("\"/app/db/host\" = \"10.0.0.6\"\n\"/app/db/password\" = { env = \"TOKEN\" }\n"), 0o644)
	if load(t, dir).Associations[0].Hash == h {
		t.Error("a changed parameters.toml value left the association's hash as it was")
	}

	// Unresolved: file:line:col of the default and of the input.
	os.WriteFile(filepath.Join(dir, "parameters.toml"), []byte("\"/other\" = \"x\"\n"), 0o644)
	_, list := Load(Options{Dir: dir, Env: func(string) (string, bool) { return "", false }})
	errs := list.Errors()
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{
		filepath.Join(dir, "documents/db.yaml") + `:5:5: parameters.dbhost.default: {{ssm:/app/db/host}}: parameters.toml has no parameter "/app/db/host"`,
		filepath.Join(dir, "documents/db.yaml") + `:10:5: mainSteps[0].inputs.runCommand: {{ssm-secure:/app/db/password}}: parameters.toml has no parameter "/app/db/password"`,
	}
	if len(got) != len(want) {
		t.Fatalf("errors:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d:\n got  %s\n want %s", i, got[i], want[i])
		}
	}
}

// FuzzParameters: any parameters.toml gives parameters or errors inside
// the file, never a panic. go test ./config -run '^$' -fuzz FuzzParameters
func FuzzParameters(f *testing.F) {
	for _, s := range []string{"\"/a/b\" = \"x\"\n", "\"/p\" = { env = \"E\" }\n", "a.b.c = \"d\"\n[t]\nx = 1\n", "\"\" = \"\"\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		var l diag.List
		params := ParseParameters("parameters.toml", []byte(src), func(string) (string, bool) { return "v", true }, &l)
		for _, e := range l.Errors() {
			if e.File != "parameters.toml" {
				t.Fatalf("error outside the file: %v", e)
			}
		}
		for name := range params {
			if !ssmParamNameRe.MatchString(name) {
				t.Fatalf("bad name %q accepted", name)
			}
		}
	})
}

// An AWS document name with a built-in equivalent runs the built-in, with
// the AWS parameter names and values; one that needs AWS is refused with
// the reason.
func TestAWSDocumentNames(t *testing.T) {
	dir := writeDir(t, map[string]string{
		"inventory.toml": "[hosts.a]\n",
		"associations.toml": `[associations.sh]
document = "AWS-RunShellScript"
targets = ["*"]
parameters = { commands = ["uptime"], executionTimeout = "60" }
[associations.patch]
document = "AWS-RunPatchBaseline"
targets = ["*"]
parameters = { Operation = "Install", RebootOption = "NoReboot" }
`,
	})
	cfg := load(t, dir)
	sh := cfg.Association("sh")
	if sh.Doc.Name != "driftless:RunShellScript" || sh.Params["timeout_seconds"].Str != "60" || sh.Params["commands"].List[0] != "uptime" {
		t.Errorf("AWS-RunShellScript: %s %+v", sh.Doc.Name, sh.Params)
	}
	if p := cfg.Association("patch").Params; p["operation"].Str != "install" || p["reboot"].Str != "never" {
		t.Errorf("AWS-RunPatchBaseline: %+v", p)
	}
	os.WriteFile(filepath.Join(dir, "associations.toml"), []byte("[associations.j]\ndocument = \"AWS-JoinDirectoryServiceDomain\"\ntargets = [\"*\"]\n"), 0o644)
	_, list := Load(Options{Dir: dir})
	if err := list.Err(); err == nil || !strings.Contains(err.Error(), "associations.toml:2:1: associations.j.document: document \"AWS-JoinDirectoryServiceDomain\": AWS-JoinDirectoryServiceDomain joins a domain through AWS Directory Service (aws:domainJoin), which needs AWS: use driftless:JoinDomain") {
		t.Errorf("err = %v", err)
	}
}
