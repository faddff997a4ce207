package documents

import (
	"strings"
	"testing"
)

// interpolationType ENV_VAR (schema 2.2): the parameter is checked as any
// other (allowedPattern, allowedValues) and marked for SSM_<name>; its
// {{ }} references are still substituted. Another value is refused with
// the one SSM knows; in an older schema it is ignored with a warning.
func TestSSMInterpolationEnvVar(t *testing.T) {
	src := `{"schemaVersion": "2.2",
 "parameters": {
  "Msg": {"type": "String", "default": "hello", "interpolationType": "ENV_VAR", "allowedPattern": "^[^\"]*$"},
  "Plain": {"type": "String", "default": "x"}},
 "mainSteps": [{"action": "aws:runShellScript", "name": "a", "inputs": {"runCommand": ["echo \"$SSM_Msg\" {{ Msg }}"]}}]}`
	d, l := parseDoc(t, "documents/e.json", src)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	if !d.Param("Msg").EnvVar || d.Param("Plain").EnvVar {
		t.Errorf("EnvVar: Msg %v, Plain %v", d.Param("Msg").EnvVar, d.Param("Plain").EnvVar)
	}
	if err := d.Param("Msg").Check(Str(`a"b`)); err == nil || !strings.Contains(err.Error(), "allowed pattern") {
		t.Errorf("allowedPattern not checked: %v", err)
	}
	out, err := d.Steps[0].Inputs["run"].RenderString(&Scope{Params: map[string]Value{"Msg": Str("hi"), "Plain": Str("x")}})
	if err != nil || out != `echo "$SSM_Msg" hi` {
		t.Errorf("run = %q, %v", out, err)
	}
	if got := SSMEnvValue(List("a", "b")); got != `["a","b"]` {
		t.Errorf("list env value %q", got)
	}

	_, l = parseDoc(t, "documents/bad.json", strings.Replace(src, `"ENV_VAR"`, `"ENV"`, 1))
	if !hasErr(l, `documents/bad.json:3:49: parameters.Msg.interpolationType: interpolationType "ENV" is not one SSM knows: the only value is "ENV_VAR"`) {
		t.Errorf("unknown interpolationType: %v", l.Err())
	}
	d, l = parseDoc(t, "documents/old.json", strings.Replace(src, `"2.2"`, `"2.0"`, 1))
	if err := l.Err(); err != nil || d.Param("Msg").EnvVar || len(l.Warnings()) != 1 ||
		!strings.Contains(l.Warnings()[0].Error(), "only for a schema 2.2 document") {
		t.Errorf("schema 2.0: %v, EnvVar %v, warnings %v", err, d.Param("Msg").EnvVar, l.Warnings())
	}
}

// The agent reads onFailure, onSuccess, finallyStep and timeoutSeconds
// only inside a step's inputs, and maxAttempts nowhere: on the step they
// are warnings and do nothing; maxAttempts leaves one attempt.
func TestSSMControlsOnlyInInputs(t *testing.T) {
	src := `schemaVersion: "2.2"
mainSteps:
- name: a
  action: aws:runShellScript
  onFailure: exit
  onSuccess: exit
  timeoutSeconds: 60
  maxAttempts: 3
  inputs:
    runCommand: [x]
- action: aws:runShellScript
  name: b
  inputs:
    runCommand: [x]
    onFailure: exit
    timeoutSeconds: 60
    maxAttempts: 3
- action: aws:runShellScript
  name: c
  inputs:
    runCommand: [x]
    maxAttempts: 1
`
	d, l := parseDoc(t, "documents/c.yaml", src)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	a, b := d.Steps[0], d.Steps[1]
	if a.OnFailure != OnFailureContinue || a.OnSuccessEnd || a.Timeout != 3600e9 || a.MaxAttempts != 1 {
		t.Errorf("step-level controls were applied: %+v", a)
	}
	if b.OnFailure != OnFailureStop || b.Timeout != 60e9 || b.MaxAttempts != 1 {
		t.Errorf("inputs controls: %+v", b)
	}
	checkDiags(t, "warning", l.Warnings(), []string{
		"documents/c.yaml:5:3: mainSteps[0].onFailure: onFailure is ignored here: the SSM agent reads it only inside the step's inputs",
		"documents/c.yaml:6:3: mainSteps[0].onSuccess: onSuccess is ignored here",
		"documents/c.yaml:7:3: mainSteps[0].timeoutSeconds: timeoutSeconds is ignored here",
		"documents/c.yaml:8:3: mainSteps[0].maxAttempts: maxAttempts is ignored: the SSM agent runs a Command document's step once",
		"documents/c.yaml:17:5: mainSteps[1].inputs.maxAttempts: maxAttempts is ignored",
	})
}

