package documents

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/driftless-dev/driftless/internal/cfgtree"
	"github.com/driftless-dev/driftless/internal/diag"
)

// ItemRef is the reference a step with for_each uses for its item:
// {{ item }}.
const ItemRef = "item"

// MaxTemplateSource is the largest source a file step with template =
// true renders.
const MaxTemplateSource = 1 << 20

// Authoring is what a native step may add to the model SSM documents
// share: a loop, notifications and handlers, and a source rendered as a
// template (docs/documents.md#loops-handlers-and-templates).
type Authoring struct {
	// ForEach repeats the step once per item, named NAME[item], with
	// {{ item }} the item; nil: the step runs once.
	ForEach *ForEach
	// Notify names the handlers (steps of the same document) that run
	// when this step is Corrected.
	Notify []string
	// Handler: the step runs after the other steps, once, and only when
	// a step that notifies it was Corrected in the same run.
	Handler bool
	// Template: a file step's source is rendered with {{ }} as every
	// other string is (content always is).
	Template bool
}

// ForEach is the list a step is repeated over.
type ForEach struct {
	Param string   // "{{ NAME }}": the items of StringList parameter NAME
	Items []string // a literal list
	Pos   diag.Pos
	Path  string
}

// Expand returns the items of the loop with the parameters of scope.
func (f *ForEach) Expand(sc *Scope) ([]string, error) {
	if f.Param == "" {
		return f.Items, nil
	}
	v, ok := sc.Params[f.Param]
	if !ok {
		return nil, &UndefinedError{Ref: Ref{Kind: RefParam, Name: f.Param}}
	}
	items := v.Items()
	if dup := duplicate(items); dup != "" {
		return nil, fmt.Errorf("for_each: item %q appears twice in parameter %s: the steps it names must be unique", dup, f.Param)
	}
	return items, nil
}

// ItemName is the name of the step name repeated for item.
func ItemName(name, item string) string { return name + "[" + item + "]" }

var authoringKeys = []string{"for_each", "notify", "handler"}

// parseAuthoring reads the keys of Authoring of a native step n.
func parseAuthoring(c cfgtree.Checker, n *cfgtree.Node, s *Step) {
	if v := n.Get("for_each"); v != nil {
		s.ForEach = parseForEach(c, v)
	}
	if v := n.Get("notify"); v != nil {
		if names, ok := c.StrOrList(v); ok {
			for i, name := range names {
				item := v
				if v.Kind == cfgtree.List {
					item = v.Items[i]
				}
				if slices.Contains(names[:i], name) {
					c.Errf(item, "step %q is named twice", name)
				}
			}
			s.Notify = names
		}
	}
	if v := n.Get("handler"); v != nil {
		s.Handler, _ = c.Bool(v)
		switch {
		case s.Handler && s.Action == ActionDocument:
			c.Errf(v, "a document step cannot be a handler: make the steps of the nested document handlers, or notify a shell step that runs what they do")
		case s.Handler && len(s.Notify) > 0:
			c.Errf(n.Get("notify"), "a handler cannot notify: handlers run last, once, after every other step")
		}
	}
	if in := s.Inputs["template"]; in != nil && in.Str != nil {
		b, err := strconv.ParseBool(strings.ToLower(in.Str.Raw))
		if in.Str.HasRefs() || err != nil {
			c.Errf(n.Get("template"), "template is written true or false, not %q", in.Str.Raw)
		}
		s.Template = b
	}
}

// parseForEach reads for_each: "{{ NAME }}", or a list of strings.
func parseForEach(c cfgtree.Checker, n *cfgtree.Node) *ForEach {
	f := &ForEach{Pos: n.Pos, Path: n.Path}
	if n.Kind == cfgtree.String {
		t, err := ParseTemplate(n.Str)
		if err != nil {
			c.Errf(n, "%v", err)
			return nil
		}
		name, ok := t.SoleParam()
		if !ok {
			c.Errf(n, "expected \"{{ NAME }}\" naming a StringList parameter, or a list of strings, got %q", n.Str)
			return nil
		}
		f.Param = name
		return f
	}
	if n.Kind != cfgtree.List {
		c.Errf(n, "expected \"{{ NAME }}\" naming a StringList parameter, or a list of strings, got %s", n.Describe())
		return nil
	}
	if len(n.Items) == 0 {
		c.Errf(n, "the list is empty: the step would never run (remove the step, or loop over a parameter)")
		return nil
	}
	for _, it := range n.Items {
		s, ok := c.ScalarString(it)
		switch {
		case !ok:
			return nil
		case strings.TrimSpace(s) == "":
			c.Errf(it, "an item is empty: it names the step NAME[]")
			return nil
		case strings.Contains(s, "{{"):
			c.Errf(it, "an item of a literal for_each is plain text, not a template: loop over a StringList parameter for values that vary")
			return nil
		case slices.Contains(f.Items, s):
			c.Errf(it, "item %q appears twice: the steps it names must be unique", s)
			return nil
		}
		f.Items = append(f.Items, s)
	}
	return f
}

