package documents

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/driftless-dev/driftless/internal/cfgtree"
	"github.com/driftless-dev/driftless/internal/diag"
)

// Parameter types.
const (
	TypeString     = "String"
	TypeStringList = "StringList"
	TypeInteger    = "Integer"
	TypeBoolean    = "Boolean"
)

// Value is a parameter value: a string, or a list of strings for a
// StringList.
type Value struct {
	Str    string
	List   []string
	IsList bool
}

// Str returns a string value.
func Str(s string) Value { return Value{Str: s} }

// List returns a list value.
func List(items ...string) Value { return Value{List: items, IsList: true} }

// String renders the value as text: a list is joined with commas.
func (v Value) String() string {
	if v.IsList {
		return strings.Join(v.List, ",")
	}
	return v.Str
}

// Items returns the value as a list (a string is one item).
func (v Value) Items() []string {
	if v.IsList {
		return v.List
	}
	return []string{v.Str}
}

// Parameter is a declared document parameter.
type Parameter struct {
	Name           string
	Type           string
	Description    string
	Default        *Value // nil: required
	AllowedPattern *regexp.Regexp
	AllowedValues  []string
	MinItems       int // -1: no bound
	MaxItems       int // -1: no bound
	MinChars       int // -1: no bound; SSM's minChars, of each item
	MaxChars       int // -1: no bound
	Secret         bool
	Pos            diag.Pos
	DefaultPos     diag.Pos // where the default is written
}

// Required reports whether the parameter has no default.
func (p *Parameter) Required() bool { return p.Default == nil }

// paramKeys maps the spelling of each parameter key in one format.
// A key spelled "" does not exist in that format.
type paramKeys struct {
	typ, def, desc, pattern, values, minItems, maxItems, secret, minChars, maxChars string
}

var (
	nativeParamKeys = paramKeys{"type", "default", "description", "allowed_pattern", "allowed_values", "min_items", "max_items", "secret", "", ""}
	ssmParamKeys    = paramKeys{"type", "default", "description", "allowedPattern", "allowedValues", "minItems", "maxItems", "secret", "minChars", "maxChars"}
)

