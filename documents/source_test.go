package documents

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/driftless-dev/driftless/internal/diag"
)

func TestSourceValidation(t *testing.T) {
	for _, src := range []string{"/etc/shadow", "../secret.txt", "files/../../secret.txt", `\\server\share`} {
		var list diag.List
		doc := "[[steps]]\nname = \"f\"\naction = \"file\"\npath = \"/tmp/x\"\nsource = " + tomlQuote(src) + "\n"
		Parse("d.toml", "d", ".toml", []byte(doc), &list)
		errs := list.Errors()
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), "d.toml:5:") || !strings.Contains(errs[0].Msg, "config dir") {
			t.Errorf("source %q: got %v, want one error at d.toml:5 about the config dir", src, errs)
		}
	}
	var list diag.List
	Parse("d.toml", "d", ".toml", []byte("[[steps]]\nname = \"f\"\naction = \"download\"\ndestination = \"/tmp/x\"\nsource = \"/dev/zero\"\n"), &list)
	if errs := list.Errors(); len(errs) != 1 || !strings.Contains(errs[0].Msg, "absolute path") {
		t.Errorf("download from /dev/zero: %v", errs)
	}
	for _, ok := range []string{"files/motd", "motd.txt", "a/./b"} {
		if err := CheckSource(ok); err != nil {
			t.Errorf("CheckSource(%q) = %v", ok, err)
		}
	}
}

func tomlQuote(s string) string { return "'" + s + "'" }

func TestOpenSourceConfined(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "files"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "files", "motd"), []byte("hello\n"), 0o644))
	must(os.Symlink("motd", filepath.Join(dir, "files", "inside")))
	must(os.Symlink(secret, filepath.Join(dir, "files", "abs")))
	must(os.Symlink("../../"+filepath.Base(outside)+"/secret", filepath.Join(dir, "files", "rel")))
	must(os.Symlink(outside, filepath.Join(dir, "out")))
	must(syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600))

	for _, p := range []string{"files/motd", "files/inside"} {
		f, _, err := OpenSource(dir, p)
		if err != nil {
			t.Fatalf("OpenSource(%q): %v", p, err)
		}
		b, _ := io.ReadAll(f)
		f.Close()
		if string(b) != "hello\n" {
			t.Errorf("%s read %q", p, b)
		}
	}
	for _, p := range []string{"files/abs", "files/rel", "out/secret", "fifo", "missing"} {
		f, _, err := OpenSource(dir, p)
		if err == nil {
			f.Close()
			t.Errorf("OpenSource(%q) opened it", p)
			continue
		}
		if p != "missing" && p != "fifo" && !errors.Is(err, ErrSourceOutside) {
			t.Errorf("OpenSource(%q) = %v, want ErrSourceOutside", p, err)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error shows the secret: %v", err)
		}
	}
	if _, _, err := OpenSource(dir, "fifo"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("fifo: %v", err)
	}
}
