// Package cfgtree turns TOML, YAML and JSON files into one tree of nodes
// that carry their line and column, and offers the checks that every
// validator in driftless shares (types, enums, unknown keys with a "did you
// mean"). Parsers decode with the chosen libraries (BurntSushi/toml,
// yaml.v3); cfgtree adds the positions those libraries do not expose.
package cfgtree

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/driftless-dev/driftless/internal/diag"
)

// Kind is the type of a node's value.
type Kind int

// Node kinds.
const (
	Null Kind = iota
	Map
	List
	String
	Int
	Float
	Bool
	Time
)

func (k Kind) String() string {
	switch k {
	case Map:
		return "a table"
	case List:
		return "a list"
	case String:
		return "a string"
	case Int:
		return "an integer"
	case Float:
		return "a number"
	case Bool:
		return "a boolean"
	case Time:
		return "a date-time"
	default: // the other values need nothing here
	}
	return "nothing"
}

// Node is one value in a configuration file.
type Node struct {
	Kind    Kind
	Pos     diag.Pos // where the key (or the list item) is written
	Key     string   // the key within the parent map
	Path    string   // full path for messages: hosts.web-1.port, steps[2].path
	Entries []*Node  // Map: in file order
	Items   []*Node  // List
	Str     string
	Int     int64
	Float   float64
	Bool    bool
	Time    time.Time
}

// Get returns the entry key of a Map node, or nil.
func (n *Node) Get(key string) *Node {
	if n == nil || n.Kind != Map {
		return nil
	}
	for _, e := range n.Entries {
		if e.Key == key {
			return e
		}
	}
	return nil
}

// Scalar returns the value of a scalar node as text, and whether it is a
// scalar (string, number, boolean, date-time).
func (n *Node) Scalar() (string, bool) {
	switch n.Kind {
	case String:
		return n.Str, true
	case Int:
		return strconv.FormatInt(n.Int, 10), true
	case Float:
		return strconv.FormatFloat(n.Float, 'g', -1, 64), true
	case Bool:
		return strconv.FormatBool(n.Bool), true
	case Time:
		return n.Time.Format(time.RFC3339), true
	default: // the other values need nothing here
	}
	return "", false
}

// Describe names the node's kind and, for a scalar, its value, for "got ..."
// parts of messages.
func (n *Node) Describe() string {
	switch n.Kind {
	case String:
		return strconv.Quote(n.Str)
	case Int, Float, Bool:
		s, _ := n.Scalar()
		return s
	default: // the other values need nothing here
	}
	return n.Kind.String()
}

func childPath(parent, key string) string {
	k := key
	if k == "" || strings.ContainsAny(k, ". \"'[]") {
		k = strconv.Quote(k)
	}
	if parent == "" {
		return k
	}
	return parent + "." + k
}

func itemPath(parent string, i int) string { return fmt.Sprintf("%s[%d]", parent, i) }

// set adds entry c to map n; a key written twice keeps the last value, in
// the place of the first, as the SSM agent reads documents (Go's
// encoding/json and gopkg.in/yaml.v2 Unmarshal: the last wins).
func (n *Node) set(c *Node) {
	for i, e := range n.Entries {
		if e.Key == c.Key {
			n.Entries[i] = c
			return
		}
	}
	n.Entries = append(n.Entries, c)
}
