package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/driftless-dev/driftless/documents"
)

// step is one step of a host's plan: a document step with its inputs
// rendered for that host. Nested documents (the document action) are
// flattened into their steps, named "outer/inner".
type step struct {
	idx          int
	name         string
	action       documents.Action // how the runner executes it (download runs as file)
	kind         documents.Action // the document's action, as journaled
	sourceDoc    string
	platform     string // platform precondition, checked on the host
	skip         string // precondition false, decided here
	onFailure    string
	onSuccessEnd bool
	finally      bool
	timeout      time.Duration
	attempts     int
	env          map[string]string // DL_PARAM_* and the step's env
	err          error             // rendering failed: the step fails

	// shell / powershell
	run, check string
	hasCheck   bool
	workdir    string
	// file, directory, line
	path         string
	content      []byte
	contentText  bool // content is text (a diff is kept)
	mode         string
	owner, group string
	absent       bool
	line, lineRe string
	create       bool
	// package
	names   []string
	pkgWant string // present | latest | absent
	manager string // "" = detect
	// service
	service    string
	svcRunning *bool
	svcEnabled *bool
	// patch
	patchInstall  bool
	rebootIfNeed  bool
	rebootTimeout time.Duration
	// download: content holds the verified bytes, as for a file
	download bool
}

// planOptions are what planning needs besides the document.
type planOptions struct {
	dir     string // config dir, for file sources
	docs    func(name string) *documents.Document
	secrets *redactor
	fetch   func(url, source, sha256 string) ([]byte, error)
}

