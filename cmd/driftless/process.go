package main

import (
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/runner"
)

// nodeFlag is --node, a global flag: the name of this driftless process.
var nodeFlag = &cli.StringFlag{Name: "node", EnvVars: []string{"DRIFTLESS_NODE"},
	Usage: "`NAME` of this driftless process, recorded with what it runs (default: this machine's host name)"}

// siteFlag and maxHostsFlag are --site and --max-hosts, of tick and
// daemon.
var (
	siteFlag = &cli.StringSliceFlag{Name: "site",
		Usage: "run only the hosts of site `NAME` and those without a site (repeat for several sites; default: every host)"}
	maxHostsFlag = &cli.IntFlag{Name: "max-hosts", Value: runner.DefaultMaxHosts,
		Usage: "run at most `N` hosts at once, over every association together"}
)

// maxNodeLen is how long a node name may be, in characters.
const maxNodeLen = 63

// nodeName is --node (or DRIFTLESS_NODE), else this machine's host name,
// checked: not empty, at most 63 characters, every one printable, no
// space at either end. It is worked out once per run of driftless (the
// app's): the commands ask for it as they go (to check it before any
// host is contacted, to open the journal, to claim hosts).
func nodeName(c *cli.Context) (string, error) {
	if n, ok := c.App.Metadata[nodeKey].(node); ok {
		return n.name, n.err
	}
	var n node
	n.name, n.err = readNodeName(c)
	if c.App.Metadata == nil {
		c.App.Metadata = map[string]any{}
	}
	c.App.Metadata[nodeKey] = n
	return n.name, n.err
}

// node is nodeName's answer, kept in the app's metadata under nodeKey.
type node struct {
	name string
	err  error
}

const nodeKey = "node"

// osHostname is os.Hostname; tests count its calls.
var osHostname = os.Hostname

func readNodeName(c *cli.Context) (string, error) {
	if c.IsSet("node") {
		name := c.String("node")
		if err := checkNode(name); err != nil {
			return "", usageError("--node (or DRIFTLESS_NODE): %v", err)
		}
		return name, nil
	}
	host, err := osHostname()
	if err != nil {
		return "", usageError("--node: this machine's host name cannot be read (%v): name this driftless with --node NAME", err)
	}
	if err := checkNode(host); err != nil {
		return "", usageError("this machine's host name cannot name this driftless: %v\n\thint: give it a name with --node NAME (or DRIFTLESS_NODE)", err)
	}
	return host, nil
}

func checkNode(name string) error {
	switch n := utf8.RuneCountInString(name); {
	case strings.TrimSpace(name) == "":
		return fmt.Errorf("the node name must not be empty")
	case !utf8.ValidString(name):
		return fmt.Errorf("node name %q is not valid UTF-8", name)
	case n > maxNodeLen:
		return fmt.Errorf("node name %q is %d characters long, more than %d", name, n, maxNodeLen)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("node name %q starts or ends with a space", name)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("node name %q holds a character that does not print (%U)", name, r)
		}
	}
	return nil
}

// process is what tick and daemon run as: this driftless's node name,
// the sites it runs (nil: every host), its capacity (--max-hosts), one
// for the whole process, and its leases' TTL.
type process struct {
	node     string
	sites    []string
	maxHosts int
	capacity *runner.Capacity
	leaseTTL time.Duration
}

// processOf reads --lease-ttl, --node, --site and --max-hosts, before
// anything runs; a site must be one that a host or group of inv has.
func processOf(c *cli.Context, inv *inventory.Inventory) (*process, error) {
	ttl, err := leaseTTL(c)
	if err != nil {
		return nil, err
	}
	node, err := nodeName(c)
	if err != nil {
		return nil, err
	}
	n := c.Int("max-hosts")
	if n < 1 {
		return nil, usageError("--max-hosts: expected a number of hosts of at least 1, got %d", n)
	}
	p := &process{node: node, maxHosts: n, capacity: runner.NewCapacity(n), leaseTTL: ttl}
	known := inv.Sites()
	for _, site := range c.StringSlice("site") {
		if parts := strings.Split(site, ","); len(parts) > 1 {
			return nil, usageError("--site %s: one site per --site: --site %s", site, strings.Join(parts, " --site "))
		}
		err := inventory.CheckSiteName(site)
		if err == nil {
			err = inventory.UnknownSite(site, known)
		}
		if err != nil {
			return nil, usageError("--site %s: %v", site, err)
		}
		if !slices.Contains(p.sites, site) {
			p.sites = append(p.sites, site)
		}
	}
	slog.Debug("process", "node", node, "sites", strings.Join(p.sites, ","), "max_hosts", n)
	return p, nil
}

// options are the runner options of the process: its capacity, sites
// and leases' TTL.
func (p *process) options(o runner.Options) runner.Options {
	o.Capacity, o.Sites, o.LeaseTTL = p.capacity, p.sites, p.leaseTTL
	return o
}

// about says what the process runs, for the daemon's first line.
func (p *process) about() string {
	s := "node " + p.node
	if len(p.sites) > 0 {
		s += fmt.Sprintf(", %s %s and hosts without one", plural(len(p.sites), "site"), strings.Join(p.sites, ", "))
	}
	return s + fmt.Sprintf(", at most %d %s at once", p.maxHosts, plural(p.maxHosts, "host"))
}

// only is cfg with each association's hosts narrowed to those of the
// process's sites (and those without a site). A host left out is no
// failure: another driftless runs it; --verbose says so, once per host.
func (p *process) only(cfg *config.Config) *config.Config {
	if len(p.sites) == 0 {
		return cfg
	}
	c := *cfg
	c.Associations = make([]*config.Association, len(cfg.Associations))
	said := map[string]bool{}
	for i, a := range cfg.Associations {
		b := *a
		b.Hosts = slices.DeleteFunc(slices.Clone(a.Hosts), func(h *inventory.Host) bool {
			if h.InSites(p.sites) {
				return false
			}
			if !said[h.Name] {
				said[h.Name] = true
				slog.Debug("left out: its site is not one this driftless runs", "host", h.Name, "site", h.Site, "sites", strings.Join(p.sites, ","))
			}
			return true
		})
		c.Associations[i] = &b
	}
	return &c
}
