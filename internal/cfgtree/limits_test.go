package cfgtree

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/driftless-dev/driftless/internal/diag"
)

func parseAs(ext, src string) (*Node, error) {
	switch ext {
	case "toml":
		return ParseTOML("f."+ext, []byte(src))
	case "json":
		return ParseJSON("f."+ext, []byte(src))
	default:
		return ParseYAML("f."+ext, []byte(src))
	}
}

// yamlBomb is the billion-laughs shape: each level aliases the one
// before nine times.
func yamlBomb(levels int) string {
	var b strings.Builder
	b.WriteString(`l0: &l0 ["x","x","x","x","x","x","x","x","x"]` + "\n")
	for i := 1; i <= levels; i++ {
		prev := "*l" + string(rune('0'+i-1))
		b.WriteString("l" + string(rune('0'+i)) + ": &l" + string(rune('0'+i)) + " [" + strings.Repeat(prev+",", 8) + prev + "]\n")
	}
	return b.String()
}

func TestLimitsRefuse(t *testing.T) {
	big := strings.Repeat("y", 200_000)
	cases := []struct {
		name, ext, src, want string
		pos                  diag.Pos
	}{
		{"toml arrays", "toml", "a = " + strings.Repeat("[", 150) + strings.Repeat("]", 150), "nesting deeper than 100 levels: limit 100", diag.Pos{Line: 1, Col: 105}},
		{"toml inline tables", "toml", "a = " + strings.Repeat("{b=", 150) + "1" + strings.Repeat("}", 150), "nesting deeper than 100 levels", diag.Pos{Line: 1}},
		{"toml dotted key", "toml", "x = 1\n" + strings.Repeat("a.", 150) + "b = 1", "nesting deeper than 100 levels", diag.Pos{Line: 2}},
		{"toml header", "toml", "[" + strings.Repeat("a.", 150) + "b]\nx = 1", "nesting deeper than 100 levels", diag.Pos{Line: 1}},
		{"json", "json", strings.Repeat("[", 150) + strings.Repeat("]", 150), "nesting deeper than 100 levels", diag.Pos{Line: 1, Col: 102}},
		{"yaml flow", "yaml", strings.Repeat("[", 150) + strings.Repeat("]", 150), "nesting deeper than 100 levels", diag.Pos{Line: 1, Col: 102}},
		{"yaml alias nodes", "yaml", yamlBomb(8), "YAML aliases expand to more than 10000 nodes: limit 10000", diag.Pos{Line: 5, Col: 10}},
		{"yaml alias bytes", "yaml", "a: &a " + big + "\nb: [" + strings.Repeat("*a,", 5) + "*a]\n", "YAML aliases expand to more than 1 MiB: limit 1 MiB", diag.Pos{Line: 2}},
		{"toml bad utf-8", "toml", "x = 1\ndescription = \"ab\xffcd\"\n", "invalid UTF-8 byte 0xff", diag.Pos{Line: 2, Col: 18}},
		{"json bad utf-8", "json", "{\n  \"é\": \"\xfe\"}", "invalid UTF-8 byte 0xfe", diag.Pos{Line: 2, Col: 9}},
		{"yaml bad utf-8", "yaml", "a: 1\nb: \xc3(\n", "invalid UTF-8 byte 0xc3", diag.Pos{Line: 2, Col: 4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := parseAs(tc.ext, tc.src)
			var de *diag.Error
			if !errors.As(err, &de) {
				t.Fatalf("got %v, %v; want a diag.Error %q", n, err, tc.want)
			}
			if !strings.Contains(de.Msg, tc.want) {
				t.Errorf("message %q, want %q", de.Msg, tc.want)
			}
			if de.Pos.Line != tc.pos.Line || tc.pos.Col != 0 && de.Pos.Col != tc.pos.Col {
				t.Errorf("position %d:%d, want %d:%d", de.Pos.Line, de.Pos.Col, tc.pos.Line, tc.pos.Col)
			}
		})
	}
}

// What real files hold must not count as nesting: dots in strings,
// comments and numbers, brackets in strings, and nesting up to the limit.
func TestLimitsAccept(t *testing.T) {
	dots := strings.Repeat(".", 300)
	cases := []struct{ name, ext, src string }{
		{"toml dots and brackets elsewhere", "toml", "# " + dots + strings.Repeat("[", 300) + "\n" +
			"a = \"" + dots + strings.Repeat("{", 300) + "\"\n" +
			"b = '" + dots + "'\n" +
			"c = \"\"\"\n" + dots + "\n" + strings.Repeat("[", 300) + "\n\"\"\"\n" +
			"d = [" + strings.Repeat("1.5, ", 300) + "2.5]\n" +
			"e = { f.g = 1.25, h = \"" + dots + "\" }\n" +
			"[t]\n\"" + dots + "\" = 1\n"},
		{"toml at the limit", "toml", "a = " + strings.Repeat("[", 99) + strings.Repeat("]", 99)},
		{"json at the limit", "json", strings.Repeat("[", 99) + strings.Repeat("]", 99)},
		{"yaml aliases within the budget", "yaml", yamlBomb(3)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseAs(tc.ext, tc.src); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestReadFileLimits(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.toml")
	if err := os.WriteFile(big, make([]byte, MaxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ReadFile of %d bytes: %v, want ErrTooLarge", MaxFileSize+1, err)
	}
	if got := ReadError(big, "the document", ErrTooLarge).Error(); got != big+": the document is larger than 16 MiB: limit 16 MiB" {
		t.Errorf("message %q", got)
	}
	if err := os.Truncate(big, MaxFileSize); err != nil {
		t.Fatal(err)
	}
	if src, err := ReadFile(big); err != nil || len(src) != MaxFileSize {
		t.Fatalf("ReadFile of exactly the limit: %d bytes, %v", len(src), err)
	}
	fifo := filepath.Join(dir, "fifo.toml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if _, err := ReadFile(fifo); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("ReadFile of a FIFO: %v, want not a regular file", err)
	}
}