// plan renders doc for one host.
func plan(doc *documents.Document, scope *documents.Scope, po planOptions) []*step {
	var out []*step
	var walk func(d *documents.Document, sc *documents.Scope, prefix string, depth int)
	walk = func(d *documents.Document, sc *documents.Scope, prefix string, depth int) {
		env := paramEnv(d, sc.Params)
		for _, ds := range d.Steps {
			s := &step{
				idx: len(out), name: prefix + ds.Name, action: ds.Action, kind: ds.Action, sourceDoc: d.Name,
				onFailure: ds.OnFailure, onSuccessEnd: ds.OnSuccessEnd, finally: ds.Finally,
				attempts: ds.MaxAttempts, env: env,
			}
			s.timeout, s.err = ds.StepTimeout(sc)
			if p := ds.Precondition; p != nil {
				if p.Platform != "" {
					s.platform = p.Platform
				} else if s.err == nil {
					a, err1 := p.Equals[0].Render(sc)
					b, err2 := p.Equals[1].Render(sc)
					switch {
					case err1 != nil || err2 != nil:
						s.err = fmt.Errorf("precondition: %w", firstErr(err1, err2))
					case (a != b) != p.Negate:
						op := "!="
						if p.Negate {
							op = "=="
						}
						s.skip = fmt.Sprintf("precondition false: %q %s %q", po.secrets.redact(a), op, po.secrets.redact(b))
					}
				}
			}
			if ds.Action == documents.ActionDocument {
				if depth > 10 {
					s.err = fmt.Errorf("documents nested more than 10 deep")
					out = append(out, s)
					continue
				}
				nested, nsc, err := nestedScope(ds, sc, po)
				if err != nil {
					s.err = err
					out = append(out, s)
					continue
				}
				walk(nested, nsc, prefix+ds.Name+"/", depth+1)
				continue
			}
			if s.err == nil && s.skip == "" {
				s.err = render(s, ds, sc, po)
			}
			out = append(out, s)
		}
	}
	walk(doc, scope, "", 0)
	return out
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
// script to use a value. A StringList is one item per line.
func paramEnv(d *documents.Document, params map[string]documents.Value) map[string]string {
	env := make(map[string]string, len(params))
	for _, p := range d.Params {
		if v, ok := params[p.Name]; ok {
			env["DL_PARAM_"+p.Name] = strings.Join(v.Items(), "\n")
		}
	}
	return env
}

func nestedScope(ds *documents.Step, sc *documents.Scope, po planOptions) (*documents.Document, *documents.Scope, error) {
	name, err := ds.Input("document").RenderString(sc)
	if err != nil {
		return nil, nil, err
	}
	nested := po.docs(name)
	if nested == nil {
		return nil, nil, fmt.Errorf("unknown document %q", name)
	}
	params := map[string]documents.Value{}
	if in := ds.Input("parameters"); in != nil {
		for _, m := range in.Map {
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
				po.secrets.add(v.Items()...)
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
func render(s *step, ds *documents.Step, sc *documents.Scope, po planOptions) error {
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
func renderScript(s *step, in *stepInputs) error {
	s.run = in.get("run")
	s.check = in.get("check")
	s.hasCheck = in.ds.Input("check") != nil
	s.workdir = in.get("working_directory")
	if e := in.ds.Input("env"); e != nil && in.err == nil {
		env := make(map[string]string, len(s.env)+len(e.Map))
		for k, v := range s.env {
			env[k] = v
		}
		for _, m := range e.Map {
			var v string
			if v, in.err = m.Value.RenderString(in.sc); in.err != nil {
				break
			}
			env[m.Key] = v
		}
		s.env = env
	}
	return in.err
}

// renderPath resolves the inputs of a file, directory or line step: the
// path and its attributes, a file's content (inline, or read from its
// source relative to the document's directory) and a line's line,
// regexp and create.
func renderPath(s *step, in *stepInputs, po planOptions) error {
	s.path = in.get("path")
	s.mode = in.get("mode")
	s.owner = in.get("owner")
	s.group = in.get("group")
	s.absent = in.get("state") == "absent"
	if in.ds.Action == documents.ActionFile && !s.absent {
		if in.ds.Input("content") != nil {
			s.content, s.contentText = []byte(in.get("content")), true
		} else if src := in.get("source"); in.err == nil {
			if !filepath.IsAbs(src) {
				src = filepath.Join(po.dir, src)
			}
			s.content, in.err = os.ReadFile(src)
			if in.err != nil {
				in.err = fmt.Errorf("source: %w", in.err)
			}
			s.contentText = isText(s.content)
		}
	}
	if in.ds.Action == documents.ActionLine {
		s.line = in.get("line")
		s.lineRe = in.get("regexp")
		if c := in.ds.Input("create"); c != nil && in.err == nil {
			s.create, in.err = c.RenderBool(in.sc)
		}
	}
	if in.err == nil && strings.TrimSpace(s.path) == "" {
		in.err = fmt.Errorf("path is empty")
	}
	return in.err
}

// renderPackage resolves the inputs of a package step: its names (each
// a valid package name), the state wanted and the package manager.
func renderPackage(s *step, in *stepInputs) error {
	if i := in.ds.Input("names"); i != nil {
		s.names, in.err = i.RenderList(in.sc)
	}
	s.pkgWant = in.get("state")
	if s.pkgWant == "" {
		s.pkgWant = "present"
	}
	if m := in.get("manager"); m != "auto" {
		s.manager = m
	}
	for _, n := range s.names {
		if !pkgNameRe.MatchString(n) {
			return fmt.Errorf("names: %q is not a package name", n)
		}
	}
	return in.err
}

// renderService resolves the inputs of a service step: the service (a
// valid service name), and whether it should run and start at boot.
func renderService(s *step, in *stepInputs) error {
	s.service = in.get("service")
	if st := in.get("state"); st != "" {
		b := st == "running"
		s.svcRunning = &b
	}
	if i := in.ds.Input("enabled"); i != nil && in.err == nil {
		var b bool
		b, in.err = i.RenderBool(in.sc)
		s.svcEnabled = &b
	}
	if in.err == nil && !pkgNameRe.MatchString(s.service) {
		return fmt.Errorf("name: %q is not a service name", s.service)
	}
	return in.err
}

// renderPatch resolves the inputs of a patch step: scan or install, and
// whether and for how long to reboot when the OS needs it.
func renderPatch(s *step, in *stepInputs) error {
	s.patchInstall = in.get("operation") == "install"
	s.rebootIfNeed = in.get("reboot") == "if-needed"
	if rt := in.get("reboot_timeout"); rt != "" && in.err == nil {
		if s.rebootTimeout, in.err = time.ParseDuration(rt); in.err != nil || s.rebootTimeout <= 0 {
			in.err = fmt.Errorf("reboot_timeout: expected a duration such as \"10m\", got %q", rt)
		}
	}
	return in.err
}

// renderDownload resolves a download step into a file step whose
// content is the file fetched from its url or source, checked against
// its sha256.
func renderDownload(s *step, in *stepInputs, po planOptions) error {
	s.download, s.action = true, documents.ActionFile
	s.path = in.get("destination")
	s.mode = in.get("mode")
	url, src, want := in.get("url"), in.get("source"), strings.ToLower(in.get("sha256"))
	if in.err == nil {
		s.content, in.err = po.fetch(url, src, want)
	}
	return in.err
}

var pkgNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9@._+:=~-]*$`)

func isText(b []byte) bool {
	return !slices.Contains(b, 0) && len(b) <= maxDiffBytes
}
