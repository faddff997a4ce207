package documents

import (
	"strings"
	"testing"
	"time"
)

// What the SSM agent accepts, driftless accepts (issue 15): minChars and
// maxChars, {{{ name }}}, a templated or out-of-range timeoutSeconds, the
// id input, documentParameters given as a template, a StringList inside a
// longer string.
func TestSSMAgentConstructs(t *testing.T) {
	src := `{
  "schemaVersion": "2.2",
  "parameters": {
    "Path": {"type": "String", "minChars": 2, "maxChars": "8"},
    "Items": {"type": "StringList", "default": ["a", "b"], "maxChars": 3},
    "executionTimeout": {"type": "String", "default": "3600"},
    "Params": {"type": "String", "default": "{\"x\": \"1\"}"}
  },
  "mainSteps": [
    {"action": "aws:runPowerShellScript", "name": "triple",
     "inputs": {"id": "0.aws:runPowerShellScript", "runCommand": ["$p = {{{ Path }}}", "echo '{{ Items }}' $$HOME"], "timeoutSeconds": "{{ executionTimeout }}"}},
    {"action": "aws:runShellScript", "name": "short", "timeoutSeconds": 2, "inputs": {"runCommand": "true"}},
    {"action": "aws:runShellScript", "name": "frac", "inputs": {"runCommand": "true", "timeoutSeconds": 90.7}},
    {"action": "aws:runDocument", "name": "nest",
     "inputs": {"documentType": "SSMDocument", "documentPath": "other", "documentParameters": "{{ Params }}"}}
  ]
}`
	d, l := parseDoc(t, "documents/fm.json", src)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	p := d.Param("Path")
	if p.MinChars != 2 || p.MaxChars != 8 {
		t.Fatalf("min/max chars = %d/%d", p.MinChars, p.MaxChars)
	}
	if err := p.Check(Str("x")); err == nil || !strings.Contains(err.Error(), "minChars 2") {
		t.Errorf("short value: %v", err)
	}
	if err := p.Check(Str("123456789")); err == nil || !strings.Contains(err.Error(), "maxChars 8") {
		t.Errorf("long value: %v", err)
	}
	if err := d.Param("Items").Check(List("abc", "abcd")); err == nil {
		t.Error("a StringList item longer than maxChars passed")
	}
	sc := &Scope{Params: map[string]Value{"Path": Str(`C:\x`), "Items": List("a", "b$$"), "executionTimeout": Str("3"), "Params": Str(`{"x": "1", "l": ["p", "q"]}`)}}
	run, err := d.Steps[0].Input("run").RenderList(sc)
	if err != nil {
		t.Fatal(err)
	}
	// As the agent: {{ Path }} inside {{{ }}} keeps the outer braces; a
	// StringList in a longer string is JSON; "$$" in a value is "$", in the document's own text it stays.
	if run[0] != `$p = {C:\x}` || run[1] != `echo '["a","b$"]' $$HOME` {
		t.Errorf("rendered %q", run)
	}
	if to, err := d.Steps[0].StepTimeout(sc); err != nil || to != 3600*time.Second {
		t.Errorf("timeoutSeconds 3 (below SSM's minimum 5) = %v, %v; want the agent's default 1h", to, err)
	}
	sc.Params["executionTimeout"] = Str("600")
	if to, _ := d.Steps[0].StepTimeout(sc); to != 600*time.Second {
		t.Errorf("templated timeout = %v, want 10m", to)
	}
	if to, _ := d.Steps[1].StepTimeout(sc); to != time.Hour {
		t.Errorf("timeoutSeconds 2 (below SSM's minimum 5) = %v, want the agent's default 1h", to)
	}
	if to, _ := d.Steps[2].StepTimeout(sc); to != 90*time.Second {
		t.Errorf("timeoutSeconds 90.7 = %v, want 90s", to)
	}
	in := d.Steps[3].Input("parameters")
	if in == nil || !in.Templated() {
		t.Fatalf("documentParameters template = %+v", in)
	}
	ents, err := in.Entries(sc)
	if err != nil || len(ents) != 2 || ents[0].Key != "l" || !ents[0].Value.IsList() || ents[1].Value.Str.Raw != "1" {
		t.Errorf("entries = %+v, %v", ents, err)
	}
	sc.Params["Params"] = Str("not json")
	if _, err := in.Entries(sc); err == nil || !strings.Contains(err.Error(), "not a JSON object") {
		t.Errorf("bad documentParameters: %v", err)
	}
}

