package runner_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/config"
)

// aws:downloadContent with no destinationPath, or a relative one, puts
// the file under the document's downloads directory, making its parent
// directories as the SSM agent does (agent/plugins/downloadcontent); a
// second apply finds it in place.
func TestSSMDownloadDefaultDestination(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("payload\n")) }))
	defer srv.Close()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	f := ssmFleet(t, `schemaVersion: "2.2"
mainSteps:
- action: aws:downloadContent
  name: none
  inputs: {sourceType: HTTP, sourceInfo: '{"url": "`+srv.URL+`/a"}'}
- action: aws:downloadContent
  name: rel
  inputs: {sourceType: HTTP, sourceInfo: {url: "`+srv.URL+`/b"}, destinationPath: boot/b.sh}
`)
	h := f.run(t, false, nil).Hosts[0]
	if got := statuses(h); got != "none=Corrected rel=Corrected" {
		t.Fatalf("statuses: %s (%+v)", got, h.Steps)
	}
	for _, p := range []string{".driftless/ssm/s/downloads/download-none", ".driftless/ssm/s/downloads/boot/b.sh"} {
		if b, err := os.ReadFile(filepath.Join(f.hosts[0].Home, p)); err != nil || string(b) != "payload\n" {
			t.Errorf("%s: %q %v", p, b, err)
		}
	}
	if got := statuses(f.run(t, false, nil).Hosts[0]); got != "none=Compliant rel=Compliant" {
		t.Errorf("second apply: %s", got)
	}
}

// aws:downloadContent with sourceType and sourceInfo given as parameters
// (as AWS-RunRemoteScript and AWS-ApplyAnsiblePlaybooks write them) is
// read once they are rendered: an HTTP source downloads; another type is
// refused, naming the plugin and the reason, when the association gives
// it (a value known only on a host's run fails that step the same way:
// documents.TestSSMDownloadTemplatedSource).
func TestSSMDownloadTemplatedSource(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("payload\n")) }))
	defer srv.Close()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	doc := `schemaVersion: "2.2"
parameters:
  sourceType: {type: String, default: HTTP}
  sourceInfo: {type: StringMap, default: {url: "` + srv.URL + `/a"}}
mainSteps:
- action: aws:downloadContent
  name: get
  inputs: {sourceType: "{{ sourceType }}", sourceInfo: "{{ sourceInfo }}", destinationPath: got}
- action: aws:runShellScript
  name: after
  inputs: {runCommand: ["true"]}
`
	f := ssmFleet(t, doc)
	h := f.run(t, false, nil).Hosts[0]
	if got := statuses(h); got != "get=Corrected after=Success" {
		t.Fatalf("statuses: %s (%+v)", got, h.Steps)
	}
	if b, err := os.ReadFile(filepath.Join(f.hosts[0].Home, ".driftless/ssm/s/downloads/got")); err != nil || string(b) != "payload\n" {
		t.Errorf("downloaded %q %v", b, err)
	}

	// Given in the association, it is checked when the config loads,
	// before any host is contacted.
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "documents"), 0o755)
	os.WriteFile(filepath.Join(dir, "documents", "s.yaml"), []byte(doc), 0o600)
	os.WriteFile(filepath.Join(dir, "inventory.toml"), []byte("[hosts.a]\naddress = \"192.0.2.1\"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "associations.toml"), []byte("[associations.s]\ndocument = \"s\"\ntargets = [\"*\"]\nparameters = { sourceType = \"S3\" }\n"), 0o600)
	_, list := config.Load(config.Options{Dir: dir})
	if err := list.Err(); err == nil || !strings.Contains(err.Error(), `step "get": aws:downloadContent sourceType "S3" is not supported: it downloads from Amazon S3, which needs AWS`) {
		t.Errorf("S3 in the association: %v", err)
	}
}
