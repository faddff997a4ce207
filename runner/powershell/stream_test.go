package powershell

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"
)

// decodeStdin is the script StdinScript runs from stdin.
func decodeStdin(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.SplitAfter(string(b), "\r\n") {
		if len(l) > psStdinLine+2 {
			t.Fatalf("a line of %d characters", len(l))
		}
	}
	dec, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(b), "\r\n", ""))
	if err != nil {
		t.Fatal(err)
	}
	return string(dec)
}

// Streamed content arrives in the script as the base64 literal that
// psBytes would have built into it; content that cannot be read to its
// end throws its reason instead.
func TestStdinStreamed(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789\x00\xff"), 50_000)
	script := "before ✓\n" + streamed(3) + "dl_write $p $dl_b\nafter\n"
	open := func(step int) (io.ReadCloser, error) {
		if step != 3 {
			t.Errorf("opened step %d, want 3", step)
		}
		return io.NopCloser(bytes.NewReader(content)), nil
	}
	want := "before ✓\n$dl_b = " + psBytes(content) + "\ndl_write $p $dl_b\nafter\n"
	if got := decodeStdin(t, StdinStreamed(script, open)); got != want {
		t.Errorf("streamed script differs from the script with the content built in (%d bytes, want %d)", len(got), len(want))
	}
	if got, plain := decodeStdin(t, StdinStreamed("x\n", open)), decodeStdin(t, Stdin("x\n")); got != plain || got != "x\n" {
		t.Errorf("a script without streamed content: %q, want %q", got, plain)
	}
	failing := func(int) (io.ReadCloser, error) {
		return io.NopCloser(io.MultiReader(bytes.NewReader(content[:5000]), iotestErr{errors.New("source f changed since it was planned; nothing was written")})), nil
	}
	got := decodeStdin(t, StdinStreamed(script, failing))
	if !strings.Contains(got, "'; throw 'source f changed since it was planned; nothing was written'\ndl_write $p $dl_b\nafter\n") {
		t.Errorf("a failed read does not throw its reason: ...%q", got[max(0, len(got)-200):])
	}
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }
