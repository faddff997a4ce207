package documents

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/driftless-dev/driftless/internal/cfgtree"
)

// SSMEnvPrefix starts the name of the environment variable that carries
// the value of a parameter declared with interpolationType ENV_VAR.
const SSMEnvPrefix = "SSM_"

// ssmInterpolation reads interpolationType of the parameters of an SSM
// document. "ENV_VAR" (SSM agent 3.3.2746.0 and later, schema 2.2) makes
// the agent give every script of the document the parameter's value in
// the environment variable SSM_<name>; its {{ name }} references are
// substituted as for any parameter, and its allowedPattern, allowedValues
// and other checks apply the same. Other schemas have no such property:
// there it is ignored, as older agents ignore it.
func ssmInterpolation(c cfgtree.Checker, params *cfgtree.Node, d *Document, schema string) {
	if params == nil || params.Kind != cfgtree.Map {
		return
	}
	for _, pn := range params.Entries {
		it := pn.Get("interpolationType")
		p := d.Param(pn.Key)
		if it == nil || p == nil {
			continue
		}
		v, ok := c.Str(it)
		switch {
		case !ok:
		case v != "ENV_VAR":
			c.Errf(it, "interpolationType %q is not one SSM knows: the only value is \"ENV_VAR\" (the value in the environment variable %s%s too)", v, SSMEnvPrefix, pn.Key)
		case schema != "2.2":
			c.Warnf(it, "interpolationType is ignored: the SSM agent sets %s%s only for a schema 2.2 document", SSMEnvPrefix, pn.Key)
		default:
			p.EnvVar = true
		}
	}
}

// ssmStepLevelControls warns of the controls written on a step rather
// than in its inputs: the agent reads them only in the inputs, so there
// they do nothing.
func ssmStepLevelControls(c cfgtree.Checker, n *cfgtree.Node) {
	for _, k := range ssmStepControls {
		v := n.Get(k)
		switch {
		case v == nil:
		case k == "maxAttempts":
			c.Warnf(v, "%s", ssmMaxAttemptsIgnored)
		default:
			c.Warnf(v, "%s is ignored here: the SSM agent reads it only inside the step's inputs (write it under inputs)", k)
		}
	}
}

// ssmMaxAttemptsIgnored says why maxAttempts does nothing in an SSM
// Command document.
const ssmMaxAttemptsIgnored = "maxAttempts is ignored: the SSM agent runs a Command document's step once (it never reads maxAttempts, on the step or in its inputs; a step that exits 194 is run again after the reboot, whatever maxAttempts says)"

// ssmCanonicalInputs is in with the keys that match one of known only
// when case is ignored renamed to it: a plugin reads its inputs by
// unmarshalling them as JSON into a struct, and Go's encoding/json
// matches field names case-insensitively (AWS-ApplyAnsiblePlaybooks
// writes "SourceType"). A key written exactly wins over such a match.
// The controls read by name (onFailure, onSuccess, finallyStep) are
// matched exactly, as the agent matches them.
func ssmCanonicalInputs(in *cfgtree.Node, known []string) *cfgtree.Node {
	var out *cfgtree.Node
	for i, e := range in.Entries {
		canon := ""
		for _, k := range known {
			if k != e.Key && strings.EqualFold(k, e.Key) && in.Get(k) == nil {
				canon = k
			}
		}
		if canon == "" {
			continue
		}
		if out == nil {
			cp := *in
			cp.Entries = append([]*cfgtree.Node(nil), in.Entries...)
			out = &cp
		}
		renamed := *e
		renamed.Key = canon
		out.Entries[i] = &renamed
	}
	if out == nil {
		return in
	}
	return out
}

// SSMEnvValue is the text of the SSM_<name> environment variable of an
// ENV_VAR parameter: the value as it is; a StringList as a JSON list, as
// the agent writes a list into a string (SSM documents ENV_VAR for String
// parameters; driftless gives the other types their text the same way).
func SSMEnvValue(v Value) string {
	if v.IsList {
		b, _ := json.Marshal(v.List)
		return string(b)
	}
	return v.Str
}

// ssmWindowsOnly are the plugins that the SSM agent has only on Windows
// and that need no AWS service: in a schema 2.2 document the agent on
// Linux and macOS skips such a step ("Step execution skipped due to
// unsupported plugin", agent/framework/runpluginutil
// getStepExecutionOperation: no handler for it there), whatever its
// precondition, and goes on.
var ssmWindowsOnly = []string{"aws:applications", "aws:psModule"}

// ssmWindowsOnlyStep reads step n of a schema 2.2 document when its
// action is one of ssmWindowsOnly, into s: a step that is skipped on
// Linux and macOS as the agent skips it, and that fails on Windows, where
// the agent would run the plugin and driftless does not, saying why. A
// precondition naming another platform than Windows is left to the usual
// refusal. It reports whether it read the step.
func ssmWindowsOnlyStep(c cfgtree.Checker, n *cfgtree.Node, s *Step) bool {
	an := n.Get("action")
	if an == nil || an.Kind != cfgtree.String || !slices.Contains(ssmWindowsOnly, an.Str) {
		return false
	}
	if pre := n.Get("precondition"); pre != nil {
		eq := pre.Get("StringEquals")
		if eq == nil || eq.Kind != cfgtree.List || len(eq.Items) != 2 || eq.Items[0].Str != "platformType" || eq.Items[1].Str != "Windows" {
			return false
		}
	}
	if nn := n.Get("name"); nn != nil {
		s.Name, _ = c.NonEmpty(nn)
	} else {
		c.Errf(n, "the step has no name")
	}
	action := an.Str
	why := fmt.Sprintf("%s is not supported by driftless: %s %s", action, action, ssmUnsupported[action])
	c.Warnf(an, "%s; the step is skipped on Linux and macOS, as the SSM agent skips it there, and fails on Windows", why)
	s.Action, s.SourceAction = ActionPowerShell, action
	s.Precondition = &Precondition{Platform: "Windows"}
	s.Inputs["run"] = &Input{Name: "run", Pos: an.Pos, Path: an.Path, kind: inList,
		List: []*Template{Literal("Write-Error '" + strings.ReplaceAll(why, "'", "''") + "'"), Literal("exit 1")}}
	return true
}

// ssmPlatformOperand is the index of the platform name in a StringEquals
// precondition that compares platformType with it, in either order as
// the agent reads it (["platformType", "Linux"] or ["Linux",
// "platformType"]); -1 when it does not name platformType.
func ssmPlatformOperand(vals [2]*Template) int {
	switch {
	case vals[0].Raw == "platformType":
		return 1
	case vals[1].Raw == "platformType":
		return 0
	}
	return -1
}

// ssmPlatform reads the platform a precondition names, whatever its case:
// the agent compares it lowercased with the host's ("linux", "macos",
// "windows").
func ssmPlatform(c cfgtree.Checker, n *cfgtree.Node) (string, bool) {
	for _, p := range Platforms {
		if strings.EqualFold(n.Str, p) {
			return p, true
		}
	}
	return c.OneOf(n, Platforms...)
}