// Schemas 1.2 and 2.0 load unchanged: the shape of AWS-RunShellScript.
func TestSSMSchemas12And20(t *testing.T) {
	v12 := `{
  "schemaVersion": "1.2",
  "description": "Run a shell script.",
  "parameters": {
    "commands": {"type": "StringList", "minItems": 1, "displayType": "textarea"},
    "workingDirectory": {"type": "String", "default": "", "maxChars": 4096},
    "executionTimeout": {"type": "String", "default": "3600", "allowedPattern": "([1-9][0-9]{0,4})|(1[0-6][0-9]{4})|(17[0-1][0-9]{3})|(172[0-7][0-9]{2})|(172800)"}
  },
  "runtimeConfig": {
    "aws:runShellScript": {
      "properties": [
        {"id": "0.aws:runShellScript", "runCommand": "{{ commands }}", "workingDirectory": "{{ workingDirectory }}", "timeoutSeconds": "{{ executionTimeout }}"}
      ]
    }
  }
}`
	d, l := parseDoc(t, "documents/AWS-RunShellScript.json", v12)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	if len(d.Steps) != 1 || d.Steps[0].Name != "0.aws:runShellScript" || d.Steps[0].Action != ActionShell || d.Steps[0].TimeoutExpr == nil {
		t.Errorf("1.2 steps = %+v", d.Steps)
	}
	v20 := `schemaVersion: "2.0"
mainSteps:
- action: aws:runShellScript
  name: a
  inputs: {runCommand: [ls]}
- action: aws:runShellScript
  name: b
  precondition: {StringEquals: [platformType, Linux]}
  inputs: {runCommand: [ls]}
`
	_, l = parseDoc(t, "documents/v20.yaml", v20)
	checkErrors(t, l, []string{`documents/v20.yaml:8:3: mainSteps[1].precondition: precondition needs schemaVersion 2.2`})
	_, l = parseDoc(t, "documents/mixed.yaml", "schemaVersion: \"1.2\"\nmainSteps: []\n")
	checkErrors(t, l, []string{
		`documents/mixed.yaml:1:1: an SSM document of schema 1.2 needs runtimeConfig`,
		`documents/mixed.yaml:2:1: mainSteps: schema 1.2 has runtimeConfig, not mainSteps`,
	})
}

// A plugin that needs AWS is refused, naming the plugin and what to use
// instead.
func TestSSMNeedsAWS(t *testing.T) {
	src := `schemaVersion: "2.2"
mainSteps:
- action: aws:configurePackage
  name: cw
  inputs: {name: AmazonCloudWatchAgent, action: Install}
- action: aws:domainJoin
  name: join
  inputs: {directoryId: d-1}
- action: aws:updateSsmAgent
  name: upd
  inputs: {agentName: amazon-ssm-agent}
- action: aws:configurePackage
  name: nginx
  inputs: {name: nginx, action: Install}
`
	_, l := parseDoc(t, "documents/aws.yaml", src)
	checkErrors(t, l, []string{
		`documents/aws.yaml:5:12: mainSteps[0].inputs.name: aws:configurePackage installs AWS Distributor packages ("AmazonCloudWatchAgent" is one), which need AWS: use the package action (apt/dnf/...)`,
		`documents/aws.yaml:6:3: mainSteps[1].action: SSM action "aws:domainJoin" is not supported by driftless: aws:domainJoin joins a domain through AWS Directory Service, which needs AWS: use the built-in document driftless:JoinDomain instead`,
		`documents/aws.yaml:9:3: mainSteps[2].action: SSM action "aws:updateSsmAgent" is not supported by driftless: aws:updateSsmAgent updates the SSM agent`,
	})
}
