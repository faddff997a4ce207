package runner

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/internal/diag"
	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/runner/plan"
	"github.com/driftless-dev/driftless/runner/posix"
	"github.com/driftless-dev/driftless/transport"
)

// DefaultMarker is the report marker of the scripts Script prints. A run
// gives each script a random one (newMarker), which no output can guess;
// a fixed one keeps a printed script readable and stable.
const DefaultMarker = "@@DL-MARKER"

// ScriptOptions say which script Script prints.
type ScriptOptions struct {
	// Name is an association's name (its document runs with its
	// parameters) or, when no association has that name, a document's
	// (its parameters take their defaults; one without a default is an
	// error).
	Name string
	// Host is an inventory host's name. Default: the association's first
	// target; for a document, or an association without targets, a
	// synthetic local host named "localhost".
	Host string
	// Check prints the script of a check (as does an association of
	// mode "check"); else the first script of an apply, which also
	// corrects what it can.
	Check bool
	// Shell is the language of the script; default the host's:
	// PowerShell for a winrm host, else POSIX sh. (An ssh host that turns
	// out to run Windows gets PowerShell; that is known only once
	// connected: say so here.)
	Shell transport.Shell
	// Marker is the report marker; default DefaultMarker.
	Marker string
}

// HostScript is the first script a host gets for a document: the one that
// checks every step (and, in an apply, corrects what it can). It marshals
// to JSON as documents NAME --script --json prints it.
type HostScript struct {
	Document    string          `json:"document"`
	Association string          `json:"association,omitempty"` // "" for a document alone
	Host        string          `json:"host"`
	Shell       transport.Shell `json:"shell"`
	Check       bool            `json:"check"`
	// Script is the script as the host's shell reads it: for POSIX sh,
	// the text the transport sends on stdin (the script wrapped in
	// shellMain); for PowerShell, the text the transport sends in base64
	// lines (psStdin), decoded. Secret parameters and {{ env:NAME }}
	// values read ******, and the marker is Marker: otherwise it is
	// byte for byte what a run sends.
	Script string `json:"script"`
	// Steps are the steps of the plan by index, as the script's reports
	// number them: "name (action)".
	Steps []string `json:"steps"`
	// Notes say what the script does not show: steps left out (their
	// inputs could not be rendered, a precondition is false), steps that
	// do not run in this mode or shell, and in an apply what a second
	// script corrects, which is built from this script's reports.
	Notes []string `json:"notes,omitempty"`
}

// Text is the script to read: a comment naming the steps by number (from
// 1, as in its blocks' comments; its reports number them from 0), the
// script, and the notes as trailing comments.
func (hs *HostScript) Text() string {
	var b strings.Builder
	mode := "apply"
	if hs.Check {
		mode = "check"
	}
	what := fmt.Sprintf("document %q", hs.Document)
	if hs.Association != "" {
		what = fmt.Sprintf("association %q (document %q)", hs.Association, hs.Document)
	}
	fmt.Fprintf(&b, "# driftless: the first script of a%s %s of %s on host %s (%s)\n", article(mode), mode, what, hs.Host, shellName(hs.Shell))
	b.WriteString("# Its steps (its reports number them from 0):\n")
	for i, s := range hs.Steps {
		fmt.Fprintf(&b, "#   %d %s\n", i+1, s)
	}
	b.WriteString(hs.Script)
	if !strings.HasSuffix(hs.Script, "\n") {
		b.WriteString("\n")
	}
	for _, n := range hs.Notes {
		b.WriteString("# " + strings.ReplaceAll(n, "\n", "\n#   ") + "\n")
	}
	return b.String()
}

func article(word string) string {
	if strings.IndexByte("aeiou", word[0]) >= 0 {
		return "n"
	}
	return ""
}

func shellName(s transport.Shell) string {
	if s == transport.ShellPowerShell {
		return "PowerShell"
	}
	return "POSIX sh"
}

