package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/notify"
)

const hookSecret = "h00k-5ecret-t0ken"

// hookServer is a local webhook endpoint that fails (500, echoing the
// Authorization header back), hangs (never answers) or succeeds, as the
// test sets it, and keeps the bodies it was sent.
type hookServer struct {
	srv    *httptest.Server
	mu     sync.Mutex
	mode   string
	bodies [][]byte
	auth   []string
}

func newHookServer(t *testing.T, mode string) *hookServer {
	h := &hookServer{mode: mode}
	release := make(chan struct{})
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, body)
		h.auth = append(h.auth, r.Header.Get("Authorization"))
		mode := h.mode
		h.mu.Unlock()
		switch mode {
		case "fail":
			http.Error(w, "broken, you sent "+r.Header.Get("Authorization"), http.StatusInternalServerError)
		case "hang":
			select {
			case <-r.Context().Done():
			case <-release:
			}
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	t.Cleanup(func() { close(release); h.srv.Close() })
	return h
}

func (h *hookServer) set(mode string) {
	h.mu.Lock()
	h.mode = mode
	h.mu.Unlock()
}

// got returns what the server was sent, and clears it.
func (h *hookServer) got() (bodies [][]byte, auth []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	bodies, auth = h.bodies, h.auth
	h.bodies, h.auth = nil, nil
	return bodies, auth
}

// runIDs are the run ids of the JSON payloads in bodies.
func runIDs(t *testing.T, bodies [][]byte) []int64 {
	var ids []int64
	for _, b := range bodies {
		var p notify.Payload
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("payload %s: %v", b, err)
		}
		ids = append(ids, p.RunID)
	}
	return ids
}