// checkAuthoring enforces the rules of Authoring that span steps: a
// for_each parameter is a StringList whose items are unique, a notified
// step exists and is a handler, a handler is notified.
func checkAuthoring(c cfgtree.Checker, d *Document) {
	byName := map[string]*Step{}
	var names []string
	for _, s := range d.Steps {
		byName[s.Name] = s
		names = append(names, s.Name)
	}
	notified := map[*Step]bool{}
	for _, s := range d.Steps {
		if f := s.ForEach; f != nil {
			checkForEach(c, d, s, f)
		}
		if len(s.Notify) > 0 && !s.Handler && (s.Action == ActionShell || s.Action == ActionPowerShell) && s.Inputs["check"] == nil {
			c.L.Warnf(c.File, s.Pos, "", "step %q notifies, but has no check: it is never Corrected (it runs each time, Success), so it never notifies; give it a check", s.Name)
		}
		for _, name := range s.Notify {
			h := byName[name]
			switch {
			case h == nil:
				e := c.L.Addf(c.File, s.Pos, "", "step %q notifies %q: the document has no step %q", s.Name, name, name)
				if sug := diag.Suggest(name, names); sug != "" {
					e.Msg += fmt.Sprintf(" (did you mean %q?)", sug)
				}
			case h == s:
				c.L.Addf(c.File, s.Pos, "", "step %q notifies itself", s.Name)
			case !h.Handler:
				c.L.Addf(c.File, s.Pos, "", "step %q notifies %q, which is not a handler: add handler = true to step %q", s.Name, name, name)
			default:
				notified[h] = true
			}
		}
	}
	for _, s := range d.Steps {
		if s.Handler && !notified[s] {
			c.L.Warnf(c.File, s.Pos, "", "handler %q is never notified: no step names it in notify, so it never runs", s.Name)
		}
	}
}

func checkForEach(c cfgtree.Checker, d *Document, s *Step, f *ForEach) {
	if p := d.Param(ItemRef); p != nil {
		c.L.Addf(c.File, f.Pos, f.Path, "step %q loops with for_each, but the document declares a parameter %q, which {{ item }} would hide: rename the parameter", s.Name, ItemRef)
	}
	if f.Param == "" {
		return
	}
	p := d.Param(f.Param)
	if p == nil {
		names := make([]string, len(d.Params))
		for i, p := range d.Params {
			names[i] = p.Name
		}
		e := c.L.Addf(c.File, f.Pos, f.Path, "{{ %s }}: the document declares no parameter %q", f.Param, f.Param)
		if sug := diag.Suggest(f.Param, names); sug != "" {
			e.Msg += fmt.Sprintf(" (did you mean %q?)", sug)
		}
		return
	}
	if p.Type != TypeStringList {
		c.L.Addf(c.File, f.Pos, f.Path, "for_each needs a StringList parameter; %s is a %s", p.Name, p.Type)
		return
	}
	p.loops = append(p.loops, s.Name)
	if p.Default != nil {
		if err := p.Check(*p.Default); err != nil {
			c.L.Addf(c.File, p.DefaultPos, "parameters."+p.Name+".default", "default value: %v", err)
		}
	}
}

// checkLoopItems is what Check adds for a StringList that a step loops
// over: every item names a step, so no item is there twice.
func (p *Parameter) checkLoopItems(items []string) error {
	if len(p.loops) == 0 {
		return nil
	}
	if dup := duplicate(items); dup != "" {
		return fmt.Errorf("has item %q twice: step %q loops over it (for_each), and the steps it names must be unique", p.show(dup), p.loops[0])
	}
	return nil
}

func duplicate(items []string) string {
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		if seen[it] {
			return it
		}
		seen[it] = true
	}
	return ""
}

// checkTemplateRefs checks the references of template t of step s:
// every parameter it names is declared ({{ item }} in a step with
// for_each), and its filters apply. posOf gives the position of a
// reference, path the key it is written under.
func checkTemplateRefs(c cfgtree.Checker, d *Document, s *Step, t *Template, posOf func(Ref) diag.Pos, path string) {
	for _, r := range t.Refs() {
		if r.Kind != RefParam || d.Param(r.Name) != nil || (r.Name == ItemRef && s.ForEach != nil) {
			continue
		}
		e := c.L.Addf(c.File, posOf(r), path, "{{ %s }}: the document declares no parameter %q", r.Name, r.Name)
		names := make([]string, len(d.Params))
		for i, p := range d.Params {
			names[i] = p.Name
		}
		if sug := diag.Suggest(r.Name, names); sug != "" {
			e.Msg += fmt.Sprintf(" (did you mean %q?)", sug)
		}
		if r.Name == ItemRef && d.Format == FormatNative {
			e.Hint = "{{ item }} is defined in a step with for_each"
		}
	}
	checkFilters(c, d, s, t, posOf, path)
}

