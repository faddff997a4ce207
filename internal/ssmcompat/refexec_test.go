package ssmcompat

// The reference executor: how the SSM agent (github.com/aws/amazon-ssm-agent)
// runs a Command document on Linux, written from its source for the
// constructs the corpus uses. Our own code; what it follows:
//
//   - agent/framework/docparser, agent/contracts: schema 1.2 runs the
//     plugins of runtimeConfig (each "properties" item is one step, named by
//     its id), 2.0 and 2.2 run mainSteps in order.
//   - agent/framework/docparser/parameters (ReplaceParameters,
//     ReplaceParameter): "{{ name }}" takes the parameter's value (the one
//     given, else its default); a string that is exactly "{{ list }}"
//     becomes the StringList itself, inside a longer string a value that is
//     not a string is written as JSON (["a","b"]) and "$$" becomes "$".
//   - agent/plugins/pluginutil (ParseRunCommand): runCommand is its
//     strings, in order, through nested lists.
//   - agent/framework/runpluginutil (RunPlugins, getStepExecutionOperation,
//     evaluatePreconditions, getShouldPluginSkipBasedOnControlFlow):
//     preconditions count only for schema 2.2 (before it a precondition
//     fails the step); a StringEquals platformType that is not this
//     platform skips the step, so does a StringEquals on parameters whose
//     values differ, and an unrecognized precondition fails it (see
//     evalPreconditions); a failed step does NOT stop the document;
//     exit 168 stops it with the step Success, 169 stops it with the step
//     Failed; onFailure exit / successAndExit stop it after a failed step
//     (successAndExit turns the step Success with code 168); onSuccess exit
//     stops it after a successful step; a finallyStep, if last, runs
//     anyway; exit 194 marks the step SuccessAndReboot and ends this pass.
//   - agent/plugins/runscript, agent/plugins/pluginutil: runCommand lines
//     joined with "\n" (plus a final "\n") into _script.sh, mode 0755, run
//     as `sh -c PATH` (so #! picks the interpreter, else sh); an absolute
//     workingDirectory is used as is, otherwise the orchestration directory;
//     timeoutSeconds outside [5, 172800] is 3600; exit 0 Success, 194
//     SuccessAndReboot, a timeout TimedOut, anything else Failed.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// refStep is one step of a document as the agent would run it.
type refStep struct {
	Name, Plugin string
	Lines        []string
	WorkingDir   string
	Timeout      int
	OnFailure    string
	OnSuccess    string
	Finally      bool
	// Precondition is the step's precondition: operator → arguments,
	// each as written (Init) and with parameters replaced (Res).
	Precondition map[string][]precondArg
}

// refResult is what the agent reports for one step.
type refResult struct {
	Name   string
	Status string // Success, Failed, Skipped, TimedOut, SuccessAndReboot
	Code   int
	Stdout string
}

// shellRunner runs one script on a host and says how it ended.
type shellRunner interface {
	runScript(script, workDir string, timeoutSec int) (stdout string, code int, timedOut bool, err error)
	hasCommand(name string) bool
}

