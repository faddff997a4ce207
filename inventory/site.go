package inventory

import (
	"fmt"
	"slices"
	"strings"

	"github.com/driftless-dev/driftless/internal/cfgtree"
)

// site reads the site key of a [hosts.NAME] or [groups.NAME] table n: ""
// and nil when it has none (or a bad one, reported).
func (p *parser) site(n *cfgtree.Node) (string, *cfgtree.Node) {
	v := n.Get("site")
	if v == nil {
		return "", nil
	}
	s, ok := p.c.NonEmpty(v)
	if !ok {
		return "", nil
	}
	if err := CheckSiteName(s); err != nil {
		p.c.Errf(v, "%v", err)
		return "", nil
	}
	return s, v
}

// CheckSiteName reports a site name that is not made of letters, digits,
// '.', '_' and '-' (as host and group names are).
func CheckSiteName(s string) error {
	if !hostNameRe.MatchString(s) {
		return fmt.Errorf("invalid site %q: use letters, digits, '.', '_' and '-'", s)
	}
	return nil
}

// resolveSites gives each host without a site of its own the site of its
// groups. Groups that give one host different sites are an error, once
// per pair of groups, at the later group's site.
func (p *parser) resolveSites(inv *Inventory) {
	type pair struct{ first, second *Group }
	clashes := map[pair][]string{}
	var order []pair
	for _, h := range inv.Hosts {
		if h.Site != "" {
			continue
		}
		var from *Group
		for _, name := range h.Groups {
			g := inv.groups[name]
			switch {
			case g.Site == "" || from != nil && g.Site == from.Site:
			case from == nil:
				from = g
			default:
				k := pair{from, g}
				if clashes[k] == nil {
					order = append(order, k)
				}
				clashes[k] = append(clashes[k], h.Name)
			}
		}
		if from != nil {
			h.Site = from.Site
		}
	}
	for _, k := range order {
		hosts := clashes[k]
		e := p.c.Errf(k.second.siteNode, "groups %q (line %d) and %q give different sites, %q and %q, to %s %s",
			k.first.Name, k.first.siteNode.Pos.Line, k.second.Name, k.first.Site, k.second.Site, plural(len(hosts), "host"), nameList(hosts, 5))
		e.Hint = "set site on each such host (a host's own site wins over its groups'), or keep it in one of the groups"
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// nameList is names joined by ", ", the first limit of them, then "and N
// more".
func nameList(names []string, limit int) string {
	if len(names) <= limit {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:limit], ", "), len(names)-limit)
}

// Sites returns the sites that hosts and groups name, sorted.
func (inv *Inventory) Sites() []string {
	var out []string
	for _, h := range inv.Hosts {
		out = append(out, h.Site)
	}
	for _, g := range inv.Groups {
		out = append(out, g.Site)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > 0 && out[0] == "" {
		out = out[1:]
	}
	return out
}

// InSites reports whether a driftless that runs sites runs h: h has no
// site, or one of them; every host when sites is empty.
func (h *Host) InSites(sites []string) bool {
	return len(sites) == 0 || h.Site == "" || slices.Contains(sites, h.Site)
}
