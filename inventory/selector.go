package inventory

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/driftless-dev/driftless/internal/diag"
)

// Selector is one parsed target selector (docs/selectors.md): terms joined by "&",
// each optionally negated with "!". A list of selectors is a union.
type Selector struct {
	Text  string
	terms []term
	// Pos and Path locate the selector in a file, when it came from one.
	Pos  diag.Pos
	Path string
}

type termKind int

const (
	kAll termKind = iota
	kName
	kTag
	kTagKey
	kGroup
	kSite
)

type term struct {
	neg     bool
	kind    termKind
	pattern string   // kName: glob; kTag/kTagKey: key; kGroup: name
	values  []string // kTag; kSite: the sites
	literal bool     // kName without glob characters
	col     int      // 1-based column of the term in Text
}

// SelectorError is a syntax error in a selector, at a column of its text.
type SelectorError struct {
	Text string
	Col  int
	Msg  string
}

func (e *SelectorError) Error() string {
	return fmt.Sprintf("selector %q, column %d: %s", e.Text, e.Col, e.Msg)
}

// Caret returns the selector with a caret under the column at fault, for
// terminals.
func (e *SelectorError) Caret() string {
	return e.Text + "\n" + strings.Repeat(" ", max(e.Col-1, 0)) + "^"
}

// ParseSelector parses one selector.
func ParseSelector(text string) (*Selector, error) {
	s := &Selector{Text: text}
	if strings.TrimSpace(text) == "" {
		return nil, &SelectorError{Text: text, Col: 1, Msg: "empty selector"}
	}
	parts := strings.Split(text, "&")
	off := 0
	for _, part := range parts {
		col := off + 1
		off += len(part) + 1
		lead := len(part) - len(strings.TrimLeft(part, " \t"))
		col += lead
		p := strings.TrimSpace(part)
		if p == "" {
			msg := "expected a selector after \"&\""
			if col == 1 || strings.TrimSpace(text[:col-1]) == "" {
				msg = "expected a selector before \"&\""
			}
			return nil, &SelectorError{Text: text, Col: col, Msg: msg}
		}
		t := term{col: col}
		if strings.HasPrefix(p, "!") {
			t.neg = true
			p = strings.TrimSpace(p[1:])
			col++
			if p == "" {
				return nil, &SelectorError{Text: text, Col: col, Msg: "expected a selector after \"!\""}
			}
			if len(parts) == 1 {
				return nil, &SelectorError{Text: text, Col: t.col, Msg: fmt.Sprintf("\"!\" only narrows another selector: write \"* & !%s\"", p)}
			}
		}
		if err := parseTerm(&t, p); err != nil {
			return nil, &SelectorError{Text: text, Col: col, Msg: err.Error()}
		}
		s.terms = append(s.terms, t)
	}
	return s, nil
}

func parseTerm(t *term, p string) error {
	switch {
	case p == "*":
		t.kind = kAll
	case strings.HasPrefix(p, "tag:"):
		kv := p[len("tag:"):]
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("expected tag:KEY=VALUE[,VALUE...] (or tag-key:%s for any value)", kv)
		}
		k = strings.TrimSpace(k)
		if k == "" {
			return fmt.Errorf("empty tag key in %q", p)
		}
		t.kind, t.pattern = kTag, k
		for _, x := range strings.Split(v, ",") {
			x = strings.TrimSpace(x)
			if x == "" {
				return fmt.Errorf("empty tag value in %q", p)
			}
			t.values = append(t.values, x)
		}
	case strings.HasPrefix(p, "tag-key:"):
		k := strings.TrimSpace(p[len("tag-key:"):])
		if k == "" || strings.ContainsAny(k, "=,") {
			return fmt.Errorf("expected tag-key:KEY, got %q", p)
		}
		t.kind, t.pattern = kTagKey, k
	case strings.HasPrefix(p, "group:"):
		g := strings.TrimSpace(p[len("group:"):])
		if !hostNameRe.MatchString(g) {
			return fmt.Errorf("expected group:NAME, got %q", p)
		}
		t.kind, t.pattern = kGroup, g
	case strings.HasPrefix(p, "site:"):
		for x := range strings.SplitSeq(p[len("site:"):], ",") {
			x = strings.TrimSpace(x)
			if x == "" {
				return fmt.Errorf("expected site:NAME[,NAME...], got %q", p)
			}
			if err := CheckSiteName(x); err != nil {
				return err
			}
			t.values = append(t.values, x)
		}
		t.kind = kSite
	default:
		name := p
		if strings.HasPrefix(p, "name:") {
			name = strings.TrimSpace(p[len("name:"):])
		} else if i := strings.IndexByte(p, ':'); i >= 0 {
			//lint:ignore ST1005 the message names the selector kinds, colons included
			return fmt.Errorf("unknown selector kind %q: expected name:, tag:, tag-key:, group: or site:", p[:i+1])
		}
		if name == "" {
			return fmt.Errorf("empty host name pattern")
		}
		if a, b, ok := strings.Cut(name, ","); ok && strings.TrimSpace(a) != "" && strings.TrimSpace(b) != "" {
			// Commas belong to tag: values; a union is several selectors.
			a, b = strings.TrimSpace(a), strings.TrimSpace(b)
			if i := strings.IndexByte(b, ','); i >= 0 {
				b = strings.TrimSpace(b[:i])
			}
			return fmt.Errorf("%q is not a host name pattern: a comma separates only tag values (tag:role=web,lb); for several hosts give several selectors: --targets %s --targets %s, or targets = [%q, %q]", name, a, b, a, b)
		}
		if strings.ContainsAny(name, " \t,|()") {
			return fmt.Errorf("%q is not a host name pattern (a list of selectors is written as several selectors)", name)
		}
		if _, err := path.Match(name, ""); err != nil {
			return fmt.Errorf("bad glob %q", name)
		}
		t.kind, t.pattern = kName, name
		t.literal = !strings.ContainsAny(name, "*?[\\")
	}
	return nil
}