// A finallyStep that is not the last step: the agent logs it and runs the
// step as any other; driftless warns and does the same (a native document
// keeps it an error).
func TestSSMFinallyStepNotLast(t *testing.T) {
	src := `schemaVersion: "2.2"
mainSteps:
- action: aws:runShellScript
  name: a
  inputs: {runCommand: [x], finallyStep: true}
- action: aws:runShellScript
  name: b
  inputs: {runCommand: [x]}
`
	d, l := parseDoc(t, "documents/f.yaml", src)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	if d.Steps[0].Finally || len(l.Warnings()) != 1 || !strings.Contains(l.Warnings()[0].Error(), `step "a": finallyStep is ignored: it is not the last step`) {
		t.Errorf("finally %v, warnings %v", d.Steps[0].Finally, l.Warnings())
	}
}

// The agent unmarshals a document and a plugin's inputs as JSON into
// structs: keys it does not know are skipped (an "outputs" section, an
// empty "parameters:"), and input names match whatever their case
// ("SourceType", "RunCommand"). The controls it reads by name do not.
func TestSSMLenientKeys(t *testing.T) {
	src := `schemaVersion: "2.2"
parameters:
outputs:
  - a
mainSteps:
- action: aws:runShellScript
  name: a
  inputs:
    RunCommand: [echo a]
    WorkingDirectory: /tmp
    OnFailure: exit
`
	d, l := parseDoc(t, "documents/k.yaml", src)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	s := d.Steps[0]
	if s.Inputs["run"] == nil || s.Inputs["working_directory"] == nil || s.OnFailure != OnFailureContinue {
		t.Errorf("inputs %v, onFailure %s", s.InputNames(), s.OnFailure)
	}
	w := l.Warnings()
	if len(w) != 2 || !strings.Contains(w[0].Error(), `outputs: unknown key "outputs" is ignored, as the SSM agent ignores it`) ||
		!strings.Contains(w[1].Error(), `unknown input "OnFailure" is ignored`) {
		t.Errorf("warnings: %v", w)
	}
}

// A schema 1.2 plugin that driftless does not run is refused by its name
// and reason, whatever its properties hold ("{{ properties }}", as
// AWS-ConfigureCloudWatch writes them).
func TestSSMRuntimeConfigUnsupportedPluginByName(t *testing.T) {
	src := `{"schemaVersion": "1.2",
 "parameters": {"properties": {"type": "String", "default": "{}"}},
 "runtimeConfig": {"aws:cloudWatch": {"properties": "{{ properties }}"}}}`
	_, l := parseDoc(t, "documents/cw.json", src)
	if l.Len() != 1 || !hasErr(l, `documents/cw.json:3:20: runtimeConfig.aws:cloudWatch: SSM action "aws:cloudWatch" is not supported by driftless: aws:cloudWatch sends logs and metrics to Amazon CloudWatch, which needs AWS`) {
		t.Errorf("%v", l.Err())
	}
}

// aws:downloadContent with sourceType and sourceInfo given as parameters
// ("{{ sourceType }}", "{{ sourceInfo }}" holding the JSON, as SSM's own
// documents write them) loads; they are read once rendered: HTTP gives
// the url and sha256, another type fails the step with its reason.
func TestSSMDownloadTemplatedSource(t *testing.T) {
	src := `schemaVersion: "2.2"
parameters:
  sourceType:
    type: String
    allowedValues: [HTTP, S3, GitHub]
  sourceInfo:
    type: StringMap
mainSteps:
- action: aws:downloadContent
  name: get
  inputs:
    SourceType: "{{ sourceType }}"
    SourceInfo: "{{ sourceInfo }}"
    destinationPath: /tmp/x
`
	d, l := parseDoc(t, "documents/dl.yaml", src)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	s := d.Steps[0]
	sum := strings.Repeat("ab", 32)
	sc := &Scope{Params: map[string]Value{"sourceType": Str("HTTP"),
		"sourceInfo": {Str: `{"url":"https://example.com/f","sha256":"` + sum + `"}`, JSON: true}}}
	u, err1 := s.Inputs["url"].RenderString(sc)
	h, err2 := s.Inputs["sha256"].RenderString(sc)
	if err1 != nil || err2 != nil || u != "https://example.com/f" || h != sum {
		t.Errorf("url %q %v, sha256 %q %v", u, err1, h, err2)
	}
	sc.Params["sourceType"] = Str("S3")
	if _, err := s.Inputs["url"].RenderString(sc); err == nil || !strings.HasPrefix(err.Error(), `aws:downloadContent sourceType "S3" is not supported: it downloads from Amazon S3, which needs AWS`) {
		t.Errorf("S3: %v", err)
	}
	sc.Params["sourceType"] = Str("HTTP")
	sc.Params["sourceInfo"] = Value{Str: `{"url":"file:///etc/passwd"}`, JSON: true}
	if _, err := s.Inputs["url"].RenderString(sc); err == nil || !strings.Contains(err.Error(), "expected an http:// or https:// URL") {
		t.Errorf("file url: %v", err)
	}

	// A literal sourceType other than HTTP is refused when loading, even
	// with sourceInfo given as a parameter.
	_, l = parseDoc(t, "documents/s3.yaml", strings.Replace(src, `"{{ sourceType }}"`, "S3", 1))
	if l.Len() != 1 || !hasErr(l, `documents/s3.yaml:12:5: mainSteps[0].inputs.SourceType: aws:downloadContent sourceType "S3" is not supported`) {
		t.Errorf("literal S3: %v", l.Err())
	}
}

