package sshtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// What two hosts' ~/spans tell: three runs, at most two at once (an end
// and a start at the same instant do not overlap), the first start and
// the last end; a host without spans ran nothing; a line that is not a
// span is an error naming the file.
func TestReadSpans(t *testing.T) {
	a, b, none := t.TempDir(), t.TempDir(), t.TempDir()
	write := func(home, spans string) {
		if err := os.WriteFile(filepath.Join(home, "spans"), []byte(spans), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(a, "start x 100\nend x 200\nstart x 300\nend x 400\n")
	write(b, "start x 150\nend x 300\n")
	s, err := ReadSpans(a, b, none)
	if err != nil {
		t.Fatal(err)
	}
	want := Spans{Most: 2, Started: 3, First: time.Unix(0, 100), Last: time.Unix(0, 400)}
	if !s.First.Equal(want.First) || !s.Last.Equal(want.Last) || s.Most != want.Most || s.Started != want.Started {
		t.Errorf("ReadSpans = %+v, want %+v", s, want)
	}
	if most, started, err := MostAtOnce(a, b); most != 2 || started != 3 || err != nil {
		t.Errorf("MostAtOnce = %d, %d, %v; want 2, 3", most, started, err)
	}
	if s, err := ReadSpans(none); err != nil || s.Started != 0 || !s.First.IsZero() {
		t.Errorf("no spans: %+v %v", s, err)
	}
	write(b, "start x 150\nbegin x 160\n")
	if _, err := ReadSpans(a, b); err == nil || !strings.Contains(err.Error(), filepath.Join(b, "spans")+`: "begin x 160\n" is not a span line`) {
		t.Errorf("a bad line: %v", err)
	}
}

// RunSpans pairs each end with its run's start, keeps a killed run's start
// without an end, and Overlap takes that run to end when the next began;
// a run that went on and wrote its end inside the next is an overlap.
func TestSpansAndOverlap(t *testing.T) {
	home := t.TempDir()
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(home, "spans"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("start n1-10 100\nstart n2-20 300\nend n2-20 400\nstart n1-30 500\nend n1-30 600\n")
	spans, err := RunSpans(home)
	if err != nil {
		t.Fatal(err)
	}
	want := []Span{{"n1-10", 100, 0}, {"n2-20", 300, 400}, {"n1-30", 500, 600}}
	if len(spans) != len(want) {
		t.Fatalf("Spans = %v, want %v", spans, want)
	}
	for i := range want {
		if spans[i] != want[i] {
			t.Errorf("span %d = %v, want %v", i, spans[i], want[i])
		}
	}
	if a, b, found := Overlap(spans); found {
		t.Errorf("Overlap found %v and %v: a killed run's span ends when the next starts", a, b)
	}

	// The killed run went on and wrote its end inside the next.
	write("start n1-10 100\nstart n2-20 300\nend n1-10 350\nend n2-20 400\n")
	spans, err = RunSpans(home)
	if err != nil {
		t.Fatal(err)
	}
	if a, b, found := Overlap(spans); !found || a.Label != "n1-10" || b.Label != "n2-20" {
		t.Errorf("Overlap(%v) = %v, %v, %v: want n1-10 and n2-20", spans, a, b, found)
	}

	for _, bad := range []string{"end n1-1 5\n", "start a 1\nstart a 2\n", "start a x\n", "begin a 1\n"} {
		write(bad)
		if _, err := RunSpans(home); err == nil {
			t.Errorf("Spans of %q: no error", bad)
		}
	}
}

// SpanScript's lines, written by a real shell with "$$" in the label,
// are read back as one span.
func TestSpanScriptWithShellPID(t *testing.T) {
	home := t.TempDir()
	cmd := exec.Command("sh", "-c", SpanScript("n1-$$", "0"))
	cmd.Env = append(os.Environ(), "HOME="+home)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	spans, err := RunSpans(home)
	if err != nil || len(spans) != 1 || spans[0].End < spans[0].Start || spans[0].Label == "n1-$$" {
		t.Fatalf("Spans = %v, %v", spans, err)
	}
	most, started, err := MostAtOnce(home)
	if err != nil || most != 1 || started != 1 {
		t.Errorf("MostAtOnce = %d, %d, %v", most, started, err)
	}
}
