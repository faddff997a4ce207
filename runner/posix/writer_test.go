package posix

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/runner/plan"
)

func indented(text string) string {
	var w writer
	w.WriteString(text)
	return w.String()
}

// Blocks opened and closed on their own lines indent what is between;
// a block opened and closed on one line does not; else and elif stand at
// their if's depth; a case on one line, with its ), stays balanced.
func TestWriterIndentsBlocks(t *testing.T) {
	want := `if [ -d x ]; then :
	mkdir -p x
else rm -f x; fi
while :; do
	if a; then b; fi
	case $m in 7) x ;; esac
	{ c
	} </dev/null
	( cd y || exit 96; eval 'z'
	) </dev/null
	dl_x=$(if a; then b; fi) ${#v} $((1+2))
done
if a; then :
elif b; then :
else :
fi
`
	// The input: the same lines, none indented.
	in := strings.ReplaceAll(want, "\n\t", "\n")
	if got := indented(in); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// The lines of a quoted string that spans several, and a word continued
// by a backslash-newline, are data: written as they are. Quotes in a
// comment open nothing.
func TestWriterLeavesQuotedLines(t *testing.T) {
	in := "if a; then\n# it's a comment\neval 'one\n  two; then\n'\nIFS='\n'; x=\"a\n  b\"\necho a\\\n  b\nfi\n"
	want := "if a; then\n\t# it's a comment\n\teval 'one\n  two; then\n'\n\tIFS='\n'; x=\"a\n  b\"\n\techo a\\\n  b\nfi\n"
	if got := indented(in); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// A step's comment names it, and what it acts on, on one line whatever
// its name holds.
func TestWriterComment(t *testing.T) {
	var w writer
	w.Comment((&plan.Step{Idx: 2, Name: "evil\nrm -rf /", Action: "file", Path: "/etc/x"}).Label())
	if got := w.String(); got != "# step 3: evil rm -rf / (file /etc/x)\n" {
		t.Errorf("comment %q", got)
	}
}

// Whatever the text, the writer only changes white space at the start of
// lines outside quotes: the same text, line by line, once that is
// removed.
func FuzzWriter(f *testing.F) {
	f.Add("if a; then\nb\nfi\n")
	f.Add("x='a\n b'\n{ c\n}\n")
	f.Add("case $x in a) b ;; esac\n(\n)\n\\\n  x\n")
	f.Fuzz(func(t *testing.T, s string) {
		got := indented(s)
		strip := func(x string) string {
			lines := strings.Split(x, "\n")
			for i, l := range lines {
				lines[i] = strings.TrimLeft(l, " \t")
			}
			return strings.Join(lines, "\n")
		}
		if strip(got) != strip(s) {
			t.Fatalf("%q became %q", s, got)
		}
	})
}

// The preludes, written verbatim, are whole lines whose blocks and quotes
// all close: the writer need not read them.
func TestPreludesAreClosed(t *testing.T) {
	for name, text := range map[string]string{"prelude": prelude, "tmpPrelude": tmpPrelude, "SystemPrelude": SystemPrelude} {
		var l lexer
		depth := 0
		for _, line := range strings.SplitAfter(text, "\n") {
			if l.open() {
				l.scan(line)
				continue
			}
			_, delta := l.blocks(strings.TrimLeft(line, " \t"))
			depth += delta
		}
		if l.open() || depth != 0 || !strings.HasSuffix(text, "\n") {
			t.Errorf("%s: open quote %v, depth %d, ends with a newline %v", name, l.open(), depth, strings.HasSuffix(text, "\n"))
		}
	}
}

// The scripts exchange values only through the variables shellVars
// declares: every variable a golden script sets is one of them.
func TestGoldenScriptsSetOnlyDeclaredVariables(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "golden", "*.sh.golden"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden scripts: %v", err)
	}
	set := regexp.MustCompile(`(?:^|[^A-Za-z0-9_$])(dl_[a-z_]+?)[0-9]*=|read -r (dl_[a-z0-9_]+)`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range set.FindAllStringSubmatch(string(b), -1) {
			name := m[1] + m[2]
			if _, ok := shellVars[name]; !ok {
				t.Errorf("%s sets %s, which shellVars does not declare", filepath.Base(f), name)
			}
		}
	}
}