// aws:configurePackage's version and additionalArguments exist only for
// AWS Distributor packages: given (literally or as "{{ version }}", as
// AWS-ConfigureAWSPackage does) the step is refused for that reason,
// naming the plugin and what to use instead; no version, or "latest", is
// none.
func TestSSMConfigurePackageDistributorInputs(t *testing.T) {
	doc := func(extra string) string {
		return `schemaVersion: "2.2"
parameters:
  version: {type: String, default: ""}
mainSteps:
- action: aws:configurePackage
  name: p
  inputs:
    name: curl
    action: Install
` + extra
	}
	for _, ok := range []string{"", "    version: latest\n", "    version: ''\n", "    additionalArguments: {}\n"} {
		if _, l := parseDoc(t, "documents/p.yaml", doc(ok)); l.Err() != nil {
			t.Errorf("%q: %v", ok, l.Err())
		}
	}
	for extra, want := range map[string]string{
		"    version: '{{ version }}'\n":        `documents/p.yaml:10:5: mainSteps[0].inputs.version: aws:configurePackage installs AWS Distributor packages (version "{{ version }}" picks a version published to Distributor), which need AWS: use the package action (apt/dnf/...) with the distribution's package name instead`,
		"    version: 1.2.3\n":                  `version "1.2.3" picks a version published to Distributor`,
		"    additionalArguments: {SSM_a: b}\n": `aws:configurePackage installs AWS Distributor packages (additionalArguments go to a Distributor package's install script), which need AWS`,
	} {
		if _, l := parseDoc(t, "documents/p.yaml", doc(extra)); l.Len() != 1 || !hasErr(l, want) {
			t.Errorf("%q: %v", extra, l.Err())
		}
	}
}

// aws:runDocument with documentType LocalPath runs a file on the host;
// the refusal says why and what to write instead.
func TestSSMRunDocumentLocalPath(t *testing.T) {
	_, l := parseDoc(t, "documents/r.json", `{"schemaVersion": "2.2", "mainSteps": [{"action": "aws:runDocument", "name": "r",
  "inputs": {"documentType": "LocalPath", "documentPath": "ssmdocument"}}]}`)
	if l.Len() != 1 || !hasErr(l, `aws:runDocument documentType "LocalPath" is not supported: it runs a document file that is on the host`) ||
		!hasErr(l, "write documentType SSMDocument with its name instead") {
		t.Errorf("%v", l.Err())
	}
}

// FuzzSSMDownloadSource: whatever sourceType and sourceInfo render to,
// reading the source gives an error or an http(s) url and an empty or
// 64-digit sha256, never a panic.
// go test ./documents -run '^$' -fuzz FuzzSSMDownloadSource
func FuzzSSMDownloadSource(f *testing.F) {
	f.Add("HTTP", `{"url":"https://h/x","sha256":""}`)
	f.Add("S3", `{"path":"s3://b/k"}`)
	f.Add("HTTP", `{"url":7}`)
	f.Add("{{ x }}", "[")
	src := &ssmSource{typ: &Template{Raw: "{{ t }}", parts: []part{{isRef: true, ref: Ref{Kind: RefParam, Name: "t"}}}},
		info: &Template{Raw: "{{ i }}", parts: []part{{isRef: true, ref: Ref{Kind: RefParam, Name: "i"}}}}}
	f.Fuzz(func(t *testing.T, typ, info string) {
		sc := &Scope{Params: map[string]Value{"t": Str(typ), "i": Str(info)}}
		u, err := src.field(sc, "url")
		if lu := strings.ToLower(u); err == nil && !strings.HasPrefix(lu, "http://") && !strings.HasPrefix(lu, "https://") {
			t.Fatalf("url %q accepted", u)
		}
		h, err := src.field(sc, "sha256")
		if err == nil && h != "" && !sha256Re.MatchString(h) {
			t.Fatalf("sha256 %q accepted", h)
		}
	})
}

