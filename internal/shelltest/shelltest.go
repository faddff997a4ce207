// Package shelltest names, for tests, the POSIX shells that driftless's
// generated scripts must run under, and fails a test that needs a system
// program which is missing, saying how to install it.
//
// The five shells are those users' hosts have as /bin/sh or in its
// place: dash (Debian, Ubuntu), bash in POSIX mode (macOS's /bin/sh, RHEL),
// busybox ash (Alpine), mksh (Android, some BSD setups) and zsh in sh
// emulation. Each is run as argv prefix + script, the script given with
// -c, so that $0 and the positional parameters behave as under sh -c:
//
//	for _, sh := range shelltest.Shells {
//		t.Run(sh.Name, func(t *testing.T) {
//			shelltest.RequireShell(t, sh)
//			out, err := exec.Command(sh.Argv[0], append(sh.Argv[1:], script)...).Output()
//			...
//		})
//	}
//
// zsh is started with --emulate sh (the same as a zsh installed as sh): it
// then splits unquoted expansions into words, leaves a glob that matches
// nothing as it is and sets $0 from the first argument after the script,
// as sh does; plain zsh does none of these.
//
// A missing program fails the test (it is never skipped): ./test.sh
// installs every program the tests need, and a test that skips silently
// would pass on a machine where nothing was tested.
package shelltest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Shell is one POSIX shell: its name and the argv prefix that runs a
// script given as the next argument.
type Shell struct {
	Name string   // dash, bash, busybox, mksh, zsh
	Argv []string // e.g. {"bash", "--posix", "-c"}
	// Package is the Debian package that installs Argv[0].
	Package string
}

// Command returns the argv that runs script under the shell, with args
// as $0, $1, ...
func (s Shell) Command(script string, args ...string) []string {
	out := append(append([]string{}, s.Argv...), script)
	return append(out, args...)
}

// Shells are the five shells, dash first.
var Shells = []Shell{
	{Name: "dash", Argv: []string{"dash", "-c"}, Package: "dash"},
	{Name: "bash", Argv: []string{"bash", "--posix", "-c"}, Package: "bash"},
	{Name: "busybox", Argv: []string{"busybox", "ash", "-c"}, Package: "busybox"},
	{Name: "mksh", Argv: []string{"mksh", "-c"}, Package: "mksh"},
	{Name: "zsh", Argv: []string{"zsh", "--emulate", "sh", "-c"}, Package: "zsh"},
}

// RequireShell fails the test unless the shell's program is installed,
// and returns its path.
func RequireShell(t testing.TB, s Shell) string {
	t.Helper()
	return Require(t, s.Argv[0], s.Package)
}

// Require fails the test unless program is found in PATH, saying which
// Debian package installs it; it returns the program's path.
func Require(t testing.TB, program, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		t.Fatalf("%s not found: apt-get install %s (./test.sh installs it)", program, debianPackage)
	}
	return p
}

// Leftovers lists what driftless scripts left in dir (a TMPDIR, or
// /dev/shm): its entries, and the files in the users' private
// directories of driftless files (.driftless-USER), but for the empty
// records of associations (NAME.run) that those directories keep between
// runs (docs/safety.md#nothing-left-behind). Names are paths.
func Leftovers(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if !e.IsDir() || !strings.HasPrefix(e.Name(), ".driftless-") {
			left = append(left, p)
			continue
		}
		inner, _ := os.ReadDir(p)
		for _, f := range inner {
			if info, err := f.Info(); err == nil && strings.HasSuffix(f.Name(), ".run") && info.Mode().IsRegular() && info.Size() == 0 {
				continue
			}
			left = append(left, filepath.Join(p, f.Name()))
		}
	}
	return left
}
