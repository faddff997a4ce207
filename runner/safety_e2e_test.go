package runner_test

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/internal/configtest"
	"github.com/driftless-dev/driftless/internal/sshtest"
)

// SPEC §6: a file, line or directory step never follows a symlink at its
// path unless it says follow = true.
var symlinkDoc = configtest.Doc(testDocs, "symlink.toml")

// chownTo gives path (not a symlink's target) to the host's user, so
// that a step that wrongly followed a link could change its target.
func chownTo(t *testing.T, h *sshtest.Host, path string) {
	t.Helper()
	u, err := user.Lookup(h.User)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if uid != os.Getuid() {
		if err := os.Lchown(path, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
}

// A symlink where a file or directory is declared is drift ("is a
// symlink"); apply replaces the link (never its target) with a regular
// file or directory of at most the step's mode (0644, 0755 by default);
// the next apply finds it in state. With follow = true the step manages
// the target. Each case both in the check script's own correction
// (small content) and in the apply script's (large content).
func TestSymlinksAreNotFollowed(t *testing.T) {
	big := strings.Repeat("0123456789abcdef\n", 5000) // > 64 KiB: written by the apply script
	f := newFleet(t, 1, "[associations.s]\ndocument = \"links\"\ntargets = [\"*\"]\n", "links.toml",
		strings.Replace(symlinkDoc, "{{ big }}", big, 1))
	h := f.hosts[0]
	home := h.Home
	tdir := filepath.Join(home, "t")
	mkdir := func(p string, mode os.FileMode) {
		t.Helper()
		if err := os.Mkdir(p, mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode) // not less the umask
		chownTo(t, h, p)
	}
	write := func(p, content string, mode os.FileMode) {
		t.Helper()
		writeAs(t, h, p, content)
		os.Chmod(p, mode)
	}
	link := func(target, p string) {
		t.Helper()
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		chownTo(t, h, p)
	}
	mkdir(tdir, 0o755)
	targets := map[string]string{"file": "target\n", "line": "kept\n", "big": "big target\n", "follow-file": "old\n", "follow-line": "a\n"}
	for name, content := range targets {
		write(filepath.Join(tdir, name), content, 0o666)
	}
	mkdir(filepath.Join(tdir, "dir"), 0o777)
	mkdir(filepath.Join(tdir, "dir2"), 0o777)
	mkdir(filepath.Join(tdir, "follow-dir"), 0o755)
	link("t/file", filepath.Join(home, "link-file")) // relative
	link(filepath.Join(tdir, "line"), filepath.Join(home, "link-line"))
	link(filepath.Join(tdir, "dir"), filepath.Join(home, "link-dir"))
	link("t/dir2", filepath.Join(home, "link-dir2"))
	link(filepath.Join(tdir, "big"), filepath.Join(home, "link-big"))
	link("t/follow-file", filepath.Join(home, "follow-file"))
	link(filepath.Join(tdir, "follow-line"), filepath.Join(home, "follow-line"))
	link("t/follow-dir", filepath.Join(home, "follow-dir"))

	all := func(status string) string {
		var s []string
		for _, n := range []string{"file", "line", "dir", "dir-mode", "big", "follow-file", "follow-line", "follow-dir"} {
			s = append(s, n+"="+status)
		}
		return strings.Join(s, " ")
	}
	res := runExpect(t, f, true, all("Drifted"))
	for _, st := range res.Hosts[0].Steps[:5] {
		if !strings.HasPrefix(st.Differ, "is a symlink") {
			t.Errorf("%s: differ %q, want \"is a symlink\"", st.Name, st.Differ)
		}
	}
	for _, st := range res.Hosts[0].Steps[5:] {
		if strings.Contains(st.Differ, "symlink") {
			t.Errorf("%s (follow): differ %q", st.Name, st.Differ)
		}
	}
	runExpect(t, f, false, all("Corrected"))

	// The links were replaced by regular files and directories, with no
	// more than the default modes.
	for name, want := range map[string]string{"link-file": "declared\n", "link-line": "added=1\n", "link-big": big} {
		p := filepath.Join(home, name)
		fi, err := os.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s: %v %v, want a regular file", name, fi.Mode(), err)
			continue
		}
		if fi.Mode().Perm()&^0o644 != 0 {
			t.Errorf("%s: mode %o, more than 0644", name, fi.Mode().Perm())
		}
		if b, _ := os.ReadFile(p); string(b) != want {
			t.Errorf("%s = %.40q", name, b)
		}
	}
	for name, max := range map[string]os.FileMode{"link-dir": 0o755, "link-dir2": 0o700} {
		fi, err := os.Lstat(filepath.Join(home, name))
		if err != nil || !fi.IsDir() {
			t.Errorf("%s: %v %v, want a directory", name, fi.Mode(), err)
			continue
		}
		if fi.Mode().Perm()&^max != 0 || (name == "link-dir2" && fi.Mode().Perm() != max) {
			t.Errorf("%s: mode %o, want at most %o", name, fi.Mode().Perm(), max)
		}
	}
	// The old targets are untouched.
	for name, content := range map[string]string{"file": "target\n", "line": "kept\n", "big": "big target\n"} {
		p := filepath.Join(tdir, name)
		fi, _ := os.Stat(p)
		if b, _ := os.ReadFile(p); string(b) != content || fi.Mode().Perm() != 0o666 {
			t.Errorf("target %s: %q mode %o, want %q mode 666", name, b, fi.Mode().Perm(), content)
		}
	}
	for _, name := range []string{"dir", "dir2"} {
		if fi, _ := os.Stat(filepath.Join(tdir, name)); fi.Mode().Perm() != 0o777 {
			t.Errorf("target %s: mode %o, want 777 (untouched)", name, fi.Mode().Perm())
		}
	}
	// follow = true: the links stay, their targets are managed.
	for _, name := range []string{"follow-file", "follow-line", "follow-dir"} {
		if fi, err := os.Lstat(filepath.Join(home, name)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symlink: %v %v", name, fi.Mode(), err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(tdir, "follow-file")); string(b) != "managed\n" {
		t.Errorf("follow-file target = %q", b)
	}
	if fi, _ := os.Stat(filepath.Join(tdir, "follow-file")); fi.Mode().Perm() != 0o600 {
		t.Errorf("follow-file target mode %o", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(filepath.Join(tdir, "follow-line")); string(b) != "a\nx=1\n" {
		t.Errorf("follow-line target = %q", b)
	}
	if fi, _ := os.Stat(filepath.Join(tdir, "follow-dir")); fi.Mode().Perm() != 0o750 {
		t.Errorf("follow-dir target mode %o", fi.Mode().Perm())
	}
	runExpect(t, f, false, all("Compliant"))
	runExpect(t, f, true, all("Compliant"))
}

// line state = "absent" removes the line from a CRLF file (the file
// keeps its CRLF ends); a diff shows a line's CR as ␍ where line ends
// differ; a file step into a
// missing directory fails with the host's reason.
var crlfDoc = configtest.Doc(testDocs, "crlf.toml")

func TestCRLFAndMissingDirectory(t *testing.T) {
	f := newFleet(t, 1, "[associations.c]\ndocument = \"crlf\"\ntargets = [\"*\"]\n", "crlf.toml", crlfDoc)
	home := f.hosts[0].Home
	writeAs(t, f.hosts[0], filepath.Join(home, "win.conf"), "a = 1\r\ndebug = true\r\nb = 2\r\n")
	writeAs(t, f.hosts[0], filepath.Join(home, "unix.conf"), "a\r\nb\n")
	res := runExpect(t, f, true, "drop=Drifted unix=Drifted nowhere=Drifted")
	// A CRLF file's diff keeps its CRs; where line ends differ, a CR
	// shows as ␍.
	if d := res.Hosts[0].Steps[0].Differ; !strings.Contains(d, "\n-debug = true\r\n") {
		t.Errorf("drop: differ %q", d)
	}
	if d := res.Hosts[0].Steps[1].Differ; !strings.Contains(d, "\n-a␍\n+a\n") {
		t.Errorf("unix: differ %q", d)
	}
	res = f.run(t, false, nil)
	if got := statuses(res.Hosts[0]); got != "drop=Corrected unix=Corrected nowhere=Failed" {
		t.Fatalf("apply: %s", got)
	}
	if b, _ := os.ReadFile(filepath.Join(home, "win.conf")); string(b) != "a = 1\r\nb = 2\r\n" {
		t.Errorf("win.conf = %q", b)
	}
	e := res.Hosts[0].Steps[2].Error
	if reason, _ := strings.CutPrefix(e, "could not correct:"); strings.TrimSpace(reason) == "" {
		t.Errorf("nowhere: error %q has no reason", e)
	}
	res = f.run(t, false, nil)
	if got := statuses(res.Hosts[0]); got != "drop=Compliant unix=Compliant nowhere=Failed" {
		t.Fatalf("second apply: %s", got)
	}
}