var paramRe = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_.:/-]+)\s*\}\}`)

// refParse reads a document into steps, parameters substituted with the
// values given (given) or else their defaults, then Parameter Store
// references resolved from store.
func refParse(src []byte, given map[string]any, store map[string]string) (schema string, steps []refStep, err error) {
	var doc map[string]any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		if jerr := json.Unmarshal(src, &doc); jerr != nil {
			return "", nil, err
		}
	}
	schema = fmt.Sprint(doc["schemaVersion"])
	params := map[string]any{}
	if ps, ok := doc["parameters"].(map[string]any); ok {
		for k, v := range ps {
			if m, ok := v.(map[string]any); ok {
				if d, ok := m["default"]; ok {
					params[k] = d
				}
			}
		}
	}
	for k, v := range given {
		params[k] = v
	}
	subst := func(v any) any { return substitute(v, params) }
	if rc, ok := doc["runtimeConfig"].(map[string]any); ok {
		for plugin, body := range rc {
			m, _ := body.(map[string]any)
			var props []any
			switch p := m["properties"].(type) {
			case []any:
				props = p
			case map[string]any:
				props = []any{p}
			}
			for i, p := range props {
				pm, _ := resolveSSM(subst(p), store).(map[string]any)
				id, _ := pm["id"].(string)
				if id == "" {
					id = fmt.Sprintf("%d.%s", i, plugin)
				}
				steps = append(steps, inputsStep(id, plugin, pm))
			}
		}
	}
	ms, _ := doc["mainSteps"].([]any)
	for _, s := range ms {
		sm, _ := s.(map[string]any)
		name, _ := sm["name"].(string)
		action, _ := sm["action"].(string)
		in, _ := resolveSSM(subst(sm["inputs"]), store).(map[string]any)
		st := inputsStep(name, action, in)
		if pre, ok := sm["precondition"].(map[string]any); ok {
			st.Precondition = map[string][]precondArg{}
			for op, args := range pre {
				list, _ := args.([]any)
				var as []precondArg
				for _, a := range list {
					init := fmt.Sprint(a)
					as = append(as, precondArg{Init: init, Res: fmt.Sprint(subst(init))})
				}
				st.Precondition[op] = as
			}
		}
		steps = append(steps, st)
	}
	return schema, steps, nil
}

func inputsStep(name, plugin string, in map[string]any) refStep {
	st := refStep{Name: name, Plugin: plugin, Timeout: 3600}
	st.Lines = runCommandLines(in["runCommand"], nil)
	st.WorkingDir, _ = in["workingDirectory"].(string)
	if v, ok := in["timeoutSeconds"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(fmt.Sprint(v)))
		if err == nil && n >= 5 && n <= 172800 {
			st.Timeout = n
		}
	}
	st.OnFailure, _ = in["onFailure"].(string)
	st.OnSuccess, _ = in["onSuccess"].(string)
	st.Finally = fmt.Sprint(in["finallyStep"]) == "true"
	return st
}

// ssmRefRe is a Parameter Store reference as the agent's
// docparser/parameterstore finds one (getValidSSMParamRegexCompiler): a
// name of letters, digits, "_", "/", ".", ":" and "-", so that a name with
// a space is no reference at all and stays as written.
var ssmRefRe = regexp.MustCompile(`\{\{ *ssm:([/\w.:-]+) *\}\}`)

// resolveSSM replaces Parameter Store references in v's strings, after
// the document's parameters, as the agent's parameterstore.Resolve does on
// each step's inputs, every parameter being of type String (a StringList
// parameter, split on commas by the agent, has no stand-in). A name store
// does not have stays as written.
func resolveSSM(v any, store map[string]string) any {
	return mapStrings(v, func(x string) any {
		return ssmRefRe.ReplaceAllStringFunc(x, func(ref string) string {
			if val, ok := store[ssmRefRe.FindStringSubmatch(ref)[1]]; ok {
				return val
			}
			return ref
		})
	})
}

// runCommandLines flattens runCommand as the agent's
// pluginutil.ParseRunCommand does: strings, in order, through nested
// lists; anything else is dropped.
func runCommandLines(v any, out []string) []string {
	switch x := v.(type) {
	case string:
		out = append(out, x)
	case []any:
		for _, e := range x {
			out = runCommandLines(e, out)
		}
	}
	return out
}

// substitute replaces parameters as the agent's
// docparser/parameters.ReplaceParameters does: a string that is exactly
// "{{ name }}" becomes the value itself (a StringList stays a list);
// inside a longer string a value that is not a string is written as JSON
// (a StringList as ["a","b"]), and "$$" in a value becomes "$".
func substitute(v any, params map[string]any) any {
	return mapStrings(v, func(x string) any {
		if m := paramRe.FindStringSubmatch(x); m != nil && m[0] == x {
			if p, ok := params[m[1]]; ok {
				return p
			}
		}
		return paramRe.ReplaceAllStringFunc(x, func(s string) string {
			p, ok := params[paramRe.FindStringSubmatch(s)[1]]
			if !ok {
				return s
			}
			str, isStr := p.(string)
			if !isStr {
				b, err := json.Marshal(p)
				if err != nil {
					return ""
				}
				str = string(b)
			}
			return strings.ReplaceAll(str, "$$", "$")
		})
	})
}

// mapStrings is v with f applied to each string in it, through lists and
// maps.
func mapStrings(v any, f func(string) any) any {
	switch x := v.(type) {
	case string:
		return f(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = mapStrings(e, f)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = mapStrings(e, f)
		}
		return out
	}
	return v
}

// refRun runs steps as the agent's RunPlugins does on Linux.
func refRun(schema string, steps []refStep, r shellRunner) ([]refResult, error) {
	pre22 := schema != "2.2"
	var res []refResult
	stop := false
	for i, st := range steps {
		out := refResult{Name: st.Name}
		finallyLast := st.Finally && i == len(steps)-1
		known := st.Plugin == "aws:runShellScript" || st.Plugin == "aws:runPowerShellScript"
		switch {
		case stop && !finallyLast:
			out.Status = "Skipped"
		case !known:
			return nil, fmt.Errorf("step %s: plugin %s is outside the reference executor", st.Name, st.Plugin)
		case pre22 && len(st.Precondition) > 0:
			out.Status = "Failed"
		case len(st.Precondition) > 0 && !preconditionsAllow(st.Precondition):
			out.Status = "Skipped"
		case len(st.Precondition) > 0 && preconditionsUnrecognized(st.Precondition):
			out.Status = "Failed"
		default:
			var err error
			out, err = refExec(st, r)
			if err != nil {
				return nil, err
			}
		}
		res = append(res, out)
		if out.Status == "SuccessAndReboot" {
			break
		}
		if out.Code == 168 || out.Code == 169 ||
			(out.Status == "Failed" && st.OnFailure == "exit") ||
			(out.Status == "Success" && st.OnSuccess == "exit") {
			stop = true
		}
	}
	return res, nil
}

// precondArg is one argument of a precondition operator.
type precondArg struct{ Init, Res string }

// evalPreconditions follows the agent's runpluginutil.evaluatePreconditions
// on Linux: only StringEquals with exactly two arguments is known; with
// platformType on one side the other must name this platform (written
// without parameters), else the step is skipped; otherwise at least one
// side must contain a document parameter, and unequal values skip the
// step. Anything else is unrecognized, which fails the step (unless the
// step is skipped anyway).
func evalPreconditions(pre map[string][]precondArg) (allowed bool, unrecognized int) {
	allowed = true
	for op, v := range pre {
		switch {
		case op != "StringEquals" || len(v) != 2:
			unrecognized++
		case v[0].Init == v[1].Init:
			unrecognized++
		case strings.Contains(v[0].Init, "{{ssm") || strings.Contains(v[1].Init, "{{ssm") ||
			strings.Contains(v[0].Init, "{{ ssm") || strings.Contains(v[1].Init, "{{ ssm"):
			unrecognized++
		case v[0].Init == "platformType" || v[1].Init == "platformType":
			other := v[1]
			if v[1].Init == "platformType" {
				other = v[0]
			}
			switch {
			case !strings.EqualFold(other.Init, other.Res):
				unrecognized++
			case strings.ToLower(other.Init) != "linux":
				allowed = false
				unrecognized++
			}
		case v[0].Init == v[0].Res && v[1].Init == v[1].Res:
			unrecognized++
		case v[0].Res != v[1].Res:
			allowed = false
			unrecognized++
		}
	}
	return allowed, unrecognized
}

func preconditionsAllow(pre map[string][]precondArg) bool {
	ok, _ := evalPreconditions(pre)
	return ok
}

func preconditionsUnrecognized(pre map[string][]precondArg) bool {
	_, n := evalPreconditions(pre)
	return n > 0
}

func refExec(st refStep, r shellRunner) (refResult, error) {
	out := refResult{Name: st.Name}
	script := strings.Join(st.Lines, "\n") + "\n"
	if st.Plugin == "aws:runPowerShellScript" {
		if !r.hasCommand("pwsh") {
			out.Status, out.Code = "Failed", 1
			return out, nil
		}
		script = "#!/usr/bin/env pwsh\n" + script
	}
	stdout, code, timedOut, err := r.runScript(script, st.WorkingDir, st.Timeout)
	if err != nil {
		return out, err
	}
	out.Stdout, out.Code = stdout, code
	switch {
	case timedOut:
		out.Status = "TimedOut"
	case code == 0:
		out.Status = "Success"
	case code == 194:
		out.Status = "SuccessAndReboot"
	default:
		out.Status = "Failed"
	}
	if code == 168 {
		out.Status = "Success"
	}
	if out.Status == "Failed" && code != 169 && st.OnFailure == "successAndExit" {
		out.Status, out.Code = "Success", 168
	}
	return out, nil
}
