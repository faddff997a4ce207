package documents

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// RefKind says what a {{ }} reference points at.
type RefKind int

// Reference kinds.
const (
	RefParam RefKind = iota
	RefHostName
	RefHostAddress
	RefHostTag
	RefHostVar
	RefEnv
	RefSSM       // {{ssm:NAME}}: parameters.toml of the config dir
	RefSSMSecure // {{ssm-secure:NAME}}: the same, a secret
)

// Ref is one {{ }} reference.
type Ref struct {
	Kind RefKind
	Name string // parameter, tag, var or environment variable name
}

func (r Ref) String() string {
	switch r.Kind {
	case RefHostName:
		return "host.name"
	case RefHostAddress:
		return "host.address"
	case RefHostTag:
		return "host.tags." + r.Name
	case RefHostVar:
		return "host.vars." + r.Name
	case RefEnv:
		return "env:" + r.Name
	case RefSSM:
		return "ssm:" + r.Name
	case RefSSMSecure:
		return "ssm-secure:" + r.Name
	default: // the other values need nothing here
	}
	return r.Name
}

// Template is a string with {{ }} references (docs/documents.md#interpolation).
type Template struct {
	Raw   string
	parts []part
	// ssm is set for the templates of an SSM document: a StringList
	// inside a longer string renders as a JSON list, and "$$" in a
	// value as "$", as the SSM agent substitutes.
	ssm bool
}

type part struct {
	lit   string
	ref   Ref
	isRef bool
	// filter is how a parameter is written into the text: "" (a
	// StringList joined with ","), FilterJoin (joined with sep) or
	// FilterJSON (its JSON text).
	filter string
	sep    string
}

// TemplateError is a malformed reference at a byte offset of the text.
type TemplateError struct {
	Offset int
	Msg    string
}

func (e *TemplateError) Error() string { return e.Msg }

