package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/internal/cfgtree"
	"github.com/driftless-dev/driftless/internal/diag"
)

// Events a webhook can be told about (docs/notify.md#events).
const (
	EventDrift       = "drift"
	EventCorrected   = "corrected"
	EventFailed      = "failed"
	EventUnreachable = "unreachable"
)

// NotifyEvents are the events, in the order payloads list them.
var NotifyEvents = []string{EventDrift, EventCorrected, EventFailed, EventUnreachable}

// Bounds of notify.toml (docs/notify.md).
const (
	MaxWebhooks       = 32
	MaxWebhookHeaders = 32
	MaxWebhookURL     = 2048
	// DefaultWebhookTimeout is how long one delivery attempt may take.
	DefaultWebhookTimeout = 5 * time.Second
	MaxWebhookTimeout     = 30 * time.Second
	// DefaultNotifyWait is how long driftless waits after a run for its
	// deliveries before it records what is left in the journal.
	DefaultNotifyWait = 5 * time.Second
	MaxNotifyWait     = time.Minute
)

// Notify is notify.toml: the webhooks told after each run.
type Notify struct {
	File string
	// Wait bounds how long a command waits, once its runs are over, for
	// deliveries still under way (max_wait).
	Wait     time.Duration
	Webhooks []*Webhook
}

// Webhook is one [[webhook]] table.
type Webhook struct {
	N       int    // its place in the file, from 1
	URLText string // url as written: {{ env:NAME }} not rendered
	URL     string // rendered
	Events  []string
	Format  string // json | slack
	Headers []Header
	Timeout time.Duration // of one attempt
	// Secrets are the values {{ env:NAME }} put into the url and the
	// headers: never printed nor recorded.
	Secrets []string
	Pos     diag.Pos
}

// Header is one HTTP header a webhook sends.
type Header struct{ Name, Value string }

// Key names the webhook in the journal (undelivered notifications): a
// hash of its url as written and its format, so that neither a URL that
// is a credential (Slack's) nor a secret is stored, and a notification
// kept for a webhook whose url or format changed is not sent to another.
func (w *Webhook) Key() string {
	sum := sha256.Sum256([]byte(w.URLText + "\x00" + w.Format))
	return hex.EncodeToString(sum[:8])
}

// Label names the webhook for people: its place in notify.toml and where
// it goes, without the path of a literal URL (which may be a credential)
// and without the values of {{ env:NAME }}.
func (w *Webhook) Label() string {
	where := w.URLText
	if !strings.Contains(where, "{{") {
		if u, err := url.Parse(w.URL); err == nil {
			where = u.Scheme + "://" + u.Host
			if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
				where += "/…"
			}
		}
	}
	return fmt.Sprintf("webhook %d (%s)", w.N, where)
}

// Wants reports whether the webhook subscribes to event.
func (w *Webhook) Wants(event string) bool { return slices.Contains(w.Events, event) }

var (
	notifyKeys  = []string{"webhook", "max_wait"}
	webhookKeys = []string{"url", "events", "format", "headers", "timeout"}
	// Headers the HTTP client or the format sets.
	reservedHeaders = []string{"Content-Type", "Content-Length", "Host", "Transfer-Encoding", "Connection"}
)

// LoadNotify reads DIR/notify.toml; a missing file is no webhooks (nil).
// env resolves {{ env:NAME }}.
func LoadNotify(dir string, env func(string) (string, bool), list *diag.List) *Notify {
	file := filepath.Join(dir, "notify.toml")
	src, err := cfgtree.ReadFile(file)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			list.Add(cfgtree.ReadError(file, "notify.toml", err))
		}
		return nil
	}
	return ParseNotify(file, src, env, list)
}

// ParseNotify reads notify.toml from src. What is wrong is added to list;
// the result holds the webhooks that are right.
func ParseNotify(file string, src []byte, env func(string) (string, bool), list *diag.List) *Notify {
	n := &Notify{File: file, Wait: DefaultNotifyWait}
	root, c := parseTOML(file, src, list)
	if root == nil {
		return n
	}
	c.Keys(root, notifyKeys...)
	if v := root.Get("max_wait"); v != nil {
		durationAtMost(c, v, MaxNotifyWait, &n.Wait)
	}
	hooks := root.Get("webhook")
	if hooks == nil {
		return n
	}
	if hooks.Kind != cfgtree.List {
		e := c.Errf(hooks, "expected [[webhook]] tables, got %s", hooks.Describe())
		e.Hint = "write each webhook as [[webhook]] (two brackets)"
		return n
	}
	if len(hooks.Items) > MaxWebhooks {
		c.Errf(hooks.Items[MaxWebhooks], "more than %d webhooks: limit %d", MaxWebhooks, MaxWebhooks)
		return n
	}
	seen := map[string]int{}
	for i, h := range hooks.Items {
		if !c.Map(h) {
			continue
		}
		w := parseWebhook(c, h, env)
		if w == nil {
			continue
		}
		w.N = i + 1
		if first, dup := seen[w.Key()]; dup {
			c.Errf(h, "webhook %d sends to the same url in the same format as webhook %d", w.N, first)
			continue
		}
		seen[w.Key()] = w.N
		n.Webhooks = append(n.Webhooks, w)
	}
	return n
}

