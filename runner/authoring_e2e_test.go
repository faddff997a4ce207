package runner_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/internal/configtest"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner"
)

var (
	authoringDoc = configtest.Doc(testDocs, "authoring.toml")
	nginxTmpl    = configtest.Doc(testDocs, "nginx.conf.tmpl")
	secretTmpl   = configtest.Doc(testDocs, "secret.conf.tmpl")
)

// stepResult is the result of the step named name.
func stepResult(t *testing.T, h journal.HostResult, name string) journal.StepResult {
	t.Helper()
	for _, s := range h.Steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no step %q in %s", name, statuses(h))
	return journal.StepResult{}
}

// readHome reads a file of a host's home ("" when it is missing).
func readHome(home, name string) string {
	b, _ := os.ReadFile(filepath.Join(home, name))
	return string(b)
}

// On a real host: for_each makes one step per item, named NAME[item],
// with {{ item }} and DL_ITEM; a template source reaches the host
// rendered (a StringList joined and as JSON, a secret never diffed); a
// handler runs once, last, only when a step notifying it was Corrected,
// and check mode reports it would run.
func TestForEachTemplatesAndHandlers(t *testing.T) {
	assoc := "[associations.web]\ndocument = \"authoring\"\ntargets = [\"*\"]\nparameters = { token = \"{{ env:APP_TOKEN }}\" }\n"
	f := newFleet(t, 1, assoc, "authoring.toml", authoringDoc, "nginx.conf.tmpl", nginxTmpl, "secret.conf.tmpl", secretTmpl)
	home := f.hosts[0].Home
	writeAs(t, f.hosts[0], filepath.Join(home, "marker"), "kept\n")

	res := runExpect(t, f, true, "sites-dir=Drifted site[alpha]=Drifted site[beta]=Drifted dirs[logs]=Drifted dirs[cache]=Drifted nginx=Drifted secret-conf=Drifted marker=Compliant reload=Skipped restart=Skipped")
	h := res.Hosts[0]
	if r := stepResult(t, h, "reload"); r.SkipReason != runner.SkipWouldRun || !strings.Contains(r.Error, `would run: notified by "site[alpha]", "site[beta]", "nginx" (Drifted)`) {
		t.Errorf("check: reload %s (%s) %q", r.Status, r.SkipReason, r.Error)
	}
	if r := stepResult(t, h, "restart"); r.SkipReason != runner.SkipNotNotified {
		t.Errorf("check: restart %s (%s) %q", r.Status, r.SkipReason, r.Error)
	}
	if readHome(home, "reloads") != "" || readHome(home, "nginx.conf") != "" {
		t.Fatal("check mode changed the host")
	}

	res = runExpect(t, f, false, "sites-dir=Corrected site[alpha]=Corrected site[beta]=Corrected dirs[logs]=Corrected dirs[cache]=Corrected nginx=Corrected secret-conf=Corrected marker=Compliant reload=Success restart=Skipped")
	h = res.Hosts[0]
	if h.Status != journal.StatusSuccess {
		t.Errorf("host %s: %s", h.Status, h.Error)
	}
	for file, want := range map[string]string{
		"sites/alpha.conf": "site alpha on web-1\n",
		"sites/beta.conf":  "site beta on web-1\n",
		"logs/made":        "logs\n",
		"cache/made":       "cache\n",
		"nginx.conf":       "listen 8080;\nupstream { 10.0.0.1 10.0.0.2 }\nservers_json [\"10.0.0.1\",\"10.0.0.2\"];\nserver_name web-1;\n",
		"secret.conf":      "token = sup3r-s3cret-value\n",
		"reloads":          "reloaded\n",
		"restarts":         "",
	} {
		if got := readHome(home, file); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	if r := stepResult(t, h, "nginx"); !strings.Contains(r.Differ, "+listen 8080;") {
		t.Errorf("nginx: the rendered content is not diffed: %q", r.Differ)
	}
	if r := stepResult(t, h, "secret-conf"); strings.Contains(r.Differ, "sup3r") || strings.Contains(r.Differ, "token =") {
		t.Errorf("secret-conf: a content with a secret was diffed: %q", r.Differ)
	}
	// The handler runs after every other step.
	if last := h.Steps[len(h.Steps)-2]; last.Name != "reload" {
		t.Errorf("the handlers are not last: %s", statuses(h))
	}

	// Nothing changed: the handler is not notified.
	runExpect(t, f, false, "sites-dir=Compliant site[alpha]=Compliant site[beta]=Compliant dirs[logs]=Compliant dirs[cache]=Compliant nginx=Compliant secret-conf=Compliant marker=Compliant reload=Skipped restart=Skipped")
	if got := readHome(home, "reloads"); got != "reloaded\n" {
		t.Errorf("reloads after a compliant run: %q", got)
	}

	// One item drifts: the handler runs once more; so does the other.
	writeAs(t, f.hosts[0], filepath.Join(home, "sites", "beta.conf"), "tampered\n")
	writeAs(t, f.hosts[0], filepath.Join(home, "marker"), "tampered\n")
	runExpect(t, f, false, "sites-dir=Compliant site[alpha]=Compliant site[beta]=Corrected dirs[logs]=Compliant dirs[cache]=Compliant nginx=Compliant secret-conf=Compliant marker=Corrected reload=Success restart=Success")
	if got := readHome(home, "reloads"); got != "reloaded\nreloaded\n" {
		t.Errorf("reloads: %q", got)
	}
	if got := readHome(home, "restarts"); got != "restarted\n" {
		t.Errorf("restarts: %q", got)
	}

	// An empty list: the step is recorded once, Skipped (precondition),
	// and the host stays compliant.
	f.cfg.Associations[0].Params["sites"] = documents.List()
	res = runExpect(t, f, false, "sites-dir=Compliant site=Skipped dirs[logs]=Compliant dirs[cache]=Compliant nginx=Compliant secret-conf=Compliant marker=Compliant reload=Skipped restart=Skipped")
	if r := stepResult(t, res.Hosts[0], "site"); r.SkipReason != journal.SkipPrecondition || r.Error != "for_each: parameter sites is an empty list" {
		t.Errorf("site: %s (%s) %q", r.Status, r.SkipReason, r.Error)
	}
}

// A step that fails and stops the document keeps the handlers it would
// have run from running: they are Skipped, stopped, saying why.
func TestHandlerAfterAStop(t *testing.T) {
	f := newFleet(t, 1, "[associations.s]\ndocument = \"handler-stop\"\ntargets = [\"*\"]\n", "handler-stop.toml", configtest.Doc(testDocs, "handler-stop.toml"))
	res := runExpect(t, f, false, "conf=Corrected boom=Failed reload=Skipped")
	r := stepResult(t, res.Hosts[0], "reload")
	if r.SkipReason != journal.SkipStopped || r.Error != `notified by "conf", but step "boom" failed and stopped the document` {
		t.Errorf("reload: %s (%s) %q", r.Status, r.SkipReason, r.Error)
	}
	if got := readHome(f.hosts[0].Home, "stop-reloads"); got != "" {
		t.Errorf("the handler ran: %q", got)
	}
}

// A handler notified before a step asks for a reboot is still due after
// the reboot, when the document runs again and its notifier is Compliant:
// it runs once, then.
func TestHandlerNotifiedBeforeAReboot(t *testing.T) {
	h, cfg, j, dial := rebootFleet(t, "rh.toml", configtest.Doc(testDocs, "reboot-handler.toml"))
	r := runner.New(runner.Options{Config: cfg, Dial: dial, Journal: j, RebootCommand: `touch "$FAKE_REBOOT"`, RebootPoll: 300 * time.Millisecond, RebootTimeout: 30 * time.Second})
	defer r.Close()
	res, err := r.Run(context.Background(), runner.Job{Assoc: cfg.Associations[0]})
	if err != nil {
		t.Fatal(err)
	}
	hr := res.Hosts[0]
	if hr.Status != journal.StatusSuccess || statuses(hr) != "conf=Compliant update=Compliant reload=Success" || h.bootCount() != 2 {
		t.Fatalf("%s %s: %s after %d boots", hr.Status, hr.Error, statuses(hr), h.bootCount())
	}
	if got := readHome(h.home, "reloads"); got != "reloaded\n" {
		t.Errorf("reloads = %q", got)
	}
}
