package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/diag"
)

func notifyEnv(k string) (string, bool) {
	switch k {
	case "HOOK_TOKEN":
		return "s3cr3t-t0ken", true
	case "SLACK_URL":
		return "https://hooks.slack.example/services/T0/B0/XYZsecret", true
	case "BAD_URL":
		return "not a url s3cr3t-in-url", true
	}
	return "", false
}

// A valid notify.toml: defaults, env references rendered and kept as
// secrets, headers in canonical form.
func TestNotifyValid(t *testing.T) {
	src := `max_wait = "2s"

[[webhook]]
url = "https://ops.example.com/hooks/driftless?k=1"
headers = { authorization = "Bearer {{ env:HOOK_TOKEN }}", X-Team = "ops" }

[[webhook]]
url = "{{ env:SLACK_URL }}"
format = "slack"
events = ["failed", "unreachable"]
timeout = "2s"
`
	var l diag.List
	n := ParseNotify("notify.toml", []byte(src), notifyEnv, &l)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	if n.Wait != 2*time.Second || len(n.Webhooks) != 2 {
		t.Fatalf("%+v", n)
	}
	a, b := n.Webhooks[0], n.Webhooks[1]
	if a.Format != "json" || strings.Join(a.Events, ",") != "drift,corrected,failed,unreachable" || a.Timeout != DefaultWebhookTimeout {
		t.Errorf("defaults: %+v", a)
	}
	if len(a.Headers) != 2 || a.Headers[0] != (Header{"Authorization", "Bearer s3cr3t-t0ken"}) || a.Headers[1] != (Header{"X-Team", "ops"}) {
		t.Errorf("headers %+v", a.Headers)
	}
	if len(a.Secrets) != 1 || a.Secrets[0] != "s3cr3t-t0ken" {
		t.Errorf("secrets %q", a.Secrets)
	}
	if got := a.Label(); got != "webhook 1 (https://ops.example.com/…)" {
		t.Errorf("label %q", got)
	}
	if b.URL != "https://hooks.slack.example/services/T0/B0/XYZsecret" || b.Format != "slack" || !b.Wants(EventFailed) || b.Wants(EventDrift) || b.Timeout != 2*time.Second {
		t.Errorf("slack: %+v", b)
	}
	if got := b.Label(); got != "webhook 2 ({{ env:SLACK_URL }})" || strings.Contains(b.Key(), "secret") {
		t.Errorf("label %q key %q", got, b.Key())
	}
	if a.Key() == b.Key() {
		t.Error("two webhooks, one key")
	}
}

// Every mistake is reported with file:line:col, all at once, with a
// suggestion for a misspelt key or value; secrets from the environment
// appear in no message.
func TestNotifyErrors(t *testing.T) {
	src := `max_wiat = "1s"

[[webhook]]
url = "https://a.example/x"

[[webhook]]
url = "ftp://a.example/x"
events = ["drifted", "failed", "failed"]
format = "xml"

[[webhook]]
events = []

[[webhook]]
url = "{{ env:NOT_SET }}"
headers = { Content-Type = "text/plain", "bad header" = "x", X-Ok = 1 }

[[webhook]]
url = "{{ env:BAD_URL }}"
timeout = "2m"

[[webhook]]
url = "https://user:pw@a.example/"
evnets = ["drift"]

[[webhook]]
url = "https://a.example/{{ host.name }}"

[[webhook]]
url = "https://a.example/x"
`
	var l diag.List
	n := ParseNotify("notify.toml", []byte(src), notifyEnv, &l)
	var got []string
	for _, e := range l.Errors() {
		got = append(got, e.Error())
	}
	all := strings.Join(got, "\n")
	want := []string{
		`notify.toml:1:1: max_wiat: unknown key "max_wiat" (did you mean "max_wait"?)`,
		`notify.toml:7:1: webhook[1].url: url "ftp://a.example/x": expected an http:// or https:// URL with a host`,
		`notify.toml:8:11: webhook[1].events[0]: expected one of "drift", "corrected", "failed" or "unreachable", got "drifted" (did you mean "drift"?)`,
		`notify.toml:8:32: webhook[1].events[2]: event "failed" is listed twice`,
		`notify.toml:9:1: webhook[1].format: expected one of "json" or "slack", got "xml"`,
		`notify.toml:11:1: webhook[2]: webhook needs url`,
		`notify.toml:12:1: webhook[2].events: events must not be empty`,
		`notify.toml:15:1: webhook[3].url: {{ env:NOT_SET }}: environment variable NOT_SET is not set`,
		`notify.toml:16:13: webhook[3].headers.Content-Type: header Content-Type is set by driftless (format and body), not here`,
		`notify.toml:16:42: webhook[3].headers."bad header": invalid header name "bad header"`,
		`notify.toml:16:62: webhook[3].headers.X-Ok: expected a string, got 1`,
		`notify.toml:19:1: webhook[4].url: url "{{ env:BAD_URL }}" (as rendered): expected an http:// or https:// URL with a host`,
		`notify.toml:20:1: webhook[4].timeout: timeout is at most 30s, got 2m0s`,
		`notify.toml:23:1: webhook[5].url: url "https://user:pw@a.example/": a user or password in the URL is not allowed`,
		`notify.toml:24:1: webhook[5].evnets: unknown key "evnets" (did you mean "events"?)`,
		`notify.toml:27:1: webhook[6].url: {{ host.name }}: notify.toml may refer only to the environment ({{ env:NAME }})`,
		`notify.toml:29:1: webhook[7]: webhook 8 sends to the same url in the same format as webhook 1`,
	}
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("missing error:\n  %s\ngot:\n%s", w, all)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d errors, want %d:\n%s", len(got), len(want), all)
	}
	if strings.Contains(all, "s3cr3t") {
		t.Errorf("a secret in an error:\n%s", all)
	}
	if len(n.Webhooks) != 1 || n.Webhooks[0].N != 1 {
		t.Errorf("webhooks with errors kept: %+v", n.Webhooks)
	}
}

