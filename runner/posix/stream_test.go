package posix

import (
	"bytes"
	"errors"
	"io"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/runner/internal/splice"
)

type errReader struct{ err error }

// Stdin and StdinFor are what StdinJoined sends for one script, made the
// straightforward way (MainFor's copy of it, its streamed content read
// in): the oracle the joined parts are held to.
func Stdin(script string, open func(step int) (io.ReadCloser, error)) io.Reader {
	return StdinFor("", script, open)
}

func StdinFor(key, script string, open func(step int) (io.ReadCloser, error)) io.Reader {
	return splice.Reader(MainFor(key, script), func(step int) io.Reader { return printfEncoding.Content(step, open) })
}

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// A streamed write is the printf commands printfBytes builds, sent as the
// content is read; a read that fails ends them with a command that fails
// with the reason, so that the shell that runs it writes nothing.
func TestStdinStreamed(t *testing.T) {
	content := bytes.Repeat([]byte("-0123456789\x00\xff'%\\\n"), 40_000)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	script := "if " + streamed(2, Quote(out)) + " 2>" + Quote(out+".e") + "; then echo wrote; else rm -f " + Quote(out) + "; echo failed; fi"
	open := func(step int) (io.ReadCloser, error) {
		if step != 2 {
			t.Errorf("opened step %d, want 2", step)
		}
		return io.NopCloser(bytes.NewReader(content)), nil
	}
	b, _ := io.ReadAll(Stdin(script, open))
	if want := Main(strings.Replace(script, streamed(2, Quote(out)), printfBytes(content, Quote(out)), 1)); string(b) != want {
		t.Fatalf("streamed script differs from the script with the content built in (%d bytes, want %d)", len(b), len(want))
	}
	run := func(stdin io.Reader) string {
		t.Helper()
		c := osexec.Command("sh", "-c", StdinScript)
		c.Stdin = stdin
		got, _ := c.CombinedOutput()
		return string(got)
	}
	if got := run(Stdin(script, open)); !strings.Contains(got, "wrote") {
		t.Fatalf("sh: %s", got)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, content) {
		t.Errorf("wrote %d bytes, want the %d of the content", len(got), len(content))
	}
	os.Remove(out)
	failing := func(int) (io.ReadCloser, error) {
		return io.NopCloser(io.MultiReader(bytes.NewReader(content[:9000]), errReader{errors.New("source f changed since it was planned; nothing was written")})), nil
	}
	if got := run(Stdin(script, failing)); !strings.Contains(got, "failed") {
		t.Fatalf("sh: %s", got)
	}
	if e, _ := os.ReadFile(out + ".e"); !strings.Contains(string(e), "source f changed since it was planned; nothing was written") {
		t.Errorf("stderr %q, want the reason", e)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("the file of a failed streamed write was kept")
	}
}

// StdinFor sends exactly MainFor's text, whatever size the reads are,
// and fills each read as far as it goes (one read, one packet).
func TestStdinForIsMainFor(t *testing.T) {
	script := strings.Repeat("echo step\n", 500)
	want := MainFor("k3y", script)
	for _, size := range []int{1, 7, 100, 4096, 32 << 10, len(want) + 10} {
		r := StdinFor("k3y", script, nil)
		var got strings.Builder
		buf := make([]byte, size)
		for {
			n, err := r.Read(buf)
			got.Write(buf[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if n < size && got.Len() < len(want) {
				t.Fatalf("read of %d bytes gave %d with %d left", size, n, len(want)-got.Len())
			}
		}
		if got.String() != want {
			t.Fatalf("reads of %d bytes: the text differs from MainFor's", size)
		}
	}
}

// StdinJoined reads as StdinFor of the joined script does, read for
// read, whatever size the reads are and however many pieces there are.
func TestStdinJoinedIsStdinFor(t *testing.T) {
	script := strings.Repeat("echo step\n", 300)
	for _, pieces := range [][]string{{script}, {script, script}, {"", script, "", script, ""}, {"DLM='", "'\n" + script}} {
		for _, size := range []int{1, 7, 4096, 32 << 10} {
			joined, whole := StdinJoined("k3y", pieces, "@@DL-0123", nil), StdinFor("k3y", strings.Join(pieces, "@@DL-0123"), nil)
			a, b := make([]byte, size), make([]byte, size)
			for read := 0; ; read++ {
				n, err := joined.Read(a)
				m, werr := whole.Read(b)
				if n != m || err != werr || string(a[:n]) != string(b[:m]) {
					t.Fatalf("%d pieces, read %d of %d bytes: %d %v, StdinFor %d %v", len(pieces), read, size, n, err, m, werr)
				}
				if err != nil {
					break
				}
			}
		}
	}
}

// A joined script with streamed content is the script with the content
// built in, as StdinFor sends it.
func TestStdinJoinedStreamed(t *testing.T) {
	content := bytes.Repeat([]byte("abc'%\n"), 5000)
	open := func(int) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil }
	pieces := []string{"DLM='", "'\n" + streamed(1, "f") + "\necho done\n"}
	got, _ := io.ReadAll(StdinJoined("k", pieces, "@@DL-1", open))
	want, _ := io.ReadAll(StdinFor("k", strings.Join(pieces, "@@DL-1"), open))
	if string(got) != string(want) || !bytes.Contains(got, []byte("DLM='@@DL-1'")) {
		t.Fatalf("joined streamed script differs (%d bytes, want %d)", len(got), len(want))
	}
}
