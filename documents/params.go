package documents

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/driftless-dev/driftless/internal/cfgtree"
	"github.com/driftless-dev/driftless/internal/diag"
)

// Parameter types.
const (
	TypeString     = "String"
	TypeStringList = "StringList"
	TypeInteger    = "Integer"
	TypeBoolean    = "Boolean"
	// TypeStringMap is SSM's StringMap: a JSON object (or, as the
	// console gives it, a plain string). In a longer string, and to a
	// script, it is its JSON text.
	TypeStringMap = "StringMap"
	// TypeMapList is SSM's MapList: a list of JSON objects. The SSM agent
	// takes it only from its default in a Command document.
	TypeMapList = "MapList"
)

var paramTypes = []string{TypeString, TypeStringList, TypeInteger, TypeBoolean, TypeStringMap, TypeMapList}

// Value is a parameter value: a string, or a list of strings for a
// StringList.
type Value struct {
	Str    string
	List   []string
	IsList bool
	// JSON: Str is the JSON text of an object or a list (a StringMap or
	// MapList value), marshalled as the SSM agent marshals it.
	JSON bool
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
	// EnvVar: SSM's interpolationType ENV_VAR; the value also reaches
	// the document's scripts as the environment variable SSM_<name>.
	EnvVar     bool
	Pos        diag.Pos
	DefaultPos diag.Pos // where the default is written
	// loops are the steps that loop over the parameter (for_each): its
	// items name steps, so they are unique.
	loops []string
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
	// An empty "parameters:" (null) declares none, as SSM reads it.
	if n == nil || n.Kind == cfgtree.Null || !c.Map(n) {
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
			case slices.Contains(paramTypes, s) && (keys == ssmParamKeys || (s != TypeStringMap && s != TypeMapList)):
				p.Type = s
			default:
				e := c.Errf(t, "expected one of \"String\", \"StringList\", \"Integer\" or \"Boolean\", got %q", s)
				if keys == ssmParamKeys {
					e.Msg = fmt.Sprintf("expected one of \"String\", \"StringList\", \"Integer\", \"Boolean\", \"StringMap\" or \"MapList\", got %q", s)
				}
				if sug := diag.Suggest(s, paramTypes); sug != "" {
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
			v := pn.Get(b.key)
			listLike := p.Type == TypeStringList || p.Type == TypeStringMap || p.Type == TypeMapList
			switch {
			case v == nil:
			case keys == ssmParamKeys && !listLike:
				// agent/framework/docparser/paramvalidator skips the
				// check for a String, Integer or Boolean.
				c.Warnf(v, "%s is ignored: the SSM agent counts items only of a StringList, StringMap or MapList", b.key)
			case keys == ssmParamKeys:
				*b.dst = charBound(c, v) // read leniently, as the agent reads it
			default:
				if !listLike && ok {
					c.Errf(v, "%s applies only to a StringList (or a StringMap or MapList)", b.key)
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
		if p.Type == TypeMapList && p.Default == nil && ok {
			c.Errf(pn, "MapList parameter %q has no %s: the SSM agent takes a MapList only from its default in a Command document (a value given for it is dropped)", pn.Key, keys.def)
		}
		out = append(out, p)
	}
	return out
}

// charBound reads minChars, maxChars, minItems or maxItems of an SSM
// parameter as the SSM agent does: a number, or a string holding one; one
// it cannot read, or out of 0..2^31-1, is no bound (the agent logs it and
// goes on).
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
	switch typ {
	case TypeStringMap:
		return MapValue(c, n)
	case TypeMapList:
		if n.Kind != cfgtree.List {
			c.Errf(n, "expected a list of objects (a MapList), got %s", n.Describe())
			return Value{}, false
		}
		text, err := NodeJSON(n)
		if err != nil {
			c.Errf(n, "%v", err)
			return Value{}, false
		}
		return Value{Str: text, JSON: true}, true
	}
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

// MapValue reads a StringMap value: a table (JSON object), taken as its
// JSON text, or a string, taken as it is (the SSM console passes a
// StringMap as a string).
func MapValue(c cfgtree.Checker, n *cfgtree.Node) (Value, bool) {
	switch n.Kind {
	case cfgtree.Map:
		text, err := NodeJSON(n)
		if err != nil {
			c.Errf(n, "%v", err)
			return Value{}, false
		}
		return Value{Str: text, JSON: true}, true
	case cfgtree.String:
		return Str(n.Str), true
	default: // the other kinds are not a StringMap
	}
	c.Errf(n, "expected a table (a JSON object) or a string for a StringMap, got %s", n.Describe())
	return Value{}, false
}

// NodeJSON is the JSON text of a node as the SSM agent marshals a
// parameter value (Go's encoding/json: keys sorted, compact).
func NodeJSON(n *cfgtree.Node) (string, error) {
	b, err := json.Marshal(plain(n))
	if err != nil {
		return "", fmt.Errorf("cannot write the value as JSON: %v", err)
	}
	return string(b), nil
}

func plain(n *cfgtree.Node) any {
	switch n.Kind {
	case cfgtree.Map:
		m := make(map[string]any, len(n.Entries))
		for _, e := range n.Entries {
			m[e.Key] = plain(e)
		}
		return m
	case cfgtree.List:
		l := make([]any, 0, len(n.Items))
		for _, it := range n.Items {
			l = append(l, plain(it))
		}
		return l
	case cfgtree.String:
		return n.Str
	case cfgtree.Int:
		return n.Int
	case cfgtree.Float:
		return n.Float
	case cfgtree.Bool:
		return n.Bool
	case cfgtree.Time:
		return n.Time.Format(time.RFC3339)
	case cfgtree.Null:
		return nil
	}
	return nil
}

// checkItems is what the SSM agent checks of a value: a StringMap's JSON
// text (or console string) whole; each item of a MapList, an object
// marshalled to JSON; each item of a StringList. count is the number of
// items for minItems/maxItems (-1: not counted).
func (p *Parameter) checkItems(v Value) (items []string, count int, err error) {
	switch p.Type {
	case TypeStringMap:
		if !v.JSON {
			return []string{v.Str}, -1, nil // the agent passes a console string through
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(v.Str), &m); err != nil {
			return nil, 0, fmt.Errorf("expected a JSON object, got %q", p.show(v.Str))
		}
		return []string{v.Str}, len(m), nil
	case TypeMapList:
		var l []json.RawMessage
		if err := json.Unmarshal([]byte(v.Str), &l); err != nil {
			return nil, 0, fmt.Errorf("expected a JSON list, got %q", p.show(v.Str))
		}
		for _, it := range l {
			var s string
			if json.Unmarshal(it, &s) != nil {
				s = string(it)
			}
			items = append(items, s)
		}
		return items, len(l), nil
	default: // the other types are checked below
	}
	return v.Items(), len(v.Items()), nil
}

// Check validates a value against the parameter's type and constraints.
func (p *Parameter) Check(v Value) error {
	switch p.Type {
	case TypeStringMap, TypeMapList:
		if v.IsList {
			return fmt.Errorf("expected a %s, got a list", p.Type)
		}
		items, n, err := p.checkItems(v)
		if err != nil {
			return err
		}
		if n >= 0 && p.MinItems >= 0 && n < p.MinItems {
			return fmt.Errorf("has %d items, fewer than the minimum %d", n, p.MinItems)
		}
		if n >= 0 && p.MaxItems >= 0 && n > p.MaxItems {
			return fmt.Errorf("has %d items, more than the maximum %d", n, p.MaxItems)
		}
		return p.checkStrings(items)
	case TypeStringList:
		if err := p.checkLoopItems(v.Items()); err != nil {
			return err
		}
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
	return p.checkStrings(v.Items())
}

func (p *Parameter) checkStrings(items []string) error {
	for _, item := range items {
		if p.Type != TypeInteger && p.Type != TypeBoolean {
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
