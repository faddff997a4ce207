package winrm

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestChunkReader(t *testing.T) {
	content := bytes.Repeat([]byte("abc"), putChunk) // 3 chunks
	cr := &chunkReader{r: bytes.NewReader(content), h: sha256.New()}
	out, err := io.ReadAll(iotest.OneByteReader(cr))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\r\n"), "\r\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines", len(lines))
	}
	var got []byte
	for _, l := range lines[:3] {
		b, err := base64.StdEncoding.DecodeString(l)
		if err != nil || len(b) > putChunk {
			t.Fatalf("line of %d bytes: %v", len(b), err)
		}
		got = append(got, b...)
	}
	sum := sha256.Sum256(content)
	if want := "=" + hex.EncodeToString(sum[:]) + " 147456"; lines[3] != want || cr.sum != want[1:] {
		t.Fatalf("last line %q, want %q", lines[3], want)
	}
	if !bytes.Equal(got, content) {
		t.Fatal("content differs")
	}
	// A read error leaves out the checksum line, so the host refuses.
	cr = &chunkReader{r: iotest.ErrReader(io.ErrClosedPipe), h: sha256.New()}
	out, _ = io.ReadAll(cr)
	if len(out) != 0 || cr.err == nil {
		t.Fatalf("%q %v", out, cr.err)
	}
}

func TestTimeouts(t *testing.T) {
	if got := isoSeconds(1500 * time.Millisecond); got != "PT2S" {
		t.Errorf("isoSeconds = %s", got)
	}
	for op, want := range map[time.Duration]time.Duration{time.Second: 500 * time.Millisecond, 60 * time.Second: 15 * time.Second, 10 * time.Minute: 15 * time.Second} {
		if got := receiveGrace(op); got != want {
			t.Errorf("receiveGrace(%s) = %s, want %s", op, got, want)
		}
	}
}

func TestBootstrapRunsPushedScript(t *testing.T) {
	target := "[IO.Path]::Combine([IO.Path]::GetTempPath(), 'driftless-00.ps1')"
	// The script that runs the one pushed to target, byte for byte.
	want, err := os.ReadFile("testdata/bootstrap.ps1.golden")
	if err != nil {
		t.Fatal(err)
	}
	if got := bootstrap(target); got != string(want) {
		t.Fatalf("bootstrap:\n%s\nwant\n%s", got, want)
	}
	if n := len(commandLine(bootstrap(target))); n > maxCommandLine {
		t.Fatalf("bootstrap command line of %d characters", n)
	}
}
