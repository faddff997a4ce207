package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/internal/configtest"
)

// Through the real CLI on real sshd hosts: for_each steps named
// NAME[item], a template source rendered on each host, and a handler
// that check mode reports as "would run", that apply runs once after the
// other steps when a site changed, and never otherwise.
func TestE2ELoopsTemplatesHandlers(t *testing.T) {
	f := startFleet(t, 2, "[associations.web]\ndocument = \"web\"\ntargets = [\"*\"]\n")
	f.writeDoc("web", configtest.Doc(testDocs, "authoring.toml"))
	os.MkdirAll(filepath.Join(f.dir, "templates"), 0o755)
	os.WriteFile(filepath.Join(f.dir, "templates", "site.conf"), []byte(configtest.Doc(testDocs, "site.conf")), 0o644)

	f.mustRun(t, "validate", 0, "", "validate")
	r := f.mustRun(t, "check", 2, "", "check", "web")
	r = f.mustRun(t, "show the check", 0, "", "show", "1", "--host", "web-1")
	for _, re := range []string{
		`2\. site\[alpha\] \(file\)\s+Drifted`,
		`3\. site\[beta\] \(file\)\s+Drifted`,
		`4\. reload \(shell\)\s+Skipped\s+\(would-run\)`,
		`error: would run: notified by "site\[alpha\]", "site\[beta\]" \(Drifted\)`,
	} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("show: no %s in\n%s", re, r)
		}
	}
	f.mustRun(t, "apply", 0, "", "apply", "web")
	for _, h := range f.hosts {
		b, _ := os.ReadFile(filepath.Join(h.Home, "sites", "beta.conf"))
		want := "server {\n  listen 8080;\n  server_name beta." + h.Name + ";\n  upstream 10.0.0.1:80 10.0.0.2:80;\n}\n"
		if string(b) != want {
			t.Errorf("%s: beta.conf = %q, want %q", h.Name, b, want)
		}
		// Once, after both sites were written.
		if b, _ := os.ReadFile(filepath.Join(h.Home, "reloads")); string(b) != "reload alpha.conf beta.conf \n" {
			t.Errorf("%s: reloads = %q", h.Name, b)
		}
	}
	f.mustRun(t, "apply again", 0, "", "apply", "web")
	r = f.mustRun(t, "show the second apply", 0, "", "show", "3", "--host", "web-2")
	if !regexp.MustCompile(`4\. reload \(shell\)\s+Skipped\s+\(not-notified\)`).MatchString(r.stdout) {
		t.Errorf("show: the handler is not skipped as not notified:\n%s", r)
	}
	if b, _ := os.ReadFile(filepath.Join(f.hosts[1].Home, "reloads")); strings.Count(string(b), "reload") != 1 {
		t.Errorf("the handler ran again with nothing corrected: %q", b)
	}
	// A handler that was not notified leaves the host compliant.
	r = f.mustRun(t, "status", 0, "", "status", "--fail-on-noncompliant")
	if strings.Contains(r.stdout, "NON_COMPLIANT") || strings.Count(r.stdout, "COMPLIANT") != 2 {
		t.Errorf("status:\n%s", r)
	}

	// The document's description names the loop, the notification and
	// the handler.
	r = f.mustRun(t, "documents web", 0, "for each item of {{ sites }}, notifies reload", "documents", "web")
	if !regexp.MustCompile(`reload: shell\n.*, handler\n`).MatchString(r.stdout) {
		t.Errorf("documents web:\n%s", r)
	}

	// The script a host gets says when the handler runs.
	r = f.mustRun(t, "documents --script", 0, "", "documents", "web", "--script")
	if !strings.Contains(r.stdout, `step 4 "reload" is a handler, not in this script: a script of its own runs it after the others, only when a step that notifies it was corrected: "site[alpha]", "site[beta]"`) {
		t.Errorf("documents --script:\n%s", r)
	}
}
