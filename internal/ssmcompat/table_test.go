package ssmcompat

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

const (
	tableBegin = "<!-- ssm-compat:begin (go test ./internal/ssmcompat -update) -->"
	tableEnd   = "<!-- ssm-compat:end -->"
)

var stepIndexRe = regexp.MustCompile(`\[\d+\]`)

// row counts documents by outcome.
type row struct{ docs, loaded, refused, run, identical, differs int }

func (r *row) add(o string) {
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
		r.differs++
	}
	r.loaded++
}

// tally is the corpus's outcomes, from MANIFEST.tsv and RESULTS.tsv.
type tally struct {
	res        map[string]string
	total      row
	schemas    map[string]int
	byClass    map[string]*row
	byPlugin   map[string]*row
	byDir      map[string]*row
	licences   map[string]map[string]bool // directory → licences
	reasons    map[string]int
	classes    []string
	plugins    []string
	constructs []entry
}

func newTally(t testing.TB) *tally {
	ta := &tally{res: map[string]string{}, schemas: map[string]int{}, byClass: map[string]*row{},
		byPlugin: map[string]*row{}, byDir: map[string]*row{}, licences: map[string]map[string]bool{}, reasons: map[string]int{}}
	for _, r := range readTSV(t, filepath.Join(corpusDir, "RESULTS.tsv"), 2) {
		ta.res[r[0]] = r[1]
	}
	for _, e := range readManifest(t) {
		o := ta.res[e.File]
		if isConstruct(e) {
			ta.constructs = append(ta.constructs, e)
			continue
		}
		ta.total.add(o)
		ta.schemas[e.Schema]++
		if ta.byClass[e.Class] == nil {
			ta.byClass[e.Class] = &row{}
			ta.classes = append(ta.classes, e.Class)
		}
		ta.byClass[e.Class].add(o)
		for p := range strings.SplitSeq(e.Plugins, ",") {
			if ta.byPlugin[p] == nil {
				ta.byPlugin[p] = &row{}
				ta.plugins = append(ta.plugins, p)
			}
			ta.byPlugin[p].add(o)
		}
		dir := path.Dir(e.File)
		if ta.byDir[dir] == nil {
			ta.byDir[dir] = &row{}
			ta.licences[dir] = map[string]bool{}
		}
		ta.byDir[dir].add(o)
		ta.licences[dir][strings.Fields(e.Licence)[0]] = true
		if r, ok := strings.CutPrefix(o, "refused("); ok {
			ta.reasons[refusalReason(r)]++
		}
	}
	return ta
}

// refusalReason is a refusal without its document-specific key.
func refusalReason(r string) string {
	r = strings.TrimSuffix(r, ")")
	r = stepIndexRe.ReplaceAllString(r, "[N]")
	if i := strings.Index(r, ": "); i >= 0 && !strings.Contains(r[:i], " ") {
		r = r[i+2:]
	}
	// RESULTS.tsv cut each message at the same length with its key: cut
	// them again, without it, so one reason counts once.
	r = strings.TrimSuffix(r, "…")
	if rs := []rune(r); len(rs) > 100 {
		r = string(rs[:100]) + "…"
	}
	return r
}

func (ta *tally) schemaList() string {
	var parts []string
	for _, s := range sortedKeys(ta.schemas) {
		parts = append(parts, fmt.Sprintf("%s: %d", s, ta.schemas[s]))
	}
	return strings.Join(parts, ", ")
}

const outcomeHeader = "documents | loaded | refused | run | identical to SSM | differs |\n"

func (r *row) cells() string {
	return fmt.Sprintf("%d | %d | %d | %d | %d | %d |", r.docs, r.loaded, r.refused, r.run, r.identical, r.differs)
}

