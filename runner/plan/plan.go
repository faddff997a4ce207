package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/driftless-dev/driftless/documents"
)

// ErrUnsupportedAction is a step whose action this build of driftless
// cannot execute on hosts.
var ErrUnsupportedAction = errors.New("action not available in this version of driftless")

// Limits the script builders and the evaluation of a step's frames share.
const (
	// MaxDiffBytes is the largest file whose old content is fetched to
	// show a diff.
	MaxDiffBytes = 256 << 10
	// MaxInlineContent is the largest content a check script carries to
	// correct a file at once; a larger file is written by the second
	// script, only when it drifted.
	MaxInlineContent = 64 << 10
)

// Step is one step of a host's plan: a document step with its inputs
// rendered for that host. Nested documents (the document action) are
// flattened into their steps, named "outer/inner".
type Step struct {
	Idx          int
	Name         string
	Action       documents.Action // how the runner executes it (download runs as file)
	Kind         documents.Action // the document's action, as journaled
	SourceDoc    string
	Platform     string // platform precondition, checked on the host
	Skip         string // precondition false, decided here
	OnFailure    string
	OnSuccessEnd bool
	Finally      bool
	Timeout      time.Duration
	Attempts     int
	Env          map[string]string // DL_PARAM_* and the step's env
	Err          error             // rendering failed: the step fails

	// SSM: a step of an SSM Command document (aws:runShellScript, ...),
	// run as the SSM agent runs it (SPEC §7): its script written to a
	// file whose #! line picks the interpreter, exit 168 and 169 stop the
	// document, exit 194 (3010 on Windows) reboots the host and runs the
	// step again.
	SSM bool

	// shell / powershell
	Run, Check string
	HasCheck   bool
	Workdir    string
	// file, directory, line
	Path         string
	Content      []byte
	ContentText  bool // content is text (a diff is kept)
	Mode         string
	Owner, Group string
	Absent       bool
	Line, LineRe string
	Create       bool
	// Follow: the step manages what a symlink at Path points to; without
	// it a symlink there is drift, replaced by the declared object.
	Follow bool
	// Secret: the wanted content holds a secret value, so that it is
	// never diffed (its drift is sizes and hashes only).
	Secret bool
	// package
	Names   []string
	PkgWant string // present | latest | absent
	Manager string // "" = detect
	// service
	Service    string
	SvcRunning *bool
	SvcEnabled *bool
	// patch
	PatchInstall  bool
	RebootIfNeed  bool
	RebootTimeout time.Duration
	// download: Content holds the verified bytes, as for a file
	Download bool
	// Stream is a file's content too large to hold for each host (a
	// source or download larger than MaxDiffBytes): Content is nil, and
	// the file is read again, in chunks, for each host that writes it.
	Stream *Stream

	// Handler: the step runs after the others, once, only when a step of
	// NotifiedBy (by Idx) was Corrected in the run. The handlers are the
	// last steps of a plan.
	Handler    bool
	NotifiedBy []int
}

// Options are what planning needs besides the document.
type Options struct {
	Dir     string // config dir, for file sources
	Docs    func(name string) *documents.Document
	Secrets *Redactor
	// Fetch returns a download's content: in memory, or a file to
	// stream (large content cached on disk).
	Fetch func(url, source, sha256 string) ([]byte, *Stream, error)
}

// Plan renders doc for one host. A step with for_each becomes one step
// per item (NAME[item]); handlers come last, in document order, each
// with the steps that notify it (NotifiedBy).
func Plan(doc *documents.Document, scope *documents.Scope, po Options) []*Step {
	p := &planner{po: po}
	p.doc(doc, scope, "", 0)
	out := append(p.out, p.handlers...)
	for i, s := range out {
		s.Idx = i
	}
	for _, h := range p.handlers {
		for _, n := range p.notifiers[h] {
			h.NotifiedBy = append(h.NotifiedBy, n.Idx)
		}
	}
	return out
}

// planner builds the steps of one host's plan.
type planner struct {
	po       Options
	out      []*Step // the steps, nested documents flattened, handlers left out
	handlers []*Step
	// notifiers are, for each handler, the steps that notify it.
	notifiers map[*Step][]*Step
}