// checkFilters checks the filtered references of t: native documents
// only (the SSM agent writes {{ a | join }} as it is), on a parameter of
// a type the filter takes.
func checkFilters(c cfgtree.Checker, d *Document, s *Step, t *Template, posOf func(Ref) diag.Pos, path string) {
	for _, f := range t.Filters() {
		pos := posOf(Ref{Kind: RefParam, Name: f.Param})
		if d.Format == FormatSSM {
			c.L.Addf(c.File, pos, path, "{{ %s }}: filters are for native documents: the SSM agent writes this text as it is", f.Text)
			continue
		}
		p := d.Param(f.Param)
		switch {
		case p == nil && f.Param == ItemRef && s.ForEach != nil:
			if f.Filter == FilterJoin {
				c.L.Addf(c.File, pos, path, "{{ %s }}: join applies to a StringList parameter; {{ item }} is one string", f.Text)
			}
		case p == nil:
			// reported as an undeclared parameter
		case f.Filter == FilterJoin && p.Type != TypeStringList:
			c.L.Addf(c.File, pos, path, "{{ %s }}: join applies to a StringList parameter; %s is a %s", f.Text, p.Name, p.Type)
		}
	}
}

// loadTemplateSources reads and parses the source of every file step of
// d with template = true whose source is written as it is, from the
// config dir dir: its references are checked as the document's are, at
// the source file's line and column, and the plan renders what was read
// here.
func loadTemplateSources(d *Document, dir string, list *diag.List) {
	for _, s := range d.Steps {
		in := s.Inputs["source"]
		if !s.Template || in == nil || in.Str == nil || in.Str.HasRefs() {
			continue
		}
		body, err := ReadTemplateSource(dir, in.Str.Raw)
		if err != nil {
			list.Addf(d.File, in.Pos, in.Path, "%v", err)
			continue
		}
		file := filepath.Join(dir, filepath.FromSlash(in.Str.Raw))
		t, err := ParseTemplate(body)
		if err != nil {
			var te *TemplateError
			if errors.As(err, &te) {
				list.Addf(file, offsetPos(body, te.Offset), "", "%s", te.Msg)
			} else {
				list.Addf(file, diag.Pos{}, "", "%v", err)
			}
			continue
		}
		in.Body = t
		c := cfgtree.Checker{File: file, L: list}
		checkTemplateRefs(c, d, s, t, func(r Ref) diag.Pos { return refPos(body, r) }, "")
	}
}

// ReadTemplateSource reads the source src of a file step with template =
// true from the config dir dir: text, at most MaxTemplateSource bytes.
func ReadTemplateSource(dir, src string) (string, error) {
	f, st, err := OpenSource(dir, src)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("source %q does not exist in the config dir %s: %w", src, dir, err)
	}
	if err != nil {
		return "", fmt.Errorf("source: %w", err)
	}
	defer f.Close()
	if st.Size() > MaxTemplateSource {
		return "", fmt.Errorf("source %q is %d bytes: a source rendered as a template (template = true) is at most %d", src, st.Size(), MaxTemplateSource)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxTemplateSource+1))
	if err != nil {
		return "", fmt.Errorf("source: %w", err)
	}
	if len(b) > MaxTemplateSource {
		return "", fmt.Errorf("source %q grew past %d bytes while it was read", src, MaxTemplateSource)
	}
	if slices.Contains(b, 0) {
		return "", fmt.Errorf("source %q is not text (it holds a NUL byte): template = true renders text only", src)
	}
	return string(b), nil
}

// offsetPos is the line and column of byte offset off of text.
func offsetPos(text string, off int) diag.Pos {
	off = min(max(off, 0), len(text))
	before := text[:off]
	line := strings.Count(before, "\n") + 1
	col := off - strings.LastIndexByte(before, '\n')
	return diag.Pos{Line: line, Col: col}
}

// refPos is where the first {{ }} that holds r's name is in text (the
// start of the file when none is found).
func refPos(text string, r Ref) diag.Pos {
	name := r.String()
	for off := 0; ; {
		i := strings.Index(text[off:], "{{")
		if i < 0 {
			return diag.Pos{Line: 1, Col: 1}
		}
		j := strings.Index(text[off+i:], "}}")
		if j < 0 {
			return diag.Pos{Line: 1, Col: 1}
		}
		if strings.Contains(text[off+i:off+i+j], name) {
			return offsetPos(text, off+i)
		}
		off += i + 2
	}
}
