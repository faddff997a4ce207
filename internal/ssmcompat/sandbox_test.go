package ssmcompat

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/internal/shquote"
	"github.com/driftless-dev/driftless/internal/sshtest"
)

// The sandbox a public document's scripts run in, on both hosts of a
// comparison (driftless's and the reference executor's), so that the
// comparison stays fair: each host is a real sshd whose session user is a
// dedicated unprivileged unix user (sshtest's per-host user, which is why
// the corpus test needs root), and these stand-ins come first on that
// user's PATH. Each stand-in appends one line, its name and arguments, to
// a log of its own host; the two logs must be equal for a document to be
// identical. testdata/ssm/README.md lists them for readers.
//
//   - sudo: there is no privilege to gain; it drops sudo's options and
//     runs the command (VAR=value prefixes through env) as the same user.
//   - package managers (yum, dnf, apt-get, apt, zypper, amazon-linux-extras,
//     snap): nothing is installed; they succeed without output.
//   - services (systemctl, service, chkconfig, initctl): no service is
//     touched; they succeed without output (a unit asked about is "active").
//   - network (curl, wget, host, dig, nslookup): no network is used; they
//     succeed with an empty answer, and curl and wget create an empty file
//     where asked to write one (-o, -O, --output, --output-document).
//   - sleep: sleeps at most one second, so that chaos documents' long
//     sleeps do not hold the test.
//   - load generators and kernel tools (stress-ng, stress, tc, iptables,
//     ip6tables, at, modprobe, docker): no load, no network rule, no job, no
//     container; they succeed without output.
//   - machine state (reboot, shutdown, halt, poweroff, useradd, usermod,
//     groupadd, chpasswd): nothing happens; they succeed without output.
//
// Everything else is the real program, run as the unprivileged user: a
// document that writes /etc or kills a process it does not own fails as it
// would without root.

// stubBodies is what each stand-in does after logging its call.
var stubBodies = map[string]string{
	"sudo": `while [ $# -gt 0 ]; do
	case $1 in
	-u|-g|-p|-C|-D|-h|-r|-t|-U) shift 2 ;;
	--) shift; break ;;
	-*) shift ;;
	*) break ;;
	esac
done
[ $# -eq 0 ] && exit 0
exec env "$@"
`,
	"curl": `while [ $# -gt 0 ]; do
	case $1 in
	-o|-O|--output|--output-document) [ $# -gt 1 ] && : >"$2"; shift 2 ;;
	*) shift ;;
	esac
done
exit 0
`,
	"sleep": `n=${1:-0}
case $n in
0|0.*|1) exec /bin/sleep "$n" ;;
*) exec /bin/sleep 1 ;;
esac
`,
}

// stubsSucceeding succeed without output.
var stubsSucceeding = []string{
	"yum", "dnf", "apt-get", "apt", "zypper", "amazon-linux-extras", "snap",
	"systemctl", "service", "chkconfig", "initctl",
	"host", "dig", "nslookup",
	"stress-ng", "stress", "tc", "iptables", "ip6tables", "at", "modprobe", "docker",
	"reboot", "shutdown", "halt", "poweroff", "useradd", "usermod", "groupadd", "chpasswd",
}

// sandboxPrograms returns the stand-ins for a host whose calls are logged
// to logPath.
func sandboxPrograms(logPath string) map[string]string {
	progs := map[string]string{}
	body := func(name, rest string) string {
		return "#!/bin/sh\n# driftless ssmcompat sandbox stand-in for " + name + "\nprintf '%s\\n' \"" + name + " $*\" >>" +
			shquote.Quote(logPath) + "\n" + rest
	}
	for _, name := range stubsSucceeding {
		progs[name] = body(name, "exit 0\n")
	}
	progs["at"] = body("at", "cat >/dev/null\nexit 0\n")
	for name, rest := range stubBodies {
		progs[name] = body(name, rest)
	}
	progs["wget"] = strings.Replace(progs["curl"], "stand-in for curl", "stand-in for wget", 1)
	progs["wget"] = strings.Replace(progs["wget"], `"curl $*"`, `"wget $*"`, 1)
	return progs
}

// sandbox is one host's stand-ins and their call log.
type sandbox struct {
	log      string
	programs map[string]string
}

func newSandbox(t *testing.T, dir, name string) sandbox {
	log := filepath.Join(dir, name+".log")
	if err := os.WriteFile(log, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(log, 0o666); err != nil {
		t.Fatal(err)
	}
	return sandbox{log: log, programs: sandboxPrograms(log)}
}

// calls returns the stand-in calls logged so far.
func (s sandbox) calls() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

// sandboxDir makes a directory every per-host user can write stand-in logs
// to.
func sandboxDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "ssmcompat-sandbox")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o733); err != nil {
		t.Fatal(err)
	}
	return dir
}

// cleanTmp removes what host h's user left in the machine's shared
// temporary directories, so that a fixed path one run wrote (a document's
// /tmp/experiment.json) is not there for the next run.
func cleanTmp(h *sshtest.Host) {
	for _, d := range []string{"/tmp", "/var/tmp", "/dev/shm"} {
		_ = exec.Command("find", d, "-xdev", "-mindepth", "1", "-user", h.User, "-delete").Run()
	}
}

// masker blanks what a document prints that changes from one run to the
// next (MANIFEST.tsv's mask column: a regular expression).
type masker []*regexp.Regexp

func newMasker(t *testing.T, e entry) masker {
	if e.Mask == "" || e.Mask == "-" {
		return nil
	}
	re, err := regexp.Compile(e.Mask)
	if err != nil {
		t.Fatalf("%s: mask: %v", e.File, err)
	}
	return masker{re}
}

func (m masker) apply(s string) string {
	for _, re := range m {
		s = re.ReplaceAllString(s, "<masked>")
	}
	return s
}

// sortedLines is s's lines in order, for a stable comparison of logs
// written by concurrent processes.
func sortedLines(s string) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	sort.Strings(ls)
	return strings.Join(ls, "\n")
}