// doc adds the steps of document d, rendered in scope sc, their names
// prefixed with prefix (nested documents).
func (p *planner) doc(d *documents.Document, sc *documents.Scope, prefix string, depth int) {
	env := paramEnv(d, sc.Params)
	made := make(map[string][]*Step, len(d.Steps)) // by document step: the steps it became
	for _, ds := range d.Steps {
		made[ds.Name] = p.expand(d, ds, sc, prefix, env, depth)
	}
	for _, ds := range d.Steps {
		for _, name := range ds.Notify {
			for _, h := range made[name] {
				if h.Handler {
					if p.notifiers == nil {
						p.notifiers = map[*Step][]*Step{}
					}
					p.notifiers[h] = append(p.notifiers[h], made[ds.Name]...)
				}
			}
		}
	}
}

// expand adds the steps document step ds becomes, and returns them: the
// step, or one per item of its for_each; for a document step, the steps
// of the nested document (its handlers left out).
func (p *planner) expand(d *documents.Document, ds *documents.Step, sc *documents.Scope, prefix string, env map[string]string, depth int) []*Step {
	first := len(p.out)
	var made []*Step
	if ds.ForEach == nil {
		made = p.step(d, ds, sc, prefix+ds.Name, env, depth)
	} else {
		items, err := ds.ForEach.Expand(sc)
		switch {
		case err != nil:
			s := newStep(d, ds, prefix+ds.Name, env)
			s.Err = err
			made = p.add(ds, s)
		case len(items) == 0:
			s := newStep(d, ds, prefix+ds.Name, env)
			s.Skip = fmt.Sprintf("for_each: parameter %s is an empty list", ds.ForEach.Param)
			made = p.add(ds, s)
		}
		for _, item := range items {
			made = append(made, p.step(d, ds, withItem(sc, item), prefix+documents.ItemName(ds.Name, item), itemEnv(env, item), depth)...)
		}
	}
	if ds.Action == documents.ActionDocument {
		return p.out[first:]
	}
	return made
}

// withItem is sc with {{ item }} set to item.
func withItem(sc *documents.Scope, item string) *documents.Scope {
	params := make(map[string]documents.Value, len(sc.Params)+1)
	for k, v := range sc.Params {
		params[k] = v
	}
	params[documents.ItemRef] = documents.Str(item)
	isc := *sc
	isc.Params = params
	return &isc
}

// itemEnv is env with DL_ITEM set to item: the safe way for a script to
// use the item.
func itemEnv(env map[string]string, item string) map[string]string {
	out := make(map[string]string, len(env)+1)
	for k, v := range env {
		out[k] = v
	}
	out["DL_ITEM"] = item
	return out
}

// newStep is the step named name that document step ds of d becomes,
// before its inputs are rendered.
func newStep(d *documents.Document, ds *documents.Step, name string, env map[string]string) *Step {
	return &Step{
		Name: name, Action: ds.Action, Kind: ds.Action, SourceDoc: d.Name,
		OnFailure: ds.OnFailure, OnSuccessEnd: ds.OnSuccessEnd, Finally: ds.Finally,
		Attempts: ds.MaxAttempts, Env: env, SSM: strings.HasPrefix(ds.SourceAction, "aws:"),
	}
}

// add adds s, which document step ds became: to the handlers when ds is
// one, else to the steps.
func (p *planner) add(ds *documents.Step, s *Step) []*Step {
	if ds.Handler {
		s.Handler = true
		p.handlers = append(p.handlers, s)
	} else {
		p.out = append(p.out, s)
	}
	return []*Step{s}
}

