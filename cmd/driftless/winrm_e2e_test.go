package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/internal/configtest"
	"github.com/driftless-dev/driftless/internal/winstub"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/winrm/winrmtest"
)

// This file runs the CLI against WinRM hosts: winrmtest servers in front
// of winstub hosts, Go stand-ins for Windows hosts that replay the helper
// calls the runner's PowerShell scripts make.

const winProfile = winstub.Profile

// installStep is the powershell step of the test documents: its check
// passes once its run has created C:\app\.installed. It runs under the
// host's lock.
func installStep(w *winstub.Host) winstub.StepFunc {
	return func(tag, script string, env map[string]string, wd string) (int, string, string) {
		switch {
		case !strings.Contains(script, `C:\app\.installed`):
			return 99, "", "unexpected script: " + script
		case tag == "run":
			w.Files[`C:\app\.installed`] = []byte{}
			return 0, fmt.Sprintf("installed on port %s\n", env["DL_PARAM_port"]), ""
		case w.Files[`C:\app\.installed`] != nil:
			return 0, "", ""
		}
		return 1, "not installed\n", ""
	}
}

// winServer is a winrmtest server in front of a fresh winstub host.
type winServer struct {
	*winrmtest.Server
	host *winstub.Host
	ca   string // the CA file, for an HTTPS server
}

