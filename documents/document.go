package documents

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/driftless-dev/driftless/internal/cfgtree"
	"github.com/driftless-dev/driftless/internal/diag"
)

// Formats of documents.
const (
	FormatNative = "native"
	FormatSSM    = "ssm"
)

// Platforms a precondition can name.
var Platforms = []string{"Linux", "MacOS", "Windows"}

// On-failure behaviours.
const (
	OnFailureStop           = "stop"
	OnFailureContinue       = "continue"
	OnFailureSuccessAndExit = "successAndExit"
)

// Defaults of step keys.
const (
	DefaultStepTimeout = time.Hour
	MaxStepTimeout     = 48 * time.Hour
)

// Document is a parsed document, native or SSM, in one model.
type Document struct {
	Name        string
	File        string // as given; "" for a built-in
	Format      string
	Description string
	Params      []*Parameter
	Steps       []*Step
	// Hash is the SHA-256 of the document's bytes: a change of the
	// document makes its associations due again.
	Hash string
}

// Param returns the parameter named name, or nil.
func (d *Document) Param(name string) *Parameter {
	for _, p := range d.Params {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Step is one step of a document.
type Step struct {
	Name         string
	Action       Action // one of ActionNames
	SourceAction string // as written: "file" or "aws:runShellScript"
	Description  string
	Precondition *Precondition
	OnFailure    string // stop | continue | successAndExit
	OnSuccessEnd bool   // SSM onSuccess: exit
	Finally      bool   // SSM finallyStep
	Timeout      time.Duration
	// TimeoutExpr is a timeout written with references ("{{ t }}"): it
	// renders to seconds or a duration and replaces Timeout.
	TimeoutExpr *Template
	// SSMTimeout: the timeout is SSM's timeoutSeconds, which the agent
	// reads leniently: a number or a string of one, a fraction cut off;
	// anything else, or outside 5..172800 seconds, is 3600.
	SSMTimeout  bool
	MaxAttempts int
	Inputs      map[string]*Input
	Pos         diag.Pos
	Authoring   // native steps only
}

// StepTimeout returns the step's timeout, rendering TimeoutExpr if set.
func (s *Step) StepTimeout(sc *Scope) (time.Duration, error) {
	if s.TimeoutExpr == nil {
		return s.Timeout, nil
	}
	v, err := s.TimeoutExpr.Render(sc)
	if err != nil {
		return 0, fmt.Errorf("timeout: %w", err)
	}
	v = strings.TrimSpace(v)
	if s.SSMTimeout {
		return ssmTimeout(v), nil
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("timeout: expected seconds or a duration, got %q", v)
}

// SSM agent bounds of timeoutSeconds (agent/plugins/pluginutil).
const (
	ssmMinTimeout     = 5
	ssmMaxTimeout     = 172800
	ssmDefaultTimeout = 3600
)

// ssmTimeout reads timeoutSeconds as the SSM agent does.
func ssmTimeout(v string) time.Duration {
	n, err := strconv.Atoi(v)
	if err != nil {
		f, ferr := strconv.ParseFloat(v, 64)
		switch {
		case ferr != nil || math.IsNaN(f):
			n = ssmDefaultTimeout
		case f > ssmMaxTimeout || f < 0:
			n = -1
		default:
			n = int(f)
		}
	}
	if n < ssmMinTimeout || n > ssmMaxTimeout {
		n = ssmDefaultTimeout
	}
	return time.Duration(n) * time.Second
}

// Input returns the input named name, or nil.
func (s *Step) Input(name string) *Input { return s.Inputs[name] }

// InputNames returns the names of the step's inputs in the action's order.
func (s *Step) InputNames() []string {
	var out []string
	for _, n := range actionSpecs[s.Action].inputNames() {
		if s.Inputs[n] != nil {
			out = append(out, n)
		}
	}
	return out
}

// Precondition decides whether a step runs on a host.
type Precondition struct {
	Platform string       // Linux | MacOS | Windows, or ""
	Equals   [2]*Template // both nil when unused
	Negate   bool         // not_equals: the step runs when they differ
}

func (p *Precondition) String() string {
	if p.Platform != "" {
		return "platform = " + p.Platform
	}
	op := "=="
	if p.Negate {
		op = "!="
	}
	return fmt.Sprintf("%q %s %q", p.Equals[0].Raw, op, p.Equals[1].Raw)
}

var (
	stepNameRe = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	// ssmStepNameRe allows ':' too: a schema 1.2 step is named by its
	// id, "0.aws:runShellScript".
	ssmStepNameRe = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)
)

// LoadFile reads a document from documents/NAME.{toml,json,yaml,yml}.
func LoadFile(path string, list *diag.List) *Document {
	src, err := cfgtree.ReadFile(path)
	if err != nil {
		list.Add(cfgtree.ReadError(path, "the document", err))
		return nil
	}
	base := filepath.Base(path)
	ext := filepath.Ext(base)
	d := Parse(path, strings.TrimSuffix(base, ext), ext, src, list)
	if d != nil && d.Format == FormatNative {
		// documents/NAME.toml: its sources are files of the config dir.
		loadTemplateSources(d, filepath.Dir(filepath.Dir(path)), list)
	}
	return d
}

// Parse reads a document from src. ext (".toml", ".json", ".yaml", ".yml")
// selects the format; file names it in messages.
func Parse(file, name, ext string, src []byte, list *diag.List) *Document {
	c := cfgtree.Checker{File: file, L: list}
	var root *cfgtree.Node
	var err error
	switch ext {
	case ".toml":
		root, err = cfgtree.ParseTOML(file, src)
	case ".json":
		root, err = cfgtree.ParseJSON(file, src)
	case ".yaml", ".yml":
		root, err = cfgtree.ParseYAML(file, src)
	default:
		list.Addf(file, diag.Pos{}, "", "unknown document format %q: use .toml (native) or .json/.yaml/.yml (SSM)", ext)
		return nil
	}
	if err != nil {
		list.Add(err.(*diag.Error))
		return nil
	}
	if !c.Map(root) {
		return nil
	}
	sum := sha256.Sum256(src)
	d := &Document{Name: name, File: file, Hash: hex.EncodeToString(sum[:])}
	if ext == ".toml" {
		d.Format = FormatNative
		parseNative(c, root, d)
	} else {
		d.Format = FormatSSM
		parseSSM(c, root, d)
	}
	checkDocument(c, root, d)
	if d.Format == FormatNative {
		checkAuthoring(c, d)
	}
	if d.Format == FormatSSM {
		for _, t := range d.Templates() {
			t.ssm = true
		}
	}
	return d
}

// Templates returns every template of the document: inputs, timeouts,
// preconditions.
func (d *Document) Templates() []*Template {
	var out []*Template
	for _, s := range d.Steps {
		for _, in := range s.Inputs {
			out = append(out, in.Templates()...)
		}
		if s.TimeoutExpr != nil {
			out = append(out, s.TimeoutExpr)
		}
		if p := s.Precondition; p != nil && p.Equals[0] != nil {
			out = append(out, p.Equals[0], p.Equals[1])
		}
	}
	return out
}

func parseNative(c cfgtree.Checker, root *cfgtree.Node, d *Document) {
	c.Keys(root, "description", "parameters", "steps")
	if n := root.Get("description"); n != nil {
		d.Description, _ = c.Str(n)
	}
	d.Params = parseParams(c, root.Get("parameters"), nativeParamKeys)
	d.Steps = parseSteps(c, root, "steps", "the document has no steps: add [[steps]]", "[[steps]] tables", parseNativeStep)
}

// parseSteps parses the list of steps under key of root with parseStep,
// skipping the items that are not tables and the steps it rejects. Without
// the key it reports missing; what it expects there is a list of want.
func parseSteps(c cfgtree.Checker, root *cfgtree.Node, key, missing, want string, parseStep func(cfgtree.Checker, *cfgtree.Node) *Step) []*Step {
	steps := root.Get(key)
	if steps == nil {
		c.Errf(root, "%s", missing)
		return nil
	}
	if steps.Kind != cfgtree.List {
		c.Errf(steps, "expected %s, got %s", want, steps.Describe())
		return nil
	}
	var out []*Step
	for _, sn := range steps.Items {
		if !c.Map(sn) {
			continue
		}
		if s := parseStep(c, sn); s != nil {
			out = append(out, s)
		}
	}
	return out
}

var commonStepKeys = []string{"name", "action", "description", "precondition", "on_failure", "timeout", "max_attempts"}

func parseNativeStep(c cfgtree.Checker, n *cfgtree.Node) *Step {
	s := &Step{Pos: n.Pos, OnFailure: OnFailureStop, Timeout: DefaultStepTimeout, MaxAttempts: 1, Inputs: map[string]*Input{}}
	if !nativeActions.parseHead(c, n, s) {
		return nil
	}
	action, spec := s.Action, actionSpecs[s.Action]
	c.Keys(n, append(append(append([]string{}, commonStepKeys...), authoringKeys...), spec.inputNames()...)...)
	if v := n.Get("description"); v != nil {
		s.Description, _ = c.Str(v)
	}
	if v := n.Get("on_failure"); v != nil {
		s.OnFailure, _ = c.OneOf(v, OnFailureStop, OnFailureContinue)
	}
	if v := n.Get("timeout"); v != nil {
		if t, err := ParseTemplate(v.Str); v.Kind == cfgtree.String && err == nil && t.HasRefs() {
			s.TimeoutExpr = t
		} else if d, ok := c.Duration(v); ok {
			s.Timeout = d
		}
	}
	if v := n.Get("max_attempts"); v != nil {
		if x, ok := c.IntRange(v, 1, 100); ok {
			s.MaxAttempts = int(x)
		}
	}
	if v := n.Get("precondition"); v != nil && c.Map(v) {
		c.Keys(v, "platform", "equals", "not_equals")
		s.Precondition = &Precondition{}
		if p := v.Get("platform"); p != nil {
			s.Precondition.Platform, _ = c.OneOf(p, Platforms...)
		}
		if eq := v.Get("equals"); eq != nil {
			s.Precondition.Equals = parseEquals(c, eq)
		}
		if ne := v.Get("not_equals"); ne != nil {
			s.Precondition.Equals = parseEquals(c, ne)
			s.Precondition.Negate = true
		}
		if len(v.Entries) != 1 {
			c.Errf(v, "a precondition needs exactly one of platform, equals or not_equals")
		}
	}
	for _, in := range spec.inputs {
		if v := n.Get(in.name); v != nil {
			if x := parseInput(c, v, in); x != nil {
				s.Inputs[in.name] = x
			}
		} else if in.required {
			c.Errf(n, "%s step %q needs %s", action, s.Name, in.name)
		}
	}
	if spec.check != nil {
		spec.check(c, n, s)
	}
	parseAuthoring(c, n, s)
	return s
}

func parseEquals(c cfgtree.Checker, n *cfgtree.Node) [2]*Template {
	var out [2]*Template
	items, ok := c.StrList(n)
	if !ok {
		return out
	}
	if len(items) != 2 {
		c.Errf(n, "expected two values to compare, got %d", len(items))
		return out
	}
	for i, s := range items {
		t, err := ParseTemplate(s)
		if err != nil {
			c.Errf(n.Items[i], "%v", err)
			return [2]*Template{}
		}
		out[i] = t
	}
	return out
}

// checkDocument enforces the rules that span steps: unique names, a
// finally step last, every parameter reference declared.
func checkDocument(c cfgtree.Checker, root *cfgtree.Node, d *Document) {
	seen := map[string]bool{}
	nameRe := stepNameRe
	if d.Format == FormatSSM {
		nameRe = ssmStepNameRe
	}
	for i, s := range d.Steps {
		if s.Name != "" {
			if !nameRe.MatchString(s.Name) {
				c.L.Addf(c.File, s.Pos, "", "invalid step name %q: use letters, digits, '.', '_' and '-'", s.Name)
			}
			if seen[s.Name] {
				c.L.Addf(c.File, s.Pos, "", "duplicate step name %q: step names are unique in a document", s.Name)
			}
			seen[s.Name] = true
		}
		if s.Finally && i != len(d.Steps)-1 {
			if d.Format == FormatSSM {
				// agent/framework/runpluginutil logs and ignores it.
				c.L.Warnf(c.File, s.Pos, "", "step %q: finallyStep is ignored: it is not the last step, and the SSM agent honours it only on the last one", s.Name)
				s.Finally = false
			} else {
				c.L.Addf(c.File, s.Pos, "", "step %q: finallyStep must be the last step", s.Name)
			}
		}
		check := func(t *Template, pos diag.Pos, path string) {
			checkTemplateRefs(c, d, s, t, func(Ref) diag.Pos { return pos }, path)
		}
		for _, name := range s.InputNames() {
			in := s.Inputs[name]
			for _, t := range in.Templates() {
				check(t, in.Pos, in.Path)
			}
		}
		if s.TimeoutExpr != nil {
			check(s.TimeoutExpr, s.Pos, "")
		}
		if p := s.Precondition; p != nil && p.Equals[0] != nil {
			check(p.Equals[0], s.Pos, "")
			check(p.Equals[1], s.Pos, "")
		}
	}
}

// ssmAliases maps the SSM actions driftless runs to its own.
var ssmAliases = map[string]Action{
	"aws:runShellScript":      ActionShell,
	"aws:runPowerShellScript": ActionPowerShell,
	"aws:configurePackage":    ActionPackage,
	"aws:downloadContent":     ActionDownload,
	"aws:runDocument":         ActionDocument,
}

// ssmActionNames lists the keys of ssmAliases in the order messages name
// them.
var ssmActionNames = []string{"aws:runShellScript", "aws:runPowerShellScript", "aws:configurePackage", "aws:downloadContent", "aws:runDocument"}

// stepActions is what a document format says about the action of a step:
// the part of reading a step's name and action in which the native and
// SSM formats differ.
type stepActions struct {
	// noAction follows `step "NAME" has no action` when a step has none.
	noAction string
	// resolve maps an action as written to one of ActionNames.
	resolve func(action string) (native Action, ok bool)
	// unknown is the message for an action resolve refuses; %q is the
	// action.
	unknown string
	// explain, when set, may account for an unknown action first; it
	// reports whether it did.
	explain func(e *diag.Error, action string) bool
	// names are the actions suggested for a typo; hint is said when none
	// is close.
	names []string
	hint  string
}

var nativeActions = &stepActions{
	noAction: ": expected one of " + strings.Join(actionNameStrings(), ", "),
	resolve: func(action string) (Action, bool) {
		return Action(action), actionSpecs[Action(action)] != nil
	},
	unknown: "unknown action %q",
	explain: func(e *diag.Error, action string) bool {
		if !strings.HasPrefix(action, "aws:") {
			return false
		}
		if native, ok := ssmAliases[action]; ok {
			e.Msg += fmt.Sprintf(": in a native document write action = %q", native)
		} else {
			e.Hint = "aws: actions belong in SSM documents (documents/NAME.json or .yaml)"
		}
		return true
	},
	names: actionNameStrings(),
	hint:  "expected one of: " + strings.Join(actionNameStrings(), ", "),
}

// ssmUnsupported are the SSM plugins driftless does not run: what each
// does, why driftless does not run it (it needs AWS or Windows), and what
// to use instead.
var ssmUnsupported = map[string]string{
	"aws:configureDocker":       "installs Docker through the agent (agent/plugins/configurecontainers: the Containers feature and Docker on Windows Server, docker with yum on Amazon Linux and Red Hat): use a package step (docker, docker.io, docker-ce) and a service step on Linux, or a powershell step with Install-WindowsFeature Containers on Windows, instead",
	"aws:applications":          "installs, repairs or uninstalls an MSI package with msiexec (agent/plugins/application), so it needs Windows: use a powershell step running msiexec /i (or /x) with the .msi fetched by a download step instead",
	"aws:psModule":              "installs a PowerShell module from a .zip URL and runs commands with it (agent/plugins/psmodule), and the agent runs it only on Windows: use a powershell step with Install-Module (or Expand-Archive into $env:PSModulePath) and the commands instead",
	"aws:runScript":             "is not a plugin of the SSM agent (it appears only in the agent's test data; the agent fails such a step as an unknown plugin): use aws:runShellScript, or aws:runPowerShellScript for PowerShell, instead",
	"aws:runDockerAction":       "runs a docker action (run, exec, stop, ...) through the agent (agent/plugins/dockercontainer): use a shell step with the docker command instead",
	"aws:configureDaemon":       "registers a long-running process with the agent's daemon manager (agent/plugins/configuredaemon), so it needs the SSM agent: use a service step (systemd unit) instead",
	"aws:cloudWatch":            "sends logs and metrics to Amazon CloudWatch, which needs AWS: install and configure a log or metrics agent with a package step and a file step instead",
	"aws:domainJoin":            "joins a domain through AWS Directory Service, which needs AWS: use the built-in document driftless:JoinDomain instead",
	"aws:updateSsmAgent":        "updates the SSM agent, which driftless does not need: drop the step (a package step keeps any other agent up to date)",
	"aws:updateAgent":           "updates the EC2Config agent, which driftless does not need: drop the step",
	"aws:softwareInventory":     "reports to AWS Systems Manager Inventory, which needs AWS: driftless keeps what it finds in its journal",
	"aws:refreshAssociation":    "asks AWS State Manager to apply associations, which needs AWS: run driftless apply instead",
	"aws:executeScript":         "belongs to Automation documents, which run in AWS: use a shell or powershell step instead",
	"aws:executeAwsApi":         "calls AWS APIs from an Automation document, which needs AWS: drop the step",
	"aws:runCommand":            "belongs to Automation documents, which run in AWS: nest the document with aws:runDocument instead",
	"aws:downloadSoftwarePatch": "needs AWS Patch Manager: use the patch action instead",
}

var ssmActions = &stepActions{
	resolve: func(action string) (Action, bool) {
		native, ok := ssmAliases[action]
		return native, ok
	},
	explain: func(e *diag.Error, action string) bool {
		why, ok := ssmUnsupported[action]
		if ok {
			e.Msg = fmt.Sprintf("SSM action %q is not supported by driftless: %s %s", action, action, why)
		}
		return ok
	},
	unknown: "SSM action %q is not supported by driftless",
	names:   ssmActionNames,
	hint:    "supported SSM actions: " + strings.Join(ssmActionNames, ", "),
}

// actionNameStrings returns ActionNames as strings, for messages.
func actionNameStrings() []string {
	out := make([]string, len(ActionNames))
	for i, a := range ActionNames {
		out[i] = string(a)
	}
	return out
}

// parseHead reads the name and action of step n into s, reporting what is
// missing or unknown. It returns false when the step has no action it can
// run, and the step is to be dropped.
func (a *stepActions) parseHead(c cfgtree.Checker, n *cfgtree.Node, s *Step) bool {
	if nn := n.Get("name"); nn != nil {
		s.Name, _ = c.NonEmpty(nn)
	} else {
		c.Errf(n, "the step has no name")
	}
	an := n.Get("action")
	if an == nil {
		c.Errf(n, "step %q has no action%s", s.Name, a.noAction)
		return false
	}
	action, ok := c.Str(an)
	if !ok {
		return false
	}
	native, ok := a.resolve(action)
	if !ok {
		e := c.Errf(an, a.unknown, action)
		if a.explain != nil && a.explain(e, action) {
			return false
		}
		if sug := diag.Suggest(action, a.names); sug != "" {
			e.Msg += fmt.Sprintf(" (did you mean %q?)", sug)
		} else {
			e.Hint = a.hint
		}
		return false
	}
	s.Action, s.SourceAction = native, action
	return true
}

// SSMSchemas are the schema versions of Command documents the SSM agent
// runs (agent/appconfig SupportedDocumentVersions).
var SSMSchemas = []string{"1.0", "1.2", "2.0", "2.0.1", "2.0.2", "2.0.3", "2.2"}

func parseSSM(c cfgtree.Checker, root *cfgtree.Node, d *Document) {
	// The agent unmarshals the document into a struct, skipping the keys
	// it does not know ("$schema" for editors, "outputs" of other
	// document types).
	c.IgnoredKeys(root, "key", "as the SSM agent ignores it", "$schema", "schemaVersion", "description", "parameters", "mainSteps", "runtimeConfig")
	schema := "2.2"
	sv := root.Get("schemaVersion")
	if sv == nil {
		c.Errf(root, "an SSM document needs schemaVersion: \"2.2\" (or 1.2, 2.0)")
	} else if v, ok := c.ScalarString(sv); ok {
		if !slices.Contains(SSMSchemas, v) {
			c.Errf(sv, "schemaVersion %q is not one the SSM agent runs: expected one of %s", v, strings.Join(SSMSchemas, ", "))
		} else {
			schema = v
		}
	}
	if n := root.Get("description"); n != nil {
		d.Description, _ = c.Str(n)
	}
	d.Params = parseParams(c, root.Get("parameters"), ssmParamKeys, "displayType", "interpolationType")
	ssmInterpolation(c, root.Get("parameters"), d, schema)
	parse := func(c cfgtree.Checker, n *cfgtree.Node) *Step { return parseSSMStep(c, n, schema, d.Name) }
	if strings.HasPrefix(schema, "1.") {
		if ms := root.Get("mainSteps"); ms != nil {
			c.Errf(ms, "schema %s has runtimeConfig, not mainSteps (mainSteps need schemaVersion 2.0 or 2.2)", schema)
		}
		d.Steps = parseRuntimeConfig(c, root, parse)
		return
	}
	if rc := root.Get("runtimeConfig"); rc != nil {
		c.Errf(rc, "schema %s has mainSteps, not runtimeConfig (runtimeConfig is schema 1.2)", schema)
	}
	d.Steps = parseSteps(c, root, "mainSteps", "an SSM document needs mainSteps", "a list of steps", parse)
	ssmCheckSources(c, d)
}

// parseRuntimeConfig reads the plugins of a schema 1.2 document, each
// with a list of property sets (or one), as steps in file order: one step
// per property set, named by its id (else by the plugin), its inputs the
// properties, as the agent runs them one after the other.
func parseRuntimeConfig(c cfgtree.Checker, root *cfgtree.Node, parse func(cfgtree.Checker, *cfgtree.Node) *Step) []*Step {
	rc := root.Get("runtimeConfig")
	if rc == nil {
		c.Errf(root, "an SSM document of schema 1.2 needs runtimeConfig")
		return nil
	}
	if !c.Map(rc) {
		return nil
	}
	var out []*Step
	for _, pn := range rc.Entries {
		if _, ok := ssmAliases[pn.Key]; !ok {
			// Refused by name, whatever its properties hold.
			parse(c, &cfgtree.Node{Kind: cfgtree.Map, Pos: pn.Pos, Path: pn.Path, Entries: []*cfgtree.Node{
				{Kind: cfgtree.String, Key: "action", Str: pn.Key, Pos: pn.Pos, Path: pn.Path},
				{Kind: cfgtree.String, Key: "name", Str: pn.Key, Pos: pn.Pos, Path: pn.Path}}})
			continue
		}
		if !c.Map(pn) {
			continue
		}
		c.Keys(pn, "properties", "settings", "description")
		props := pn.Get("properties")
		if props == nil {
			c.Errf(pn, "plugin %q has no properties", pn.Key)
			continue
		}
		sets := []*cfgtree.Node{props}
		if props.Kind == cfgtree.List {
			sets = props.Items
		}
		for i, prop := range sets {
			if !c.Map(prop) {
				continue
			}
			name := pn.Key
			if len(sets) > 1 {
				name = fmt.Sprintf("%d.%s", i, pn.Key)
			}
			if id := prop.Get("id"); id != nil {
				if v, ok := id.Scalar(); ok && v != "" {
					name = v
				}
			}
			inputs := *prop
			inputs.Key = "inputs"
			step := &cfgtree.Node{Kind: cfgtree.Map, Pos: prop.Pos, Path: prop.Path, Entries: []*cfgtree.Node{
				{Kind: cfgtree.String, Key: "action", Str: pn.Key, Pos: pn.Pos, Path: pn.Path},
				{Kind: cfgtree.String, Key: "name", Str: name, Pos: prop.Pos, Path: prop.Path},
				&inputs,
			}}
			if s := parse(c, step); s != nil {
				out = append(out, s)
			}
		}
	}
	return out
}

// ssmStepControls are the keys that control how a step runs. The agent
// reads them only inside inputs (agent/framework/runpluginutil reads
// onFailure, onSuccess and finallyStep from the plugin's properties,
// which are the step's inputs; the runscript plugin reads timeoutSeconds
// from its input); it never reads maxAttempts in a Command document.
var ssmStepControls = []string{"onFailure", "onSuccess", "finallyStep", "maxAttempts", "timeoutSeconds"}

// ssmCommonInputs are inputs every SSM plugin is given and driftless has
// no use for: id names a schema 1.2 property set (the step's name).
var ssmCommonInputs = []string{"id"}

func parseSSMStep(c cfgtree.Checker, n *cfgtree.Node, schema, docName string) *Step {
	// SSM command documents run every step unless onFailure says exit.
	s := &Step{Pos: n.Pos, OnFailure: OnFailureContinue, Timeout: DefaultStepTimeout, SSMTimeout: true, MaxAttempts: 1, Inputs: map[string]*Input{}}
	c.IgnoredKeys(n, "key", "as the SSM agent ignores it", append([]string{"action", "name", "description", "precondition", "inputs", "settings"}, ssmStepControls...)...)
	if schema == "2.2" && ssmWindowsOnlyStep(c, n, s) {
		return s
	}
	if !ssmActions.parseHead(c, n, s) {
		return nil
	}
	if schema != "2.2" {
		if v := n.Get("precondition"); v != nil {
			c.Errf(v, "precondition needs schemaVersion 2.2: the SSM agent fails a step of a schema %s document that has one", schema)
		}
	}
	native, action := s.Action, s.SourceAction
	if v := n.Get("description"); v != nil {
		s.Description, _ = c.Str(v)
	}
	if v := n.Get("precondition"); v != nil && c.Map(v) {
		c.Keys(v, "StringEquals")
		if eq := v.Get("StringEquals"); eq != nil {
			vals := parseEquals(c, eq)
			if vals[0] != nil {
				if other := ssmPlatformOperand(vals); other >= 0 {
					if p, ok := ssmPlatform(c, eq.Items[other]); ok {
						s.Precondition = &Precondition{Platform: p}
					}
				} else {
					s.Precondition = &Precondition{Equals: vals}
				}
			}
		}
	}
	inputs := n.Get("inputs")
	if inputs == nil {
		c.Errf(n, "step %q has no inputs", s.Name)
		return nil
	}
	if !c.Map(inputs) {
		return nil
	}
	ssmStepLevelControls(c, n)
	tr := ssmInputs[action]
	inputs = ssmCanonicalInputs(inputs, append(tr.keys(), "timeoutSeconds"))
	ssmControls(c, inputs, s)
	// Each plugin of the agent reads its inputs into a struct, and
	// skips the ones it does not know.
	c.IgnoredKeys(inputs, "input", "as the SSM agent ignores it", append(append(tr.keys(), ssmStepControls...), ssmCommonInputs...)...)
	tr.convert(c, inputs, s)
	if action == "aws:downloadContent" {
		ssmDownloadDestination(inputs, s, docName)
	}
	for _, in := range actionSpecs[native].inputs {
		if in.required && s.Inputs[in.name] == nil {
			e := c.Errf(inputs, "%s step %q needs %s", action, s.Name, tr.ssmName(in.name))
			e.Msg += ssmMissingWhy[action+"."+tr.ssmName(in.name)]
		}
	}
	return s
}

// ssmMissingWhy tells what the SSM agent does without a required input.
var ssmMissingWhy = map[string]string{
	// agent/plugins/rundocument: the path is then the run's downloads
	// directory (LocalPath), or AWS is asked for a document with no name
	// (SSMDocument); either way the step fails.
	"aws:runDocument.documentPath": ": without it the SSM agent fails the step (with documentType LocalPath it reads the downloads directory of the run as the document, with SSMDocument it asks AWS for a document with no name); name a document of the config dir (or a built-in) in documentPath",
}

// SSMDownloadRoot is where an aws:downloadContent step puts its file when
// destinationPath is not absolute, as the SSM agent puts it under the
// "downloads" directory of the command's orchestration directory
// (agent/plugins/downloadcontent; /var/lib/amazon/ssm/INSTANCE/document/
// orchestration/COMMAND/downloads/): SSMDownloadRoot/DOCUMENT/downloads/,
// in the login user's home (the agent's directory is root's).
const SSMDownloadRoot = "~/.driftless/ssm"

// ssmDownloadDestination applies the agent's destinationPath rules: none
// is a file of the downloads directory (the agent names it "download"
// and a random number; driftless, for a stable state, "download-" and
// the step's name), a relative one is under that directory.
func ssmDownloadDestination(in *cfgtree.Node, s *Step, docName string) {
	dir := path.Join(SSMDownloadRoot, strings.ReplaceAll(docName, "/", "_"), "downloads")
	d := s.Inputs["destination"]
	switch {
	case d == nil && in.Get("destinationPath") == nil:
		s.Inputs["destination"] = &Input{Name: "destination", Pos: in.Pos, Path: in.Path + ".destinationPath", kind: inStr,
			Str: Literal(path.Join(dir, "download-"+strings.ReplaceAll(s.Name, "/", "_")))}
	case d != nil && d.Str != nil && !d.Str.HasRefs() && d.Str.Raw != "" && !path.IsAbs(d.Str.Raw) && !winAbsRe.MatchString(d.Str.Raw):
		d.Str = Literal(path.Join(dir, d.Str.Raw))
	}
}

// winAbsRe matches a Windows absolute path (C:\x, C:/x, \\server\x),
// which the agent on Windows takes as it is.
var winAbsRe = regexp.MustCompile(`^([A-Za-z]:[\\/]|\\\\)`)

func ssmControls(c cfgtree.Checker, n *cfgtree.Node, s *Step) {
	if v := n.Get("onFailure"); v != nil {
		// As the agent (runpluginutil getStringPropByName): a string
		// or a boolean; only "exit" and "successAndExit" do anything,
		// any other value ("Abort", "continue") lets the document go on.
		switch v.Kind {
		case cfgtree.String, cfgtree.Bool:
			switch x, _ := v.Scalar(); x {
			case "exit":
				s.OnFailure = OnFailureStop
			case "successAndExit":
				s.OnFailure = OnFailureSuccessAndExit
			default:
				s.OnFailure = OnFailureContinue
			}
		default:
			c.Errf(v, "expected a string (exit or successAndExit), got %s", v.Describe())
		}
	}
	if v := n.Get("onSuccess"); v != nil {
		if _, ok := c.OneOf(v, "exit"); ok {
			s.OnSuccessEnd = true
		}
	}
	if v := n.Get("finallyStep"); v != nil {
		s.Finally, _ = c.Bool(v)
	}
	if v := n.Get("maxAttempts"); v != nil {
		if x, _ := v.Scalar(); strings.TrimSpace(x) != "1" {
			c.Warnf(v, "%s", ssmMaxAttemptsIgnored)
		}
	}
	if v := n.Get("timeoutSeconds"); v != nil {
		// As the agent: a number or a string holding one (or a
		// reference, rendered per association and host), read leniently.
		switch v.Kind {
		case cfgtree.Int, cfgtree.Float, cfgtree.String:
			text, _ := v.Scalar()
			t, err := ParseTemplate(text)
			switch {
			case err != nil:
				c.Errf(v, "%v", err)
			case t.HasRefs():
				s.TimeoutExpr = t
			default:
				s.Timeout = ssmTimeout(strings.TrimSpace(text))
			}
		default:
			s.Timeout = ssmDefaultTimeout * time.Second
		}
	}
}

// ssmTranslation maps one SSM action's inputs to driftless's.
type ssmTranslation struct {
	names map[string]string // SSM input -> native input, for plain renames
	extra []string          // other SSM inputs handled by custom
	// custom converts the inputs that are not plain renames.
	custom func(c cfgtree.Checker, in *cfgtree.Node, s *Step)
}

func (t *ssmTranslation) keys() []string {
	out := append([]string{}, t.extra...)
	for k := range t.names {
		out = append(out, k)
	}
	return out
}

func (t *ssmTranslation) ssmName(native string) string {
	for k, v := range t.names {
		if v == native {
			return k
		}
	}
	return native
}

func (t *ssmTranslation) convert(c cfgtree.Checker, in *cfgtree.Node, s *Step) {
	spec := actionSpecs[s.Action]
	for ssm, native := range t.names {
		v := in.Get(ssm)
		if v == nil {
			continue
		}
		for _, is := range spec.inputs {
			if is.name == native {
				if x := parseInput(c, v, is); x != nil {
					s.Inputs[native] = x
				}
			}
		}
	}
	if t.custom != nil {
		t.custom(c, in, s)
	}
}

var ssmInputs = map[string]*ssmTranslation{
	"aws:runShellScript":      {names: map[string]string{"runCommand": "run", "workingDirectory": "working_directory"}},
	"aws:runPowerShellScript": {names: map[string]string{"runCommand": "run", "workingDirectory": "working_directory"}},
	"aws:configurePackage": {extra: []string{"name", "action", "installationType", "version", "additionalArguments"},
		custom: func(c cfgtree.Checker, in *cfgtree.Node, s *Step) {
			if v := in.Get("name"); v != nil {
				if name, _ := v.Scalar(); distributorRe.MatchString(name) {
					s.Inputs["names"] = &Input{Name: "names", Pos: v.Pos, Path: v.Path, Str: Literal(name), kind: inList} // reported below, not as missing
					c.Errf(v, "%s", distributorRefusal(fmt.Sprintf("%q is one", name)))
				} else if x := parseInput(c, v, inputSpec{name: "names", kind: inList}); x != nil {
					s.Inputs["names"] = x
				}
			}
			if v := in.Get("installationType"); v != nil {
				if t, _ := v.Scalar(); t != "" && t != "Uninstall and reinstall" && !strings.Contains(t, "{{") {
					c.Errf(v, "aws:configurePackage installationType %q updates an AWS Distributor package in place, which needs AWS: use the package action with state = \"latest\" instead", t)
				}
			}
			if v := in.Get("action"); v != nil {
				if t, err := ParseTemplate(v.Str); v.Kind == cfgtree.String && err == nil && t.HasRefs() {
					// "{{ action }}": checked once rendered, per
					// association and host, as the agent does.
					s.Inputs["state"] = &Input{Name: "action", Pos: v.Pos, Path: v.Path, Str: t, kind: inEnum, enum: []string{"Install", "Uninstall"}, rename: map[string]string{"Install": "present", "Uninstall": "absent"}}
				} else if a, ok := c.OneOf(v, "Install", "Uninstall"); ok {
					state := map[string]string{"Install": "present", "Uninstall": "absent"}[a]
					s.Inputs["state"] = &Input{Name: "state", Pos: v.Pos, Path: v.Path, Str: Literal(state), kind: inEnum, enum: []string{"present", "latest", "absent"}}
				}
			} else {
				c.Errf(in, "aws:configurePackage needs action: Install or Uninstall")
			}
			ssmDistributorInputs(c, in)
		}},
	"aws:downloadContent": {names: map[string]string{"destinationPath": "destination"}, extra: []string{"sourceType", "sourceInfo"},
		custom: func(c cfgtree.Checker, in *cfgtree.Node, s *Step) {
			st := in.Get("sourceType")
			if st == nil {
				c.Errf(in, "aws:downloadContent needs sourceType")
				return
			}
			typ, ok := c.Str(st)
			if !ok {
				return
			}
			si := in.Get("sourceInfo")
			if ssmDeferredSource(c, st, si, s) {
				return
			}
			if why := ssmSourceTypeRefusal(typ); why != "" {
				c.Errf(st, "%s", why)
				return
			}
			if si == nil {
				c.Errf(in, "aws:downloadContent needs sourceInfo with a url")
				return
			}
			info, ok := jsonObject(c, si, "sourceInfo", false)
			if !ok || !c.Map(info) {
				return
			}
			c.Keys(info, "url", "sha256")
			if u := info.Get("url"); u != nil {
				if x := parseInput(c, u, inputSpec{name: "url", kind: inURL}); x != nil {
					s.Inputs["url"] = x
				}
			} else {
				c.Errf(si, "sourceInfo needs a url")
			}
			if h := info.Get("sha256"); h != nil {
				if x := parseInput(c, h, inputSpec{name: "sha256", kind: inSHA256}); x != nil {
					s.Inputs["sha256"] = x
				}
			}
		}},
	"aws:runDocument": {names: map[string]string{"documentPath": "document"}, extra: []string{"documentType", "documentParameters"},
		custom: func(c cfgtree.Checker, in *cfgtree.Node, s *Step) {
			if t := in.Get("documentType"); t != nil {
				if typ, ok := c.Str(t); ok && typ == "LocalPath" {
					c.Errf(t, "aws:runDocument documentType \"LocalPath\" is not supported: it runs a document file that is on the host (downloaded there by an earlier step), and driftless reads every document on the control machine before it contacts a host: put the document in documents/ and write documentType SSMDocument with its name instead")
				} else if ok && typ != "SSMDocument" {
					c.Errf(t, "aws:runDocument documentType %q is not supported: use SSMDocument with the name of a document in documents/", typ)
				}
			}
			if p := in.Get("documentParameters"); p != nil {
				var probe map[string]any
				if p.Kind == cfgtree.String && strings.Contains(p.Str, "{{") && json.Unmarshal([]byte(p.Str), &probe) != nil {
					// A template: SSM substitutes first, then reads
					// the JSON; so does driftless (Input.Entries).
					x := parseInput(c, p, inputSpec{name: "parameters", kind: inStr})
					if x != nil {
						x.kind, x.jsonParams = inParams, true
						s.Inputs["parameters"] = x
					}
					return
				}
				node, ok := jsonObject(c, p, "documentParameters", true)
				if !ok {
					return
				}
				if x := parseInput(c, node, inputSpec{name: "parameters", kind: inParams}); x != nil {
					s.Inputs["parameters"] = x
				}
			}
		}},
}

// distributorRe matches the names of AWS Distributor packages, which
// aws:configurePackage installs from AWS (AmazonCloudWatchAgent,
// AWSPVDriver, AwsEnaNetworkDriver, AWSNVMe, ...).
var distributorRe = regexp.MustCompile(`^(AWS|Aws|Amazon|aws)[A-Za-z0-9]`)

// jsonObject is n, an SSM input that may be given as a string holding a
// JSON object, as a map node at n's place when it is such a string (other
// nodes are returned as they are). Its values are strings; with lists, a
// JSON list is a list of strings. When the string is not valid JSON it
// reports that, naming the input, and ok is false.
func jsonObject(c cfgtree.Checker, n *cfgtree.Node, name string, lists bool) (obj *cfgtree.Node, ok bool) {
	if n.Kind != cfgtree.String {
		return n, true
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(n.Str), &m); err != nil {
		c.Errf(n, "%s is not valid JSON: %v", name, err)
		return nil, false
	}
	obj = &cfgtree.Node{Kind: cfgtree.Map, Pos: n.Pos, Path: n.Path}
	for k, v := range m {
		e := &cfgtree.Node{Kind: cfgtree.String, Key: k, Pos: n.Pos, Path: n.Path + "." + k, Str: fmt.Sprint(v)}
		if list, isList := v.([]any); lists && isList {
			e.Kind, e.Str = cfgtree.List, ""
			for i, it := range list {
				e.Items = append(e.Items, &cfgtree.Node{Kind: cfgtree.String, Str: fmt.Sprint(it), Pos: n.Pos, Path: e.Path + "[" + strconv.Itoa(i) + "]"})
			}
		}
		obj.Entries = append(obj.Entries, e)
	}
	return obj, true
}
