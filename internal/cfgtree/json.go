package cfgtree

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/driftless-dev/driftless/internal/diag"
)

// ParseJSON decodes a JSON document with encoding/json (so that JSON is
// strict JSON, and every valid JSON text is accepted: a "\/" escape,
// tabs, any layout), taking each value's position from the decoder's
// offsets. A key written twice in one object keeps its last value, as
// encoding/json does.
func ParseJSON(file string, src []byte) (*Node, error) {
	if err := precheck(file, src); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	// Validate first: a syntax error is reported where encoding/json
	// finds it, before any tree is built.
	var v any
	err := dec.Decode(&v)
	if err == nil && dec.More() {
		err = errors.New("unexpected content after the top-level value")
	}
	if err != nil {
		off := dec.InputOffset()
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off = se.Offset
		}
		return nil, &diag.Error{File: file, Pos: offsetPos(src, off), Msg: "JSON syntax: " + err.Error()}
	}
	j := &jsonTree{file: file, src: src, dec: json.NewDecoder(bytes.NewReader(src))}
	j.dec.UseNumber()
	for i, c := range src {
		if c == '\n' {
			j.lines = append(j.lines, i+1)
		}
	}
	root := &Node{}
	if err := j.value(root, 0); err != nil {
		return nil, err
	}
	return root, nil
}

// jsonTree builds a Node tree from the tokens of a valid JSON text.
type jsonTree struct {
	file  string
	src   []byte
	dec   *json.Decoder
	lines []int // offsets at which lines 2, 3, ... start
}

// next returns the next token and the position where it starts: after
// the white space, commas and colons that follow the previous token.
func (j *jsonTree) next() (json.Token, diag.Pos, error) {
	off := int(j.dec.InputOffset())
	for off < len(j.src) {
		switch j.src[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	tok, err := j.dec.Token()
	return tok, j.pos(off), err
}

func (j *jsonTree) pos(off int) diag.Pos {
	line := sort.SearchInts(j.lines, off+1) // lines starting at or before off
	start := 0
	if line > 0 {
		start = j.lines[line-1]
	}
	return diag.Pos{Line: line + 1, Col: len([]rune(string(j.src[start:off]))) + 1}
}

func (j *jsonTree) value(n *Node, depth int) error {
	tok, pos, err := j.next()
	if err != nil {
		return &diag.Error{File: j.file, Pos: pos, Msg: "JSON syntax: " + err.Error()}
	}
	return j.fill(n, tok, pos, depth)
}

func (j *jsonTree) fill(n *Node, tok json.Token, pos diag.Pos, depth int) error {
	if depth > MaxDepth {
		return tooDeep(j.file, pos)
	}
	if n.Pos.Line == 0 {
		n.Pos = pos
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n.Kind = Map
			for j.dec.More() {
				ktok, kpos, err := j.next()
				if err != nil {
					return &diag.Error{File: j.file, Pos: kpos, Msg: "JSON syntax: " + err.Error()}
				}
				key, _ := ktok.(string)
				c := &Node{Key: key, Path: childPath(n.Path, key), Pos: kpos}
				if err := j.value(c, depth+1); err != nil {
					return err
				}
				n.set(c)
			}
		case '[':
			n.Kind = List
			for i := 0; j.dec.More(); i++ {
				itok, ipos, err := j.next()
				if err != nil {
					return &diag.Error{File: j.file, Pos: ipos, Msg: "JSON syntax: " + err.Error()}
				}
				c := &Node{Path: itemPath(n.Path, i), Pos: ipos}
				if err := j.fill(c, itok, ipos, depth+1); err != nil {
					return err
				}
				n.Items = append(n.Items, c)
			}
		default:
			return &diag.Error{File: j.file, Pos: pos, Msg: fmt.Sprintf("JSON syntax: unexpected %v", t)}
		}
		if _, _, err := j.next(); err != nil { // the closing delimiter
			return &diag.Error{File: j.file, Pos: pos, Msg: "JSON syntax: " + err.Error()}
		}
	case string:
		n.Kind, n.Str = String, t
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			n.Kind, n.Int = Int, i
		} else if f, err := strconv.ParseFloat(string(t), 64); err == nil {
			n.Kind, n.Float = Float, f
		} else {
			return &diag.Error{File: j.file, Pos: pos, Msg: fmt.Sprintf("JSON: number %s is out of range", t)}
		}
	case bool:
		n.Kind, n.Bool = Bool, t
	case nil:
		n.Kind = Null
	}
	return nil
}
