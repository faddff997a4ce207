// Package notify tells webhooks what a run found (docs/notify.md): after
// each run of apply, check, tick and daemon, one POST per run and webhook
// whose events it had, in driftless's JSON or as a Slack message. Delivery
// never fails a run and delays its end by at most notify.toml's max_wait:
// each attempt has a timeout, failures are retried with exponential
// backoff and jitter, and what is still undelivered is kept in the
// journal for the next run to send.
package notify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/journal"
)

// Run is what a notification is about: a run and its host executions, as
// the journal recorded them (secrets already redacted).
type Run struct {
	Run   journal.Run
	Hosts []journal.HostResult
}

// Bounds of a payload: past them hosts and steps are counted, not listed.
const (
	maxHosts      = 500
	maxSteps      = 50
	maxReason     = 300
	maxSlackHosts = 10
	// Slack refuses a section text longer than 3000 characters.
	maxSlackSection = 2900
)

// Payload is the JSON format's body (docs/notify.md#json).
type Payload struct {
	Version      int                    `json:"version"`
	RunID        int64                  `json:"run_id"`
	Association  string                 `json:"association"`
	Document     string                 `json:"document"`
	Mode         journal.Mode           `json:"mode"`
	Trigger      journal.Trigger        `json:"trigger"`
	Severity     string                 `json:"severity"`
	Status       journal.Status         `json:"status"`
	Node         string                 `json:"node"`
	StartedAt    time.Time              `json:"started_at"`
	EndedAt      time.Time              `json:"ended_at"`
	Events       []string               `json:"events"`
	Counts       map[journal.Status]int `json:"counts"`
	EventCounts  map[string]int         `json:"event_counts"`
	Hosts        []Host                 `json:"hosts"`
	HostsOmitted int                    `json:"hosts_omitted,omitempty"`
}

// Host is one host of a payload: one with an event the webhook wants.
type Host struct {
	Host         string         `json:"host"`
	Status       journal.Status `json:"status"`
	Events       []string       `json:"events"`
	Error        string         `json:"error,omitempty"`
	Steps        []Step         `json:"steps"`
	StepsOmitted int            `json:"steps_omitted,omitempty"`
}

// Step is a step that drifted, was corrected or failed.
type Step struct {
	Name   string         `json:"name"`
	Action string         `json:"action"`
	Status journal.Status `json:"status"`
	Reason string         `json:"reason,omitempty"`
}

// stepEvent is the event a step's status is, or "".
func stepEvent(s journal.Status) string {
	switch s {
	case journal.StatusDrifted:
		return config.EventDrift
	case journal.StatusCorrected:
		return config.EventCorrected
	case journal.StatusFailed, journal.StatusTimedOut:
		return config.EventFailed
	default: // the other statuses are no event
	}
	return ""
}

// HostEvents returns the events of a host execution, in the order of
// config.NotifyEvents: drift (a step left Drifted), corrected (a step
// Corrected), failed (the host or a step Failed or TimedOut), unreachable.
func HostEvents(h *journal.HostResult) []string {
	has := map[string]bool{}
	switch h.Status {
	case journal.StatusUnreachable:
		has[config.EventUnreachable] = true
	case journal.StatusFailed, journal.StatusTimedOut:
		has[config.EventFailed] = true
	default: // the steps say
	}
	for _, s := range h.Steps {
		if e := stepEvent(s.Status); e != "" {
			has[e] = true
		}
	}
	var out []string
	for _, e := range config.NotifyEvents {
		if has[e] {
			out = append(out, e)
		}
	}
	return out
}

// builder turns runs into bodies for one webhook.
type builder struct {
	w       *config.Webhook
	gist    func(string) string
	secrets []string
}

// payload is the JSON payload of r for the webhook, and false when r had
// none of the events the webhook wants.
func (b *builder) payload(r Run) (Payload, bool) {
	p := Payload{Version: 1, RunID: r.Run.ID, Association: r.Run.Association, Document: r.Run.Document, Mode: r.Run.Mode,
		Trigger: r.Run.Trigger, Severity: r.Run.Severity, Status: r.Run.Status, Node: r.Run.Hostname,
		StartedAt: r.Run.StartedAt.UTC(), EndedAt: r.Run.EndedAt.UTC(), Events: []string{},
		Counts: map[journal.Status]int{}, EventCounts: map[string]int{}, Hosts: []Host{}}
	for _, h := range r.Hosts {
		p.Counts[h.Status]++
		var events []string
		for _, e := range HostEvents(&h) {
			if b.w.Wants(e) {
				events = append(events, e)
				p.EventCounts[e]++
			}
		}
		if len(events) == 0 {
			continue
		}
		if len(p.Hosts) == maxHosts {
			p.HostsOmitted++
			continue
		}
		p.Hosts = append(p.Hosts, b.host(h, events))
	}
	for _, e := range config.NotifyEvents {
		if p.EventCounts[e] > 0 {
			p.Events = append(p.Events, e)
		}
	}
	return p, len(p.Events) > 0
}

