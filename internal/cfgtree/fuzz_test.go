package cfgtree

import (
	"errors"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/internal/diag"
)

// countNodes counts the nodes of a tree, giving up past limit, and fails
// on one without a position.
func countNodes(t *testing.T, n *Node, limit int) int {
	if n.Pos.Line < 1 || n.Pos.Col < 1 {
		t.Fatalf("%s has no position", n.Path)
	}
	count := 1
	for _, c := range append(append([]*Node(nil), n.Entries...), n.Items...) {
		if count > limit {
			break
		}
		count += countNodes(t, c, limit-count)
	}
	return count
}

// fuzzParse checks what every loader promises on any input: no panic; an
// error is a diag.Error inside the file; a tree is no bigger than its
// source plus what aliases may add, and every node has a position. Run each with
// go test ./internal/cfgtree -run '^$' -fuzz FuzzParseYAML -fuzztime 1m
// (memory stays bounded: the limits refuse bombs before they expand).
func fuzzParse(f *testing.F, parse func(string, []byte) (*Node, error), seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		n, err := parse("f", []byte(src))
		if err != nil {
			var de *diag.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v is not a diag.Error", err, err)
			}
			// YAML also breaks lines at a lone CR, NEL, LS and PS.
			lines := 1
			for _, r := range strings.ReplaceAll(src, "\r\n", "\n") {
				if strings.ContainsRune("\n\r\u0085\u2028\u2029", r) {
					lines++
				}
			}
			if de.Pos.Line > lines+1 { // the end of a file without a final newline is the line after
				t.Fatalf("error at line %d of a %d-line file: %v", de.Pos.Line, lines, err)
			}
			return
		}
		limit := len(src) + MaxAliasNodes + 1
		if got := countNodes(t, n, limit+1); got > limit {
			t.Fatalf("%d bytes gave more than %d nodes", len(src), limit)
		}
	})
}

func FuzzParseTOML(f *testing.F) {
	fuzzParse(f, ParseTOML, sample, "a = [1, [2, {b = 3}], \"\"\"x\"\"\"]\n[[t]]\n[[t.u]]\n[t.u.v]\nk = 'x'", "x = \"\"\"a\\\"\"\"\"\"\n", "a = [[1], [2]]\n", "a.b.c = {d = [1.5]}\n", "[[x.y]]\nz = '''\n]]\n'''\n",
		"a = "+strings.Repeat("[", 120)+strings.Repeat("]", 120))
}

func FuzzParseYAML(f *testing.F) {
	fuzzParse(f, ParseYAML, "a: 1\nb: [x, y]\nc: {d: e}\n", "{\"a\": [1, 2.5, true, null]}", yamlBomb(4), yamlBomb(8), "a: &a {b: *a}\n", "- - - [x]\n", "k: !!binary aGVsbG8=\n")
}

func FuzzParseJSON(f *testing.F) {
	fuzzParse(f, ParseJSON, `{"schemaVersion": "2.2", "mainSteps": [{"action": "aws:runShellScript"}]}`, `[[[]]]`, "{\"a\":\t\"\\/\"}")
}
