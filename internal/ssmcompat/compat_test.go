package ssmcompat

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/internal/diag"
	"github.com/driftless-dev/driftless/internal/sshtest"
)

var update = flag.Bool("update", os.Getenv("DRIFTLESS_UPDATE_GOLDEN") != "", "rewrite testdata/ssm/RESULTS.tsv and the README's compatibility table")

var driftlessBin string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "ssmcompat-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	driftlessBin = filepath.Join(dir, "driftless")
	if out, err := exec.Command("go", "build", "-o", driftlessBin, "../../cmd/driftless").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build driftless: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// loadReason loads the document with driftless: "" when it loads, else the
// first error without its file and position.
func loadReason(path string) string {
	var l diag.List
	d := documents.LoadFile(path, &l)
	if errs := l.Errors(); len(errs) > 0 {
		e := errs[0]
		msg := e.Msg
		if e.Key != "" {
			msg = e.Key + ": " + msg
		}
		return clean(msg, 140)
	}
	if d == nil {
		return "no document"
	}
	return ""
}

func clean(s string, n int) string {
	s = strings.Join(strings.Fields(strings.NewReplacer("\t", " ", "(", "[", ")", "]").Replace(s)), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// outcome ranks: refused < loaded = differs < identical.
func rank(o string) int {
	switch {
	case strings.HasPrefix(o, "refused"):
		return 0
	case o == "identical":
		return 2
	}
	return 1
}

func TestCorpus(t *testing.T) {
	if os.Geteuid() != 0 {
		// The sandbox's scripts must run as a dedicated unprivileged user
		// (sshtest's per-host user), which needs root to create.
		t.Skip("ssmcompat: running the corpus needs root (a per-host unix user per sshd); ./test.sh runs as root")
	}
	m := readManifest(t)
	recorded := map[string]string{}
	resultsPath := filepath.Join(corpusDir, "RESULTS.tsv")
	if _, err := os.Stat(resultsPath); err == nil {
		for _, r := range readTSV(t, resultsPath, 2) {
			recorded[r[0]] = r[1]
		}
	}
	got := make([]string, len(m))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 6)
	start := time.Now()
	for i, e := range m {
		path := filepath.Join(corpusDir, e.File)
		reason := loadReason(path)
		switch {
		case reason != "":
			got[i] = "refused(" + reason + ")"
			continue
		case !e.runnable():
			got[i] = "loaded"
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t.Run(e.File, func(t *testing.T) {
				got[i] = compareOne(t, e, path, nil)
				if got[i] == "identical" && isConstruct(e) && strings.Contains(e.Plugins, "aws:runPowerShellScript") {
					// Once more on hosts that have a pwsh (a stand-in).
					if o := compareOne(t, e, path, map[string]string{"pwsh": fakePwsh}); o != "identical" {
						got[i] = strings.Replace(o, "differs(", "differs(with pwsh: ", 1)
					}
				}
			})
		}()
	}
	wg.Wait()
	t.Logf("corpus of %d run in %v", len(m), time.Since(start).Round(time.Millisecond))

	var b strings.Builder
	b.WriteString("# file\toutcome (loaded | refused(reason) | identical | differs(how)); written by go test ./internal/ssmcompat -update\n")
	for i, e := range m {
		if got[i] == "" {
			// Its subtest was left out (go test -run): keep its record.
			got[i] = recorded[e.File]
		}
		fmt.Fprintf(&b, "%s\t%s\n", e.File, got[i])
		old, ok := recorded[e.File]
		switch {
		case !ok:
			if !*update {
				t.Errorf("%s: not in RESULTS.tsv (now %s); run with -update", e.File, got[i])
			}
		case old == got[i]:
		case rank(got[i]) < rank(old):
			t.Errorf("%s got worse: was %s, now %s", e.File, old, got[i])
		case strings.HasPrefix(old, "refused") && strings.HasPrefix(got[i], "refused"):
			t.Errorf("%s: refused for another reason: was %s, now %s", e.File, old, got[i])
		case rank(got[i]) > rank(old):
			t.Logf("improved: %s: was %s, now %s (run with -update to record it)", e.File, old, got[i])
		default:
			t.Logf("changed: %s: was %s, now %s", e.File, old, got[i])
		}
	}
	if *update {
		if err := os.WriteFile(resultsPath, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// compareOne runs the document with driftless on one fresh host and with
// the reference executor on another, and says how the results compare.
//
// programs are put first on the PATH of both hosts (sshtest.Options); a
// public document runs in the sandbox (sandbox_test.go) on both.
func compareOne(t *testing.T, e entry, path string, programs map[string]string) string {
	src, err := os.ReadFile(path)
	if err != nil {
		t.Error(err)
		return "differs(unreadable)"
	}
	if bytes.Contains(src, []byte("pgrep")) {
		// pgrep sees every user's processes: a document that looks for
		// another run of its stress-ng must not see another document's.
		pgrepMu.Lock()
		defer pgrepMu.Unlock()
	}
	params, err := e.params()
	if err != nil {
		t.Fatalf("%s: parameters: %v", e.File, err)
	}
	store, err := e.store()
	if err != nil {
		t.Fatalf("%s: parameter store: %v", e.File, err)
	}
	schema, steps, err := refParse(src, params, store)
	if err != nil {
		return "differs(reference cannot parse: " + clean(err.Error(), 60) + ")"
	}
	key, _ := sshtest.NewClientKey(t)
	var dlBox, refBox sandbox
	dlProgs, refProgs := programs, programs
	if !isConstruct(e) {
		dir := sandboxDir(t)
		dlBox, refBox = newSandbox(t, dir, "dl"), newSandbox(t, dir, "ref")
		dlProgs, refProgs = merge(programs, dlBox.programs), merge(programs, refBox.programs)
	}
	dl := sshtest.StartSSHD(t, sshtest.Options{Name: "dl", ClientKeyPath: key, Programs: dlProgs, PerHostUser: true})
	ref := sshtest.StartSSHD(t, sshtest.Options{Name: "ref", ClientKeyPath: key, Programs: refProgs, PerHostUser: true})

	want, err := refRun(schema, steps, &sshRunner{t: t, h: ref})
	cleanTmp(ref)
	if err != nil {
		return "differs(reference: " + clean(err.Error(), 60) + ")"
	}
	gotSteps, err := runDriftless(t, dl, path, params, store)
	cleanTmp(dl)
	if err != nil {
		t.Logf("%s: %v", e.File, err)
		return "differs(" + clean(err.Error(), 80) + ")"
	}
	mask := newMasker(t, e)
	o := compareSteps(maskSteps(want, mask), maskSteps(gotSteps, mask))
	if o == "identical" && dlBox.log != "" {
		if w, g := sortedLines(mask.apply(refBox.calls())), sortedLines(mask.apply(dlBox.calls())); w != g {
			t.Logf("%s: stand-in calls differ:\nreference:\n%s\ndriftless:\n%s", e.File, w, g)
			return "differs(stand-in calls)"
		}
	}
	if o != "identical" || testing.Verbose() {
		t.Logf("%s: %s\nreference: %+v\ndriftless: %+v\nstand-in calls: %q", e.File, o, want, gotSteps, refBox.calls())
	}
	return o
}

// pgrepMu runs the documents that call pgrep one at a time.
var pgrepMu sync.Mutex

// merge is b's programs with a's over them.
func merge(a, b map[string]string) map[string]string {
	out := maps.Clone(b)
	maps.Copy(out, a)
	return out
}

func maskSteps(rs []refResult, m masker) []refResult {
	out := make([]refResult, len(rs))
	for i, r := range rs {
		r.Stdout = m.apply(r.Stdout)
		out[i] = r
	}
	return out
}

func compareSteps(want, got []refResult) string {
	var diffs []string
	if len(want) != len(got) {
		diffs = append(diffs, fmt.Sprintf("steps %d≠%d", len(got), len(want)))
	}
	for i := 0; i < len(want) && i < len(got); i++ {
		w, g := want[i], got[i]
		if w.Status != g.Status {
			diffs = append(diffs, fmt.Sprintf("status %s: %s≠%s", w.Name, g.Status, w.Status))
		}
		if w.Code != g.Code && w.Status != "Skipped" {
			diffs = append(diffs, fmt.Sprintf("exit %s: %d≠%d", w.Name, g.Code, w.Code))
		}
		if strings.TrimRight(w.Stdout, "\n ") != strings.TrimRight(g.Stdout, "\n ") {
			diffs = append(diffs, "stdout "+w.Name)
		}
	}
	if len(diffs) == 0 {
		return "identical"
	}
	if len(diffs) > 3 {
		diffs = append(diffs[:3], "…")
	}
	return "differs(" + clean(strings.Join(diffs, "; "), 160) + ")"
}

// fakePwsh stands in for pwsh (none can be installed on the test
// machine): it runs the script file it is given (its last argument) as
// far as the constructs use PowerShell: each Write-Output 'text' line
// prints text, an "exit N" line exits N.
const fakePwsh = `#!/bin/sh
for f; do :; done
while IFS= read -r l; do
	case $l in
	"Write-Output '"*"'") l=${l#"Write-Output '"}; printf '%s\n' "${l%"'"}" ;;
	"exit "*) exit "${l#exit }" ;;
	esac
done <"$f"
exit 0
`

// runDriftless runs the document as an association with driftless apply
// on host h and returns its steps as the reference reports them:
// driftless's Corrected and Compliant are SSM's Success.
func runDriftless(t *testing.T, h *sshtest.Host, path string, params map[string]any, store map[string]string) ([]refResult, error) {
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	sshtest.WriteKnownHosts(t, kh, h)
	inv := fmt.Sprintf("[defaults]\nidentity_files = [%q]\nknown_hosts = [%q]\nssh_config = false\nconnect_timeout = \"5s\"\n\n[hosts.%s]\naddress = %q\nport = %d\nuser = %q\n",
		h.ClientKeyPath, kh, h.Name, h.Addr, h.Port, h.User)
	os.WriteFile(filepath.Join(dir, "inventory.toml"), []byte(inv), 0o600)
	os.MkdirAll(filepath.Join(dir, "documents"), 0o755)
	if len(store) > 0 {
		os.WriteFile(filepath.Join(dir, "parameters.toml"), []byte(storeTOML(store)), 0o600)
	}
	src, _ := os.ReadFile(path)
	os.WriteFile(filepath.Join(dir, "documents", "corpus"+filepath.Ext(path)), src, 0o600)
	os.WriteFile(filepath.Join(dir, "associations.toml"), []byte("[associations.corpus]\ndocument = \"corpus\"\ntargets = [\"*\"]\n"+tomlParams(params)), 0o600)
	cmd := exec.Command(driftlessBin, "-C", dir, "apply", "corpus", "--json")
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	_ = cmd.Run()
	var res struct {
		Runs []struct {
			Hosts []struct {
				Status string
				Error  string
				Steps  []struct {
					Name     string `json:"name"`
					Status   string `json:"status"`
					ExitCode *int   `json:"exit_code"`
					Stdout   string `json:"stdout"`
				} `json:"steps"`
			} `json:"hosts"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || len(res.Runs) != 1 || len(res.Runs[0].Hosts) != 1 {
		msg := firstLine(errb.String() + out.String())
		if i := strings.Index(msg, "documents/corpus"); i >= 0 {
			if j := strings.Index(msg[i:], ": "); j >= 0 {
				msg = msg[i+j+2:]
			}
		}
		return nil, fmt.Errorf("driftless apply: %s", msg)
	}
	var steps []refResult
	for _, s := range res.Runs[0].Hosts[0].Steps {
		st := s.Status
		if st == "Corrected" || st == "Compliant" {
			st = "Success"
		}
		code := 0
		if s.ExitCode != nil {
			code = *s.ExitCode
		}
		steps = append(steps, refResult{Name: s.Name, Status: st, Code: code, Stdout: s.Stdout})
	}
	return steps, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// sshRunner runs the reference executor's scripts on a real sshd host, as
// that host's unprivileged user in its own HOME.
type sshRunner struct {
	t  *testing.T
	h  *sshtest.Host
	mu sync.Mutex
	c  *gossh.Client
}

func (r *sshRunner) client() (*gossh.Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c != nil {
		return r.c, nil
	}
	b, err := os.ReadFile(r.h.ClientKeyPath)
	if err != nil {
		return nil, err
	}
	signer, err := gossh.ParsePrivateKey(b)
	if err != nil {
		return nil, err
	}
	c, err := gossh.Dial("tcp", r.h.Address(), &gossh.ClientConfig{
		User:            r.h.User,
		Auth:            []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.FixedHostKey(r.h.HostKey),
		Timeout:         5 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	r.c = c
	r.t.Cleanup(func() { c.Close() })
	return c, nil
}

func (r *sshRunner) run(cmd, stdin string) (string, int, error) {
	c, err := r.client()
	if err != nil {
		return "", 0, err
	}
	s, err := c.NewSession()
	if err != nil {
		return "", 0, err
	}
	defer s.Close()
	var out bytes.Buffer
	s.Stdout = &out
	s.Stdin = strings.NewReader(stdin)
	err = s.Run(cmd)
	var ee *gossh.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.ExitStatus(), nil
	}
	return out.String(), 0, err
}

func (r *sshRunner) hasCommand(name string) bool {
	_, code, err := r.run("command -v "+name+" >/dev/null", "")
	return err == nil && code == 0
}

func (r *sshRunner) runScript(script, workDir string, timeoutSec int) (string, int, bool, error) {
	wd := `"$d"`
	if strings.HasPrefix(workDir, "/") {
		wd = shq(workDir)
	}
	cmd := `d=$(mktemp -d "$HOME/.ssmref.XXXXXX") && cat >"$d/_script.sh" && chmod 755 "$d/_script.sh" && cd ` + wd +
		fmt.Sprintf(` && exec timeout -s KILL %d sh -c "$d/_script.sh" </dev/null`, timeoutSec)
	start := time.Now()
	out, code, err := r.run(cmd, script)
	timedOut := code == 137 && time.Since(start) >= time.Duration(timeoutSec)*time.Second
	return out, code, timedOut, err
}

func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// counts summarises RESULTS.tsv for the README table.
func sortedKeys(m map[string]int) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if m[ks[i]] != m[ks[j]] {
			return m[ks[i]] > m[ks[j]]
		}
		return ks[i] < ks[j]
	})
	return ks
}
