package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/driftless-dev/driftless/internal/sshsim"
)

func runDemo(c *cli.Context, u *ui) error {
	started := time.Now()
	dir := c.String("keep")
	if dir == "" {
		tmp, err := os.MkdirTemp("", "driftless-demo-")
		if err != nil {
			return exitWith(exitFailed, fmt.Errorf("demo: %w", err))
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else {
		if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
			return usageError("--keep %s: the directory is not empty", dir)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return exitWith(exitFailed, fmt.Errorf("demo: %w", err))
		}
	}
	cfgDir := filepath.Join(dir, "config")
	hostsDir := filepath.Join(dir, "hosts")
	for _, d := range []string{filepath.Join(cfgDir, "documents"), hostsDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return exitWith(exitFailed, fmt.Errorf("demo: %w", err))
		}
	}
	keyPath := filepath.Join(dir, "id_ed25519")
	key, err := sshsim.NewClientKey(keyPath)
	if err != nil {
		return exitWith(exitFailed, err)
	}
	web, err := sshsim.Start(sshsim.Options{Hosts: 3, NamePrefix: "web-", AuthorizedKeys: []gossh.PublicKey{key.PublicKey()}, Dir: hostsDir, FirstAddr: "127.77.0.1"})
	if err != nil {
		return exitWith(exitFailed, fmt.Errorf("demo: start hosts: %w", err))
	}
	defer web.Close()
	db, err := sshsim.Start(sshsim.Options{Hosts: 1, NamePrefix: "db-", AuthorizedKeys: []gossh.PublicKey{key.PublicKey()}, Dir: hostsDir, FirstAddr: "127.77.1.1"})
	if err != nil {
		return exitWith(exitFailed, fmt.Errorf("demo: start hosts: %w", err))
	}
	defer db.Close()
	kh := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(kh, []byte(strings.Join(append(web.KnownHosts(), db.KnownHosts()...), "\n")+"\n"), 0o600); err != nil {
		return exitWith(exitFailed, err)
	}
	if err := writeDemoConfig(cfgDir, keyPath, kh, append(web.Hosts, db.Hosts...)); err != nil {
		return exitWith(exitFailed, err)
	}

	step := 0
	say := func(format string, args ...any) {
		step++
		fmt.Fprintf(u.out, "\n%s\n", u.bold(fmt.Sprintf("%d. %s", step, fmt.Sprintf(format, args...))))
	}
	run := func(args ...string) int {
		shown := "driftless " + strings.Join(args, " ")
		fmt.Fprintf(u.out, "   $ %s\n", shown)
		full := append([]string{"driftless", "-C", cfgDir}, args...)
		if !u.color {
			full = append(full, "--no-color")
		}
		return Main(full, c.App.Reader, c.App.Writer, c.App.ErrWriter)
	}
	fmt.Fprintf(u.out, "%s\n", u.bold("driftless demo: 4 SSH hosts on loopback (web-1..3, db-1), each with its own host key, pinned."))
	say("Apply the baseline to fresh hosts: every step drifted, every step corrected")
	if code := run("apply"); code != exitOK {
		return exitWith(exitFailed, fmt.Errorf("demo: the first apply exited %d", code))
	}
	say("Apply again: one round trip per host, everything Compliant")
	run("apply", "web-baseline")
	say("Someone edits web-2 by hand")
	conf := filepath.Join(web.Hosts[1].Home, "app", "app.conf")
	b, err := os.ReadFile(conf)
	if err != nil {
		return exitWith(exitFailed, fmt.Errorf("demo: %w", err))
	}
	tampered := strings.Replace(string(b), "workers = 4", "workers = 64", 1)
	if err := os.WriteFile(conf, []byte(tampered), 0o644); err != nil {
		return exitWith(exitFailed, err)
	}
	fmt.Fprintf(u.out, "   web-2:~/app/app.conf now says workers = 64\n")
	say("Check: drift found on web-2 alone, nothing changed (exit 2)")
	if code := run("check", "web-baseline"); code != exitDrift {
		return exitWith(exitFailed, fmt.Errorf("demo: the check exited %d, want %d", code, exitDrift))
	}
	say("What differed, from the journal (the check was run 4 of this fresh journal)")
	run("show", "4", "--host", "web-2")
	run("drift", "--host", "web-2", "--since", "1h")
	say("Apply: the drift is corrected")
	run("apply", "web-baseline", "--targets", "web-2")
	say("Compliance now, and the history the journal keeps")
	run("status")
	run("history")
	report, err := demoReportPath(dir, c.String("keep") != "")
	if err != nil {
		return exitWith(exitFailed, err)
	}
	say("The compliance report: one HTML page, open it in a browser")
	if code := run("report", "--html", report); code != exitOK {
		return exitWith(exitFailed, fmt.Errorf("demo: the report exited %d", code))
	}
	fmt.Fprintf(u.out, "\n%s in %s. The report is %s\n", u.bold("That was driftless"), time.Since(started).Round(100*time.Millisecond), report)
	if c.String("keep") != "" {
		fmt.Fprintf(u.out, "\nThe config dir and journal stay in %s (the hosts are gone). Try:\n", dir)
		for _, cmd := range []string{"status", "history", "drift --since 1h", "show 1", "documents baseline", "inventory --targets 'tag:role=web'", "validate"} {
			fmt.Fprintf(u.out, "  driftless -C %s %s\n", cfgDir, cmd)
		}
	}
	return nil
}

// demoReportPath is where the demo writes its report: in the kept
// directory, else in the temporary directory (the demo's own goes away).
func demoReportPath(dir string, keep bool) (string, error) {
	if keep {
		return filepath.Join(dir, "report.html"), nil
	}
	f, err := os.CreateTemp("", "driftless-demo-report-*.html")
	if err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	return f.Name(), f.Close()
}

func writeDemoConfig(dir, key, kh string, hosts []*sshsim.Host) error {
	var inv strings.Builder
	fmt.Fprintf(&inv, "# A throwaway fleet started by driftless demo.\n[defaults]\nidentity_files = [%q]\nknown_hosts = [%q]\nhost_key_policy = \"strict\"\nssh_config = false\nconnect_timeout = \"5s\"\n", key, kh)
	for _, h := range hosts {
		role := "web"
		if strings.HasPrefix(h.Name, "db-") {
			role = "db"
		}
		fmt.Fprintf(&inv, "\n[hosts.%s]\naddress = %q\nport = %d\nuser = \"demo\"\ntags = { role = %q, env = \"demo\" }\n", h.Name, h.Addr, h.Port, role)
	}
	inv.WriteString("\n[groups.web]\nselect = [\"tag:role=web\"]\nvars = { workers = \"4\" }\n")
	files := map[string]string{
		"inventory.toml":             inv.String(),
		"documents/baseline.toml":    example("demo/documents/baseline.toml"),
		"documents/disk-report.yaml": example("demo/documents/disk-report.yaml"),
		"associations.toml":          example("demo/associations.toml"),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	return nil
}