var (
	paramNameRe = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	envRefRe    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	keyRefRe    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._/-]*$`)
	// ssmNameRe is what the SSM agent matches in {{ssm:NAME}}.
	ssmNameRe = regexp.MustCompile(`^[/\w.:-]+$`)
)

// Literal returns a template with no references.
func Literal(s string) *Template { return &Template{Raw: s, parts: []part{{lit: s}}} }

// ParseTemplate parses the references of s.
func ParseTemplate(s string) (*Template, error) {
	t := &Template{Raw: s}
	rest, off := s, 0
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				t.parts = append(t.parts, part{lit: rest})
			}
			return t, nil
		}
		// "{{{ name }}}": the reference is the innermost "{{", the
		// braces around it stay, as the SSM agent substitutes.
		for i+2 < len(rest) && rest[i+2] == '{' {
			i++
		}
		if i > 0 {
			t.parts = append(t.parts, part{lit: rest[:i]})
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return nil, &TemplateError{Offset: off + i, Msg: "\"{{\" is not closed by \"}}\""}
		}
		inner := strings.TrimSpace(rest[i+2 : i+j])
		p, err := parseFiltered(inner)
		if err != nil {
			return nil, &TemplateError{Offset: off + i, Msg: err.Error()}
		}
		t.parts = append(t.parts, p)
		off += i + j + 2
		rest = rest[i+j+2:]
	}
}

func parseRef(inner string) (part, error) {
	switch {
	case len(inner) >= 2 && (inner[0] == '"' || inner[0] == '\''):
		if s, err := strconv.Unquote(inner); err == nil && inner[0] == '"' {
			return part{lit: s}, nil
		}
		if inner[0] == '\'' && inner[len(inner)-1] == '\'' {
			return part{lit: inner[1 : len(inner)-1]}, nil
		}
		return part{}, fmt.Errorf("bad string literal {{ %s }}", inner)
	case strings.HasPrefix(inner, "env:"):
		name := strings.TrimSpace(inner[4:])
		if !envRefRe.MatchString(name) {
			return part{}, fmt.Errorf("{{ %s }}: expected env:NAME with NAME an environment variable name", inner)
		}
		return part{isRef: true, ref: Ref{Kind: RefEnv, Name: name}}, nil
	case strings.HasPrefix(inner, "ssm:") || strings.HasPrefix(inner, "ssm-secure:"):
		kind, name := RefSSM, strings.TrimPrefix(inner, "ssm:")
		if strings.HasPrefix(inner, "ssm-secure:") {
			kind, name = RefSSMSecure, strings.TrimPrefix(inner, "ssm-secure:")
		}
		if !ssmNameRe.MatchString(name) {
			return part{}, fmt.Errorf("{{ %s }}: expected ssm:NAME with NAME a Parameter Store name (letters, digits, '/', '.', '_', ':', '-')", inner)
		}
		return part{isRef: true, ref: Ref{Kind: kind, Name: name}}, nil
	case strings.HasPrefix(inner, "resolve:"):
		return part{}, fmt.Errorf("{{ %s }}: Secrets Manager references are not available outside AWS; put the value in parameters.toml and write {{ssm-secure:NAME}}, or pass it with {{ env:NAME }}", inner)
	case inner == "host.name":
		return part{isRef: true, ref: Ref{Kind: RefHostName}}, nil
	case inner == "host.address":
		return part{isRef: true, ref: Ref{Kind: RefHostAddress}}, nil
	case strings.HasPrefix(inner, "host.tags."), strings.HasPrefix(inner, "host.vars."):
		kind, key := RefHostTag, inner[len("host.tags."):]
		if strings.HasPrefix(inner, "host.vars.") {
			kind = RefHostVar
		}
		if !keyRefRe.MatchString(key) {
			return part{}, fmt.Errorf("{{ %s }}: invalid key %q", inner, key)
		}
		return part{isRef: true, ref: Ref{Kind: kind, Name: key}}, nil
	case strings.HasPrefix(inner, "host."):
		return part{}, fmt.Errorf("{{ %s }}: unknown host field: expected host.name, host.address, host.tags.KEY or host.vars.KEY", inner)
	case paramNameRe.MatchString(inner):
		return part{isRef: true, ref: Ref{Kind: RefParam, Name: inner}}, nil
	case inner == "":
		return part{}, fmt.Errorf("empty reference {{ }}")
	}
	return part{}, fmt.Errorf("{{ %s }} is not a reference: expected a parameter name, host.name, host.address, host.tags.KEY, host.vars.KEY or env:NAME (write {{ \"{{\" }} for a literal \"{{\")", inner)
}

// Refs returns the references of the template.
func (t *Template) Refs() []Ref {
	var out []Ref
	for _, p := range t.parts {
		if p.isRef {
			out = append(out, p.ref)
		}
	}
	return out
}

// HasRefs reports whether the template refers to anything.
func (t *Template) HasRefs() bool {
	for _, p := range t.parts {
		if p.isRef {
			return true
		}
	}
	return false
}

// SoleParam returns the parameter name when the template is exactly one
// parameter reference ("{{ commands }}"), which lets a StringList expand
// into a list input.
func (t *Template) SoleParam() (string, bool) {
	if len(t.parts) == 1 && t.parts[0].isRef && t.parts[0].ref.Kind == RefParam && t.parts[0].filter == "" {
		return t.parts[0].ref.Name, true
	}
	return "", false
}

// Scope is what references resolve against.
type Scope struct {
	Params      map[string]Value
	HostName    string
	HostAddress string
	Tags        map[string]string
	Vars        map[string]string
	// Env looks up driftless's own environment; nil means os.LookupEnv
	// is not consulted and every env reference is undefined.
	Env func(string) (string, bool)
	// SSM looks up {{ssm:NAME}} and {{ssm-secure:NAME}} in the config
	// dir's parameters.toml; nil: every one is undefined.
	SSM func(name string) (string, bool)
}

// UndefinedError is a reference to something that does not exist.
type UndefinedError struct{ Ref Ref }

func (e *UndefinedError) Error() string {
	switch e.Ref.Kind {
	case RefEnv:
		return fmt.Sprintf("{{ %s }}: environment variable %s is not set", e.Ref, e.Ref.Name)
	case RefHostTag:
		return fmt.Sprintf("{{ %s }}: the host has no tag %q", e.Ref, e.Ref.Name)
	case RefHostVar:
		return fmt.Sprintf("{{ %s }}: the host has no var %q", e.Ref, e.Ref.Name)
	case RefSSM, RefSSMSecure:
		return fmt.Sprintf("{{%s}}: parameters.toml has no parameter %q", e.Ref, e.Ref.Name)
	default: // the other values need nothing here
	}
	return fmt.Sprintf("{{ %s }}: no parameter %q", e.Ref, e.Ref.Name)
}

// Lookup resolves one reference.
func (s *Scope) Lookup(r Ref) (string, error) {
	var v string
	ok := true
	switch r.Kind {
	case RefParam:
		var pv Value
		pv, ok = s.Params[r.Name]
		v = pv.String()
	case RefHostName:
		v = s.HostName
	case RefHostAddress:
		v = s.HostAddress
	case RefHostTag:
		v, ok = s.Tags[r.Name]
	case RefHostVar:
		v, ok = s.Vars[r.Name]
	case RefEnv:
		if s.Env == nil {
			ok = false
		} else {
			v, ok = s.Env(r.Name)
		}
	case RefSSM, RefSSMSecure:
		if s.SSM == nil {
			ok = false
		} else {
			v, ok = s.SSM(r.Name)
		}
	}
	if !ok {
		return "", &UndefinedError{Ref: r}
	}
	return v, nil
}

// Render substitutes every reference.
func (t *Template) Render(s *Scope) (string, error) {
	if len(t.parts) == 1 && !t.parts[0].isRef {
		return t.parts[0].lit, nil
	}
	var b strings.Builder
	for _, p := range t.parts {
		if !p.isRef {
			b.WriteString(p.lit)
			continue
		}
		v, err := s.Lookup(p.ref)
		if err != nil {
			return "", err
		}
		if t.ssm && p.ref.Kind == RefParam && len(t.parts) > 1 {
			v = ssmValue(s.Params[p.ref.Name])
		}
		if p.filter != "" {
			v = filtered(s.Params[p.ref.Name], p.filter, p.sep)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// ssmValue is a parameter value as the SSM agent writes it into a longer
// string: a list as a JSON list, "$$" as "$".
func ssmValue(v Value) string {
	return strings.ReplaceAll(SSMEnvValue(v), "$$", "$")
}

// ResolveSSM replaces the {{ssm:NAME}} and {{ssm-secure:NAME}} references
// of t by what lookup gives, in place; it returns the names lookup does
// not know, and the values of the secure ones it resolved.
func (t *Template) ResolveSSM(lookup func(string) (string, bool)) (missing []Ref, secrets []string) {
	for i, p := range t.parts {
		if !p.isRef || (p.ref.Kind != RefSSM && p.ref.Kind != RefSSMSecure) {
			continue
		}
		v, ok := lookup(p.ref.Name)
		if !ok {
			missing = append(missing, p.ref)
			continue
		}
		if p.ref.Kind == RefSSMSecure {
			secrets = append(secrets, v)
		}
		t.parts[i] = part{lit: v}
	}
	return missing, secrets
}
