package sshtest

import (
	"os"
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
