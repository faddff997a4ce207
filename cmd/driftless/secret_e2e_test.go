package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/internal/configtest"
)

// SPEC §6: after a secret is rotated, the host still holds the old value,
// which is no longer a secret driftless knows: a file or line whose wanted
// content holds a secret is never diffed, so that neither the new nor the
// old value reaches any output, the JUnit report or the journal's bytes.
func TestE2ERotatedSecretStaysSecret(t *testing.T) {
	const oldTok, newTok = "0ld-t0ken-Alpha7", "n3w-t0ken-Bravo9"
	f := startFleet(t, 1, everyHost("rot", "rot", `parameters = { token = "{{ env:API_TOKEN }}" }`))
	f.writeDoc("rot", configtest.Doc(testDocs, "rotate.toml"))
	t.Setenv("API_TOKEN", oldTok)
	f.mustRun(t, "apply with the old token", 0, "", "apply", "rot")
	if b, _ := os.ReadFile(filepath.Join(f.hosts[0].Home, "app.env")); string(b) != "API_TOKEN="+oldTok+"\nport = 8080\n" {
		t.Fatalf("app.env = %q", b)
	}

	t.Setenv("API_TOKEN", newTok)
	report := filepath.Join(f.dir, "report.xml")
	outs := map[string]result{
		"check":       f.run(t, "check", "rot"),
		"check json":  f.run(t, "check", "rot", "--json"),
		"check junit": f.run(t, "check", "rot", "--junit", report),
	}
	if r := outs["check"]; r.code != 2 {
		t.Fatalf("check with the new token: %s", r)
	}
	// Under the host line, the steps that drifted, without a diff.
	if r := outs["check"]; !strings.Contains(r.stdout, "\n  env-file (file): Drifted: content differs (secret): on host ") ||
		!strings.Contains(r.stdout, "\n  profile (line): Drifted: content differs (secret): on host ") || strings.Contains(r.stdout, "@@") {
		t.Errorf("the check does not say which steps drifted, or shows a diff: %s", r)
	}
	if !strings.Contains(outs["check json"].stdout, "content differs (secret)") {
		t.Errorf("the drift is not said: %s", outs["check json"])
	}
	outs["show"] = f.run(t, "show", "2")
	outs["show json"] = f.run(t, "show", "2", "--json")
	outs["drift"] = f.run(t, "drift")
	outs["drift json"] = f.run(t, "drift", "--json")
	outs["history"] = f.run(t, "history")
	if !strings.Contains(outs["show json"].stdout+outs["drift json"].stdout, "content differs (secret)") {
		t.Errorf("show/drift do not say the content differs: %s\n%s", outs["show json"], outs["drift json"])
	}
	junit, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string][]byte{"junit": junit}
	for name, r := range outs {
		texts[name] = []byte(r.stdout + r.stderr)
	}
	for _, p := range []string{"journal.db", "journal.db-wal"} {
		texts[p], _ = os.ReadFile(filepath.Join(f.dir, ".driftless", p))
	}
	for name, b := range texts {
		for _, tok := range []string{oldTok, newTok} {
			if bytes.Contains(b, []byte(tok)) {
				t.Errorf("%s holds %s", name, tok)
			}
		}
	}
}
