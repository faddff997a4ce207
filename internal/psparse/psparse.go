// Package psparse checks, in tests, that PowerShell text parses with a
// real PowerShell grammar: tree-sitter-powershell, run by Node.js (no
// PowerShell runs on the machines the tests run on).
//
// The grammar and its runtime are npm packages pinned by
// node/package-lock.json and installed inside the repository, in
// node/node_modules (not committed), by ./test.sh:
//
//	npm ci --prefix internal/psparse/node --no-audit --no-fund
//
// Nothing outside the repository is read. node/parse.mjs parses every
// script of one call in one Node.js process (starting Node.js and loading
// the grammar costs far more than parsing):
//
//	psparse.Check(t, map[string]string{"prelude": prelude, "step 1": script})
//
// A tree-sitter grammar is not PowerShell's own parser: it may reject
// what PowerShell accepts (a gap in the grammar) or accept what
// PowerShell rejects (catch or else with no try or if before them parse
// as commands, as they do in PowerShell, and fail only when run). A
// script it rejects is worth reading by hand before it is changed. Known
// gaps of tree-sitter-powershell 0.26.4, valid PowerShell that it
// rejects (TestKnownGrammarGaps keeps the list true):
//
//   - a script with no statement: empty, blank or only comments;
//   - a label after break or continue: break outer;
//   - switch clauses on one line with no ; between them:
//     switch ($a) { 1 { 'a' } default { 'b' } };
//   - a statement after param(...) on the same line:
//     function F { param($N) $N };
//   - a long literal as the right operand of an operator: 1 + 5L;
//   - PowerShell 7's ?:, ?? and ??= (which Windows PowerShell 5.1
//     rejects too).
package psparse

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/shelltest"
)

// Error is one ERROR or MISSING node of a script's syntax tree.
type Error struct {
	Kind string // "ERROR": text the grammar cannot place; "MISSING": a token it had to insert
	Type string // the node's type (for MISSING, the token that is missing)
	Line int    // 1-based
	Col  int    // 1-based, in characters (UTF-16 code units)
	Text string // the node's text (its first line, shortened), or the line up to a MISSING token
}

func (e Error) String() string {
	return fmt.Sprintf("%d:%d: %s: %s", e.Line, e.Col, e.Kind, e.Text)
}

// Check fails t (Errorf) for every script that has an error node, with
// name:line:col: and the text of each of its first error nodes. scripts
// maps a name, used in messages, to the PowerShell text.
func Check(t testing.TB, scripts map[string]string) {
	t.Helper()
	res := Parse(t, scripts)
	for _, name := range sortedKeys(res) {
		if errs := res[name]; len(errs) > 0 {
			var b strings.Builder
			for _, e := range errs {
				fmt.Fprintf(&b, "\n\t%s:%s", name, e)
			}
			t.Errorf("%s does not parse as PowerShell (tree-sitter-powershell):%s", name, b.String())
		}
	}
}

// Parse parses scripts (name: PowerShell text) in one Node.js process
// and returns the first error nodes of each script that has one. It
// fails t (Fatalf) when the parser cannot run: node missing, node_modules
// not installed.
func Parse(t testing.TB, scripts map[string]string) map[string][]Error {
	t.Helper()
	node := shelltest.Require(t, "node", "nodejs")
	dir := nodeDir(t)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "tree-sitter-powershell")); err != nil {
		rel := "internal/psparse/node"
		t.Fatalf("%s/node_modules is not installed: npm ci --prefix %s --no-audit --no-fund (./test.sh runs it)", rel, rel)
	}
	// Read here, so that go test's cache knows the result depends on them
	// (it does not see what node reads).
	for _, f := range []string{"parse.mjs", "package-lock.json", "node_modules/.package-lock.json"} {
		if _, err := os.ReadFile(filepath.Join(dir, f)); err != nil {
			t.Fatalf("psparse: %v", err)
		}
	}
	in, err := json.Marshal(scripts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--no-deprecation", "parse.mjs")
	cmd.Dir = dir
	cmd.Env = nodeEnv()
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("psparse: node parse.mjs: %v\n%s", err, stderr.String())
	}
	res := make(map[string][]Error, len(scripts))
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct {
			Name     string
			HasError bool
			Errors   []Error
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("psparse: parse.mjs printed %q: %v", sc.Text(), err)
		}
		if r.HasError && len(r.Errors) == 0 {
			// hasError with no node found: say so rather than pass.
			r.Errors = []Error{{Kind: "ERROR", Type: "ERROR", Line: 1, Col: 1, Text: "(the tree has an error the walk did not find)"}}
		}
		res[r.Name] = r.Errors
	}
	if len(res) != len(scripts) {
		t.Fatalf("psparse: parse.mjs answered for %d scripts of %d:\n%s", len(res), len(scripts), out)
	}
	return res
}

// nodeDir is internal/psparse/node of the repository the test runs in,
// found from the working directory (a package's directory under go test).
func nodeDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "internal", "psparse", "node")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("psparse: no go.mod above %s", dir)
		}
		dir = parent
	}
}

// nodeEnv is this process's environment without the variables that would
// make Node.js load code from outside the repository.
func nodeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k == "NODE_OPTIONS" || k == "NODE_PATH" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func sortedKeys(m map[string][]Error) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
