package main

import (
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/inventory"
)

// hostJSON is a resolved host in JSON output.
type hostJSON struct {
	Name           string            `json:"name"`
	Transport      string            `json:"transport"`
	Address        string            `json:"address"`
	Port           int               `json:"port"`
	User           string            `json:"user"`
	Groups         []string          `json:"groups"`
	Site           string            `json:"site,omitempty"`
	Tags           map[string]string `json:"tags"`
	Vars           map[string]string `json:"vars"`
	Jump           []string          `json:"jump,omitempty"`
	Become         string            `json:"become,omitempty"`
	HostKeyPolicy  string            `json:"host_key_policy,omitempty"`
	KnownHosts     []string          `json:"known_hosts,omitempty"`
	IdentityFiles  []string          `json:"identity_files,omitempty"`
	ConnectTimeout string            `json:"connect_timeout"`
}

func runInventory(c *cli.Context, u *ui) error {
	opts := configOptions(c)
	path := opts.Inventory
	if path == "" {
		path = filepath.Join(opts.Dir, "inventory.toml")
	}
	inv, list := inventory.Load(path, opts.Inv)
	if err := u.diagnostics(list); err != nil {
		return err
	}
	hosts := inv.Hosts
	if sels := c.StringSlice("targets"); len(sels) > 0 {
		var err error
		if hosts, err = inv.ResolveTargets(sels); err != nil {
			return targetsError(err)
		}
	}
	if u.json {
		return printJSONList(u, hosts, func(h *inventory.Host) hostJSON {
			j := hostJSON{Name: h.Name, Transport: h.Transport, Address: h.Address, Port: h.Port, User: h.User,
				Groups: nonNil(h.Groups), Site: h.Site, Tags: h.Tags, Vars: h.Vars, Become: h.Become, ConnectTimeout: h.ConnectTimeout.String()}
			if h.Transport == inventory.SSH {
				j.HostKeyPolicy, j.KnownHosts, j.IdentityFiles = h.HostKeyPolicy, h.KnownHosts, h.IdentityFiles
				for _, hop := range h.Jump {
					j.Jump = append(j.Jump, hop.String())
				}
			}
			return j
		})
	}
	// SITE is a column when a host has a site.
	sites := slices.ContainsFunc(hosts, func(h *inventory.Host) bool { return h.Site != "" })
	rows := make([][]string, 0, len(hosts))
	for _, h := range hosts {
		addr := h.Address
		if h.Transport != inventory.Local {
			addr = h.User + "@" + hostPort(h.Address, h.Port)
		}
		if len(h.Jump) > 0 {
			var hops []string
			for _, hop := range h.Jump {
				hops = append(hops, hop.String())
			}
			addr += " via " + strings.Join(hops, ",")
		}
		row := []string{h.Name, h.Transport, addr, strings.Join(h.Groups, ",")}
		if sites {
			row = append(row, h.Site)
		}
		rows = append(rows, append(row, formatMap(h.Tags)))
	}
	head := []string{"HOST", "TRANSPORT", "ADDRESS", "GROUPS", "TAGS"}
	if sites {
		head = slices.Insert(head, 4, "SITE")
	}
	u.table(head, rows)
	u.notef("%d %s", len(hosts), plural(len(hosts), "host"))
	return nil
}

func hostPort(addr string, port int) string {
	if strings.Contains(addr, ":") {
		return "[" + addr + "]:" + strconv.Itoa(port)
	}
	return addr + ":" + strconv.Itoa(port)
}

func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// targetsError explains a bad --targets selector, with a caret under the
// column at fault.
func targetsError(err error) error {
	var se *inventory.SelectorError
	if errors.As(err, &se) {
		return usageError("--targets: %s at column %d\n  %s", se.Msg, se.Col, strings.ReplaceAll(se.Caret(), "\n", "\n  "))
	}
	return usageError("--targets: %v", err)
}