func parseWebhook(c cfgtree.Checker, n *cfgtree.Node, env func(string) (string, bool)) *Webhook {
	w := &Webhook{Pos: n.Pos, Events: NotifyEvents, Format: "json", Timeout: DefaultWebhookTimeout}
	before := c.L.Len()
	c.Keys(n, webhookKeys...)
	if v := n.Get("url"); v == nil {
		e := c.Errf(n, "webhook needs url")
		e.Hint = `url = "https://hooks.example.com/driftless" or url = "{{ env:SLACK_WEBHOOK_URL }}"`
	} else if text, ok := c.NonEmpty(v); ok {
		w.URLText = text
		w.URL = renderNotifyEnv(c, v, text, env, &w.Secrets)
		checkWebhookURL(c, v, w)
	}
	if v := n.Get("events"); v != nil {
		w.Events = webhookEvents(c, v)
	}
	if v := n.Get("format"); v != nil {
		w.Format, _ = c.OneOf(v, "json", "slack")
	}
	if v := n.Get("timeout"); v != nil {
		durationAtMost(c, v, MaxWebhookTimeout, &w.Timeout)
	}
	if v := n.Get("headers"); v != nil && c.Map(v) {
		if len(v.Entries) > MaxWebhookHeaders {
			c.Errf(v, "more than %d headers: limit %d", MaxWebhookHeaders, MaxWebhookHeaders)
		} else {
			for _, e := range v.Entries {
				if h, ok := webhookHeader(c, e, env, &w.Secrets); ok {
					w.Headers = append(w.Headers, h)
				}
			}
		}
	}
	if c.L.Len() > before {
		return nil
	}
	return w
}

// durationAtMost sets *d to the duration v holds, which must be at most
// limit.
func durationAtMost(c cfgtree.Checker, v *cfgtree.Node, limit time.Duration, d *time.Duration) {
	got, ok := c.Duration(v)
	switch {
	case !ok:
	case got > limit:
		c.Errf(v, "%s is at most %v, got %v", v.Key, limit, got)
	default:
		*d = got
	}
}

func checkWebhookURL(c cfgtree.Checker, v *cfgtree.Node, w *Webhook) {
	if w.URL == "" {
		return // the env reference was reported
	}
	// What is said about a rendered url never shows it: it may be a
	// credential.
	shown := fmt.Sprintf("%q", w.URLText)
	if len(w.Secrets) > 0 {
		shown += " (as rendered)"
	}
	u, err := url.Parse(w.URL)
	switch {
	case len(w.URL) > MaxWebhookURL:
		c.Errf(v, "url is longer than %d bytes: limit %d", MaxWebhookURL, MaxWebhookURL)
	case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		c.Errf(v, "url %s: expected an http:// or https:// URL with a host", shown)
	case u.User != nil:
		e := c.Errf(v, "url %s: a user or password in the URL is not allowed", shown)
		e.Hint = `send credentials in a header: headers = { Authorization = "Bearer {{ env:TOKEN }}" }`
	}
}

func webhookEvents(c cfgtree.Checker, v *cfgtree.Node) []string {
	items, ok := c.StrList(v)
	if !ok {
		return nil
	}
	if len(items) == 0 {
		e := c.Errf(v, "events must not be empty")
		e.Hint = "leave events out for all of them: " + strings.Join(NotifyEvents, ", ")
		return nil
	}
	var out []string
	for i := range items {
		item := v.Items[i]
		ev, ok := c.OneOf(item, NotifyEvents...)
		if !ok {
			continue
		}
		if slices.Contains(out, ev) {
			c.Errf(item, "event %q is listed twice", ev)
			continue
		}
		out = append(out, ev)
	}
	return out
}

func webhookHeader(c cfgtree.Checker, e *cfgtree.Node, env func(string) (string, bool), secrets *[]string) (Header, bool) {
	name := e.Key
	if !headerNameOK(name) {
		c.Errf(e, "invalid header name %q: use letters, digits and !#$%%&'*+-.^_`|~", name)
		return Header{}, false
	}
	if i := slices.IndexFunc(reservedHeaders, func(r string) bool { return strings.EqualFold(r, name) }); i >= 0 {
		c.Errf(e, "header %s is set by driftless (format and body), not here", reservedHeaders[i])
		return Header{}, false
	}
	text, ok := c.Str(e)
	if !ok {
		return Header{}, false
	}
	value := renderNotifyEnv(c, e, text, env, secrets)
	if strings.ContainsAny(value, "\r\n\x00") {
		c.Errf(e, "header %s: the value holds a line break or NUL", name)
		return Header{}, false
	}
	return Header{Name: http.CanonicalHeaderKey(name), Value: value}, true
}

// headerNameOK reports whether s is an HTTP token (RFC 9110 §5.6.2).
func headerNameOK(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}

// renderNotifyEnv renders {{ env:NAME }} in text (the only reference
// notify.toml takes) and adds the values it used to secrets. It returns ""
// after reporting a problem.
func renderNotifyEnv(c cfgtree.Checker, n *cfgtree.Node, text string, env func(string) (string, bool), secrets *[]string) string {
	t, err := documents.ParseTemplate(text)
	if err != nil {
		c.Errf(n, "%v", err)
		return ""
	}
	for _, r := range t.Refs() {
		if r.Kind != documents.RefEnv {
			c.Errf(n, "{{ %s }}: notify.toml may refer only to the environment ({{ env:NAME }})", r)
			return ""
		}
		v, ok := env(r.Name)
		if !ok {
			e := c.Errf(n, "{{ %s }}: environment variable %s is not set", r, r.Name)
			e.Hint = "export it before running driftless (secrets come from the environment, never from files)"
			return ""
		}
		if v != "" && !slices.Contains(*secrets, v) {
			*secrets = append(*secrets, v)
		}
	}
	out, err := t.Render(&documents.Scope{Env: env})
	if err != nil {
		c.Errf(n, "%v", err)
		return ""
	}
	return out
}