func (k paramKeys) all() []string {
	var out []string
	for _, s := range []string{k.typ, k.def, k.desc, k.pattern, k.values, k.minItems, k.maxItems, k.secret, k.minChars, k.maxChars} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func parseParams(c cfgtree.Checker, n *cfgtree.Node, keys paramKeys, extra ...string) []*Parameter {
	if n == nil || !c.Map(n) {
		return nil
	}
	var out []*Parameter
	for _, pn := range n.Entries {
		if !paramNameRe.MatchString(pn.Key) {
			e := c.Errf(pn, "invalid parameter name %q: use letters, digits and '_'", pn.Key)
			if keys == ssmParamKeys {
				// agent/framework/docparser/parameters: ^[a-zA-Z0-9]+$
				e.Msg += "; the SSM agent too takes no value for it (it accepts only letters and digits in a parameter name, and drops any other with \"invalid parameter name\")"
			}
			continue
		}
		if pn.Key == "host" {
			c.Errf(pn, "a parameter cannot be named \"host\": {{ host.* }} refers to the target host")
			continue
		}
		if !c.Map(pn) {
			continue
		}
		c.Keys(pn, append(keys.all(), extra...)...)
		p := &Parameter{Name: pn.Key, Type: TypeString, MinItems: -1, MaxItems: -1, MinChars: -1, MaxChars: -1, Pos: pn.Pos}
		ok := true
		if t := pn.Get(keys.typ); t != nil {
			s, good := c.Str(t)
			switch {
			case !good:
				ok = false
			case slices.Contains([]string{TypeString, TypeStringList, TypeInteger, TypeBoolean}, s):
				p.Type = s
			case s == "StringMap" || s == "MapList":
				c.Errf(t, "parameter type %q is not supported: use String, StringList, Integer or Boolean", s)
				ok = false
			default:
				e := c.Errf(t, "expected one of \"String\", \"StringList\", \"Integer\" or \"Boolean\", got %q", s)
				if sug := diag.Suggest(s, []string{TypeString, TypeStringList, TypeInteger, TypeBoolean}); sug != "" {
					e.Msg += fmt.Sprintf(" (did you mean %q?)", sug)
				}
				ok = false
			}
		} else {
			c.Errf(pn, "parameter %q has no %s", pn.Key, keys.typ)
		}
		if d := pn.Get(keys.desc); d != nil {
			p.Description, _ = c.Str(d)
		}
		if s := pn.Get(keys.secret); s != nil {
			p.Secret, _ = c.Bool(s)
		}
		if r := pn.Get(keys.pattern); r != nil {
			p.AllowedPattern, _ = c.Regexp(r)
		}
		if v := pn.Get(keys.values); v != nil {
			if v.Kind == cfgtree.List {
				for _, it := range v.Items {
					if s, good := c.ScalarString(it); good {
						p.AllowedValues = append(p.AllowedValues, s)
					}
				}
			} else {
				c.Errf(v, "expected a list, got %s", v.Describe())
			}
		}
		for _, b := range []struct {
			key string
			dst *int
		}{{keys.minItems, &p.MinItems}, {keys.maxItems, &p.MaxItems}} {
			if v := pn.Get(b.key); v != nil {
				if p.Type != TypeStringList && ok {
					c.Errf(v, "%s applies only to a StringList", b.key)
				}
				if x, good := c.IntRange(v, 0, 1<<31-1); good {
					*b.dst = int(x)
				}
			}
		}
		for _, b := range []struct {
			key string
			dst *int
		}{{keys.minChars, &p.MinChars}, {keys.maxChars, &p.MaxChars}} {
			if v := pn.Get(b.key); v != nil && b.key != "" {
				*b.dst = charBound(c, v)
			}
		}
		if p.MinItems >= 0 && p.MaxItems >= 0 && p.MinItems > p.MaxItems {
			c.Errf(pn, "%s (%d) is greater than %s (%d)", keys.minItems, p.MinItems, keys.maxItems, p.MaxItems)
		}
		if d := pn.Get(keys.def); d != nil && ok {
			p.DefaultPos = d.Pos
			if v, good := nodeValue(c, d, p.Type); good {
				if err := p.Check(v); err != nil {
					c.Errf(d, "default value: %v", err)
				} else {
					p.Default = &v
				}
			}
		}
		out = append(out, p)
	}
	return out
}

// charBound reads minChars or maxChars as the SSM agent does: a number,
// or a string holding one; one it cannot read, or out of 0..2^31-1, is
// no bound (the agent logs it and goes on).
func charBound(c cfgtree.Checker, n *cfgtree.Node) int {
	s, ok := c.ScalarString(n)
	if !ok {
		return -1
	}
	x, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || x < 0 || x > 1<<31-1 {
		return -1
	}
	return int(x)
}

// nodeValue reads a parameter value of type typ from a file.
func nodeValue(c cfgtree.Checker, n *cfgtree.Node, typ string) (Value, bool) {
	if typ == TypeStringList {
		if n.Kind == cfgtree.List {
			var items []string
			for _, it := range n.Items {
				s, ok := c.ScalarString(it)
				if !ok {
					return Value{}, false
				}
				items = append(items, s)
			}
			return List(items...), true
		}
		if n.Kind == cfgtree.String {
			return List(n.Str), true
		}
		c.Errf(n, "expected a list of strings, got %s", n.Describe())
		return Value{}, false
	}
	s, ok := c.ScalarString(n)
	return Str(s), ok
}

// Check validates a value against the parameter's type and constraints.
func (p *Parameter) Check(v Value) error {
	switch p.Type {
	case TypeStringList:
		n := len(v.Items())
		if p.MinItems >= 0 && n < p.MinItems {
			return fmt.Errorf("has %d items, fewer than the minimum %d", n, p.MinItems)
		}
		if p.MaxItems >= 0 && n > p.MaxItems {
			return fmt.Errorf("has %d items, more than the maximum %d", n, p.MaxItems)
		}
	case TypeInteger:
		if v.IsList {
			return fmt.Errorf("expected an integer, got a list")
		}
		if _, err := strconv.ParseInt(strings.TrimSpace(v.Str), 10, 64); err != nil {
			return fmt.Errorf("expected an integer, got %q", p.show(v.Str))
		}
	case TypeBoolean:
		if v.IsList {
			return fmt.Errorf("expected true or false, got a list")
		}
		if _, err := strconv.ParseBool(strings.ToLower(v.Str)); err != nil {
			return fmt.Errorf("expected true or false, got %q", p.show(v.Str))
		}
	default:
		if v.IsList {
			return fmt.Errorf("expected a string, got a list")
		}
	}
	for _, item := range v.Items() {
		if p.Type == TypeString || p.Type == TypeStringList {
			// SSM counts bytes, of each item of a StringList; it does
			// not bound integers and booleans.
			if p.MinChars >= 0 && len(item) < p.MinChars {
				return fmt.Errorf("value %q is shorter than minChars %d", p.show(item), p.MinChars)
			}
			if p.MaxChars >= 0 && len(item) > p.MaxChars {
				return fmt.Errorf("value %q is longer than maxChars %d", p.show(item), p.MaxChars)
			}
		}
		if p.AllowedPattern != nil && !p.AllowedPattern.MatchString(item) {
			return fmt.Errorf("value %q does not match the allowed pattern %s", p.show(item), p.AllowedPattern)
		}
		if len(p.AllowedValues) > 0 && !slices.Contains(p.AllowedValues, item) {
			return fmt.Errorf("value %q is not one of the allowed values %s", p.show(item), strings.Join(p.AllowedValues, ", "))
		}
	}
	return nil
}

// show hides a secret value in messages.
func (p *Parameter) show(s string) string {
	if p.Secret {
		return Redacted
	}
	return s
}

// Redacted replaces secret values everywhere driftless prints or records.
const Redacted = "******"
