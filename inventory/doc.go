// Package inventory reads inventory.toml (docs/inventory.md): hosts, groups and
// connection defaults, and resolves target selectors (docs/selectors.md) over them.
//
// Data flows one way: the file is decoded into a position-aware tree
// (internal/cfgtree), each level (defaults, groups, hosts) is validated into
// a partial set of settings, groups are resolved (members ∪ select, with
// cycle detection), then every host's effective settings are computed with
// the precedence host > groups in file order > defaults > ~/.ssh/config >
// built-in defaults, and its ProxyJump chain is resolved. Every problem is
// recorded as file:line:col in a diag.List; nothing here contacts a host.
package inventory

import "errors"

// ErrNoMatch is returned when a selector given on the command line matches
// no host.
var ErrNoMatch = errors.New("no matching host")
