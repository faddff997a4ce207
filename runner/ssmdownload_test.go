package runner_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
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
