package pgtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// BinGlob is where Debian's postgresql packages put the server programs
// (initdb, postgres, pg_ctl), one directory per major version. They are
// not on PATH.
const BinGlob = "/usr/lib/postgresql/*/bin"

// MinMajor is the oldest PostgreSQL major version driftless supports.
const MinMajor = 14

// installHint is how a missing or too old server is fixed.
const installHint = "apt-get install postgresql (./test.sh installs it)"

// ErrUnavailable is wrapped by the errors that say no usable PostgreSQL
// server is installed (none found, or only versions older than MinMajor).
var ErrUnavailable = errors.New("pgtest: no usable PostgreSQL server")

// install is one PostgreSQL server installation.
type install struct {
	binDir string // directory holding initdb and postgres
	major  int
}

// findServer returns the newest installation matching pattern (a glob
// like BinGlob whose matches are .../MAJOR/bin). It is an ErrUnavailable
// error when none has initdb and postgres, or when the newest one is
// older than MinMajor.
func findServer(pattern string) (install, error) {
	dirs, err := filepath.Glob(pattern)
	if err != nil {
		return install{}, fmt.Errorf("pgtest: glob %s: %w", pattern, err)
	}
	best := install{major: -1}
	for _, dir := range dirs {
		major, ok := majorOf(dir)
		if !ok || major <= best.major || !hasPrograms(dir) {
			continue
		}
		best = install{binDir: dir, major: major}
	}
	if best.major < 0 {
		return install{}, fmt.Errorf("%w: no initdb and postgres in %s: %s", ErrUnavailable, pattern, installHint)
	}
	if best.major < MinMajor {
		return install{}, fmt.Errorf("%w: PostgreSQL %d in %s is too old, driftless needs %d or later: %s",
			ErrUnavailable, best.major, best.binDir, MinMajor, installHint)
	}
	return best, nil
}

// majorOf reads the major version from a .../MAJOR/bin directory ("15";
// "9.6" before PostgreSQL 10).
func majorOf(binDir string) (int, bool) {
	v := filepath.Base(filepath.Dir(binDir))
	v, _, _ = strings.Cut(v, ".")
	n, err := strconv.Atoi(v)
	return n, err == nil
}

func hasPrograms(dir string) bool {
	for _, p := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, p))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// Required reports whether a missing PostgreSQL fails tests rather than
// skipping them: in CI (CI set) or with DRIFTLESS_REQUIRE_PG=1.
func Required() bool {
	return os.Getenv("CI") != "" || os.Getenv("DRIFTLESS_REQUIRE_PG") == "1"
}

// unavailable fails the test when Required, else skips it, with err's
// message (which names the package to install).
func unavailable(t testing.TB, err error) {
	t.Helper()
	if Required() {
		t.Fatal(err)
	}
	t.Skip(err)
}
