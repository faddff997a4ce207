package posix

import (
	"bytes"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/runner/plan"
)

// Only a test of plain words runs in the script's own shell; anything
// that could change the shell (a second command, an expansion, a
// redirection) runs in a subshell.
func TestPlainTest(t *testing.T) {
	checkCmds(t, "plainTest", func(cmd string) bool { return plainTest(&plan.Step{}, cmd) }, map[string]bool{
		"test -f ~/bench/.installed":        true,
		"[ -d /etc/app ]":                   true,
		"  test ! -e /run/app.pid  ":        true,
		"test -x /usr/bin/app -a -f /etc/x": true,
		"[ -f /etc/app":                     false, // sh would fail the same, in a subshell
		"test":                              false,
		"test -f $HOME/x":                   false,
		"test -f ~/x; exit 0":               false,
		"test -f ~/x && cd /":               false,
		"test -f ~/x >/tmp/out":             false,
		"test -f '/a b'":                    false,
		"test -f /a*":                       false,
		"test -f `id`":                      false,
		"test -f /x\nexit":                  false,
		"testx -f /x":                       false,
		"[ -f /x ] || exit 1":               false,
	})
	if plainTest(&plan.Step{Workdir: "/srv"}, "test -f x") {
		t.Error("a step with a working directory runs its check in a subshell")
	}
	if plainTest(&plan.Step{Env: map[string]string{"A": "1"}}, "test -f x") {
		t.Error("a step with environment runs its check in a subshell")
	}
}

// A plain command is written into the script as is; anything else goes
// through eval.
func TestPlainCmd(t *testing.T) {
	checkCmds(t, "plainCmd", plainCmd, map[string]bool{
		"uname -r":                      true,
		"systemctl restart nginx":       true,
		"/usr/local/bin/app --reload=1": true,
		"  apt-get -y install curl  ":   true,
		"touch ~/x":                     true,
		"if":                            false,
		"then echo":                     false,
		"! true":                        false,
		"time sleep 1":                  false,
		"A=1 app":                       false,
		"echo $HOME":                    false,
		"echo 'a b'":                    false,
		"sleep 0.1 && touch ~/x":        false,
		"echo a; echo b":                false,
		"echo a\necho b":                false,
		"echo >/tmp/x":                  false,
		"ls *":                          false,
		"echo `id`":                     false,
		"{ echo; }":                     false,
		"(echo)":                        false,
		"~/bin/app":                     false, // a leading ~ is expanded; eval it
		"for":                           false,
	})
}

// After a write, the shell alone tells what is at the path and whether a
// small file holds exactly what was written: to its last byte.
func TestShellAfter(t *testing.T) {
	sh, err := osexec.LookPath("sh")
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	want := []byte("a\n 'b' \\n\n")
	wantNoEOL := []byte("a\nb")
	for _, c := range []struct {
		name    string
		s       *plan.Step
		content []byte
		host    *string // nil: nothing there
		dir     bool
		frame   string // "kind sha"
	}{
		{"same", &plan.Step{Action: "file"}, want, ptr(string(want)), false, "1 " + plan.SHA256Hex(want)},
		{"longer", &plan.Step{Action: "file"}, want, ptr(string(want) + "x"), false, "1 " + plan.SHA256Hex([]byte(string(want)+"x"))},
		{"longer-by-a-line", &plan.Step{Action: "file"}, want, ptr(string(want) + "x\n"), false, "1 " + plan.SHA256Hex([]byte(string(want)+"x\n"))},
		{"shorter", &plan.Step{Action: "file"}, want, ptr("a\n"), false, "1 " + plan.SHA256Hex([]byte("a\n"))},
		{"noeol-same", &plan.Step{Action: "file"}, wantNoEOL, ptr("a\nb"), false, "1 " + plan.SHA256Hex(wantNoEOL)},
		{"noeol-added", &plan.Step{Action: "file"}, wantNoEOL, ptr("a\nb\n"), false, "1 " + plan.SHA256Hex([]byte("a\nb\n"))},
		{"empty", &plan.Step{Action: "file"}, nil, ptr(""), false, "1 " + plan.SHA256Hex(nil)},
		{"not-empty", &plan.Step{Action: "file"}, nil, ptr("x"), false, "1 " + plan.SHA256Hex([]byte("x"))},
		{"missing", &plan.Step{Action: "file"}, want, nil, false, "0"},
		{"a-dir-for-a-file", &plan.Step{Action: "file"}, want, nil, true, "2"},
		{"dir", &plan.Step{Action: "directory"}, nil, nil, true, "1 -"},
		{"line-unknown", &plan.Step{Action: "line"}, nil, ptr("whatever"), false, "1 -"},
		{"line-known", &plan.Step{Action: "line"}, []byte("x\nthe line\n"), ptr("x\nthe line\n"), false, "1 " + plan.SHA256Hex([]byte("x\nthe line\n"))},
		{"removed", &plan.Step{Action: "file", Absent: true}, nil, nil, false, "0"},
		{"not-removed", &plan.Step{Action: "file", Absent: true}, nil, ptr("x"), false, "1 -"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name)
			switch {
			case c.dir:
				os.Mkdir(p, 0o755)
			case c.host != nil:
				os.WriteFile(p, []byte(*c.host), 0o644)
			}
			c.s.Idx, c.s.Path = 3, p
			code := shellAfter(written{c.s, c.content})
			if code == "" {
				t.Fatal("left to stat and sha256sum")
			}
			script := "DLM=@@DL-x\ndl_shacmd=sha256sum\n" + prelude + code
			out, err := osexec.Command(sh, "-c", script).Output()
			if err != nil {
				t.Fatalf("%v\n%s", err, script)
			}
			got := strings.TrimSpace(string(out))
			got = strings.TrimPrefix(got, "@@DL-x 3 after 0 ")
			got = strings.TrimSuffix(got, " - - - 0")
			if got != c.frame {
				t.Errorf("frame %q, want %q", got, c.frame)
			}
		})
	}
	// Larger content is hashed.
	if code := shellAfter(written{&plan.Step{Action: "file", Path: "/x"}, make([]byte, maxShellRead+1)}); code != "" {
		t.Errorf("content larger than the shell reads: %q", code)
	}
}

