package runner_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner/plan"
)

func dpkgInstalled(name string) bool {
	out, _ := exec.Command("dpkg-query", "-W", "-f=${db:Status-Abbrev}", name).Output()
	return strings.HasPrefix(string(out), "ii")
}

// A small Debian package installed and removed for real, over SSH as
// root on this machine.
func TestPackageForReal(t *testing.T) {
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("needs a Debian host (apt-get)")
	}
	const pkg = "hello"
	if dpkgInstalled(pkg) {
		exec.Command("apt-get", "remove", "-y", pkg).Run()
	}
	t.Cleanup(func() { exec.Command("apt-get", "remove", "-y", pkg).Run() })
	assoc := func(state string) string {
		return fmt.Sprintf("[associations.p]\ndocument = \"driftless:InstallPackages\"\ntargets = [\"*\"]\nparameters = { names = [%q], state = %q }\n", pkg, state)
	}
	f := newFleetAs(t, 1, true, assoc("present"))
	check := f.run(t, true, nil)
	st := check.Hosts[0].Steps[0]
	if st.Status != journal.StatusDrifted || !strings.Contains(st.Differ, "missing: "+pkg+" (apt)") {
		t.Fatalf("check before: %s %q %s", st.Status, st.Differ, st.Error)
	}
	apply := f.run(t, false, nil)
	if st := apply.Hosts[0].Steps[0]; st.Status != journal.StatusCorrected {
		t.Fatalf("apply: %s %s\n%s", st.Status, st.Error, st.Stderr)
	}
	if !dpkgInstalled(pkg) {
		t.Fatal("the package is not installed")
	}
	if st := f.run(t, true, nil).Hosts[0].Steps[0]; st.Status != journal.StatusCompliant {
		t.Fatalf("check after: %s", st.Status)
	}
	// state = absent removes it.
	os.WriteFile(filepath.Join(f.dir, "associations.toml"), []byte(assoc("absent")), 0o600)
	f.reload(t)
	if st := f.run(t, false, nil).Hosts[0].Steps[0]; st.Status != journal.StatusCorrected || !strings.Contains(st.Differ, "unwanted: "+pkg) {
		t.Fatalf("remove: %s %q %s", st.Status, st.Differ, st.Error)
	}
	if dpkgInstalled(pkg) {
		t.Fatal("the package is still installed")
	}
}

const initScript = `#!/bin/sh
### BEGIN INIT INFO
# Provides:          @NAME@
# Required-Start:    $remote_fs
# Required-Stop:     $remote_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: driftless test daemon
### END INIT INFO
PIDFILE=/run/@NAME@.pid
case "$1" in
start) setsid sh -c 'echo $$ > /run/@NAME@.pid; exec sleep 1000' </dev/null >/dev/null 2>&1 &
       sleep 0.2 ;;
stop) [ -f $PIDFILE ] && kill "$(cat $PIDFILE)" 2>/dev/null; rm -f $PIDFILE ;;
status) [ -f $PIDFILE ] && kill -0 "$(cat $PIDFILE)" 2>/dev/null ;;
*) exit 3 ;;
esac
`

// A sysvinit service started, enabled, stopped and disabled for real.
func TestServiceSysvForReal(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("installs an init script: needs root")
	}
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		t.Skip("systemd runs here: the sysvinit path is not the one taken")
	}
	name := fmt.Sprintf("dltestd%d", os.Getpid())
	path := "/etc/init.d/" + name
	os.WriteFile(path, []byte(strings.ReplaceAll(initScript, "@NAME@", name)), 0o755)
	t.Cleanup(func() {
		exec.Command(path, "stop").Run()
		exec.Command("update-rc.d", "-f", name, "remove").Run()
		os.Remove(path)
	})
	assoc := func(state, enabled string) string {
		return fmt.Sprintf("[associations.s]\ndocument = \"driftless:ConfigureService\"\ntargets = [\"*\"]\nparameters = { name = %q, state = %q, enabled = %q }\n", name, state, enabled)
	}
	f := newFleetAs(t, 1, true, assoc("running", "true"))
	st := f.run(t, false, nil).Hosts[0].Steps[0]
	if st.Status != journal.StatusCorrected || st.Differ != "stopped -> running; disabled -> enabled (sysv)" {
		t.Fatalf("start: %s %q %s\n%s", st.Status, st.Differ, st.Error, st.Stderr)
	}
	if exec.Command(path, "status").Run() != nil {
		t.Error("the daemon does not run")
	}
	if m, _ := filepath.Glob("/etc/rc2.d/S*" + name); len(m) == 0 {
		t.Error("the service is not enabled")
	}
	if st := f.run(t, true, nil).Hosts[0].Steps[0]; st.Status != journal.StatusCompliant {
		t.Errorf("check: %s", st.Status)
	}
	os.WriteFile(filepath.Join(f.dir, "associations.toml"), []byte(assoc("stopped", "false")), 0o600)
	f.reload(t)
	st = f.run(t, false, nil).Hosts[0].Steps[0]
	if st.Status != journal.StatusCorrected {
		t.Fatalf("stop: %s %s", st.Status, st.Error)
	}
	if exec.Command(path, "status").Run() == nil {
		t.Error("the daemon still runs")
	}
}

