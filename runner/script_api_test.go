package runner

import (
	"context"
	"encoding/base64"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/transport"
)

// goldenDir holds the golden files (golden_test.go), and in config/ the
// config dir they are rendered from.
const goldenDir = "../testdata/golden"

// goldenExt ends every golden file's name (NAME.check.sh.golden): Go's
// convention for expected output, which keeps tools that read the tree as
// source (linters, editors' shell support, duplicate finders) off generated
// scripts. The five-shell, shellcheck and PowerShell-grammar tests read
// them by this name.
const goldenExt = ".golden"

// goldenSecret is the value of the secret parameter of the golden config
// (from the environment): no printed script may hold it.
const goldenSecret = "g0lden-s3cret-from-env"

// goldenConfig loads testdata/golden/config, the documents the script
// tests render.
func goldenConfig(t *testing.T) *config.Config {
	t.Helper()
	// The download action caches what it fetched: not in the user's
	// cache.
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	env := func(k string) (string, bool) {
		if k == "GOLDEN_TOKEN" {
			return goldenSecret, true
		}
		return "", false
	}
	cfg, list := config.Load(config.Options{Dir: filepath.Join(goldenDir, "config"), Env: env})
	if err := list.Err(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// recordConn records the stdin of the first script it is sent and reports
// nothing back: the run then ends after its first script.
type recordConn struct {
	shell transport.Shell
	mu    sync.Mutex
	first string
}

func (c *recordConn) Run(_ context.Context, cmd *transport.Command) (int, error) {
	b, err := io.ReadAll(cmd.Stdin)
	if err != nil {
		return -1, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.first == "" {
		c.first = string(b)
	}
	return 0, nil
}

func (c *recordConn) Close() error           { return nil }
func (c *recordConn) Shell() transport.Shell { return c.shell }

// Script prints what a run sends first, byte for byte, but for the
// marker: the same builders, the same plan, the same wrapping.
func TestScriptIsWhatARunSends(t *testing.T) {
	cfg := goldenConfig(t)
	for _, name := range []string{"files", "lines", "system", "download", "ssm", "drifted"} {
		for _, check := range []bool{true, false} {
			for _, shell := range []transport.Shell{transport.ShellPOSIX, transport.ShellPowerShell} {
				conn := &recordConn{shell: shell}
				r := New(Options{Config: cfg, Dial: func(context.Context, *inventory.Host) (transport.Conn, error) { return conn, nil }})
				a := cfg.Association(name)
				if _, err := r.Run(context.Background(), Job{Assoc: a, Hosts: a.Hosts[:1], Check: check}); err != nil {
					t.Fatal(err)
				}
				r.Close()
				sent := conn.first
				if shell == transport.ShellPowerShell {
					b, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(sent, "\r\n", ""))
					if err != nil {
						t.Fatal(err)
					}
					sent = string(b)
				}
				marker := strings.TrimSuffix(strings.TrimPrefix(strings.SplitN(sent, "\n", 4)[2], "DLM='"), "'")
				if shell == transport.ShellPowerShell {
					marker = strings.TrimSuffix(strings.TrimPrefix(strings.SplitN(sent, "\n", 2)[0], "$DLM = '"), "'")
				}
				if !strings.HasPrefix(marker, "@@DL-") {
					t.Fatalf("%s: no marker in what was sent: %.80q", name, sent)
				}
				hs, err := Script(cfg, ScriptOptions{Name: name, Host: a.Hosts[0].Name, Check: check, Shell: shell})
				if err != nil {
					t.Fatal(err)
				}
				if want := strings.ReplaceAll(sent, marker, DefaultMarker); hs.Script != want {
					t.Errorf("%s (check %v, %s): Script differs from what the run sent at line %d:\n got: %q\nsent: %q", name, check, shell,
						firstDiffLine(hs.Script, want), lineAt(hs.Script, firstDiffLine(hs.Script, want)), lineAt(want, firstDiffLine(hs.Script, want)))
				}
			}
		}
	}
}

// firstDiffLine is the number of the first line where a and b differ.
func firstDiffLine(a, b string) int {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return i + 1
		}
	}
	return min(len(la), len(lb)) + 1
}

