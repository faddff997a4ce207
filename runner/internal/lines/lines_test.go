package lines

import (
	"fmt"
	"strings"
	"testing"
)

// numbered writes each line after its number, to show where the Writer
// cut.
type numbered struct{ n int }

func (in *numbered) Line(out *strings.Builder, line string) {
	in.n++
	Put(out, 1, fmt.Sprintf("%d %s", in.n, line))
}

// Whatever the pieces it is written in, through Write (fmt.Fprintf) or
// WriteString, the Writer hands on the same whole lines, the last one
// unterminated; Verbatim bypasses the Indenter.
func TestWriterCutsLines(t *testing.T) {
	var w Writer[numbered, *numbered]
	fmt.Fprintf(&w, "a%s", "b\nc")
	w.WriteString("d\n")
	w.WriteString("e\nf")
	fmt.Fprint(&w, "g\n\n")
	w.Comment("h")
	w.Verbatim("as is\n")
	w.WriteString("i")
	want := "\t1 ab\n\t2 cd\n\t3 e\n\t4 fg\n\t5 \n\t6 # h\nas is\n\t7 i"
	if got := w.String(); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// Put indents a line with tabs, but not an empty one.
func TestPut(t *testing.T) {
	var b strings.Builder
	for _, line := range []string{"x\n", "\n", ""} {
		Put(&b, 2, line)
	}
	if got := b.String(); got != "\t\tx\n\n" {
		t.Errorf("got %q", got)
	}
}