// compatTable renders the README's compatibility section from MANIFEST.tsv
// and RESULTS.tsv.
func compatTable(t testing.TB) string {
	ta := newTally(t)
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", tableBegin)
	fmt.Fprintf(&b, "Measured on %d real public SSM Command documents that no one here wrote ([testdata/ssm](testdata/ssm/README.md):\n", ta.total.docs)
	fmt.Fprintf(&b, "schema %s).\n", ta.schemaList())
	b.WriteString("Each is loaded by driftless; each one that needs no AWS service but Parameter Store (stood in by\n")
	b.WriteString("`parameters.toml`) is run on real sshd hosts by driftless and by a reference executor that\n")
	b.WriteString("follows the amazon-ssm-agent source, in the same sandbox (stand-ins for sudo, package managers,\n")
	b.WriteString("services, network and long sleeps; required parameters given), and their step statuses, exit\n")
	b.WriteString("codes, stdout and stand-in calls are compared. Windows documents run too, for the result SSM\n")
	b.WriteString("gives on Linux.\n\n")
	fmt.Fprintf(&b, "**%d loaded, %d refused; %d run, %d with the result SSM gives, %d different.**\n\n",
		ta.total.loaded, ta.total.refused, ta.total.run, ta.total.identical, ta.total.differs)
	b.WriteString("| documents that | " + outcomeHeader + "|---|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range ta.classes {
		fmt.Fprintf(&b, "| %s | %s\n", c, ta.byClass[c].cells())
	}
	b.WriteString("\n| plugin (documents using it) | " + outcomeHeader + "|---|---:|---:|---:|---:|---:|---:|\n")
	counts := map[string]int{}
	for _, p := range ta.plugins {
		counts[p] = ta.byPlugin[p].docs
	}
	for _, p := range sortedKeys(counts) {
		fmt.Fprintf(&b, "| `%s` | %s\n", p, ta.byPlugin[p].cells())
	}
	b.WriteString("\n| why documents are refused | documents |\n|---|---:|\n")
	for _, r := range sortedKeys(ta.reasons) {
		fmt.Fprintf(&b, "| %s | %d |\n", strings.ReplaceAll(r, "|", `\|`), ta.reasons[r])
	}
	if len(ta.constructs) > 0 {
		fmt.Fprintf(&b, "\nConstructs: %d small documents written here (testdata/ssm/constructs, not counted above), one\n", len(ta.constructs))
		b.WriteString("per construct of the agent's, run the same way.\n\n| construct | result |\n|---|---|\n")
		for _, e := range ta.constructs {
			o := ta.res[e.File]
			if o == "identical" {
				o = "identical to SSM"
			}
			fmt.Fprintf(&b, "| %s (`%s`) | %s |\n", strings.ReplaceAll(strings.TrimPrefix(e.Note, "construct: "), "|", `\|`), path.Base(e.File), strings.ReplaceAll(o, "|", `\|`))
		}
	}
	fmt.Fprintf(&b, "%s\n", tableEnd)
	return b.String()
}

const (
	countsBegin = "<!-- ssm-corpus-counts:begin (go test ./internal/ssmcompat -update) -->"
	countsEnd   = "<!-- ssm-corpus-counts:end -->"
)

// corpusCounts renders testdata/ssm/README.md's counts: by directory and
// the outcomes, refusals counted by reason.
func corpusCounts(t testing.TB) string {
	ta := newTally(t)
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", countsBegin)
	fmt.Fprintf(&b, "%d public documents (schema %s) and %d constructs of our own.\n\n", ta.total.docs, ta.schemaList(), len(ta.constructs))
	b.WriteString("| directory | licence | " + outcomeHeader + "|---|---|---:|---:|---:|---:|---:|---:|\n")
	var dirs []string
	for d := range ta.byDir {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		var lics []string
		for l := range ta.licences[d] {
			lics = append(lics, l)
		}
		sort.Strings(lics)
		fmt.Fprintf(&b, "| `%s/` | %s | %s\n", d, strings.Join(lics, ", "), ta.byDir[d].cells())
	}
	fmt.Fprintf(&b, "| **all public** | | %s\n", ta.total.cells())
	b.WriteString("\n| refused because | documents |\n|---|---:|\n")
	for _, r := range sortedKeys(ta.reasons) {
		fmt.Fprintf(&b, "| %s | %d |\n", strings.ReplaceAll(r, "|", `\|`), ta.reasons[r])
	}
	notRun := map[string]int{}
	for _, e := range readManifest(t) {
		if !isConstruct(e) && ta.res[e.File] == "loaded" {
			why := e.Run
			if why == "-" || why == "" {
				why = "not reviewed for running (" + e.Class + ")"
			}
			notRun[strings.TrimPrefix(why, "no: ")]++
		}
	}
	b.WriteString("\n| loaded, not run, because | documents |\n|---|---:|\n")
	for _, r := range sortedKeys(notRun) {
		fmt.Fprintf(&b, "| %s | %d |\n", r, notRun[r])
	}
	fmt.Fprintf(&b, "%s\n", countsEnd)
	return b.String()
}

// isConstruct reports whether e is a document written here (constructs/)
// rather than a public one.
func isConstruct(e entry) bool { return strings.HasPrefix(e.File, "constructs/") }

// TestREADMECompatTable: the README's section and testdata/ssm/README.md's
// counts are the ones RESULTS.tsv gives (-update rewrites them).
func TestREADMECompatTable(t *testing.T) {
	checkSection(t, filepath.Join("..", "..", "README.md"), tableBegin, tableEnd, compatTable(t))
	checkSection(t, filepath.Join(corpusDir, "README.md"), countsBegin, countsEnd, corpusCounts(t))
}

// checkSection compares the section of file between begin and end (its
// lines included) with want, and rewrites it with -update.
func checkSection(t *testing.T, file, begin, end, want string) {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q … %q section", file, begin, end)
	}
	if s[i:j+len(end)+1] == want {
		return
	}
	if !*update {
		t.Fatalf("%s: the generated section is out of date; run go test ./internal/ssmcompat -update", file)
	}
	if err := os.WriteFile(file, []byte(s[:i]+want+s[j+len(end)+1:]), 0o644); err != nil {
		t.Fatal(err)
	}
}