// Script returns the first script that running opts.Name would send to a
// host: what hostRun.run sends first, built by the same builders from the
// same plan (parameters, host fields, environment, nested documents).
// A run may send more: a second script in an apply (see HostScript.Notes),
// whose content depends on what the first one reports; a new script after
// a step's timeout. Nothing is contacted, but a download step's content is
// fetched (or read) and verified on this machine, as a run does: the
// script carries it.
func Script(cfg *config.Config, opts ScriptOptions) (*HostScript, error) {
	hs, steps, err := scriptPlan(cfg, opts)
	if err != nil {
		return nil, err
	}
	marker := opts.Marker
	if marker == "" {
		marker = DefaultMarker
	}
	first, _ := builders(hs.Check, hs.Shell)
	handlers := steps[firstHandler(steps):]
	steps = steps[:len(steps)-len(handlers)]
	hs.Script = first(marker, steps, plan.Resume{Salvage: -1})
	if hs.Shell != transport.ShellPowerShell {
		key := ""
		if hs.Association != "" {
			key = guardKey(hs.Association, hs.Host)
		}
		hs.Script = posix.MainFor(key, hs.Script)
	}
	for _, s := range steps {
		hs.Steps = append(hs.Steps, fmt.Sprintf("%s (%s)", s.Name, s.Kind))
	}
	hs.Notes = scriptNotes(steps, hs.Check, hs.Shell)
	for _, h := range handlers {
		hs.Steps = append(hs.Steps, fmt.Sprintf("%s (%s, handler)", h.Name, h.Kind))
		hs.Notes = append(hs.Notes, handlerNote(h, steps, hs.Check))
	}
	return hs, nil
}

// handlerNote says when handler h runs, which no first script shows.
func handlerNote(h *plan.Step, steps []*plan.Step, check bool) string {
	var by []string
	for _, i := range h.NotifiedBy {
		by = append(by, fmt.Sprintf("%q", steps[i].Name))
	}
	note := fmt.Sprintf("step %d %q is a handler, not in this script: ", h.Idx+1, h.Name)
	if check {
		return note + "check mode runs no handler (it is reported \"would run\" when a step that notifies it drifted: " + strings.Join(by, ", ") + ")"
	}
	return note + "a script of its own runs it after the others, only when a step that notifies it was corrected: " + strings.Join(by, ", ")
}

// scriptPlan resolves what Script prints and plans the document for the
// host as runHost does, with every secret parameter's value and every
// {{ env:NAME }} value replaced by ******.
func scriptPlan(cfg *config.Config, opts ScriptOptions) (*HostScript, []*plan.Step, error) {
	hs := &HostScript{Check: opts.Check}
	doc, params, host, err := scriptSubject(cfg, opts, hs)
	if err != nil {
		return nil, nil, err
	}
	hs.Document = doc.Name
	if opts.Host != "" {
		if host, err = scriptHost(cfg, opts.Host); err != nil {
			return nil, nil, err
		}
	}
	if host == nil {
		host = &inventory.Host{Name: "localhost", Address: "localhost", Transport: inventory.Local}
	}
	hs.Host = host.Name
	switch hs.Shell = opts.Shell; hs.Shell {
	case "":
		hs.Shell = transport.ShellPOSIX
		if host.Transport == inventory.WinRM {
			hs.Shell = transport.ShellPowerShell
		}
	case transport.ShellPOSIX, transport.ShellPowerShell:
	default:
		return nil, nil, fmt.Errorf("shell %q: want %q or %q", opts.Shell, transport.ShellPOSIX, transport.ShellPowerShell)
	}
	env := cfg.Env
	if env == nil {
		env = os.LookupEnv
	}
	hidden := func(name string) (string, bool) {
		if _, ok := env(name); !ok {
			return "", false
		}
		return documents.Redacted, true
	}
	scope := &documents.Scope{Params: shownParams(doc, params), HostName: host.Name, HostAddress: host.Address, Tags: host.Tags, Vars: host.Vars, Env: hidden}
	steps := plan.Plan(doc, scope, plan.Options{Dir: cfg.Dir, Docs: cfg.Document, Secrets: &plan.Redactor{}, Fetch: newFetcher(cfg.Dir).fetch})
	return hs, steps, nil
}