func startWinRM(t *testing.T, opts winrmtest.Options) *winServer {
	t.Helper()
	w := winstub.New()
	w.Step = installStep(w)
	if opts.Handler == nil {
		opts.Handler = w.Handler()
	}
	srv, err := winrmtest.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	s := &winServer{Server: srv, host: w}
	if opts.TLS {
		s.ca = filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(s.ca, srv.CAPEM(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// inventory is the inventory entry of a WinRM host named name; extra
// lines go in its host and winrm tables. Its connect_timeout is a
// generous 20s unless hostExtra sets one: a loaded test machine must not
// turn a TLS or login failure into a timeout.
func (s *winServer) inventory(name, passwordEnv, hostExtra, winrmExtra string) string {
	if !strings.Contains(hostExtra, "connect_timeout") {
		hostExtra += "connect_timeout = \"20s\"\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n[hosts.%s]\naddress = %q\ntransport = \"winrm\"\nuser = %q\npassword_env = %q\ntags = { role = \"win\" }\n%s",
		name, s.Host, winrmtest.DefaultUser, passwordEnv, hostExtra)
	fmt.Fprintf(&b, "[hosts.%s.winrm]\nport = %d\n", name, s.Port)
	if s.ca != "" {
		fmt.Fprintf(&b, "https = true\nca_file = %q\n", s.ca)
	}
	b.WriteString(winrmExtra)
	return b.String()
}

var winDoc = configtest.Doc(testDocs, "win.toml")

var winAssoc = configtest.Doc(testDocs, "win-associations.toml")

// winFleet is a config dir with no SSH host yet and the win document.
func winFleet(t *testing.T, assocs string) *e2eFleet {
	t.Helper()
	f := startFleet(t, 0, assocs)
	f.writeDoc("win", winDoc)
	return f
}

func statusRows(t *testing.T, f *e2eFleet) map[string]map[string]any {
	t.Helper()
	r := f.run(t, "status", "--json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("status json: %v\n%s", err, r)
	}
	out := map[string]map[string]any{}
	for _, row := range rows {
		out[fmt.Sprint(row["host"])] = row
	}
	return out
}

func showRun(t *testing.T, f *e2eFleet, id string) runWithHostsJSON {
	t.Helper()
	r := f.run(t, "show", id, "--json")
	var s runsJSON
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil || r.code != 0 || len(s.Runs) != 1 {
		t.Fatalf("show %s --json: %v\n%s", id, err, r)
	}
	return s.Runs[0]
}

func TestWinRMApplyCheckDrift(t *testing.T) {
	t.Setenv("WIN_PASSWORD", winrmtest.DefaultPassword)
	srv := startWinRM(t, winrmtest.Options{TLS: true})
	w := srv.host
	w.Files[`C:\app\app.toml`] = []byte("port = 80\n")
	f := winFleet(t, winAssoc)
	f.writeInventory(t, srv.inventory("win-1", "WIN_PASSWORD", "", ""))

	r := f.mustRun(t, "apply", 0, "", "apply")
	if !strings.Contains(r.stdout, "win win-1 Success (2 Corrected)") {
		t.Errorf("apply line:\n%s", r)
	}
	if got, _ := w.File(`C:\app\app.toml`); got != "port = 8080\nname = \"win-1\"\n" {
		t.Errorf("app.toml = %q", got)
	}
	if _, ok := w.File(`C:\app\.installed`); !ok {
		t.Error("the powershell step did not run")
	}
	// The step's script ran with the document's parameters in its
	// environment; its output is in the journal.
	if st := showRun(t, f, "1").Hosts[0].Steps[1]; st.Name != "installed" || st.Status != "Corrected" || st.Stdout != "installed on port 8080\n" {
		t.Errorf("powershell step: %+v", st)
	}

	r = f.mustRun(t, "check after apply", 0, "win win-1 Success (2 Compliant)", "check")

	// Tamper with the file: check finds it, with the diff.
	w.Set(`C:\app\app.toml`, "port = 1\nname = \"win-1\"\n")
	r = f.run(t, "check")
	if r.code != 2 {
		t.Fatalf("check after tamper: want exit 2, %s", r)
	}
	if !strings.Contains(r.stdout, "win win-1 Success (1 Compliant, 1 Drifted)") {
		t.Errorf("check line:\n%s", r)
	}
	if got, _ := w.File(`C:\app\app.toml`); got != "port = 1\nname = \"win-1\"\n" {
		t.Errorf("check changed the host: %q", got)
	}
	row := statusRows(t, f)["win-1"]
	if row["compliance"] != "NON_COMPLIANT" || row["severity"] != "HIGH" {
		t.Errorf("status row %v", row)
	}
	r = f.run(t, "drift")
	if r.code != 0 || !regexp.MustCompile(`(?m)^\S+ \S+ +3 +win +win-1 +config +detected +C:\\app\\app\.toml: \+1 -1 lines$`).MatchString(r.stdout) {
		t.Errorf("drift: %s", r)
	}
	// The diff, as show prints it and as the journal keeps it.
	r = f.run(t, "show", "3")
	if r.code != 0 || !strings.Contains(r.stdout, "1. config (file)  Drifted") ||
		!strings.Contains(r.stdout, "--- C:\\app\\app.toml (on host)\n") || !strings.Contains(r.stdout, "-port = 1\n") || !strings.Contains(r.stdout, "+port = 8080\n") {
		t.Errorf("show 3: %s", r)
	}
	if st := showRun(t, f, "3").Hosts[0].Steps[0]; st.Status != "Drifted" || !st.Drifted || !strings.Contains(st.Differ, "-port = 1\n+port = 8080\n") {
		t.Errorf("show 3 --json: %+v", st)
	}

	// Apply corrects again; only the file changes.
	r = f.run(t, "apply")
	if r.code != 0 || !strings.Contains(r.stdout, "win win-1 Success (1 Compliant, 1 Corrected)") {
		t.Errorf("correcting apply: %s", r)
	}
	if r = f.run(t, "check"); r.code != 0 {
		t.Errorf("check after correction: %s", r)
	}

	// Every script went over WinRM on stdin, with the bootstrap alone on
	// the command line.
	cmds := srv.Commands()
	if len(cmds) == 0 {
		t.Fatal("no commands recorded")
	}
	for _, c := range cmds {
		if !c.PowerShell || len(c.Stdin) == 0 || strings.Contains(c.Script, "app.toml") {
			t.Errorf("command %.80q with %d bytes of stdin", c.Script, len(c.Stdin))
		}
	}
}

func TestWinRMConnectionErrors(t *testing.T) {
	t.Setenv("WIN_PASSWORD", winrmtest.DefaultPassword)
	t.Setenv("WIN_BAD_PASSWORD", "n0t-the-Passw0rd")
	good := startWinRM(t, winrmtest.Options{TLS: true})
	auth := startWinRM(t, winrmtest.Options{TLS: true})
	tlsSrv := startWinRM(t, winrmtest.Options{TLS: true})
	tlsSrv.ca = "" // no ca_file: the system roots do not know the test CA
	stall := startWinRM(t, winrmtest.Options{Stall: func(string) bool { return true }})

	f := winFleet(t, winAssoc)
	inv := good.inventory("win-ok", "WIN_PASSWORD", "", "") +
		auth.inventory("win-auth", "WIN_BAD_PASSWORD", "", "") +
		tlsSrv.inventory("win-tls", "WIN_PASSWORD", "", "https = true\n") +
		stall.inventory("win-slow", "WIN_PASSWORD", "connect_timeout = \"1s\"\n", "")
	f.writeInventory(t, inv)

	r := f.mustRun(t, "want exit 3", 3, "", "apply")
	if !strings.Contains(r.stdout, "win win-ok Success (2 Corrected)") {
		t.Errorf("the good host did not succeed:\n%s", r)
	}
	// The result lines name each failure; the journal keeps the whole
	// error.
	for _, want := range []string{"win win-auth Failed: dial win-auth: authentication failed: WinRM: 401 from",
		"win win-tls Unreachable: dial win-tls: host unreachable: TLS certificate rejected",
		"win win-slow Unreachable: dial win-slow: host unreachable: timed out: WinRM: no answer from"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("no %q in\n%s", want, r)
		}
	}
	if !strings.Contains(r.stderr, "win apply, 4 hosts: 1 failed: win-auth; 2 unreachable: win-slow win-tls; 1 corrected: win-ok (driftless show 1)") {
		t.Errorf("summary:\n%s", r)
	}
	show := showRun(t, f, "1")
	errs := map[string]string{}
	for _, h := range show.Hosts {
		errs[h.Host] = string(h.Status) + ": " + h.Error
	}
	for h, words := range map[string][]string{
		"win-auth": {"Failed: ", fmt.Sprintf("WinRM: 401 from win-auth:%d — check user/password_env and auth = ntlm|basic", auth.Port)},
		"win-tls":  {"Unreachable: ", "TLS certificate", "signed by an unknown authority"},
		"win-slow": {"Unreachable: ", fmt.Sprintf("WinRM: no answer from win-slow:%d within 1s (connect_timeout)", stall.Port)},
		"win-ok":   {"Success: "},
	} {
		for _, want := range words {
			if !strings.Contains(errs[h], want) {
				t.Errorf("%s: no %q in %q", h, want, errs[h])
			}
		}
	}
	if strings.Contains(r.stdout+r.stderr+fmt.Sprint(errs), "n0t-the-Passw0rd") {
		t.Error("the password is shown")
	}
	// Nothing ran where the connection failed.
	for _, s := range []*winServer{auth, tlsSrv, stall} {
		if s.host.Scripts() != 0 || len(s.Commands()) != 0 {
			t.Errorf("%s: %d scripts ran", s.URL, s.host.Scripts())
		}
	}
	rows := statusRows(t, f)
	if rows["win-ok"]["compliance"] != "COMPLIANT" {
		t.Errorf("status of the good host: %v", rows["win-ok"])
	}
}

var mixedDoc = configtest.Doc(testDocs, "mixed.toml")

func TestWinRMMixedInventory(t *testing.T) {
	t.Setenv("WIN_PASSWORD", winrmtest.DefaultPassword)
	f := startFleet(t, 2, everyHost("mixed", "mixed"))
	f.writeDoc("mixed", mixedDoc)
	srv := startWinRM(t, winrmtest.Options{TLS: true})
	f.writeInventory(t, srv.inventory("win-1", "WIN_PASSWORD", "", ""))

	r := f.mustRun(t, "apply", 0, "", "apply")
	// One run, one result line per host, one summary.
	for _, h := range []string{"web-1", "web-2", "win-1"} {
		if !strings.Contains(r.stdout, "mixed "+h+" Success (3 Corrected, 1 Skipped)") {
			t.Errorf("no result line for %s:\n%s", h, r)
		}
	}
	if n := strings.Count(r.stderr, "driftless show"); n != 1 || !strings.Contains(r.stderr, "mixed apply, 3 hosts: 3 corrected: web-1 web-2 win-1 (driftless show 1)") {
		t.Errorf("want one summary of one run:\n%s", r)
	}
	for _, h := range f.hosts {
		b, err := os.ReadFile(filepath.Join(h.Home, "app/motd.txt"))
		if err != nil || string(b) != "managed by driftless on "+h.Name+"\n" {
			t.Errorf("%s: motd %q %v", h.Name, b, err)
		}
		if _, err := os.Stat(filepath.Join(h.Home, "app/.sh")); err != nil {
			t.Errorf("%s: shell step did not run: %v", h.Name, err)
		}
	}
	if got, _ := srv.host.File(winProfile + `\app/motd.txt`); got != "managed by driftless on win-1\n" {
		t.Errorf("win-1 motd %q", got)
	}
	if _, ok := srv.host.File(`C:\app\.installed`); !ok {
		t.Error("win-1: powershell step did not run")
	}

	// The journal has the three hosts in run 1; each skipped the script
	// step of the other platform.
	show := showRun(t, f, "1")
	if len(show.Hosts) != 3 {
		t.Fatalf("run 1 has %d hosts, want 3", len(show.Hosts))
	}
	for _, h := range show.Hosts {
		skipped := "installed"
		if h.Host == "win-1" {
			skipped = "posix"
		}
		for _, st := range h.Steps {
			want := journal.StatusCorrected
			if st.Name == skipped {
				want = journal.StatusSkipped
			}
			if st.Status != want {
				t.Errorf("%s/%s: %s (%s), want %s", h.Host, st.Name, st.Status, st.Error, want)
			}
		}
	}
	r = f.run(t, "check")
	if r.code != 0 || !strings.Contains(r.stderr, "mixed check, 3 hosts: 3 compliant (driftless show 2)") {
		t.Errorf("check after apply: %s", r)
	}
	for _, h := range []string{"web-1", "web-2", "win-1"} {
		if !strings.Contains(r.stdout, "mixed "+h+" Success (3 Compliant, 1 Skipped)") {
			t.Errorf("no check line for %s:\n%s", h, r)
		}
	}

	rows := statusRows(t, f)
	if len(rows) != 3 {
		t.Errorf("status lists %d hosts, want 3: %v", len(rows), rows)
	}
	for _, h := range []string{"web-1", "web-2", "win-1"} {
		if rows[h]["compliance"] != "COMPLIANT" {
			t.Errorf("status %s: %v", h, rows[h])
		}
	}
}

var winServiceDoc = winDoc + configtest.Doc(testDocs, "win-service-step.toml")

// TestWinRMServiceStep runs a document with powershell, file and service
// steps.
func TestWinRMServiceStep(t *testing.T) {
	t.Setenv("WIN_PASSWORD", winrmtest.DefaultPassword)
	srv := startWinRM(t, winrmtest.Options{TLS: true})
	w := srv.host
	w.SetService("Spooler", false, false)
	f := winFleet(t, winAssoc)
	f.writeDoc("win", winServiceDoc)
	f.writeInventory(t, srv.inventory("win-1", "WIN_PASSWORD", "", ""))

	r := f.run(t, "check")
	if !w.SawServiceState() {
		t.Fatalf("no service state was asked for: %s", r)
	}
	if r.code != 2 || !strings.Contains(r.stdout, "win win-1 Success (3 Drifted)") {
		t.Fatalf("check: %s", r)
	}
	show := showRun(t, f, "1")
	if st := show.Hosts[0].Steps[2]; st.Name != "spooler" || st.Status != "Drifted" || st.Differ != "stopped -> running; disabled -> enabled (windows)" {
		t.Errorf("service step: %+v", st)
	}

	r = f.mustRun(t, "apply", 0, "win win-1 Success (3 Corrected)", "apply")
	if got := w.Service("Spooler"); got != [2]bool{true, true} {
		t.Errorf("Spooler running, enabled = %v", got)
	}
	if got := strings.Join(w.SvcOps(), ", "); got != "enable Spooler, start Spooler" {
		t.Errorf("service operations: %s", got)
	}
	show = showRun(t, f, "2")
	if st := show.Hosts[0].Steps[2]; st.Status != "Corrected" || !strings.Contains(st.Stdout, "Waiting for service 'Spooler' to start") {
		t.Errorf("service step: %+v", st)
	}

	r = f.mustRun(t, "check after apply", 0, "win win-1 Success (3 Compliant)", "check")
	// Someone stops the service: drift.
	w.SetService("Spooler", false, true)
	r = f.mustRun(t, "check after stop", 2, "win win-1 Success (2 Compliant, 1 Drifted)", "check")
	// A service the host does not have fails the step, with its name.
	w.DeleteService("Spooler")
	r = f.run(t, "apply")
	if r.code == 0 || !strings.Contains(r.stdout, "win win-1 Failed") {
		t.Fatalf("apply without the service: %s", r)
	}
	show = showRun(t, f, "5")
	if st := show.Hosts[0].Steps[2]; st.Status != "Failed" || st.Error != "service Spooler not found (windows)" {
		t.Errorf("missing service: %+v", st)
	}
}

var winPkgDoc = configtest.Doc(testDocs, "win-pkg.toml")

// TestWinRMPackageStep installs and removes packages with winget (auto:
// winget is found first), through the CLI: check, apply, check.
func TestWinRMPackageStep(t *testing.T) {
	t.Setenv("WIN_PASSWORD", winrmtest.DefaultPassword)
	srv := startWinRM(t, winrmtest.Options{TLS: true})
	w := srv.host
	w.Winget, w.Choco = true, true
	w.Packages.Installed["Git.Git"] = "2.44.0"
	w.Packages.Installed["Telnet.Client"] = "1.0"
	w.Packages.Latest["7zip.7zip"] = "23.01"
	f := winFleet(t, winAssoc)
	f.writeDoc("win", winPkgDoc)
	f.writeInventory(t, srv.inventory("win-1", "WIN_PASSWORD", "", ""))

	f.mustRun(t, "check", 2, "win win-1 Success (2 Drifted)", "check")
	steps := showRun(t, f, "1").Hosts[0].Steps
	if steps[0].Differ != "missing: 7zip.7zip (winget)" || steps[1].Differ != "unwanted: Telnet.Client (winget)" {
		t.Errorf("differ %q %q", steps[0].Differ, steps[1].Differ)
	}
	if _, ok := w.Package("7zip.7zip"); ok {
		t.Fatal("check installed a package")
	}

	f.mustRun(t, "apply", 0, "win win-1 Success (2 Corrected)", "apply")
	if v, _ := w.Package("7zip.7zip"); v != "23.01" {
		t.Errorf("7zip.7zip %q", v)
	}
	if _, ok := w.Package("Telnet.Client"); ok {
		t.Error("Telnet.Client still installed")
	}
	if st := showRun(t, f, "2").Hosts[0].Steps[0]; !strings.Contains(st.Stdout, "Successfully installed") {
		t.Errorf("install output %q", st.Stdout)
	}
	f.mustRun(t, "check after apply", 0, "win win-1 Success (2 Compliant)", "check")
	for _, c := range w.NativeCalls() {
		if strings.HasPrefix(c, "choco") {
			t.Errorf("choco ran with winget there: %s", c)
		}
	}
}

// TestWinRMDownloadStep fetches content on the control machine (HTTP
// and a file under the config dir), verifies its hash and writes it on
// the Windows host like a file step.
func TestWinRMDownloadStep(t *testing.T) {
	t.Setenv("WIN_PASSWORD", winrmtest.DefaultPassword)
	srv := startWinRM(t, winrmtest.Options{TLS: true})
	w := srv.host
	bin := []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00binary ✓")
	sum := sha256.Sum256(bin)
	web := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { rw.Write(bin) }))
	defer web.Close()
	f := winFleet(t, winAssoc)
	os.WriteFile(filepath.Join(f.dir, "agent.msi"), []byte("local installer\r\n"), 0o600)
	f.writeDoc("win", fmt.Sprintf(`
[[steps]]
name = "tool"
action = "download"
url = %q
sha256 = %q
destination = 'C:\app\tool.exe'

[[steps]]
name = "agent"
action = "download"
source = "agent.msi"
destination = "~/agent.msi"
`, web.URL+"/tool.exe", hex.EncodeToString(sum[:])))
	f.writeInventory(t, srv.inventory("win-1", "WIN_PASSWORD", "", ""))

	r := f.mustRun(t, "apply", 0, "win win-1 Success (2 Corrected)", "apply")
	if got, _ := w.File(`C:\app\tool.exe`); got != string(bin) {
		t.Errorf("tool.exe %q", got)
	}
	if got, _ := w.File(winProfile + `\agent.msi`); got != "local installer\r\n" {
		t.Errorf("agent.msi %q", got)
	}
	r = f.mustRun(t, "check", 0, "win win-1 Success (2 Compliant)", "check")
	// Changed on the host: drifted, put back.
	w.Set(`C:\app\tool.exe`, "tampered")
	r = f.mustRun(t, "check after tamper", 2, "win win-1 Success (1 Compliant, 1 Drifted)", "check")
	if st := showRun(t, f, "3").Hosts[0].Steps[0]; st.Status != "Drifted" || st.Differ != fmt.Sprintf("content differs (8 bytes, want %d)", len(bin)) {
		t.Errorf("tool step: %+v", st)
	}
	if r = f.run(t, "apply"); r.code != 0 {
		t.Fatalf("apply after tamper: %s", r)
	}
	if got, _ := w.File(`C:\app\tool.exe`); got != string(bin) {
		t.Errorf("tool.exe after apply %q", got)
	}
	// A wrong hash writes nothing.
	f.writeDoc("win", fmt.Sprintf("[[steps]]\nname = \"tool\"\naction = \"download\"\nurl = %q\nsha256 = %q\ndestination = 'C:\\app\\other.exe'\n",
		web.URL+"/tool.exe", strings.Repeat("0", 64)))
	r = f.run(t, "apply")
	if r.code == 0 || !strings.Contains(r.stdout, "win win-1 Failed") {
		t.Fatalf("apply with a wrong hash: %s", r)
	}
	if _, ok := w.File(`C:\app\other.exe`); ok {
		t.Error("written despite the wrong hash")
	}
}
