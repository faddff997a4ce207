package documents

import (
	"embed"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/driftless-dev/driftless/internal/diag"
)

// BuiltinPrefix names the built-in documents: driftless:RunShellScript.
const BuiltinPrefix = "driftless:"

//go:embed builtin/*.toml
var builtinFS embed.FS

var builtins = sync.OnceValues(func() (map[string]*Document, error) {
	var list diag.List
	out := map[string]*Document{}
	entries, _ := builtinFS.ReadDir("builtin")
	for _, e := range entries {
		src, err := builtinFS.ReadFile(path.Join("builtin", e.Name()))
		if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(e.Name(), ".toml")
		d := Parse("builtin:"+e.Name(), BuiltinPrefix+name, ".toml", src, &list)
		if d != nil {
			d.File = ""
			out[d.Name] = d
		}
	}
	return out, list.Err()
})

// Builtin returns the built-in document named name ("driftless:NAME"), or
// nil.
func Builtin(name string) *Document {
	m, _ := builtins()
	return m[name]
}

// Builtins returns every built-in document, sorted by name. An error means
// the binary was built with a broken built-in document.
func Builtins() ([]*Document, error) {
	m, err := builtins()
	out := make([]*Document, 0, len(m))
	for _, d := range m {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b *Document) int { return strings.Compare(a.Name, b.Name) })
	return out, err
}
