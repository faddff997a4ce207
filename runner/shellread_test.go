package runner_test

import (
	"context"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/driftless-dev/driftless/internal/shelltest"
	"github.com/driftless-dev/driftless/transport"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/internal/configtest"
	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/local"
	"github.com/driftless-dev/driftless/runner"
)

// Small files are read by the shell itself, with no sha256sum or grep,
// and still found drifted when one byte differs; a NUL byte (which sh
// drops) or a larger file is left to the programs. (GNU grep takes the
// NUL for a line end, so "the line" is found in l2, as before.)
func TestSmallFilesReadByTheShell(t *testing.T) {
	home := t.TempDir()
	// Each program the scripts may use for a check logs its arguments.
	log := logPrograms(t, "stat", "sha256sum", "grep")
	t.Setenv("HOME", home)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	host := map[string]string{
		"same": "ab\n", "nul": "a\x00b\n", "samesize": "aX\n", "noeol": "a\nb", "blanks": "a\r\n \\t 'q' \n\n", "empty": "",
		"l1": "x\nthe line", "l2": "x\nthe line\x00\n", "l3": strings.Repeat("filler\n", 300) + "the line\n",
	}
	for name, content := range host {
		if err := os.WriteFile(filepath.Join(home, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := localConfig(t, configtest.Doc(testDocs, "shell-read.toml"))
	run := func(check bool, want string) []string {
		t.Helper()
		os.Remove(log)
		if got := statuses(runLocal(t, cfg, check)); got != want {
			t.Fatalf("statuses:\n got %s\nwant %s", got, want)
		}
		b, _ := os.ReadFile(log)
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	programs := run(true, "same=Compliant nul=Drifted samesize=Drifted noeol=Compliant blanks=Compliant empty=Compliant "+
		"line=Compliant linenul=Compliant linebig=Compliant flag=Drifted")
	// sha256sum hashes the two drifted files only (from stdin); grep
	// looks at the file with a NUL byte and the large one.
	want := []string{"grep -qxF -- the line " + filepath.Join(home, "l2"), "grep -qxF -- the line " + filepath.Join(home, "l3"), "sha256sum", "sha256sum"}
	if got := notStat(programs); !slices.Equal(got, want) {
		t.Errorf("programs besides stat:\n got %q\nwant %q", got, want)
	}

	run(false, "same=Compliant nul=Corrected samesize=Corrected noeol=Compliant blanks=Compliant empty=Compliant "+
		"line=Compliant linenul=Compliant linebig=Compliant flag=Corrected")
	for name, want := range map[string]string{"nul": "ab\n", "samesize": "ab\n"} {
		if b, _ := os.ReadFile(filepath.Join(home, name)); string(b) != want {
			t.Errorf("%s = %q, want %q", name, b, want)
		}
	}
	// samesize got its mode from a umask; the login umask is back for
	// the command after it.
	for name, want := range map[string]os.FileMode{"samesize": 0o600, "flag": 0o644} {
		if fi, err := os.Stat(filepath.Join(home, name)); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", name, fi.Mode().Perm(), err, want)
		}
	}
	// The script's private files are gone.
	if left := shelltest.Leftovers(tmp); len(left) != 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}
	programs = run(true, "same=Compliant nul=Compliant samesize=Compliant noeol=Compliant blanks=Compliant empty=Compliant "+
		"line=Compliant linenul=Compliant linebig=Compliant flag=Compliant")
	want = []string{"grep -qxF -- the line " + filepath.Join(home, "l2"), "grep -qxF -- the line " + filepath.Join(home, "l3")}
	if got := notStat(programs); !slices.Equal(got, want) {
		t.Errorf("converged, programs besides stat:\n got %q\nwant %q", got, want)
	}
	if n := len(programs) - len(want); n != 1 {
		t.Errorf("converged check: stat started %d times, want 1 (one batch): %q", n, programs)
	}
}

// notStat is the sorted log lines of programs other than stat.
func notStat(lines []string) []string {
	var out []string
	for _, l := range lines {
		if l != "" && !strings.HasPrefix(l, "stat ") {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// A fresh host's apply starts only the programs that write (mkdir, mv)
// and the one rm of the script's private files: no stat when none of
// the paths is there, and what was written is verified by the shell.
// A converged apply starts one stat.
func TestFreshApplyStartsOnlyWriters(t *testing.T) {
	home := t.TempDir()
	log := logPrograms(t, "stat", "sha256sum", "grep", "mkdir", "mv", "rm", "awk", "chmod", "cat", "head")
	t.Setenv("HOME", home)
	doc := configtest.Doc(testDocs, "fresh-apply.toml")
	cfg := localConfig(t, doc)
	run := func(want string) []string {
		t.Helper()
		os.Remove(log)
		if got := statuses(runLocal(t, cfg, false)); got != want {
			t.Fatalf("statuses:\n got %s\nwant %s", got, want)
		}
		got := programNames(log)
		slices.Sort(got)
		return got
	}
	got := run("dir=Corrected conf=Corrected profile=Corrected install=Corrected")
	if want := []string{"mkdir", "mv", "mv", "rm"}; !slices.Equal(got, want) {
		t.Errorf("fresh apply started %q, want %q", got, want)
	}
	for name, want := range map[string]string{"app/app.conf": "listen = 8080\nworkers = 4\n", ".profile": "export ENV=production\n", "app/.installed": ""} {
		if b, err := os.ReadFile(filepath.Join(home, name)); err != nil || string(b) != want {
			t.Errorf("%s = %q (%v), want %q", name, b, err, want)
		}
	}
	for name, want := range map[string]os.FileMode{"app": 0o750, "app/app.conf": 0o640} {
		if fi, err := os.Stat(filepath.Join(home, name)); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", name, fi.Mode().Perm(), err, want)
		}
	}
	got = run("dir=Compliant conf=Compliant profile=Compliant install=Compliant")
	if want := []string{"stat"}; !slices.Equal(got, want) {
		t.Errorf("converged apply started %q, want %q", got, want)
	}
}

// logPrograms puts first in PATH a wrapper for each of the programs
// names that logs "name args..." to the file it returns, then runs the
// program.
func logPrograms(t *testing.T, names ...string) string {
	t.Helper()
	bin := t.TempDir()
	log := filepath.Join(t.TempDir(), "programs.log")
	for _, name := range names {
		real, err := osexec.LookPath(name)
		if err != nil {
			t.Skipf("%s: %v", name, err)
		}
		w := fmt.Sprintf("#!/bin/sh\necho %s \"$@\" >>%s\nexec %s \"$@\"\n", name, log, real)
		if err := os.WriteFile(filepath.Join(bin, name), []byte(w), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	return log
}

// A literal line added to a small file is added by the shell itself (no
// awk), every line and the file's mode kept; a file with a NUL byte is
// left to awk, and one with CR line ends to the runner, as before.
func TestLineAddedByTheShell(t *testing.T) {
	home := t.TempDir()
	log := logPrograms(t, "awk", "chmod", "head")
	t.Setenv("HOME", home)
	files := map[string]struct {
		content string
		mode    os.FileMode
		want    string
	}{
		"eol":   {"a\n  b \\n\n", 0o640, "a\n  b \\n\nexport X='1'\n"},
		"noeol": {"a\nb", 0o600, "a\nb\nexport X='1'\n"},
		"empty": {"", 0o644, "export X='1'\n"},
		"nul":   {"a\x00b\n", 0o644, "a\x00b\nexport X='1'\n"},
		"crlf":  {"a\r\nb\r\n", 0o644, ""},
	}
	var doc strings.Builder
	// In this order: a CR leaves the steps after it to the runner.
	names := []string{"eol", "noeol", "empty", "nul", "crlf"}
	for _, name := range names {
		f := files[name]
		if err := os.WriteFile(filepath.Join(home, name), []byte(f.content), f.mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(filepath.Join(home, name), f.mode)
		fmt.Fprintf(&doc, "[[steps]]\nname = %q\naction = \"line\"\npath = \"~/%s\"\nline = \"export X='1'\"\n\n", name, name)
	}
	// A second path makes the check batch its stat.
	doc.WriteString("[[steps]]\nname = \"dir\"\naction = \"directory\"\npath = \"~\"\n")
	cfg := localConfig(t, doc.String())
	h := runLocal(t, cfg, false)
	if got, want := statuses(h), "eol=Corrected noeol=Corrected empty=Corrected nul=Corrected crlf=Corrected dir=Compliant"; got != want {
		t.Fatalf("statuses:\n got %s\nwant %s", got, want)
	}
	for _, name := range names {
		f := files[name]
		b, err := os.ReadFile(filepath.Join(home, name))
		switch {
		case err != nil:
			t.Errorf("%s: %v", name, err)
		case f.want == "" && !strings.Contains(string(b), "export X='1'"):
			t.Errorf("%s = %q: no line", name, b)
		case f.want != "" && string(b) != f.want:
			t.Errorf("%s = %q, want %q", name, b, f.want)
		}
		if fi, err := os.Stat(filepath.Join(home, name)); err == nil && fi.Mode().Perm() != f.mode {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), f.mode)
		}
	}
	// The shell sent the files' content for the diff, too.
	for i, want := range map[int]string{0: "\n a\n   b \\n\n+export X='1'\n", 1: "\n a\n-b\n\\ No newline at end of file\n+b\n+export X='1'\n"} {
		if d := h.Steps[i].Differ; !strings.Contains(d, want) {
			t.Errorf("%s differs by %q, want it to hold %q", names[i], d, want)
		}
	}
	programs := programNames(log)
	if want := []string{"head", "awk"}; !slices.Equal(programs, want) {
		t.Errorf("programs: %q, want %q (for the file with a NUL byte)", programs, want)
	}
	left, _ := filepath.Glob(filepath.Join(home, "*dl-tmp*"))
	if len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// A list of plain commands runs in the script's shell (no subshell) with
// the list's own status: && stops at a failure, || goes on after one.
func TestCommandListsWithoutSubshell(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	doc := configtest.Doc(testDocs, "command-lists.toml")
	cfg := localConfig(t, doc)
	h := runLocal(t, cfg, false)
	if got, want := statuses(h), "and=Failed or=Success seq=Success"; got != want {
		t.Fatalf("statuses: %s, want %s", got, want)
	}
	if c := h.Steps[0].ExitCode; c == nil || *c != 2 || !strings.Contains(h.Steps[0].Stderr, "nonexistent-dl") {
		t.Errorf("and: exit %v, stderr %q", c, h.Steps[0].Stderr)
	}
	for name, want := range map[string]bool{"never": false, "fallback": true, "d/x": true} {
		if _, err := os.Stat(filepath.Join(home, name)); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", name, err == nil, want)
		}
	}
}

// programNames is the names of the programs logPrograms' log holds, in
// the order they started.
func programNames(log string) []string {
	b, _ := os.ReadFile(log)
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if name, _, _ := strings.Cut(l, " "); name != "" {
			names = append(names, name)
		}
	}
	return names
}

// localConfig is a config dir whose one host is this machine (the local
// transport) and whose one association runs doc on it.
func localConfig(t *testing.T, doc string) *config.Config {
	t.Helper()
	cfg, _ := configtest.Dir(t, t.TempDir(), map[string]string{
		"inventory.toml":     "[hosts.me]\ntransport = \"local\"\n",
		"associations.toml":  "[associations.a]\ndocument = \"doc\"\ntargets = [\"*\"]\n",
		"documents/doc.toml": doc,
	})
	return cfg
}

// runLocal runs cfg's association (in check mode when check) and returns
// the host's result.
func runLocal(t *testing.T, cfg *config.Config, check bool) journal.HostResult {
	t.Helper()
	r := runner.New(runner.Options{Config: cfg, Dial: func(_ context.Context, h *inventory.Host) (transport.Conn, error) {
		return local.New(h.Name), nil
	}})
	defer r.Close()
	res, err := r.Run(context.Background(), runner.Job{Assoc: cfg.Associations[0], Check: check})
	if err != nil {
		t.Fatal(err)
	}
	return res.Hosts[0]
}