// download fetches on the control machine and verifies the hash before
// anything is written on the host.
func TestDownload(t *testing.T) {
	body := []byte("#!/bin/sh\necho agent 1.2\n")
	good := plan.SHA256Hex(body)
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.Write(body)
	}))
	defer srv.Close()
	doc := func(sha string) string {
		return fmt.Sprintf(`[[steps]]
name = "agent"
action = "download"
url = "%s/agent.sh"
sha256 = %q
destination = "~/agent.sh"
mode = "0755"
`, srv.URL, sha)
	}
	bad := strings.Repeat("0", 64)
	f := newFleet(t, 2, "[associations.d]\ndocument = \"dl\"\ntargets = [\"*\"]\n", "dl.toml", doc(bad))
	res := f.run(t, false, nil)
	for i, h := range res.Hosts {
		st := h.Steps[0]
		if st.Status != journal.StatusFailed || !strings.Contains(st.Error, "checksum mismatch") || st.Action != "download" {
			t.Errorf("bad sha: %s %s", st.Status, st.Error)
		}
		if _, err := os.Stat(filepath.Join(f.hosts[i].Home, "agent.sh")); err == nil {
			t.Error("written despite a bad checksum")
		}
	}
	os.WriteFile(filepath.Join(f.dir, "documents", "dl.toml"), []byte(doc(good)), 0o600)
	f.reload(t)
	hits = 0
	res = f.run(t, false, nil)
	for i, h := range res.Hosts {
		if st := h.Steps[0]; st.Status != journal.StatusCorrected {
			t.Errorf("download: %s %s", st.Status, st.Error)
		}
		b, err := os.ReadFile(filepath.Join(f.hosts[i].Home, "agent.sh"))
		fi, _ := os.Stat(filepath.Join(f.hosts[i].Home, "agent.sh"))
		if err != nil || string(b) != string(body) || fi.Mode().Perm() != 0o755 {
			t.Errorf("on host: %q %v", b, err)
		}
	}
	if hits > 1 {
		t.Errorf("fetched %d times for 2 hosts; want once (cached)", hits)
	}
	if st := f.run(t, true, nil).Hosts[0].Steps[0]; st.Status != journal.StatusCompliant {
		t.Errorf("check: %s", st.Status)
	}
}

func TestBootstrapSoftware(t *testing.T) {
	installer := "#!/bin/sh\necho installed > \"$HOME/agent.version\"\n"
	f := newFleet(t, 1, fmt.Sprintf(`[associations.b]
document = "driftless:BootstrapSoftware"
targets = ["*"]
parameters = { source = "files/agent-install.sh", sha256 = %q, install_command = "sh \"$DL_INSTALLER\"" }
`, plan.SHA256Hex([]byte(installer))))
	os.MkdirAll(filepath.Join(f.dir, "files"), 0o755)
	os.WriteFile(filepath.Join(f.dir, "files", "agent-install.sh"), []byte(installer), 0o644)
	res := f.run(t, false, nil)
	h := res.Hosts[0]
	if got := statuses(h); got != "installers-dir=Corrected fetch-url=Skipped fetch-source=Corrected install=Corrected service=Skipped" {
		t.Fatalf("%s: %s %v", h.Status, got, h.Steps)
	}
	b, _ := os.ReadFile(filepath.Join(f.hosts[0].Home, "agent.version"))
	if string(b) != "installed\n" {
		t.Errorf("installer did not run: %q", b)
	}
	if got := statuses(f.run(t, false, nil).Hosts[0]); got != "installers-dir=Compliant fetch-url=Skipped fetch-source=Compliant install=Compliant service=Skipped" {
		t.Errorf("second run: %s", got)
	}
}

// JoinDomain on a Linux host without realmd: the check finds it not
// joined, the join fails with a clear message, and the password appears
// nowhere.
func TestJoinDomainWithoutRealm(t *testing.T) {
	if _, err := exec.LookPath("realm"); err == nil {
		t.Skip("realmd is installed here: this test checks the message without it")
	}
	t.Setenv("JOIN_PW", "Join-P4ssw0rd!")
	f := newFleet(t, 1, `[associations.j]
document = "driftless:JoinDomain"
targets = ["*"]
parameters = { domain = "corp.example.com", user = "joiner", password = "{{ env:JOIN_PW }}" }
`)
	check := f.run(t, true, nil).Hosts[0]
	if got := statuses(check); got != "linux-dns=Compliant linux-join=Drifted windows-join=Skipped" {
		t.Fatalf("check: %s", got)
	}
	h := f.run(t, false, nil).Hosts[0]
	join := h.Steps[1]
	if join.Status != journal.StatusFailed || !strings.Contains(join.Stderr, "realm is not installed") {
		t.Errorf("join: %s %q", join.Status, join.Stderr)
	}
	for _, st := range h.Steps {
		if strings.Contains(st.Stdout+st.Stderr+st.Error+st.Differ, "Join-P4ssw0rd!") {
			t.Errorf("password leaked in %s", st.Name)
		}
	}
}

// PatchBaseline scan on this machine: pending updates, if any, are
// listed as drift; nothing is installed.
func TestPatchBaselineScan(t *testing.T) {
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("needs apt")
	}
	f := newFleetAs(t, 1, true, "[associations.p]\ndocument = \"driftless:PatchBaseline\"\ntargets = [\"*\"]\n")
	want, _ := exec.Command("sh", "-c", "apt-get -s -o Debug::NoLocking=1 upgrade 2>/dev/null | awk '/^Inst /{print $2}'").Output()
	st := f.run(t, false, nil).Hosts[0].Steps[0]
	pending := strings.Fields(string(want))
	if len(pending) == 0 {
		if st.Status != journal.StatusCompliant {
			t.Errorf("no pending updates, status %s %s", st.Status, st.Error)
		}
		return
	}
	if st.Status != journal.StatusDrifted || !strings.Contains(st.Differ, fmt.Sprintf("%d pending", len(pending))) || !strings.Contains(st.Differ, pending[0]) {
		t.Errorf("scan: %s %q", st.Status, st.Differ)
	}
}