func (b *builder) host(h journal.HostResult, events []string) Host {
	out := Host{Host: h.Host, Status: h.Status, Events: events, Steps: []Step{}}
	if h.Status.Failed() {
		out.Error = b.short(h.Error)
	}
	for _, s := range h.Steps {
		e := stepEvent(s.Status)
		if e == "" || !slices.Contains(events, e) {
			continue
		}
		if len(out.Steps) == maxSteps {
			out.StepsOmitted++
			continue
		}
		reason := s.Error
		if e != config.EventFailed {
			reason = b.gist(s.Differ)
		} else if reason == "" {
			reason = string(s.Status)
		}
		out.Steps = append(out.Steps, Step{Name: s.Name, Action: s.Action, Status: s.Status, Reason: b.short(reason)})
	}
	return out
}

// short is s on one line, cut to maxReason characters, with the webhook's
// secrets redacted.
func (b *builder) short(s string) string {
	s = strings.Join(strings.Fields(redact(s, b.secrets)), " ")
	if utf8.RuneCountInString(s) <= maxReason {
		return s
	}
	r := []rune(s)
	return string(r[:maxReason-1]) + "…"
}

// Body is the request body for run r in the webhook's format, and false
// when r had none of the events the webhook wants.
func (b *builder) body(r Run) ([]byte, bool, error) {
	p, ok := b.payload(r)
	if !ok {
		return nil, false, nil
	}
	var v any = p
	if b.w.Format == "slack" {
		v = slackMessage(p)
	}
	body, err := json.Marshal(v)
	if err != nil {
		return nil, false, fmt.Errorf("notify: %s: encode: %w", b.w.Label(), err)
	}
	return body, true, nil
}

// The Slack format: an incoming-webhook message (text, the notification
// and fallback, and blocks).
type slackMsg struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

var eventTitles = map[string]string{
	config.EventDrift: "Drifted", config.EventCorrected: "Corrected", config.EventFailed: "Failed", config.EventUnreachable: "Unreachable",
}

// eventSummary is "1 drifted, 2 failed" over the payload's events.
func eventSummary(p Payload) string {
	var parts []string
	for _, e := range p.Events {
		parts = append(parts, fmt.Sprintf("%d %s", p.EventCounts[e], strings.ToLower(eventTitles[e])))
	}
	return strings.Join(parts, ", ")
}

func slackMessage(p Payload) slackMsg {
	total := 0
	for _, n := range p.Counts {
		total += n
	}
	hosts := "hosts"
	if total == 1 {
		hosts = "host"
	}
	m := slackMsg{Text: fmt.Sprintf("driftless: %s %s on %d %s: %s (run %d)", p.Association, p.Mode, total, hosts, eventSummary(p), p.RunID)}
	section := func(text string) {
		if utf8.RuneCountInString(text) > maxSlackSection {
			text = string([]rune(text)[:maxSlackSection-1]) + "…"
		}
		m.Blocks = append(m.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: text}})
	}
	section(fmt.Sprintf("*%s* %s on %d %s: %s", slackEscape(p.Association), p.Mode, total, hosts, slackEscape(eventSummary(p))))
	for _, e := range p.Events {
		var b strings.Builder
		fmt.Fprintf(&b, "*%s* (%d)", eventTitles[e], p.EventCounts[e])
		shown := 0
		for _, h := range p.Hosts {
			if !slices.Contains(h.Events, e) {
				continue
			}
			if shown == maxSlackHosts {
				break
			}
			shown++
			fmt.Fprintf(&b, "\n• `%s`", slackEscape(h.Host))
			if why := slackWhy(h, e); why != "" {
				b.WriteString(": " + slackEscape(why))
			}
		}
		if more := p.EventCounts[e] - shown; more > 0 {
			fmt.Fprintf(&b, "\n… and %d more", more)
		}
		section(b.String())
	}
	m.Blocks = append(m.Blocks, slackBlock{Type: "context", Elements: []slackText{{Type: "mrkdwn",
		Text: fmt.Sprintf("run %d · %s · %s on %s · `driftless show %d`", p.RunID, p.Status, p.StartedAt.Format(time.RFC3339), slackEscape(p.Node), p.RunID)}}})
	return m
}

// slackWhy is the first reason of host h for event e: a step and what
// differed or why it failed, or the host's error.
func slackWhy(h Host, e string) string {
	if e == config.EventUnreachable || (e == config.EventFailed && h.Error != "") {
		return h.Error
	}
	var parts []string
	for _, s := range h.Steps {
		if stepEvent(s.Status) != e {
			continue
		}
		part := s.Name
		if s.Reason != "" {
			part += " (" + s.Reason + ")"
		}
		parts = append(parts, part)
		if len(parts) == 3 {
			break
		}
	}
	return strings.Join(parts, "; ")
}

// slackEscape escapes the three characters Slack's mrkdwn reads as markup.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// redact replaces every secret in s with ******.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "******")
		}
	}
	return s
}
