package runner_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/journal"
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
	doc := `[parameters.state]
type = "String"
default = "present"
[[steps]]
name = "pkgs"
action = "package"
names = ["` + pkg + `"]
state = "{{ state }}"
`
	f := newFleetAs(t, 1, true, "[associations.p]\ndocument = \"pkg\"\ntargets = [\"*\"]\n", "pkg.toml", doc)
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
	os.WriteFile(filepath.Join(f.dir, "associations.toml"), []byte("[associations.p]\ndocument = \"pkg\"\ntargets = [\"*\"]\nparameters = { state = \"absent\" }\n"), 0o600)
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
	doc := `[parameters.state]
type = "String"
[parameters.enabled]
type = "String"
[[steps]]
name = "svc"
action = "service"
service = "` + name + `"
state = "{{ state }}"
enabled = "{{ enabled }}"
`
	assoc := func(state, enabled string) string {
		return fmt.Sprintf("[associations.s]\ndocument = \"svc\"\ntargets = [\"*\"]\nparameters = { state = %q, enabled = %q }\n", state, enabled)
	}
	f := newFleetAs(t, 1, true, assoc("running", "true"), "svc.toml", doc)
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
	sum := sha256.Sum256(body)
	good := hex.EncodeToString(sum[:])
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
