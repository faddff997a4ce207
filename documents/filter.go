package documents

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Filters of a parameter reference: how its value is written into the
// text around it (docs/documents.md#lists-in-text).
const (
	// FilterJoin is {{ NAME | join("SEP") }}: a StringList's items
	// joined with SEP.
	FilterJoin = "join"
	// FilterJSON is {{ NAME | json }}: the value as JSON, a StringList
	// as a list of strings, any other value as a string.
	FilterJSON = "json"
)

// joinRe matches the argument list of join: one quoted string.
var joinRe = regexp.MustCompile(`^join\s*\(\s*("(?:[^"\\]|\\.)*"|'[^']*')\s*\)$`)

// parseFiltered parses the inside of {{ }}: a reference, or a parameter
// reference followed by "| FILTER".
func parseFiltered(inner string) (part, error) {
	bar := strings.IndexByte(inner, '|')
	if bar < 0 || strings.HasPrefix(inner, `"`) || strings.HasPrefix(inner, "'") {
		return parseRef(inner)
	}
	ref, filter := strings.TrimSpace(inner[:bar]), strings.TrimSpace(inner[bar+1:])
	p, err := parseRef(ref)
	if err != nil {
		return part{}, err
	}
	if !p.isRef || p.ref.Kind != RefParam {
		return part{}, fmt.Errorf("{{ %s }}: a filter applies to a parameter, not to %s", inner, ref)
	}
	switch {
	case filter == FilterJSON:
		p.filter = FilterJSON
	case joinRe.MatchString(filter):
		arg := joinRe.FindStringSubmatch(filter)[1]
		sep := arg[1 : len(arg)-1]
		if arg[0] == '"' {
			if sep, err = strconv.Unquote(arg); err != nil {
				return part{}, fmt.Errorf("{{ %s }}: bad separator %s: %v", inner, arg, err)
			}
		}
		p.filter, p.sep = FilterJoin, sep
	default:
		return part{}, fmt.Errorf("{{ %s }}: unknown filter %q: expected join(\"SEP\") or json", inner, filter)
	}
	return p, nil
}

// filtered is the text of a parameter value v through filter.
func filtered(v Value, filter, sep string) string {
	if filter == FilterJoin {
		return strings.Join(v.Items(), sep)
	}
	switch {
	case v.IsList:
		return SSMEnvValue(v) // a JSON list, as SSM writes one
	case v.JSON:
		return v.Str // a StringMap or MapList is JSON text already
	}
	b, _ := json.Marshal(v.Str)
	return string(b)
}

// FilterUse is one filtered reference of a template.
type FilterUse struct {
	Param  string
	Filter string
	Text   string // the reference as written inside the braces, normalised
}

// Filters returns the filtered references of the template.
func (t *Template) Filters() []FilterUse {
	var out []FilterUse
	for _, p := range t.parts {
		if p.isRef && p.filter != "" {
			text := p.ref.Name + " | " + p.filter
			if p.filter == FilterJoin {
				text += "(" + strconv.Quote(p.sep) + ")"
			}
			out = append(out, FilterUse{Param: p.ref.Name, Filter: p.filter, Text: text})
		}
	}
	return out
}
