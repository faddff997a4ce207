package cfgtree

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/driftless-dev/driftless/internal/diag"
)

func offsetPos(src []byte, off int64) diag.Pos {
	off = min(max(off, 0), int64(len(src)))
	before := src[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len([]rune(string(before[bytes.LastIndexByte(before, '\n')+1:]))) + 1
	return diag.Pos{Line: line, Col: col}
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// ParseYAML decodes a YAML document.
func ParseYAML(file string, src []byte) (*Node, error) {
	if err := precheck(file, src); err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		msg := err.Error()
		pos := diag.Pos{}
		if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			pos = diag.Pos{Line: n, Col: 1}
			msg = m[2]
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
		return nil, &diag.Error{File: file, Pos: pos, Msg: "YAML syntax: " + msg}
	}
	if len(doc.Content) == 0 {
		return &Node{Kind: Map, Pos: diag.Pos{Line: 1, Col: 1}}, nil
	}
	root := &Node{}
	y := yamlTree{file: file}
	if err := y.fill(root, doc.Content[0], 0, false); err != nil {
		return nil, err
	}
	return root, nil
}

// yamlTree turns a yaml.Node tree into a Node tree, expanding aliases
// within the bounds of an aliasBudget.
type yamlTree struct {
	file   string
	budget aliasBudget
	site   diag.Pos // the outermost alias being expanded
}

// fill fills n from y at depth; aliased is set below an alias, where
// every node is a copy that the budget pays for.
func (t *yamlTree) fill(n *Node, y *yaml.Node, depth int, aliased bool) error {
	file := t.file
	if depth > MaxDepth {
		return tooDeep(file, diag.Pos{Line: y.Line, Col: y.Column})
	}
	if aliased {
		if err := t.budget.spend(file, t.site, len(y.Value)); err != nil {
			return err
		}
	}
	if n.Pos.Line == 0 {
		n.Pos = diag.Pos{Line: y.Line, Col: y.Column}
	}
	switch y.Kind {
	case yaml.AliasNode:
		if y.Alias == nil {
			return &diag.Error{File: file, Pos: n.Pos, Msg: "YAML: unknown alias"}
		}
		if !aliased {
			t.site = n.Pos
		}
		return t.fill(n, y.Alias, depth+1, true)
	case yaml.DocumentNode:
		if len(y.Content) == 0 {
			return nil
		}
		return t.fill(n, y.Content[0], depth+1, aliased)
	case yaml.MappingNode:
		n.Kind = Map
		for i := 0; i+1 < len(y.Content); i += 2 {
			k, v := y.Content[i], y.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return &diag.Error{File: file, Pos: diag.Pos{Line: k.Line, Col: k.Column}, Msg: "YAML: keys must be plain strings"}
			}
			c := &Node{Key: k.Value, Path: childPath(n.Path, k.Value), Pos: diag.Pos{Line: k.Line, Col: k.Column}}
			if err := t.fill(c, v, depth+1, aliased); err != nil {
				return err
			}
			n.set(c)
		}
	case yaml.SequenceNode:
		n.Kind = List
		for i, it := range y.Content {
			c := &Node{Path: itemPath(n.Path, i), Pos: diag.Pos{Line: it.Line, Col: it.Column}}
			if err := t.fill(c, it, depth+1, aliased); err != nil {
				return err
			}
			n.Items = append(n.Items, c)
		}
	case yaml.ScalarNode:
		switch y.ShortTag() {
		case "!!null":
			n.Kind = Null
		case "!!bool":
			n.Kind = Bool
			if err := y.Decode(&n.Bool); err != nil {
				return yamlErr(file, y, err)
			}
		case "!!int":
			n.Kind = Int
			if err := y.Decode(&n.Int); err != nil {
				return yamlErr(file, y, err)
			}
		case "!!float":
			n.Kind = Float
			if err := y.Decode(&n.Float); err != nil {
				return yamlErr(file, y, err)
			}
		default:
			n.Kind, n.Str = String, y.Value
		}
	}
	return nil
}

func yamlErr(file string, y *yaml.Node, err error) error {
	return &diag.Error{File: file, Pos: diag.Pos{Line: y.Line, Col: y.Column}, Msg: fmt.Sprintf("YAML: %v", err)}
}