// minItems and maxItems: the agent reads them leniently (a string holding
// a number too) and counts items only of a StringList, StringMap or
// MapList; on a String they are ignored, with a warning.
func TestSSMItemBoundsLenient(t *testing.T) {
	d, l := parseDoc(t, "documents/i.json", `{"schemaVersion": "2.2",
 "parameters": {"s": {"type": "String", "default": "x", "minItems": 1},
  "l": {"type": "StringList", "default": ["a"], "minItems": "1", "maxItems": "many"}},
 "mainSteps": [{"action": "aws:runShellScript", "name": "a", "inputs": {"runCommand": ["echo {{ s }} {{ l }}"]}}]}`)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	checkDiags(t, "warning", l.Warnings(), []string{`documents/i.json:2:57: parameters.s.minItems: minItems is ignored: the SSM agent counts items only of a StringList`})
	if p := d.Param("l"); p.MinItems != 1 || p.MaxItems != -1 {
		t.Errorf("l: minItems %d, maxItems %d", p.MinItems, p.MaxItems)
	}
}

// In a schema 2.2 document the agent on Linux and macOS skips a step of
// a plugin it has only on Windows (aws:applications, aws:psModule) and
// goes on: the document loads, with a warning, the step skipped there by
// a Windows precondition and failing on Windows with the reason. With a
// precondition for another platform it stays refused.
func TestSSMWindowsOnlyPluginSkipped(t *testing.T) {
	d, l := parseDoc(t, "documents/w.json", `{"schemaVersion": "2.2", "mainSteps": [
 {"action": "aws:runPowerShellScript", "name": "ps", "precondition": {"StringEquals": ["platformType", "Windows"]}, "inputs": {"runCommand": ["x"]}},
 {"action": "aws:applications", "name": "msi", "inputs": {"action": "Install", "source": "https://h/a.msi"}}]}`)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	checkDiags(t, "warning", l.Warnings(), []string{`documents/w.json:3:3: mainSteps[1].action: aws:applications is not supported by driftless: aws:applications installs, repairs or uninstalls an MSI package`})
	s := d.Steps[1]
	if s.Precondition == nil || s.Precondition.Platform != "Windows" || s.SourceAction != "aws:applications" {
		t.Fatalf("step: %+v", s)
	}
	run, err := s.Inputs["run"].RenderString(&Scope{})
	if err != nil || !strings.HasPrefix(run, "Write-Error 'aws:applications is not supported by driftless: ") || !strings.HasSuffix(run, "\nexit 1") {
		t.Errorf("run %q, %v", run, err)
	}
	_, l = parseDoc(t, "documents/l.yaml", "schemaVersion: \"2.2\"\nmainSteps:\n- action: aws:psModule\n  name: m\n  precondition: {StringEquals: [platformType, Linux]}\n  inputs: {}\n")
	if !hasErr(l, `SSM action "aws:psModule" is not supported by driftless`) {
		t.Errorf("Linux precondition: %v", l.Err())
	}
}

// A platformType precondition is read as the agent reads it: the two
// operands in either order, the platform's name in any case.
func TestSSMPlatformPreconditionAsAgent(t *testing.T) {
	d, l := parseDoc(t, "documents/p.json", `{"schemaVersion": "2.2", "mainSteps": [
 {"action": "aws:runShellScript", "name": "a", "precondition": {"StringEquals": ["Linux", "platformType"]}, "inputs": {"runCommand": ["x"]}},
 {"action": "aws:runShellScript", "name": "b", "precondition": {"StringEquals": ["platformType", "windows"]}, "inputs": {"runCommand": ["x"]}}]}`)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"Linux", "Windows"} {
		if p := d.Steps[i].Precondition; p == nil || p.Platform != want {
			t.Errorf("step %d: precondition %+v, want platform %s", i, p, want)
		}
	}
}

// A templated sourceType whose parameter allows only types driftless
// does not download (GitHub and S3, as AWS-RunRemoteScript) can never
// run: refused when the document loads, with each type's reason.
func TestSSMDownloadTemplatedSourceNeverHTTP(t *testing.T) {
	_, l := parseDoc(t, "documents/g.json", `{"schemaVersion": "2.2",
 "parameters": {"sourceType": {"type": "String", "allowedValues": ["GitHub", "S3"]}, "sourceInfo": {"type": "StringMap", "default": {}}},
 "mainSteps": [{"action": "aws:downloadContent", "name": "get", "inputs": {"sourceType": "{{ sourceType }}", "sourceInfo": "{{ sourceInfo }}"}}]}`)
	if l.Len() != 1 || !hasErr(l, `documents/g.json:3:76: mainSteps[0].inputs.sourceType: aws:downloadContent sourceType "{{ sourceType }}" allows only GitHub, S3, and none of them is downloaded by driftless: aws:downloadContent sourceType "GitHub" is not supported`) ||
		!hasErr(l, `sourceType "S3" is not supported: it downloads from Amazon S3, which needs AWS`) {
		t.Errorf("%v", l.Err())
	}
}