// step adds document step ds of d rendered in scope sc as the step name; a
// document step adds the steps of its nested document instead (and
// returns none).
func (p *planner) step(d *documents.Document, ds *documents.Step, sc *documents.Scope, name string, env map[string]string, depth int) []*Step {
	s := newStep(d, ds, name, env)
	s.Timeout, s.Err = ds.StepTimeout(sc)
	if pc := ds.Precondition; pc != nil {
		if pc.Platform != "" {
			s.Platform = pc.Platform
		} else if s.Err == nil {
			a, err1 := pc.Equals[0].Render(sc)
			b, err2 := pc.Equals[1].Render(sc)
			switch {
			case err1 != nil || err2 != nil:
				s.Err = fmt.Errorf("precondition: %w", firstErr(err1, err2))
			case (a != b) != pc.Negate:
				op := "!="
				if pc.Negate {
					op = "=="
				}
				s.Skip = fmt.Sprintf("precondition false: %q %s %q", p.po.Secrets.Redact(a), op, p.po.Secrets.Redact(b))
			}
		}
	}
	if ds.Action == documents.ActionDocument {
		if depth > 10 {
			s.Err = fmt.Errorf("documents nested more than 10 deep")
			return p.add(ds, s)
		}
		nested, nsc, err := nestedScope(ds, sc, p.po)
		if err != nil {
			s.Err = err
			return p.add(ds, s)
		}
		p.doc(nested, nsc, name+"/", depth+1)
		return nil
	}
	if s.Err == nil && s.Skip == "" {
		s.Err = render(s, ds, sc, p.po)
	}
	return p.add(ds, s)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// paramEnv is DL_PARAM_<name> for every parameter: the safe way for a
// script to use a value. A StringList is one item per line. An SSM
// parameter with interpolationType ENV_VAR is SSM_<name> too, as the
// SSM agent sets it.
func paramEnv(d *documents.Document, params map[string]documents.Value) map[string]string {
	env := make(map[string]string, len(params))
	for _, p := range d.Params {
		if v, ok := params[p.Name]; ok {
			env["DL_PARAM_"+p.Name] = strings.Join(v.Items(), "\n")
			if p.EnvVar {
				env[documents.SSMEnvPrefix+p.Name] = documents.SSMEnvValue(v)
			}
		}
	}
	return env
}

func nestedScope(ds *documents.Step, sc *documents.Scope, po Options) (*documents.Document, *documents.Scope, error) {
	name, err := ds.Input("document").RenderString(sc)
	if err != nil {
		return nil, nil, err
	}
	nested := po.Docs(name)
	if nested == nil {
		return nil, nil, fmt.Errorf("unknown document %q", name)
	}
	params := map[string]documents.Value{}
	if in := ds.Input("parameters"); in != nil {
		entries, err := in.Entries(sc)
		if err != nil {
			return nil, nil, err
		}
		for _, m := range entries {
			p := nested.Param(m.Key)
			if p == nil {
				return nil, nil, fmt.Errorf("document %q has no parameter %q", name, m.Key)
			}
			var v documents.Value
			if m.Value.IsList() || p.Type == documents.TypeStringList {
				items, err := m.Value.RenderList(sc)
				if err != nil {
					return nil, nil, err
				}
				v = documents.List(items...)
			} else {
				s, err := m.Value.RenderString(sc)
				if err != nil {
					return nil, nil, err
				}
				v = documents.Str(s)
			}
			if err := p.Check(v); err != nil {
				return nil, nil, fmt.Errorf("parameter %s of document %q: %w", p.Name, name, err)
			}
			if p.Secret {
				po.Secrets.Add(v.Items()...)
			}
			params[p.Name] = v
		}
	}
	for _, p := range nested.Params {
		if _, ok := params[p.Name]; ok {
			continue
		}
		if p.Default == nil {
			return nil, nil, fmt.Errorf("document %q needs parameter %q", name, p.Name)
		}
		params[p.Name] = *p.Default
	}
	nsc := *sc
	nsc.Params = params
	return nested, &nsc, nil
}

// render resolves the inputs the runner executes.
func render(s *Step, ds *documents.Step, sc *documents.Scope, po Options) error {
	in := &stepInputs{ds: ds, sc: sc}
	switch ds.Action {
	case documents.ActionShell, documents.ActionPowerShell:
		return renderScript(s, in)
	case documents.ActionFile, documents.ActionDirectory, documents.ActionLine:
		return renderPath(s, in, po)
	case documents.ActionPackage:
		return renderPackage(s, in)
	case documents.ActionService:
		return renderService(s, in)
	case documents.ActionPatch:
		return renderPatch(s, in)
	case documents.ActionDownload:
		return renderDownload(s, in, po)
	default:
		return fmt.Errorf("%w: %s", ErrUnsupportedAction, ds.Action)
	}
}

// stepInputs reads the inputs of a document step, rendered in its
// scope. The first error sticks (err): every read after it is empty.
type stepInputs struct {
	ds  *documents.Step
	sc  *documents.Scope
	err error
}

// get is the input name rendered as a string: "" when the step has no
// such input, or after an error.
func (in *stepInputs) get(name string) string {
	if in.err != nil {
		return ""
	}
	i := in.ds.Input(name)
	if i == nil {
		return ""
	}
	var v string
	v, in.err = i.RenderString(in.sc)
	return v
}

// renderScript resolves the inputs of a shell or powershell step: its
// run and check commands, working directory and environment.
func renderScript(s *Step, in *stepInputs) error {
	s.Run = in.get("run")
	s.Check = in.get("check")
	s.HasCheck = in.ds.Input("check") != nil
	s.Workdir = in.get("working_directory")
	if e := in.ds.Input("env"); e != nil && in.err == nil {
		env := make(map[string]string, len(s.Env)+len(e.Map))
		for k, v := range s.Env {
			env[k] = v
		}
		for _, m := range e.Map {
			var v string
			if v, in.err = m.Value.RenderString(in.sc); in.err != nil {
				break
			}
			env[m.Key] = v
		}
		s.Env = env
	}
	return in.err
}

// renderPath resolves the inputs of a file, directory or line step: the
// path and its attributes, a file's content (inline, or read from its
// source relative to the document's directory) and a line's line,
// regexp and create.
func renderPath(s *Step, in *stepInputs, po Options) error {
	s.Path = in.get("path")
	s.Mode = in.get("mode")
	s.Owner = in.get("owner")
	s.Group = in.get("group")
	s.Absent = in.get("state") == "absent"
	if f := in.ds.Input("follow"); f != nil && in.err == nil {
		s.Follow, in.err = f.RenderBool(in.sc)
	}
	if in.ds.Action == documents.ActionFile && !s.Absent {
		if in.ds.Input("content") != nil {
			s.Content, s.ContentText = []byte(in.get("content")), true
		} else if src := in.get("source"); in.err == nil && in.ds.Template {
			s.Content, in.err = renderSource(po.Dir, src, in.ds.Input("source").Body, in.sc)
			s.ContentText = isText(s.Content)
		} else if in.err == nil {
			s.Content, s.Stream, in.err = readSource(po.Dir, src)
			s.ContentText = s.Stream == nil && isText(s.Content)
		}
	}
	if in.ds.Action == documents.ActionLine {
		s.Line = in.get("line")
		s.LineRe = in.get("regexp")
		if c := in.ds.Input("create"); c != nil && in.err == nil {
			s.Create, in.err = c.RenderBool(in.sc)
		}
	}
	s.Secret = po.Secrets.Contains(string(s.Content)) || po.Secrets.Contains(s.Line)
	if in.err == nil && strings.TrimSpace(s.Path) == "" {
		in.err = fmt.Errorf("path is empty")
	}
	return in.err
}

// renderPackage resolves the inputs of a package step: its names (each
// a valid package name), the state wanted and the package manager.
func renderPackage(s *Step, in *stepInputs) error {
	if i := in.ds.Input("names"); i != nil {
		s.Names, in.err = i.RenderList(in.sc)
	}
	s.PkgWant = in.get("state")
	if s.PkgWant == "" {
		s.PkgWant = "present"
	}
	if m := in.get("manager"); m != "auto" {
		s.Manager = m
	}
	for _, n := range s.Names {
		if !pkgNameRe.MatchString(n) {
			return fmt.Errorf("names: %q is not a package name", n)
		}
	}
	return in.err
}

// renderService resolves the inputs of a service step: the service (a
// valid service name), and whether it should run and start at boot.
func renderService(s *Step, in *stepInputs) error {
	s.Service = in.get("service")
	if st := in.get("state"); st != "" {
		b := st == "running"
		s.SvcRunning = &b
	}
	if i := in.ds.Input("enabled"); i != nil && in.err == nil {
		var b bool
		b, in.err = i.RenderBool(in.sc)
		s.SvcEnabled = &b
	}
	if in.err == nil && !pkgNameRe.MatchString(s.Service) {
		return fmt.Errorf("name: %q is not a service name", s.Service)
	}
	return in.err
}

// renderPatch resolves the inputs of a patch step: scan or install, and
// whether and for how long to reboot when the OS needs it.
func renderPatch(s *Step, in *stepInputs) error {
	s.PatchInstall = in.get("operation") == "install"
	s.RebootIfNeed = in.get("reboot") == "if-needed"
	if rt := in.get("reboot_timeout"); rt != "" && in.err == nil {
		if s.RebootTimeout, in.err = time.ParseDuration(rt); in.err != nil || s.RebootTimeout <= 0 {
			in.err = fmt.Errorf("reboot_timeout: expected a duration such as \"10m\", got %q", rt)
		}
	}
	return in.err
}

// renderDownload resolves a download step into a file step whose
// content is the file fetched from its url or source, checked against
// its sha256.
func renderDownload(s *Step, in *stepInputs, po Options) error {
	s.Download, s.Action = true, documents.ActionFile
	s.Path = in.get("destination")
	s.Mode = in.get("mode")
	url, src, want := in.get("url"), in.get("source"), strings.ToLower(in.get("sha256"))
	if in.err == nil {
		s.Content, s.Stream, in.err = po.Fetch(url, src, want)
	}
	return in.err
}

var pkgNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9@._+:=~-]*$`)

// readSource reads a file step's source, confined to the config dir:
// its content, or, when it is larger than MaxDiffBytes, the Stream that
// reads it for each host.
func readSource(dir, src string) ([]byte, *Stream, error) {
	f, st, err := documents.OpenSource(dir, src)
	if err != nil {
		return nil, nil, fmt.Errorf("source: %w", err)
	}
	defer f.Close()
	if st.Size() > MaxDiffBytes {
		s, err := hashSource(f, st, dir, src)
		if err != nil {
			return nil, nil, fmt.Errorf("source: %w", err)
		}
		return nil, s, nil
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxDiffBytes+1))
	if err == nil && len(b) > MaxDiffBytes {
		// It grew since it was opened: stream it, hashed from the start.
		if _, err = f.Seek(0, io.SeekStart); err == nil {
			if st, err = f.Stat(); err == nil {
				var s *Stream
				if s, err = hashSource(f, st, dir, src); err == nil {
					return nil, s, nil
				}
			}
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("source: %w", err)
	}
	return b, nil, nil
}

// renderSource renders the source src of a file step with template =
// true: body, as read when the document was loaded, or, when its name
// has references (so it was not), read from the config dir dir now.
func renderSource(dir, src string, body *documents.Template, sc *documents.Scope) ([]byte, error) {
	if body == nil {
		text, err := documents.ReadTemplateSource(dir, src)
		if err != nil {
			return nil, err
		}
		if body, err = documents.ParseTemplate(text); err != nil {
			return nil, fmt.Errorf("source %q: %w", src, err)
		}
	}
	out, err := body.Render(sc)
	if err != nil {
		return nil, fmt.Errorf("source %q: %w", src, err)
	}
	return []byte(out), nil
}

func isText(b []byte) bool {
	return !slices.Contains(b, 0) && len(b) <= MaxDiffBytes
}

// Resume carries what a script resumed after a step's timeout
// starts from (runner/host.go): the earlier script was killed on the host.
type Resume struct {
	Unclean bool   // check phase: a step before was not in state
	Stop    string // apply phase: why later steps are skipped ("" none)
	Cleanup string // the killed script's temporary files (their prefix), to remove
	Salvage int    // the step whose run was killed: its output files are sent first (-1: none)
}

// ApplyStep is one step of the apply phase with what to do.
type ApplyStep struct {
	Step     *Step
	Commands string // package, service, patch: what to run
	Recheck  bool   // compliant at check time, but an earlier step changed the host: check again first
	Write    []byte // file and line: the content to write
	Mode     string // mode to set on what is written
	// KeepMode: file, in the check script, without a declared mode: a
	// file that is there (dl_k, dl_m of its own stat) keeps its mode,
	// and its new content is private until it has it.
	KeepMode bool
}

func SHA256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TimeoutSeconds(s *Step) int {
	return int((s.Timeout + 999_999_999) / 1_000_000_000)
}

func NormMode(m string) string {
	m = strings.TrimLeft(m, "0")
	if m == "" {
		return "0"
	}
	return m
}

// Label names the step for a comment in its script: its number (from 1),
// name and action, and its path; control characters become spaces, so
// that it stays on one line.
func (s *Step) Label() string {
	text := "step " + strconv.Itoa(s.Idx+1) + ": " + s.Name + " (" + string(s.Action)
	if s.Path != "" {
		text += " " + s.Path
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, text+")")
}
