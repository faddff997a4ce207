package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/internal/diag"
	"github.com/driftless-dev/driftless/journal"
)

const secretToken = "t0ken-5ecret-v4lue"

var start = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func parseNotify(t *testing.T, src string) *config.Notify {
	t.Helper()
	var l diag.List
	n := config.ParseNotify("notify.toml", []byte(src), func(k string) (string, bool) { return secretToken, k == "HOOK_TOKEN" }, &l)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

func exit(n int) *int { return &n }

// sampleRun: web-1 corrected, web-2 drifted (a check would leave it so),
// web-3 failed, web-4 unreachable, web-5 compliant.
func sampleRun() Run {
	diff := "--- /etc/app.conf (on host)\n+++ /etc/app.conf (wanted)\n@@ -1 +1,2 @@\n-old\n+new\n+more\n"
	return Run{
		Run: journal.Run{ID: 7, Association: "baseline", Document: "base", Mode: journal.ModeApply, Trigger: journal.TriggerManual,
			Severity: "HIGH", Status: journal.StatusFailed, Hostname: "bastion-1", StartedAt: start, EndedAt: start.Add(3 * time.Second)},
		Hosts: []journal.HostResult{
			{Host: "web-1", Status: journal.StatusSuccess, Steps: []journal.StepResult{
				{Name: "dir", Action: "directory", Status: journal.StatusCompliant},
				{Name: "config", Action: "file", Status: journal.StatusCorrected, Drifted: true, Differ: diff},
			}},
			{Host: "web-2", Status: journal.StatusSuccess, Steps: []journal.StepResult{
				{Name: "config", Action: "file", Status: journal.StatusDrifted, Drifted: true, Differ: "mode 0644 -> 0600"},
			}},
			{Host: "web-3", Status: journal.StatusFailed, Steps: []journal.StepResult{
				{Name: "install", Action: "shell", Status: journal.StatusFailed, ExitCode: exit(3), Error: "exit status 3\nsecond line"},
			}},
			{Host: "web-4", Status: journal.StatusUnreachable, Error: "dial tcp 127.0.0.9:22: connect: connection refused"},
			{Host: "web-5", Status: journal.StatusSuccess, Steps: []journal.StepResult{{Name: "dir", Action: "directory", Status: journal.StatusCompliant}}},
		},
	}
}

// The JSON payload: the run, counts, and each host with an event the
// webhook wants, with the steps and why; a webhook that wants only some
// events gets only those hosts, and none for a run without them.
func TestPayloadJSON(t *testing.T) {
	n := parseNotify(t, "[[webhook]]\nurl = \"http://a.example\"\n[[webhook]]\nurl = \"http://b.example\"\nevents = [\"unreachable\"]\n")
	b := &builder{w: n.Webhooks[0], gist: func(s string) string { return "gist:" + strings.SplitN(s, "\n", 2)[0] }}
	body, ok, err := b.body(sampleRun())
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Version != 1 || p.RunID != 7 || p.Association != "baseline" || p.Mode != "apply" || p.Node != "bastion-1" || p.Status != "Failed" || p.Severity != "HIGH" {
		t.Errorf("run: %+v", p)
	}
	if strings.Join(p.Events, ",") != "drift,corrected,failed,unreachable" || p.Counts["Success"] != 3 || p.Counts["Unreachable"] != 1 || p.EventCounts["corrected"] != 1 {
		t.Errorf("events %v counts %v %v", p.Events, p.Counts, p.EventCounts)
	}
	if len(p.Hosts) != 4 {
		t.Fatalf("hosts: %+v", p.Hosts)
	}
	want := []Host{
		{Host: "web-1", Status: "Success", Events: []string{"corrected"}, Steps: []Step{{Name: "config", Action: "file", Status: "Corrected", Reason: "gist:--- /etc/app.conf (on host)"}}},
		{Host: "web-2", Status: "Success", Events: []string{"drift"}, Steps: []Step{{Name: "config", Action: "file", Status: "Drifted", Reason: "gist:mode 0644 -> 0600"}}},
		{Host: "web-3", Status: "Failed", Events: []string{"failed"}, Steps: []Step{{Name: "install", Action: "shell", Status: "Failed", Reason: "exit status 3 second line"}}},
		{Host: "web-4", Status: "Unreachable", Events: []string{"unreachable"}, Error: "dial tcp 127.0.0.9:22: connect: connection refused", Steps: []Step{}},
	}
	for i, w := range want {
		got, _ := json.Marshal(p.Hosts[i])
		exp, _ := json.Marshal(w)
		if string(got) != string(exp) {
			t.Errorf("host %d:\n got  %s\n want %s", i, got, exp)
		}
	}

	only := &builder{w: n.Webhooks[1], gist: b.gist}
	body, ok, _ = only.body(sampleRun())
	json.Unmarshal(body, &p)
	if !ok || len(p.Hosts) != 1 || p.Hosts[0].Host != "web-4" || strings.Join(p.Events, ",") != "unreachable" {
		t.Errorf("unreachable only: %s", body)
	}
	calm := sampleRun()
	calm.Hosts = calm.Hosts[4:]
	if _, ok, _ := b.body(calm); ok {
		t.Error("a notification for a run without events")
	}
}

// The Slack format: text for the notification, a section per event with
// the hosts and why (markup characters escaped), a context line.
func TestPayloadSlack(t *testing.T) {
	n := parseNotify(t, "[[webhook]]\nurl = \"http://a.example\"\nformat = \"slack\"\n")
	r := sampleRun()
	r.Hosts[2].Steps[0].Error = "exit 3: <oops> & more"
	b := &builder{w: n.Webhooks[0], gist: func(s string) string { return s }}
	body, ok, err := b.body(r)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	var m struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type     string `json:"type"`
			Text     struct{ Type, Text string }
			Elements []struct{ Type, Text string }
		} `json:"blocks"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if m.Text != "driftless: baseline apply on 5 hosts: 1 drifted, 1 corrected, 1 failed, 1 unreachable (run 7)" {
		t.Errorf("text %q", m.Text)
	}
	if len(m.Blocks) != 6 || m.Blocks[0].Type != "section" || m.Blocks[5].Type != "context" {
		t.Fatalf("blocks: %s", body)
	}
	if got := m.Blocks[3].Text.Text; got != "*Failed* (1)\n• `web-3`: install (exit 3: &lt;oops&gt; &amp; more)" || m.Blocks[3].Text.Type != "mrkdwn" {
		t.Errorf("failed section %q", got)
	}
	if got := m.Blocks[4].Text.Text; !strings.Contains(got, "`web-4`: dial tcp 127.0.0.9:22") {
		t.Errorf("unreachable section %q", got)
	}
	if got := m.Blocks[5].Elements[0].Text; got != "run 7 · Failed · 2026-12-01T10:00:00Z on bastion-1 · `driftless show 7`" {
		t.Errorf("context %q", got)
	}
	// Many hosts: ten listed per event, the rest counted.
	many := sampleRun()
	many.Hosts = nil
	for i := range 25 {
		many.Hosts = append(many.Hosts, journal.HostResult{Host: fmt.Sprintf("h%d", i), Status: journal.StatusUnreachable, Error: "refused"})
	}
	body, _, _ = b.body(many)
	json.Unmarshal(body, &m)
	if got := m.Blocks[1].Text.Text; strings.Count(got, "• ") != 10 || !strings.HasSuffix(got, "… and 15 more") {
		t.Errorf("many: %q", got)
	}
}

// endpoint is a local HTTP server whose behaviour the test switches:
// failing (500, echoing the Authorization header), hanging (never
// answering), or succeeding; it records every request.
type endpoint struct {
	*httptest.Server
	mode atomic.Value // "fail", "hang", "ok"
	mu   sync.Mutex
	reqs []request
	stop chan struct{}
}

type request struct {
	at     time.Time
	header http.Header
	body   []byte
}

func newEndpoint(t *testing.T, mode string) *endpoint {
	e := &endpoint{stop: make(chan struct{})}
	e.mode.Store(mode)
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.reqs = append(e.reqs, request{time.Now(), r.Header.Clone(), body})
		e.mu.Unlock()
		switch e.mode.Load() {
		case "fail":
			http.Error(w, "upstream broken; you sent "+r.Header.Get("Authorization"), http.StatusInternalServerError)
		case "hang":
			select {
			case <-r.Context().Done():
			case <-e.stop:
			}
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	t.Cleanup(func() { close(e.stop); e.Close() })
	return e
}

func (e *endpoint) requests() []request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]request(nil), e.reqs...)
}

func openJournal(t *testing.T) *journal.Journal {
	j, err := journal.Open(filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) f(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func hookConf(t *testing.T, wait string, urls ...string) *config.Notify {
	src := fmt.Sprintf("max_wait = %q\n", wait)
	for _, u := range urls {
		src += fmt.Sprintf("[[webhook]]\nurl = %q\ntimeout = \"1s\"\nheaders = { Authorization = \"Bearer {{ env:HOOK_TOKEN }}\" }\n", u)
	}
	return parseNotify(t, src)
}

// One session against three endpoints at once: the one that succeeds gets
// its notification with the secret header; the failing one is tried
// Tries times with growing waits; the hanging one holds the session no
// longer than max_wait (its attempts time out, and it is cut there).
// What was not delivered is in the journal, with no secret; the next
// session delivers it, before the new one.
func TestDelivery(t *testing.T) {
	ok, fail, hang := newEndpoint(t, "ok"), newEndpoint(t, "fail"), newEndpoint(t, "hang")
	conf := hookConf(t, "6s", ok.URL, fail.URL, hang.URL+"/hook")
	j := openJournal(t)
	var warn, note logs
	s := Start(context.Background(), Options{Notify: conf, Journal: j, Warnf: warn.f, Notef: note.f})
	s.Send([]Run{sampleRun()})
	began := time.Now()
	s.Close()
	took := time.Since(began)
	if took > 6*time.Second+500*time.Millisecond {
		t.Errorf("Close took %v, max_wait is 6s", took)
	}

	got := ok.requests()
	if len(got) != 1 || got[0].header.Get("Authorization") != "Bearer "+secretToken || got[0].header.Get("Content-Type") != "application/json" || got[0].header.Get("X-Driftless-Delivery") == "" {
		t.Fatalf("ok endpoint: %+v", got)
	}
	var p Payload
	if err := json.Unmarshal(got[0].body, &p); err != nil || p.RunID != 7 || len(p.Hosts) != 4 {
		t.Errorf("payload %s %v", got[0].body, err)
	}

	tries := fail.requests()
	if len(tries) != Tries {
		t.Fatalf("failing endpoint: %d attempts, want %d", len(tries), Tries)
	}
	for i := 1; i < len(tries); i++ {
		gap, least := tries[i].at.Sub(tries[i-1].at), (Backoff<<(i-1))/2
		if gap < least || gap > 3*least+time.Second {
			t.Errorf("attempt %d came %v after the one before, want %v..%v", i+1, gap, least, 3*least)
		}
	}
	if n := len(hang.requests()); n < 1 {
		t.Errorf("hanging endpoint: %d requests", n)
	}

	kept, err := j.Notifications(context.Background())
	if err != nil || len(kept) != 2 {
		t.Fatalf("journal: %+v %v", kept, err)
	}
	byHook := map[string]journal.Notification{}
	for _, n := range kept {
		byHook[n.Webhook] = n
	}
	f, h := byHook[conf.Webhooks[1].Key()], byHook[conf.Webhooks[2].Key()]
	if f.Attempts != Tries || f.LastError != "HTTP 500 Internal Server Error: upstream broken; you sent Bearer ******" || f.RunID != 7 || f.NextAt.After(time.Now()) {
		t.Errorf("failing one kept as %+v", f)
	}
	if h.Attempts < 1 || !strings.Contains(h.LastError, "no answer within 1s") && !strings.Contains(h.LastError, "no answer before max_wait (6s) ran out") {
		t.Errorf("hanging one kept as %+v", h)
	}
	out := warn.String()
	for _, w := range []string{
		"notify: webhook 2 (" + fail.URL + "): 1 notification not delivered (HTTP 500 Internal Server Error: upstream broken; you sent Bearer ******); kept in the journal for the next run",
		"notify: webhook 3 (" + hang.URL + "/…): 1 notification not delivered (",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("warnings lack %q:\n%s", w, out)
		}
	}
	dbFiles, _ := filepath.Glob(filepath.Join(filepath.Dir(j.Path()), "journal.db*"))
	for _, p := range dbFiles {
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), secretToken) {
			t.Errorf("the secret is in %s", p)
		}
	}
	if strings.Contains(out+note.String(), secretToken) {
		t.Errorf("the secret is in what was said:\n%s", out)
	}

	// The next run: both endpoints work now. What was kept goes first
	// (due at once after one process gave up), then the run's own; the
	// journal is empty after.
	fail.mode.Store("ok")
	hang.mode.Store("ok")
	var warn2 logs
	s = Start(context.Background(), Options{Notify: conf, Journal: j, Warnf: warn2.f, Notef: note.f})
	next := sampleRun()
	next.Run.ID = 8
	s.Send([]Run{next})
	s.Close()
	for _, e := range []*endpoint{fail, hang} {
		reqs := e.requests()
		var ids []int64
		for _, r := range reqs {
			if err := json.Unmarshal(r.body, &p); err == nil && e.mode.Load() == "ok" {
				ids = append(ids, p.RunID)
			}
		}
		if n := len(ids); n < 2 || ids[n-2] != 7 || ids[n-1] != 8 {
			t.Errorf("%s got runs %v, want ... 7, 8", e.URL, ids)
		}
	}
	if left, _ := j.Notifications(context.Background()); len(left) != 0 || warn2.String() != "" {
		t.Errorf("left %+v, warnings %s", left, warn2.String())
	}
	if !strings.Contains(note.String(), "delivered 1 notification kept from earlier runs") {
		t.Errorf("notes: %s", note.String())
	}
}

// A notification kept but not yet due goes as soon as a delivery to its
// webhook succeeds; one older than MaxAge is dropped, saying so; a 4xx is
// not retried; an interrupted command does not wait.
func TestDeliveryKeptAndDropped(t *testing.T) {
	e := newEndpoint(t, "ok")
	conf := hookConf(t, "5s", e.URL)
	key := conf.Webhooks[0].Key()
	j := openJournal(t)
	now := time.Now()
	j.AddNotifications(context.Background(), []journal.Notification{
		{Webhook: key, RunID: 1, Body: []byte(`{"run_id":1}`), CreatedAt: now.Add(-25 * time.Hour)},
		{Webhook: key, RunID: 2, Body: []byte(`{"run_id":2}`), CreatedAt: now.Add(-time.Hour), Attempts: 4, NextAt: now.Add(time.Hour)},
		{Webhook: "gone", RunID: 3, Body: []byte(`{"run_id":3}`), CreatedAt: now.Add(-time.Hour)},
	}, 0)
	var warn logs
	s := Start(context.Background(), Options{Notify: conf, Journal: j, Warnf: warn.f})
	s.Send([]Run{sampleRun()})
	s.Close()
	var ids []string
	for _, r := range e.requests() {
		var p struct {
			RunID int64 `json:"run_id"`
		}
		json.Unmarshal(r.body, &p)
		ids = append(ids, fmt.Sprint(p.RunID))
	}
	if strings.Join(ids, ",") != "7,2" {
		t.Errorf("delivered runs %v, want 7 then 2", ids)
	}
	if !strings.Contains(warn.String(), "notify: dropped 1 undelivered notification older than 24h0m0s") {
		t.Errorf("warnings: %s", warn.String())
	}
	if left, _ := j.Notifications(context.Background()); len(left) != 1 || left[0].Webhook != "gone" {
		t.Errorf("left: %+v", left)
	}

	// 400: rejected at once, not kept.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
	}))
	defer bad.Close()
	conf = hookConf(t, "5s", bad.URL)
	warn = logs{}
	s = Start(context.Background(), Options{Notify: conf, Journal: j, Warnf: warn.f})
	s.Send([]Run{sampleRun()})
	s.Close()
	if !strings.Contains(warn.String(), "was rejected, not retried: HTTP 400 Bad Request: invalid_payload") {
		t.Errorf("warnings: %s", warn.String())
	}
	if left, _ := j.Notifications(context.Background()); len(left) != 1 {
		t.Errorf("a rejected notification was kept: %+v", left)
	}

	// Interrupted: no wait at all, everything kept.
	h := newEndpoint(t, "hang")
	conf = hookConf(t, "5s", h.URL)
	ctx, cancel := context.WithCancel(context.Background())
	s = Start(ctx, Options{Notify: conf, Journal: j})
	s.Send([]Run{sampleRun()})
	cancel()
	began := time.Now()
	s.Close()
	if d := time.Since(began); d > time.Second {
		t.Errorf("an interrupted command waited %v", d)
	}
	if left, _ := j.Notifications(context.Background()); len(left) != 2 {
		t.Errorf("kept: %+v", left)
	}
}

// Across processes the retries back off: due at once for the next run,
// then 30s, 1m, 2m, … at most an hour apart.
func TestRetryAfter(t *testing.T) {
	for attempts, want := range map[int]time.Duration{1: 0, Tries: 0, Tries + 1: RetryAfter, 2 * Tries: RetryAfter, 3 * Tries: 2 * RetryAfter, 4 * Tries: 4 * RetryAfter, 100 * Tries: MaxRetryAfter} {
		if got := retryAfter(attempts); got != want {
			t.Errorf("after %d attempts: %v, want %v", attempts, got, want)
		}
	}
}

// A webhook whose notification failed every attempt is down for the rest
// of the session: its other notifications are kept without a try, in
// the journal with their attempts. The waits between attempts double,
// with jitter.
func TestDownEndpoint(t *testing.T) {
	e := newEndpoint(t, "fail")
	conf := hookConf(t, "5s", e.URL)
	j := openJournal(t)
	var waits []time.Duration
	var warn logs
	s := Start(context.Background(), Options{Notify: conf, Journal: j, Warnf: warn.f,
		Sleep: func(_ context.Context, d time.Duration) { waits = append(waits, d) }})
	var runs []Run
	for id := range 3 {
		r := sampleRun()
		r.Run.ID = int64(id + 1)
		runs = append(runs, r)
	}
	s.Send(runs)
	s.Close()
	if n := len(e.requests()); n != Tries {
		t.Errorf("%d requests, want %d (the first notification's attempts only)", n, Tries)
	}
	if len(waits) != Tries-1 {
		t.Fatalf("waits %v", waits)
	}
	for i, d := range waits {
		base := Backoff << i
		if d < base/2 || d >= base*3/2 {
			t.Errorf("wait %d: %v, want [%v, %v)", i+1, d, base/2, base*3/2)
		}
	}
	kept, _ := j.Notifications(context.Background())
	if len(kept) != 3 || kept[0].RunID != 1 || kept[0].Attempts != Tries || kept[1].Attempts != 0 || kept[2].Attempts != 0 {
		t.Errorf("kept %+v", kept)
	}
	if !strings.Contains(warn.String(), "3 notifications not delivered (HTTP 500 Internal Server Error") {
		t.Errorf("warnings: %s", warn.String())
	}
}