func keptNotifications(t *testing.T, f *e2eFleet) []journal.Notification {
	j, err := journal.Open(filepath.Join(f.dir, ".driftless", "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ns, err := j.Notifications(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// Webhooks through the real CLI, on real sshd hosts with one drifted: a
// check tells an endpoint that succeeds, one that fails and one that
// hangs. The check's exit code and output are those of a check without
// webhooks, and it ends at most max_wait later; the endpoint that
// succeeds has the payload (the drifted host, its step and what
// differed) and the secret header; what the others did not take is in
// the journal, and the next check delivers it first, then its own; a
// tick delivers what is kept too. The secret is in no output and not in
// the journal.
func TestE2ENotify(t *testing.T) {
	t.Setenv("APP_TOKEN", "tok-5ecret-v4lue")
	t.Setenv("HOOK_TOKEN", hookSecret)
	f := startFleet(t, 2, baseAssoc)
	f.mustRun(t, "first apply", 0, "", "apply")
	os.WriteFile(filepath.Join(f.hosts[1].Home, "app/conf/app.toml"), []byte("[server]\nport = 1\n"), 0o644)

	began := time.Now()
	plain := f.run(t, "check")
	plainTook := time.Since(began)
	if plain.code != 2 {
		t.Fatalf("check without webhooks: %s", plain)
	}

	ok, fail, hang := newHookServer(t, "ok"), newHookServer(t, "fail"), newHookServer(t, "hang")
	notifyTOML := fmt.Sprintf(`max_wait = "2s"

[[webhook]]
url = %q
headers = { Authorization = "Bearer {{ env:HOOK_TOKEN }}" }

[[webhook]]
url = "%s/services/T0/B0"
format = "slack"
events = ["drift", "failed"]
headers = { Authorization = "Bearer {{ env:HOOK_TOKEN }}" }

[[webhook]]
url = %q
timeout = "1s"
`, ok.srv.URL, fail.srv.URL, hang.srv.URL)
	os.WriteFile(filepath.Join(f.dir, "notify.toml"), []byte(notifyTOML), 0o600)
	if r := f.run(t, "validate"); r.code != 0 || !strings.HasSuffix(r.stdout, ", 1 association, 3 webhooks\n") {
		t.Fatalf("validate: %s", r)
	}

	began = time.Now()
	r := f.run(t, "check")
	took := time.Since(began)
	// The same lines (hosts print in the order they end).
	sorted := func(s string) string { l := strings.Split(s, "\n"); slices.Sort(l); return strings.Join(l, "\n") }
	if r.code != 2 || sorted(r.stdout) != sorted(plain.stdout) {
		t.Errorf("check with webhooks: want exit 2 and the output of one without\n%s\n--- without\n%s", r, plain)
	}
	if took > plainTook+2*time.Second+1500*time.Millisecond {
		t.Errorf("check took %v with webhooks, %v without: more than max_wait (2s) longer", took, plainTook)
	}
	t.Logf("check: %v without webhooks, %v with one that fails and one that hangs (max_wait 2s)", plainTook.Round(time.Millisecond), took.Round(time.Millisecond))

	bodies, auth := ok.got()
	if len(bodies) != 1 || auth[0] != "Bearer "+hookSecret {
		t.Fatalf("ok endpoint: %d bodies, auth %q", len(bodies), auth)
	}
	var p notify.Payload
	if err := json.Unmarshal(bodies[0], &p); err != nil {
		t.Fatal(err)
	}
	if p.RunID != 3 || p.Association != "app" || p.Mode != journal.ModeCheck || p.Status != journal.StatusSuccess || p.Counts["Success"] != 2 ||
		strings.Join(p.Events, ",") != "drift" || len(p.Hosts) != 1 || p.Node == "" {
		t.Errorf("payload: %s", bodies[0])
	} else if h := p.Hosts[0]; h.Host != "web-2" || len(h.Steps) != 1 || h.Steps[0].Name != "config" || h.Steps[0].Status != journal.StatusDrifted ||
		!strings.HasSuffix(h.Steps[0].Reason, "~/app/conf/app.toml: +2 -1 lines") {
		t.Errorf("host: %+v", h)
	}
	slack, _ := fail.got()
	if len(slack) < 2 {
		t.Errorf("failing endpoint tried %d times within max_wait", len(slack))
	}
	var msg struct{ Text string }
	if err := json.Unmarshal(slack[0], &msg); err != nil || msg.Text != "driftless: app check on 2 hosts: 1 drifted (run 3)" {
		t.Errorf("slack message %s: %v", slack[0], err)
	}
	if hung, _ := hang.got(); len(hung) < 1 {
		t.Error("hanging endpoint was not tried")
	}
	for _, w := range []string{
		"notify: webhook 2 (" + fail.srv.URL + "/…): 1 notification not delivered (HTTP 500 Internal Server Error: broken, you sent Bearer ******); kept in the journal for the next run",
		"notify: webhook 3 (" + hang.srv.URL + "): 1 notification not delivered (",
	} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
	kept := keptNotifications(t, f)
	if len(kept) != 2 || kept[0].RunID != 3 || kept[1].RunID != 3 {
		t.Fatalf("kept: %+v", kept)
	}

	// The next check: every endpoint works. Each gets what was kept for
	// it, then the new run's.
	fail.set("ok")
	hang.set("ok")
	began = time.Now()
	r = f.run(t, "check")
	t.Logf("check: %v with three endpoints that answer (two with a notification kept from before)", time.Since(began).Round(time.Millisecond))
	if r.code != 2 {
		t.Fatalf("second check: %s", r)
	}
	if got, _ := ok.got(); fmt.Sprint(runIDs(t, got)) != "[4]" {
		t.Errorf("ok endpoint got runs %v", runIDs(t, got))
	}
	if got, _ := hang.got(); fmt.Sprint(runIDs(t, got)) != "[3 4]" {
		t.Errorf("hanging endpoint, now answering, got runs %v, want 3 then 4", runIDs(t, got))
	}
	slack, _ = fail.got()
	var texts []string
	for _, b := range slack {
		json.Unmarshal(b, &msg)
		texts = append(texts, msg.Text)
	}
	if len(texts) != 2 || !strings.HasSuffix(texts[0], "(run 3)") || !strings.HasSuffix(texts[1], "(run 4)") {
		t.Errorf("failing endpoint, now answering, got %q, want run 3 then 4", texts)
	}
	if !strings.Contains(r.stderr, "webhook 3 ("+hang.srv.URL+"): delivered 1 notification kept from earlier runs") {
		t.Errorf("stderr: %s", r.stderr)
	}
	if kept := keptNotifications(t, f); len(kept) != 0 {
		t.Errorf("still kept: %+v", kept)
	}

	// A tick with nothing due delivers what an earlier run kept.
	ok.set("fail")
	if r = f.run(t, "check"); r.code != 2 || len(keptNotifications(t, f)) != 1 {
		t.Fatalf("check with a failing endpoint: %s", r)
	}
	ok.set("ok")
	ok.got()
	r = f.run(t, "tick")
	if got, _ := ok.got(); r.code != 0 || fmt.Sprint(runIDs(t, got)) != "[5]" || len(keptNotifications(t, f)) != 0 {
		t.Errorf("tick: %s\nok endpoint got runs %v", r, runIDs(t, got))
	}

	// The secret is in no output and not in the journal.
	for _, out := range []string{r.stdout, r.stderr, f.run(t, "show", "3", "--json").stdout} {
		if strings.Contains(out, hookSecret) {
			t.Errorf("the secret is in the output:\n%s", out)
		}
	}
	files, _ := filepath.Glob(filepath.Join(f.dir, ".driftless", "journal.db*"))
	for _, p := range files {
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte(hookSecret)) {
			t.Errorf("the secret is in %s", p)
		}
	}
}

// A mistake in notify.toml is reported by validate and stops a run
// before any host is contacted, with file:line:col.
func TestE2ENotifyInvalid(t *testing.T) {
	f := startFleet(t, 1, baseAssoc)
	t.Setenv("APP_TOKEN", "x")
	os.WriteFile(filepath.Join(f.dir, "notify.toml"), []byte("[[webhook]]\nurl = \"https://hooks.example.com/x\"\nevents = [\"drifted\"]\n"), 0o600)
	want := filepath.Join(f.dir, "notify.toml") + `:3:11: webhook[0].events[0]: expected one of "drift", "corrected", "failed" or "unreachable", got "drifted" (did you mean "drift"?)`
	for _, cmd := range []string{"validate", "check"} {
		r := f.run(t, cmd)
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("%s: %s", cmd, r)
		}
	}
	if n := f.hosts[0].ConnectionCount(); n != 0 {
		t.Errorf("%d connections with an invalid notify.toml", n)
	}
}

// The daemon tells webhooks after each tick's runs.
func TestDaemonNotifies(t *testing.T) {
	bin := buildBinary(t)
	f := startFleet(t, 1, "[associations.d]\ndocument = \"d\"\ntargets = [\"*\"]\nschedule = \"rate(1 minute)\"\n")
	f.writeDoc("d", "[[steps]]\nname = \"broken\"\naction = \"shell\"\nrun = \"echo no; exit 3\"\n")
	hook := newHookServer(t, "ok")
	os.WriteFile(filepath.Join(f.dir, "notify.toml"), []byte(fmt.Sprintf("[[webhook]]\nurl = %q\nevents = [\"failed\"]\n", hook.srv.URL)), 0o600)
	cmd := exec.Command(bin, "daemon", "-C", f.dir, "--grace", "5s")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var bodies [][]byte
	for deadline := time.Now().Add(15 * time.Second); len(bodies) == 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		bodies, _ = hook.got()
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil || len(bodies) != 1 {
		t.Fatalf("daemon: %v, %d notifications\n%s", err, len(bodies), out.String())
	}
	var p notify.Payload
	json.Unmarshal(bodies[0], &p)
	if p.Association != "d" || p.Mode != journal.ModeApply || strings.Join(p.Events, ",") != "failed" || len(p.Hosts) != 1 ||
		len(p.Hosts[0].Steps) != 1 || p.Hosts[0].Steps[0].Name != "broken" || p.Hosts[0].Steps[0].Status != journal.StatusFailed {
		t.Errorf("payload: %s", bodies[0])
	}
}