// scriptSubject finds what opts names: an association (its document,
// parameters and first host) or a document (with its defaults).
func scriptSubject(cfg *config.Config, opts ScriptOptions, hs *HostScript) (*documents.Document, map[string]documents.Value, *inventory.Host, error) {
	if a := cfg.Association(opts.Name); a != nil {
		hs.Association, hs.Check = a.Name, opts.Check || a.Mode == "check"
		var host *inventory.Host
		if len(a.Hosts) > 0 {
			host = a.Hosts[0]
		}
		return a.Doc, a.Params, host, nil
	}
	if doc := cfg.Document(opts.Name); doc != nil {
		params := map[string]documents.Value{}
		for _, p := range doc.Params {
			if p.Default == nil {
				return nil, nil, nil, fmt.Errorf("document %q needs parameter %q (it has no default): name an association that gives it", doc.Name, p.Name)
			}
			params[p.Name] = *p.Default
		}
		return doc, params, nil, nil
	}
	names := append(cfg.AssociationNames(), cfg.DocumentNames()...)
	msg := fmt.Sprintf("unknown association or document %q", opts.Name)
	if s := diag.Suggest(opts.Name, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return nil, nil, nil, errors.New(msg)
}

// scriptHost finds the inventory host name.
func scriptHost(cfg *config.Config, name string) (*inventory.Host, error) {
	if cfg.Inventory != nil {
		if h := cfg.Inventory.Host(name); h != nil {
			return h, nil
		}
	}
	msg := fmt.Sprintf("unknown host %q", name)
	if cfg.Inventory == nil {
		msg += " (no inventory loaded)"
	} else if s := diag.Suggest(name, cfg.Inventory.HostNames()); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return nil, errors.New(msg)
}

// shownParams is params with the values of secret parameters ******.
func shownParams(doc *documents.Document, params map[string]documents.Value) map[string]documents.Value {
	shown := make(map[string]documents.Value, len(params))
	for k, v := range params {
		shown[k] = v
	}
	for _, p := range doc.Params {
		if v, ok := shown[p.Name]; ok && p.Secret {
			shown[p.Name] = documents.Str(documents.Redacted)
			if v.IsList {
				items := make([]string, len(v.List))
				for i := range items {
					items[i] = documents.Redacted
				}
				shown[p.Name] = documents.List(items...)
			}
		}
	}
	return shown
}

// scriptNotes are HostScript.Notes.
func scriptNotes(steps []*plan.Step, check bool, shell transport.Shell) []string {
	var notes []string
	ps := shell == transport.ShellPowerShell
	in := make([]*plan.Step, 0, len(steps)) // the steps in the script
	for _, s := range steps {
		name := fmt.Sprintf("step %d %q", s.Idx+1, s.Name)
		switch {
		case s.Err != nil:
			notes = append(notes, fmt.Sprintf("%s is not in the script: it fails: %v", name, s.Err))
			continue
		case s.Skip != "":
			notes = append(notes, fmt.Sprintf("%s is not in the script: skipped, %s", name, s.Skip))
			continue
		case s.Action == "shell" && ps:
			notes = append(notes, name+" is a shell step: it does not run on Windows (skipped)")
			continue
		case s.Action == "powershell" && !ps:
			notes = append(notes, name+" is a powershell step: it runs only on Windows (skipped)")
			continue
		case check && isScript(s) && !s.HasCheck:
			notes = append(notes, name+" has no check: check mode does not run it (skipped)")
		}
		in = append(in, s)
	}
	if check || len(in) == 0 {
		return notes
	}
	if ps {
		return append(notes, "apply: this script only checks; a second script, built from what it reports, "+
			"corrects the steps it found drifted and runs the steps without a check, in order")
	}
	if !posix.InlineOK(steps) {
		return append(notes, "apply: this script corrects nothing itself (the document has a finally step, onSuccess: exit "+
			"or onFailure: successAndExit, which the second script orders); it runs the steps without a check while every "+
			"step before is in state. A second script, built from what it reports, corrects the steps it found drifted and "+
			"runs the rest, in order")
	}
	var ends []string
	for _, s := range in {
		why := ""
		switch {
		case s.Action == "line" && !posix.LiteralLine(s):
			why = "a line with a regexp (the runner computes the edit)"
		case s.Action == "line" && s.Absent:
			why = "a line to remove (the runner computes the edit)"
		case s.Action == "patch" && !s.PatchInstall:
			why = "a patch scan (it reports pending updates, installs nothing)"
		case s.Action == "package" || s.Action == "service" || s.Action == "patch":
			why = "a " + string(s.Action) + " (the runner chooses the commands)"
		case s.Action == "file" && (len(s.Content) > plan.MaxInlineContent || s.Stream != nil):
			why = fmt.Sprintf("a file larger than %d KiB (its content is sent only when it drifted)", plan.MaxInlineContent>>10)
		default:
			continue
		}
		when := "when it drifted"
		if posix.CleanTest(s) == "" {
			when = "always: only the runner can tell whether it is in state"
		}
		ends = append(ends, fmt.Sprintf("step %d %q: %s; %s", s.Idx+1, s.Name, why, when))
	}
	if len(ends) == 0 {
		return append(notes, "apply: this script corrects the steps it finds drifted and runs the steps without a check, in order; "+
			"a second script corrects and runs the rest only after a correction or a run that failed (as on_failure says), "+
			"or after a step's timeout")
	}
	return append(notes, "apply: this script corrects the steps it finds drifted and runs the steps without a check, in order, "+
		"as long as every step before is in state or corrected. It stops at the steps below; from there a second script, "+
		"built from what this one reports, corrects the steps found drifted and runs the steps without a check, in order:\n"+
		strings.Join(ends, "\n"))
}
