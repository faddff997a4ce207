package runner

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/runner/posix"
)

// fakeManagers puts stand-ins for package managers first on PATH: each
// prints a captured sample of the real tool's output (testdata/pm) and
// logs its arguments, so tests check both the parsing and the exact
// commands issued.
func fakeManagers(t *testing.T) (bin, log string) {
	t.Helper()
	bin = t.TempDir()
	log = filepath.Join(bin, "calls")
	samples, _ := filepath.Abs("testdata/pm")
	script := `#!/bin/sh
echo "$(basename "$0") $*" >> ` + log + `
case "$(basename "$0") $*" in
"apt-get -s -o Debug::NoLocking=1 upgrade") cat ` + samples + `/apt-get.upgrade ;;
"dnf -q check-update") cat ` + samples + `/dnf.check-update; exit 100 ;;
"apk version -l <") cat ` + samples + `/apk.version ;;
"zypper -n -q list-updates") cat ` + samples + `/zypper.list-updates ;;
"pacman -Qu") cat ` + samples + `/pacman.Qu ;;
"brew outdated --quiet") cat ` + samples + `/brew.outdated ;;
esac
exit 0
`
	for _, name := range []string{"apt-get", "dnf", "yum", "apk", "zypper", "pacman", "brew"} {
		os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755)
	}
	return bin, log
}

func runSh(t *testing.T, path, script string) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", posix.SystemPrelude+script)
	if !strings.Contains(path, ":") {
		path += ":/usr/bin:/bin"
	}
	cmd.Env = append(os.Environ(), "PATH="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return string(out)
}

func TestPatchListParsesRealOutput(t *testing.T) {
	bin, _ := fakeManagers(t)
	want := map[string]string{
		"apt":    "libssl3 openssl",
		"dnf":    "curl.x86_64 kernel.x86_64",
		"apk":    "busybox-1.36.1-r28 musl-1.2.5-r0",
		"zypper": "libzypp vim",
		"pacman": "linux openssl",
		"brew":   "git node",
	}
	for pm, w := range want {
		got := strings.Join(strings.Fields(runSh(t, bin, "dl_patch_list "+pm)), " ")
		if got != w {
			t.Errorf("%s: pending %q, want %q", pm, got, w)
		}
	}
}

func TestPackageCommandsIssued(t *testing.T) {
	bin, log := fakeManagers(t)
	cases := []struct{ pm, action, want string }{
		{"apt", "install", "apt-get -y -q -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold install --no-install-recommends curl jq"},
		{"apt", "remove", "apt-get -y -q -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold remove curl jq"},
		{"dnf", "install", "dnf -y install curl jq"},
		{"yum", "upgrade", "yum -y upgrade curl jq"},
		{"apk", "install", "apk add curl jq"},
		{"apk", "upgrade", "apk add -u curl jq"},
		{"zypper", "remove", "zypper -n remove curl jq"},
		{"pacman", "install", "pacman -S --noconfirm --needed curl jq"},
		{"brew", "upgrade", "brew upgrade curl jq"},
	}
	for _, c := range cases {
		os.Remove(log)
		runSh(t, bin, "dl_pkg_do "+c.pm+" "+c.action+" curl jq")
		b, _ := os.ReadFile(log)
		if got := strings.TrimSpace(string(b)); got != c.want {
			t.Errorf("%s %s issued %q, want %q", c.pm, c.action, got, c.want)
		}
	}
	// apt waits for the dpkg lock and runs without questions.
	if !strings.Contains(posix.SystemPrelude, "DEBIAN_FRONTEND=noninteractive") {
		t.Error("apt is not non-interactive")
	}
}

func TestManagerDetection(t *testing.T) {
	bin, _ := fakeManagers(t)
	only := t.TempDir()
	os.Symlink(filepath.Join(bin, "apk"), filepath.Join(only, "apk"))
	// Detection takes the first manager present, in a fixed order.
	if got := strings.TrimSpace(runSh(t, bin, "dl_pm_detect")); got != "apt" {
		t.Errorf("detect with all present = %q, want apt", got)
	}
	if got := strings.TrimSpace(runSh(t, only+":", "dl_pm_detect")); got != "apk" {
		t.Errorf("detect with only apk = %q", got)
	}
	if got := strings.TrimSpace(runSh(t, t.TempDir()+":", "dl_pm_detect")); got != "none" {
		t.Errorf("detect with none = %q", got)
	}
}

func ptr[T any](v T) *T { return &v }

// The systemd and OpenRC paths, on stand-ins that answer like the real
// tools and log what they were asked.
func TestServiceInitSystems(t *testing.T) {
	bin := t.TempDir()
	log := filepath.Join(bin, "calls")
	write := func(name, body string) {
		os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\necho \"$(basename \"$0\") $*\" >> "+log+"\n"+body), 0o755)
	}
	// systemd: nginx exists, is inactive and enabled.
	write("systemctl", `case "$1" in
cat) [ "$2" = nginx ] ;;
is-active) exit 3 ;;
is-enabled) [ "$3" = nginx ] ;;
*) exit 0 ;;
esac
`)
	// OpenRC: sshd runs and is in the default runlevel.
	write("rc-service", `[ "$2" = status ] && [ "$1" = sshd ]`)
	write("rc-update", `[ "$1" = show ] && printf '                sshd | default\n             chronyd | default\n'
exit 0
`)
	if got := strings.TrimSpace(runSh(t, bin, "dl_svc_state systemd nginx")); got != "systemd 1 0 1" {
		t.Errorf("systemd state = %q", got)
	}
	if got := strings.TrimSpace(runSh(t, bin, "dl_svc_state systemd nosuch")); got != "systemd 0 0 0" {
		t.Errorf("systemd missing = %q", got)
	}
	os.Remove(log)
	runSh(t, bin, "dl_svc_do systemd start nginx; dl_svc_do systemd disable nginx")
	b, _ := os.ReadFile(log)
	if string(b) != "systemctl start nginx\nsystemctl disable nginx\n" {
		t.Errorf("systemd commands: %q", b)
	}
	// /etc/init.d/sshd does not exist here, so "exists" is 0; running and
	// enabled come from rc-service and rc-update.
	if got := strings.TrimSpace(runSh(t, bin, "dl_svc_state openrc sshd")); !strings.HasSuffix(got, " 1 1") || !strings.HasPrefix(got, "openrc ") {
		t.Errorf("openrc state = %q", got)
	}
	os.Remove(log)
	runSh(t, bin, "dl_svc_do openrc stop sshd; dl_svc_do openrc enable sshd; dl_svc_do openrc disable sshd")
	b, _ = os.ReadFile(log)
	if string(b) != "rc-service sshd stop\nrc-update add sshd default\nrc-update del sshd default\n" {
		t.Errorf("openrc commands: %q", b)
	}
}
