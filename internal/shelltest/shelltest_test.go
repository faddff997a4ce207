package shelltest_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/internal/shelltest"
)

// Each shell runs a script given with -c as sh does: $0 and $1 from the
// arguments after the script, unquoted expansions split into words, a
// glob that matches nothing left as it is.
func TestShellsBehaveAsSh(t *testing.T) {
	const script = `x="a b  c"; set -- $x; echo "$0 $# $1"; echo /nonexistent-dl/*.none`
	for _, sh := range shelltest.Shells {
		t.Run(sh.Name, func(t *testing.T) {
			shelltest.RequireShell(t, sh)
			argv := sh.Command(script, "zero", "one")
			out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
			if err != nil {
				t.Fatalf("%q: %v: %s", argv, err, out)
			}
			if got, want := string(out), "zero 3 a\n/nonexistent-dl/*.none\n"; got != want {
				t.Errorf("%q printed %q, want %q", argv, got, want)
			}
		})
	}
}

// A missing program fails the test with the package that installs it.
func TestRequireSaysHowToInstall(t *testing.T) {
	r := &recorder{TB: t}
	func() {
		defer func() { recover() }()
		shelltest.Require(r, "dl-no-such-program", "dl-pkg")
	}()
	if want := "dl-no-such-program not found: apt-get install dl-pkg (./test.sh installs it)"; r.fatal != want {
		t.Errorf("Fatalf said %q, want %q", r.fatal, want)
	}
	if p := shelltest.Require(t, "sh", "dash"); !strings.HasSuffix(p, "/sh") {
		t.Errorf("Require(sh) = %q", p)
	}
}

// recorder records the message of Fatalf and stops the function there.
type recorder struct {
	testing.TB
	fatal string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	panic(r)
}
