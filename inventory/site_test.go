package inventory

import (
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/internal/diag/diagtest"
)

const sites = `
[hosts.eu-1]
site = "eu-west"
[hosts.eu-2]
[hosts.us-1]
site = "us-east"
[hosts.both]
site = "us-east"
[hosts.plain]

[groups.europe]
members = ["eu-2", "both"]
site = "eu-west"
[groups.web]
members = ["eu-2"]
site = "eu-west"
[groups.nosite]
members = ["plain", "eu-1"]
`

// A host's own site wins over its groups'; a host takes its group's site;
// two groups that give it the same site agree; a host neither sets has
// none.
func TestSites(t *testing.T) {
	inv := mustParse(t, sites, Options{})
	for name, want := range map[string]string{"eu-1": "eu-west", "eu-2": "eu-west", "us-1": "us-east", "both": "us-east", "plain": ""} {
		if got := inv.Host(name).Site; got != want {
			t.Errorf("%s: site %q, want %q", name, got, want)
		}
	}
	if got := strings.Join(inv.Sites(), " "); got != "eu-west us-east" {
		t.Errorf("Sites() = %q", got)
	}
	for _, c := range []struct {
		sites []string
		want  string
	}{
		{nil, "eu-1 eu-2 us-1 both plain"},
		{[]string{"eu-west"}, "eu-1 eu-2 plain"},
		{[]string{"us-east"}, "us-1 both plain"},
		{[]string{"eu-west", "us-east"}, "eu-1 eu-2 us-1 both plain"},
	} {
		var got []string
		for _, h := range inv.Hosts {
			if h.InSites(c.sites) {
				got = append(got, h.Name)
			}
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("InSites(%v): %v, want %s", c.sites, got, c.want)
		}
	}
}

func TestSiteSelector(t *testing.T) {
	inv := mustParse(t, sites, Options{})
	for sel, want := range map[string]string{
		"site:eu-west":                "eu-1 eu-2",
		"site:us-east":                "us-1 both",
		"site:eu-west,us-east":        "eu-1 eu-2 us-1 both",
		"* & !site:eu-west":           "us-1 both plain",
		"group:europe & site:eu-west": "eu-2",
	} {
		hosts, err := inv.ResolveTargets([]string{sel})
		if err != nil {
			t.Errorf("%q: %v", sel, err)
			continue
		}
		var got []string
		for _, h := range hosts {
			got = append(got, h.Name)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%q selects %v, want %s", sel, got, want)
		}
	}
	for sel, want := range map[string]string{
		"site:eu-wset": `selector "site:eu-wset": unknown site "eu-wset" (did you mean "eu-west"?)`,
		"site:mars":    `selector "site:mars": unknown site "mars" (the inventory's sites: eu-west, us-east)`,
		"site:":        `selector "site:", column 1: expected site:NAME[,NAME...], got "site:"`,
		"site:eu west": `selector "site:eu west", column 1: invalid site "eu west": use letters, digits, '.', '_' and '-'`,
		"web & sit:eu": `selector "web & sit:eu", column 7: unknown selector kind "sit:": expected name:, tag:, tag-key:, group: or site:`,
	} {
		if _, err := inv.ResolveTargets([]string{sel}); err == nil || err.Error() != want {
			t.Errorf("%q: error %v, want %s", sel, err, want)
		}
	}
	noSites := mustParse(t, "[hosts.a]\n", Options{})
	if _, err := noSites.ResolveTargets([]string{"site:eu"}); err == nil || !strings.Contains(err.Error(), "no host or group of the inventory has a site") {
		t.Errorf("site: in an inventory without sites: %v", err)
	}
}

func TestSiteErrors(t *testing.T) {
	src := `[defaults]
site = "eu-west"

[hosts.a]
site = ""
[hosts.b]
sites = "eu-west"
[hosts.c]
site = "eu west"
[hosts.d]
[hosts.e]

[groups.eu]
members = ["d", "e"]
site = "eu-west"
[groups.other]
select = ["site:eu-west"]
[groups.us]
members = ["d", "e"]
site = "us-east"
[groups.n]
site = 3
`
	_, l := parse(t, src, Options{})
	diagtest.CheckErrors(t, l, []string{
		`inventory.toml:2:1: defaults.site: site is set on hosts and groups, not in [defaults]`,
		`inventory.toml:5:1: hosts.a.site: must not be empty`,
		`inventory.toml:7:1: hosts.b.sites: unknown key "sites" (did you mean "site"?)`,
		`inventory.toml:9:1: hosts.c.site: invalid site "eu west": use letters, digits, '.', '_' and '-'`,
		`inventory.toml:17:11: groups.other.select[0]: selector "site:eu-west": a group's select cannot use site: (groups give their members a site)`,
		`inventory.toml:20:1: groups.us.site: groups "eu" (line 15) and "us" give different sites, "eu-west" and "us-east", to hosts d, e`,
		`inventory.toml:22:1: groups.n.site: expected a string, got 3`,
	})
}