// lineAt is line n of s.
func lineAt(s string, n int) string {
	lines := strings.Split(s, "\n")
	if n-1 < len(lines) {
		return lines[n-1]
	}
	return "(end of file)"
}

// Script resolves its name, host, mode and shell, and never prints a
// secret parameter's value nor an environment variable's.
func TestScriptOptions(t *testing.T) {
	cfg := goldenConfig(t)
	for _, c := range []struct {
		opts             ScriptOptions
		doc, assoc, host string
		shell            transport.Shell
		check            bool
		err              string
	}{
		{opts: ScriptOptions{Name: "shell"}, doc: "shell", assoc: "shell", host: "linux", shell: transport.ShellPOSIX},
		{opts: ScriptOptions{Name: "shell", Host: "windows", Check: true}, doc: "shell", assoc: "shell", host: "windows", shell: transport.ShellPowerShell, check: true},
		{opts: ScriptOptions{Name: "shell", Host: "linux", Shell: transport.ShellPowerShell}, doc: "shell", assoc: "shell", host: "linux", shell: transport.ShellPowerShell},
		{opts: ScriptOptions{Name: "inner"}, err: `document "inner" needs parameter "who" (it has no default): name an association that gives it`},
		{opts: ScriptOptions{Name: "sell"}, err: `unknown association or document "sell" (did you mean "shell"?)`},
		{opts: ScriptOptions{Name: "shell", Host: "linu"}, err: `unknown host "linu" (did you mean "linux"?)`},
		{opts: ScriptOptions{Name: "shell", Shell: "bash"}, err: `shell "bash": want "sh" or "powershell"`},
	} {
		hs, err := Script(cfg, c.opts)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%+v: error %v, want %s", c.opts, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%+v: %v", c.opts, err)
		}
		if hs.Document != c.doc || hs.Association != c.assoc || hs.Host != c.host || hs.Shell != c.shell || hs.Check != c.check {
			t.Errorf("%+v: got %s %s %s %s %v", c.opts, hs.Document, hs.Association, hs.Host, hs.Shell, hs.Check)
		}
		if !strings.Contains(hs.Text(), DefaultMarker) {
			t.Errorf("%+v: no marker", c.opts)
		}
	}

	// A document alone: its defaults, on a local host.
	doc := &config.Config{Dir: cfg.Dir, Documents: cfg.Documents}
	hs, err := Script(doc, ScriptOptions{Name: "files", Marker: "@@DL-TEST"})
	if err != nil {
		t.Fatal(err)
	}
	if hs.Host != "localhost" || hs.Association != "" || !strings.Contains(hs.Script, "DLM='@@DL-TEST'") {
		t.Errorf("document alone: host %s, association %q", hs.Host, hs.Association)
	}

	// Secrets: a secret parameter's value (also passed on to a nested
	// document) and {{ env:NAME }} read ******, in either shell.
	for _, name := range []string{"shell", "nested", "powershell"} {
		for _, host := range []string{"linux", "windows"} {
			hs, err := Script(cfg, ScriptOptions{Name: name, Host: host})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(hs.Text(), goldenSecret) {
				t.Errorf("%s on %s: the secret is printed", name, host)
			}
		}
	}
	for _, c := range []struct{ name, host, want string }{
		{"shell", "linux", "export DL_PARAM_token='******'"},
		{"shell", "linux", "export DEPLOY_KEY='******'"},
		{"nested", "linux", "export DL_PARAM_password='******'"},
		{"powershell", "windows", "$dl_v['DL_PARAM_token'] = '******'"},
		{"powershell", "windows", "$dl_v['DEPLOY_KEY'] = '******'"},
	} {
		hs, err := Script(cfg, ScriptOptions{Name: c.name, Host: c.host})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(hs.Script, c.want) {
			t.Errorf("%s on %s: no %q", c.name, c.host, c.want)
		}
	}
}
