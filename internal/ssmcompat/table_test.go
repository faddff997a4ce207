package ssmcompat

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const (
	tableBegin = "<!-- ssm-compat:begin (go test ./internal/ssmcompat -update) -->"
	tableEnd   = "<!-- ssm-compat:end -->"
)

var stepIndexRe = regexp.MustCompile(`\[\d+\]`)

// compatTable renders the README's compatibility section from MANIFEST.tsv
// and RESULTS.tsv.
func compatTable(t testing.TB) string {
	m := readManifest(t)
	res := map[string]string{}
	for _, r := range readTSV(t, filepath.Join(corpusDir, "RESULTS.tsv"), 2) {
		res[r[0]] = r[1]
	}
	type row struct{ docs, loaded, refused, run, identical int }
	add := func(r *row, o string) {
		r.docs++
		switch {
		case strings.HasPrefix(o, "refused"):
			r.refused++
			return
		case o == "identical":
			r.run++
			r.identical++
		case strings.HasPrefix(o, "differs"):
			r.run++
		}
		r.loaded++
	}
	var total row
	schemas := map[string]int{}
	byClass := map[string]*row{}
	byPlugin := map[string]*row{}
	reasons := map[string]int{}
	var classes, plugins []string
	var constructs []entry
	for _, e := range m {
		o := res[e.File]
		if isConstruct(e) {
			constructs = append(constructs, e)
			continue
		}
		add(&total, o)
		schemas[e.Schema]++
		if byClass[e.Class] == nil {
			byClass[e.Class] = &row{}
			classes = append(classes, e.Class)
		}
		add(byClass[e.Class], o)
		for p := range strings.SplitSeq(e.Plugins, ",") {
			if byPlugin[p] == nil {
				byPlugin[p] = &row{}
				plugins = append(plugins, p)
			}
			add(byPlugin[p], o)
		}
		if r, ok := strings.CutPrefix(o, "refused("); ok {
			r = strings.TrimSuffix(r, ")")
			r = stepIndexRe.ReplaceAllString(r, "[N]")
			if i := strings.Index(r, ": "); i >= 0 && !strings.Contains(r[:i], " ") {
				r = r[i+2:]
			}
			reasons[r]++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", tableBegin)
	fmt.Fprintf(&b, "Measured on %d real public SSM Command documents that no one here wrote ([testdata/ssm](testdata/ssm/README.md):\n", total.docs)
	fmt.Fprintf(&b, "schema 2.2: %d, 2.0: %d, 1.2: %d). Each is loaded by driftless; each one that needs no AWS\n", schemas["2.2"], schemas["2.0"], schemas["1.2"])
	b.WriteString("service, no Windows and no parameter without a default, and is safe for a test machine, is run\n")
	b.WriteString("on a real sshd host by driftless and by a reference executor that follows the amazon-ssm-agent\n")
	b.WriteString("source, and their step statuses, exit codes and stdout are compared.\n\n")
	fmt.Fprintf(&b, "**%d loaded, %d refused; %d run, %d with the result SSM gives.**\n\n", total.loaded, total.refused, total.run, total.identical)
	b.WriteString("| documents that | documents | loaded | refused | run | identical to SSM |\n|---|---:|---:|---:|---:|---:|\n")
	for _, c := range classes {
		r := byClass[c]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d |\n", c, r.docs, r.loaded, r.refused, r.run, r.identical)
	}
	b.WriteString("\n| plugin (documents using it) | documents | loaded | refused | run | identical to SSM |\n|---|---:|---:|---:|---:|---:|\n")
	counts := map[string]int{}
	for _, p := range plugins {
		counts[p] = byPlugin[p].docs
	}
	for _, p := range sortedKeys(counts) {
		r := byPlugin[p]
		fmt.Fprintf(&b, "| `%s` | %d | %d | %d | %d | %d |\n", p, r.docs, r.loaded, r.refused, r.run, r.identical)
	}
	b.WriteString("\n| why documents are refused | documents |\n|---|---:|\n")
	for _, r := range sortedKeys(reasons) {
		fmt.Fprintf(&b, "| %s | %d |\n", strings.ReplaceAll(r, "|", `\|`), reasons[r])
	}
	if len(constructs) > 0 {
		fmt.Fprintf(&b, "\nConstructs: %d small documents written here (testdata/ssm/constructs, not counted above), one\n", len(constructs))
		b.WriteString("per construct of the agent's, run the same way.\n\n| construct | result |\n|---|---|\n")
		for _, e := range constructs {
			o := res[e.File]
			if o == "identical" {
				o = "identical to SSM"
			}
			fmt.Fprintf(&b, "| %s (`%s`) | %s |\n", strings.ReplaceAll(strings.TrimPrefix(e.Note, "construct: "), "|", `\|`), path.Base(e.File), strings.ReplaceAll(o, "|", `\|`))
		}
	}
	fmt.Fprintf(&b, "%s\n", tableEnd)
	return b.String()
}

// isConstruct reports whether e is a document written here (constructs/)
// rather than a public one.
func isConstruct(e entry) bool { return strings.HasPrefix(e.File, "constructs/") }

// TestREADMECompatTable: the README's section is the one RESULTS.tsv gives
// (-update rewrites it).
func TestREADMECompatTable(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, tableBegin), strings.Index(s, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q … %q section", tableBegin, tableEnd)
	}
	want := compatTable(t)
	got := s[i : j+len(tableEnd)+1]
	if got == want {
		return
	}
	if !*update {
		t.Fatalf("README.md's compatibility table is out of date; run go test ./internal/ssmcompat -update")
	}
	if err := os.WriteFile(path, []byte(s[:i]+want+s[j+len(tableEnd)+1:]), 0o644); err != nil {
		t.Fatal(err)
	}
}
