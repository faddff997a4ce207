package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// runsSchema is docs/runs.schema.json, compiled.
func runsSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	f, err := os.Open(filepath.Join("..", "..", "docs", "runs.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("docs/runs.schema.json: %v", err)
	}
	if err := c.AddResource("runs.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("runs.schema.json")
	if err != nil {
		t.Fatalf("docs/runs.schema.json: %v", err)
	}
	return s
}

// Every command that reports runs prints them in the one shape
// docs/runs.schema.json pins: apply, check (drifted and compliant), exec,
// tick, show and history, each checked against the schema; a field the
// schema does not know, or a missing one, fails it.
func TestRunJSONMatchesTheSchema(t *testing.T) {
	schema := runsSchema(t)
	dir := localDir(t, "[associations.c]\ndocument = \"c\"\ntargets = [\"*\"]\nschedule = \"rate(1 minute)\"\n", "c")
	os.WriteFile(filepath.Join(dir, "documents", "f.toml"), []byte(`
[[steps]]
name = "motd"
action = "file"
path = "`+dir+`/motd.txt"
content = "hello\n"

[[steps]]
name = "show"
action = "shell"
check = "true"
run = "echo shown; echo warned >&2"
`), 0o600)
	assocs, _ := os.ReadFile(filepath.Join(dir, "associations.toml"))
	os.WriteFile(filepath.Join(dir, "associations.toml"), append(assocs, "[associations.f]\ndocument = \"f\"\ntargets = [\"*\"]\n"...), 0o600)

	validate := func(what string, r cliResult) runsJSON {
		t.Helper()
		var v any
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Fatalf("%s: stdout is not JSON: %v\n%s\nstderr:\n%s", what, err, r.stdout, r.stderr)
		}
		if err := schema.Validate(v); err != nil {
			t.Fatalf("%s: --json does not match docs/runs.schema.json:\n%v\n%s", what, err, r.stdout)
		}
		return decodeJSON[runsJSON](t, r.stdout)
	}
	drifted := validate("check (fresh)", driftless(t, "-C", dir, "check", "f", "--json").wantCode(t, exitDrift))
	if h := drifted.Runs[0].Hosts[0]; drifted.Runs[0].DriftedHosts != 1 || h.Steps[0].Status != "Drifted" || h.Steps[0].Differ == "" {
		t.Errorf("check --json of a drifted host: %+v", drifted.Runs[0])
	}
	applied := validate("apply", driftless(t, "-C", dir, "apply", "--json").wantCode(t, exitOK))
	if len(applied.Runs) != 2 || applied.Runs[1].CorrectedHosts != 1 {
		t.Errorf("apply --json: %+v", applied.Runs)
	}
	validate("check (compliant)", driftless(t, "-C", dir, "check", "--json").wantCode(t, exitOK))
	ex := validate("exec", driftless(t, "-C", dir, "exec", "--targets", "here", "--json", "--", "echo", "hi").wantCode(t, exitOK))
	if r := ex.Runs[0]; r.Mode != "exec" || r.Command == "" || r.Hosts[0].Steps[0].Stdout != "hi\n" {
		t.Errorf("exec --json: %+v", r)
	}
	validate("tick", driftless(t, "-C", dir, "tick", "--json").wantCode(t, exitOK))
	shown := validate("show", driftless(t, "-C", dir, "show", "2", "--json").wantCode(t, exitOK))
	if len(shown.Runs) != 1 || shown.Runs[0].ID != 2 || len(shown.Runs[0].Hosts) != 1 {
		t.Errorf("show 2 --json: %+v", shown.Runs)
	}
	r := driftless(t, "-C", dir, "history", "--json").wantCode(t, exitOK)
	var v any
	json.Unmarshal([]byte(r.stdout), &v)
	if err := schema.Validate(v); err != nil {
		t.Fatalf("history --json does not match docs/runs.schema.json:\n%v\n%s", err, r.stdout)
	}
	if h := decodeJSON[historyJSON](t, r.stdout); len(h.Runs) < 5 {
		t.Errorf("history --json: %d runs, want at least 5", len(h.Runs))
	}
}