// Groups returns the names of the groups the selector refers to.
func (s *Selector) Groups() []string {
	var out []string
	for _, t := range s.terms {
		if t.kind == kGroup {
			out = append(out, t.pattern)
		}
	}
	return out
}

// hasSite reports whether the selector has a site: term.
func (s *Selector) hasSite() bool {
	return slices.ContainsFunc(s.terms, func(t term) bool { return t.kind == kSite })
}

// String returns the selector's text.
func (s *Selector) String() string { return s.Text }

// Match reports whether h matches the selector.
func (s *Selector) Match(inv *Inventory, h *Host) bool {
	for i := range s.terms {
		t := &s.terms[i]
		if t.match(inv, h) == t.neg {
			return false
		}
	}
	return true
}

func (t *term) match(inv *Inventory, h *Host) bool {
	switch t.kind {
	case kAll:
		return true
	case kName:
		if t.literal {
			return h.Name == t.pattern
		}
		ok, _ := path.Match(t.pattern, h.Name)
		return ok
	case kTag:
		v, ok := h.Tags[t.pattern]
		if !ok {
			return false
		}
		for _, want := range t.values {
			if v == want {
				return true
			}
		}
		return false
	case kTagKey:
		_, ok := h.Tags[t.pattern]
		return ok
	case kGroup:
		g := inv.groups[t.pattern]
		return g != nil && g.memberSet[h.Name]
	case kSite:
		return h.Site != "" && slices.Contains(t.values, h.Site)
	}
	return false
}

// CheckSelector reports a reference to a group that does not exist, or
// to a site that no host or group has.
func (inv *Inventory) CheckSelector(s *Selector) error {
	if err := inv.checkSites(s); err != nil {
		return err
	}
	for _, name := range s.Groups() {
		if inv.groups[name] == nil {
			msg := fmt.Sprintf("selector %q: unknown group %q", s.Text, name)
			if sug := diag.Suggest(name, inv.GroupNames()); sug != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", sug)
			}
			return fmt.Errorf("%s", msg)
		}
	}
	return nil
}

func (inv *Inventory) checkSites(s *Selector) error {
	var known []string
	for _, t := range s.terms {
		if t.kind != kSite {
			continue
		}
		if known == nil {
			known = inv.Sites()
		}
		for _, site := range t.values {
			if err := UnknownSite(site, known); err != nil {
				return fmt.Errorf("selector %q: %w", s.Text, err)
			}
		}
	}
	return nil
}

// UnknownSite reports a site that is not among known (the inventory's
// sites), with a suggestion when one is close.
func UnknownSite(site string, known []string) error {
	if slices.Contains(known, site) {
		return nil
	}
	if len(known) == 0 {
		return fmt.Errorf("unknown site %q: no host or group of the inventory has a site", site)
	}
	msg := fmt.Sprintf("unknown site %q", site)
	if sug := diag.Suggest(site, known); sug != "" {
		return fmt.Errorf("%s (did you mean %q?)", msg, sug)
	}
	return fmt.Errorf("%s (the inventory's sites: %s)", msg, strings.Join(known, ", "))
}

// Select returns the hosts that match any of sels, in inventory order.
func (inv *Inventory) Select(sels []*Selector) []*Host {
	var out []*Host
	for _, h := range inv.Hosts {
		for _, s := range sels {
			if s.Match(inv, h) {
				out = append(out, h)
				break
			}
		}
	}
	return out
}

// ResolveTargets parses selector texts (e.g. from --targets), checks them
// and returns the matching hosts. A selector that matches no host is an
// error here.
func (inv *Inventory) ResolveTargets(texts []string) ([]*Host, error) {
	sels := make([]*Selector, 0, len(texts))
	for _, t := range texts {
		s, err := ParseSelector(t)
		if err != nil {
			return nil, err
		}
		if err := inv.CheckSelector(s); err != nil {
			return nil, err
		}
		if len(inv.Select([]*Selector{s})) == 0 {
			return nil, fmt.Errorf("%w: selector %q matches no host", ErrNoMatch, t)
		}
		sels = append(sels, s)
	}
	return inv.Select(sels), nil
}