// A plain command naming a program runs without a subshell; a built-in
// (which could change the script's shell), a command with environment or
// a working directory, or anything not plain keeps its subshell.
func TestSimpleCmd(t *testing.T) {
	checkCmds(t, "simpleCmd", func(cmd string) bool { return simpleCmd(&plan.Step{}, cmd) }, map[string]bool{
		"uname -r":                  true,
		"/usr/sbin/nginx -s reload": true,
		"touch ~/x":                 true,
		"cd /tmp":                   false,
		"exit 3":                    false,
		"umask 077":                 false,
		"set -e":                    false,
		"echo hi":                   false,
		"dl_frame 1 x":              false,
		"uname -r; exit":            false,
		"sleep 0.1 && touch ~/x":    true,
		"apt-get update&&apt-get -y install curl || true; date": false,
		"make || make clean; make":                              true,
		"make &&":                                               false,
		"make & sleep 1":                                        false,
		"make | tee log":                                        false,
		"make;":                                                 false,
		"FOO=1 uname":                                           false,
	})
	if simpleCmd(&plan.Step{Env: map[string]string{"A": "1"}}, "uname -r") || simpleCmd(&plan.Step{Workdir: "/srv"}, "uname -r") {
		t.Error("a step with environment or a working directory runs in a subshell")
	}
	if got := stepShell(&plan.Step{}, " uname -r "); got != "uname -r </dev/null" {
		t.Errorf("stepShell = %q", got)
	}
	if got := stepShell(&plan.Step{}, "sleep 0.1 && touch ~/x"); got != "{ sleep 0.1 && touch ~/x\n} </dev/null" {
		t.Errorf("stepShell = %q", got)
	}
}

func TestPrintfBytesRoundTrip(t *testing.T) {
	// The script writes bytes with printf; every byte must survive.
	var all []byte
	for i := range 256 {
		all = append(all, byte(i))
	}
	s := printfBytes(all, "/dev/null")
	if strings.ContainsAny(s[strings.Index(s, "'"):], "\x00\n%") {
		t.Fatalf("unescaped bytes in %q", s)
	}
}

// checkCmds fails t for every command of want that f, named name in the
// message, does not tell as wanted.
func checkCmds(t *testing.T, name string, f func(cmd string) bool, want map[string]bool) {
	t.Helper()
	for cmd, w := range want {
		if got := f(cmd); got != w {
			t.Errorf("%s(%q) = %v, want %v", name, cmd, got, w)
		}
	}
}

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

// A 4096-byte chunk of content that starts with "-" is a printf of its
// own whose format starts with "-": printf took it for an option and
// wrote nothing of it (a binary file of a few MiB was short by whole
// chunks, "content differs after it was written").
func TestPrintfBytesChunkStartingWithDash(t *testing.T) {
	content := []byte(strings.Repeat("x", 4096) + "-n not an option\n" + strings.Repeat("y", 4079) + "--\n")
	out := filepath.Join(t.TempDir(), "out")
	for _, sh := range []string{"dash", "bash", "busybox"} {
		if _, err := osexec.LookPath(sh); err != nil {
			t.Logf("%s: not installed", sh)
			continue
		}
		os.Remove(out)
		args := []string{"-c", printfBytes(content, Quote(out))}
		if sh == "busybox" {
			args = append([]string{"sh"}, args...)
		}
		msg, err := osexec.Command(sh, args...).CombinedOutput()
		got, _ := os.ReadFile(out)
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("%s: wrote %d bytes of %d (%v) %s", sh, len(got), len(content), err, msg)
		}
	}
}

// A script resumed after a run was killed at its timeout removes that
// run's files, the .x of an SSM shell step and the .ps1 of a pwsh one
// among them (dl_gone).
func TestResumeRemovesTheScriptFiles(t *testing.T) {
	s := &plan.Step{Idx: 1, Name: "next", Action: "shell", Run: "true", Attempts: 1}
	got := ApplyScript("@@DL-M", []plan.ApplyStep{{Step: s}}, plan.Resume{Cleanup: "/tmp/.driftless-K", Salvage: 0})
	if !strings.Contains(got, "dl_gone '/tmp/.driftless-K'\n") {
		t.Errorf("the killed script's files are not removed:\n%s", got)
	}
	if !strings.Contains(got, `"$dl_gq.x" "$dl_gq.ps1"`) {
		t.Errorf("dl_gone does not remove the .x and .ps1 script files:\n%s", got)
	}
}