// notify.toml is loaded with the config dir: its errors fail Load (so
// validate and every run report them), a missing file is no webhooks,
// and [webhook] (one bracket) says how to write it.
func TestNotifyLoad(t *testing.T) {
	dir := writeDir(t, map[string]string{"inventory.toml": "[hosts.a]\n"})
	if cfg := load(t, dir); cfg.Notify != nil {
		t.Errorf("no notify.toml: %+v", cfg.Notify)
	}
	dir = writeDir(t, map[string]string{"inventory.toml": "[hosts.a]\n", "notify.toml": "[webhook]\nurl = \"https://a.example\"\n"})
	_, list := Load(Options{Dir: dir})
	err := list.Err()
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "notify.toml")+":1:1: webhook: expected [[webhook]] tables, got a table") {
		t.Errorf("err = %v", err)
	}
	dir = writeDir(t, map[string]string{"inventory.toml": "[hosts.a]\n", "notify.toml": "[[webhook]]\nurl = \"https://a.example\"\n"})
	if cfg := load(t, dir); cfg.Notify == nil || len(cfg.Notify.Webhooks) != 1 || cfg.Notify.Wait != DefaultNotifyWait {
		t.Errorf("notify: %+v", cfg.Notify)
	}
	var many strings.Builder
	for range MaxWebhooks + 1 {
		many.WriteString("[[webhook]]\nurl = \"https://a.example\"\n")
	}
	var l diag.List
	ParseNotify("notify.toml", []byte(many.String()), notifyEnv, &l)
	if err := l.Err(); err == nil || !strings.Contains(err.Error(), "more than 32 webhooks: limit 32") {
		t.Errorf("err = %v", err)
	}
}

// FuzzNotify: any notify.toml gives webhooks or errors inside the file,
// never a panic; every webhook kept has a usable URL, known events and
// format. go test ./config -run '^$' -fuzz FuzzNotify
func FuzzNotify(f *testing.F) {
	for _, s := range []string{
		"[[webhook]]\nurl = \"https://a.example/x\"\n",
		"max_wait = \"3s\"\n[[webhook]]\nurl = \"{{ env:SLACK_URL }}\"\nformat = \"slack\"\nevents = [\"failed\"]\nheaders = { A = \"{{ env:HOOK_TOKEN }}\" }\n",
		"[webhook]\nurl = 1\n",
		"webhook = [1, \"x\", {}]\n",
		"[[webhook]]\nurl = \"{{\"\nheaders.x = \"\\r\\n\"\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		var l diag.List
		n := ParseNotify("notify.toml", []byte(src), notifyEnv, &l)
		for _, e := range l.Errors() {
			if e.File != "notify.toml" {
				t.Fatalf("error outside the file: %v", e)
			}
		}
		if n == nil || n.Wait <= 0 || n.Wait > MaxNotifyWait {
			t.Fatalf("notify %+v", n)
		}
		for _, w := range n.Webhooks {
			if !strings.HasPrefix(w.URL, "http://") && !strings.HasPrefix(w.URL, "https://") || len(w.Events) == 0 || (w.Format != "json" && w.Format != "slack") {
				t.Fatalf("bad webhook accepted: %+v", w)
			}
			for _, h := range w.Headers {
				if strings.ContainsAny(h.Value, "\r\n") || !headerNameOK(h.Name) {
					t.Fatalf("bad header accepted: %+v", h)
				}
			}
		}
	})
}
