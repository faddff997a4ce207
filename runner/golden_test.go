package runner

// Golden files: the exact scripts the builders make for the documents of
// testdata/golden/config, kept in testdata/golden and compared byte for
// byte (testdata/golden/README.md tells what each file is). After a
// deliberate change to a builder, rewrite them and read the diff:
//
//	go test ./runner -run Golden -update
//
// -update is defined in this package only, and go test hands the flags it
// does not know to every test binary it runs: "go test ./... -update"
// fails, with "flag provided but not defined: -update", in every other
// package that has tests. Across the module, use the environment instead:
//
//	DRIFTLESS_UPDATE_GOLDEN=1 go test ./...

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/internal/psparse"
	"github.com/driftless-dev/driftless/runner/eval"
	"github.com/driftless-dev/driftless/runner/plan"
	"github.com/driftless-dev/driftless/runner/posix"
	"github.com/driftless-dev/driftless/transport"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/golden (see golden_test.go)")

func updating() bool { return *update || os.Getenv("DRIFTLESS_UPDATE_GOLDEN") != "" }

// goldenDocs are the documents of testdata/golden/config/documents that
// have an association of the same name (inner is nested by nested).
var goldenDocs = []string{"shell", "files", "lines", "system", "download", "nested", "ssm", "powershell", "drifted"}

// goldenScripts renders every golden file: name -> content.
func goldenScripts(t *testing.T) map[string]string {
	t.Helper()
	cfg := goldenConfig(t)
	out := map[string]string{}
	for _, name := range goldenDocs {
		for _, check := range []bool{true, false} {
			mode := "apply"
			if check {
				mode = "check"
			}
			// The first script of a run: it does not depend on what the
			// host holds (it checks), so fresh and converged hosts get
			// the same.
			for host, ext := range map[string]string{"linux": ".sh", "windows": ".ps1"} {
				hs, err := Script(cfg, ScriptOptions{Name: name, Host: host, Check: check})
				if err != nil {
					t.Fatalf("%s on %s: %v", name, host, err)
				}
				out[name+"."+mode+ext] = hs.Text()
			}
		}
	}
	// The apply phase: the second script, built from what the first
	// reported. Its steps are what evaluate would decide from a check's
	// reports; they are written here as the runner would make them.
	for file, c := range map[string]struct {
		doc, host string
		todo      func([]*plan.Step) []plan.ApplyStep
		st        plan.Resume
		about     string
	}{
		"drifted.applyphase.sh": {"drifted", "linux", driftedTodo, plan.Resume{Salvage: -1},
			"every step found drifted (a converged host that drifted everywhere); the checked shell step after the others is checked again first"},
		"fresh.applyphase.sh": {"drifted", "linux", freshTodo, plan.Resume{Salvage: -1},
			"a fresh host: the first script created the directories and files; the rest, from the line with a regexp on"},
		"drifted.resumed.sh": {"drifted", "linux", func(steps []*plan.Step) []plan.ApplyStep { return driftedTodo(steps)[2:] },
			plan.Resume{Cleanup: "/dev/shm/.driftless-MARKER", Salvage: 1},
			`the apply script resumed after step 1 "reload" (on_failure = "continue") ran past its timeout: its output is sent first, the killed script's files removed`},
		"ssm.applyphase.sh": {"ssm", "linux", allRun(transport.ShellPOSIX), plan.Resume{Salvage: -1},
			"every step of an SSM document with onFailure: successAndExit, onSuccess: exit and a finally step (its aws:runPowerShellScript step runs with pwsh, or fails without it)"},
		"ssm.stopped.sh": {"ssm", "linux", func(steps []*plan.Step) []plan.ApplyStep { return allRun(transport.ShellPOSIX)(steps)[2:] },
			plan.Resume{Stop: "successAndExit", Cleanup: "/dev/shm/.driftless-MARKER", Salvage: 1},
			`the same, resumed after step 1 "maybe-exit" (onFailure: successAndExit) ran past its timeout: only the finally step runs`},
		"ssm.applyphase.ps1": {"ssm", "windows", allRun(transport.ShellPowerShell), plan.Resume{Salvage: -1},
			"every step of the SSM document on Windows (its shell steps were skipped by the first script)"},
		"powershell.applyphase.ps1": {"powershell", "windows", powershellTodo, plan.Resume{Salvage: -1},
			"every step found drifted on Windows; the checked step is checked again first"},
		"drifted.applyphase.ps1": {"drifted", "windows", driftedTodoPS, plan.Resume{Salvage: -1},
			"the drifted document on Windows (its shell steps were skipped by the first script; the patch action fails there)"},
	} {
		hs, steps, err := scriptPlan(cfg, ScriptOptions{Name: c.doc, Host: c.host})
		if err != nil {
			t.Fatal(err)
		}
		_, apply := builders(false, hs.Shell)
		script := apply(DefaultMarker, c.todo(steps), c.st)
		if hs.Shell == transport.ShellPOSIX {
			script = posix.Main(script)
		}
		out[file] = fmt.Sprintf("# driftless golden: the apply script of %s on host %s: %s.\n%s", c.doc, c.host, c.about, script)
	}
	// After a step ran past its timeout in the check phase, the rest is
	// checked (and in an apply run) by a new script.
	_, steps, err := scriptPlan(cfg, ScriptOptions{Name: "shell", Host: "linux"})
	if err != nil {
		t.Fatal(err)
	}
	for _, check := range []bool{true, false} {
		first, _ := builders(check, transport.ShellPOSIX)
		st, file, salvage := plan.Resume{Unclean: true, Cleanup: "/dev/shm/.driftless-MARKER", Salvage: -1}, "shell.check-resumed.sh", ""
		if !check {
			st.Salvage, file, salvage = 1, "shell.apply-resumed.sh", "; its output is sent first"
		}
		out[file] = fmt.Sprintf("# driftless golden: the first script of shell on host linux, resumed after step 1 \"always\" ran past its timeout%s.\n%s",
			salvage, posix.Main(first(DefaultMarker, steps[2:], st)))
	}
	return out
}

func stepNamed(steps []*plan.Step, name string) *plan.Step {
	for _, s := range steps {
		if s.Name == name {
			return s
		}
	}
	panic("no step " + name)
}

// drifted is the apply step of s found drifted, with what evaluate
// would set: the content to write (a line step's edit of cur), the mode.
func drifted(s *plan.Step, cur string, commands string) plan.ApplyStep {
	a := plan.ApplyStep{Step: s, Mode: s.Mode, Commands: commands}
	switch s.Action {
	case "file":
		a.Write = s.Content
	case "line":
		w, err := eval.EditLine([]byte(cur), s)
		if err != nil {
			panic(err)
		}
		a.Write, a.Mode = w, "600" // the file's mode, kept
	default: // the other values need nothing here
	}
	return a
}

func driftedTodo(steps []*plan.Step) []plan.ApplyStep {
	todo := []plan.ApplyStep{
		drifted(stepNamed(steps, "installed"), "", ""),
		drifted(stepNamed(steps, "reload"), "", ""),
		drifted(stepNamed(steps, "conf-dir"), "", ""),
		drifted(stepNamed(steps, "old-dir"), "", ""),
		drifted(stepNamed(steps, "config"), "", ""),
		drifted(stepNamed(steps, "stale"), "", ""),
	}
	return append(todo, freshTodo(steps)...)
}

func freshTodo(steps []*plan.Step) []plan.ApplyStep {
	return []plan.ApplyStep{
		drifted(stepNamed(steps, "root-login"), "Port 22\n#PermitRootLogin yes\n", ""),
		drifted(stepNamed(steps, "tools"), "", "dl_pkg_do 'apt' install 'curl' && dl_pkg_do 'apt' upgrade 'jq'"),
		drifted(stepNamed(steps, "app-service"), "", "dl_svc_do systemd start 'app' && dl_svc_do systemd enable 'app'"),
		drifted(stepNamed(steps, "patch"), "", "dl_patch_install 'apt'"),
		{Step: stepNamed(steps, "checked-after"), Recheck: true},
	}
}

func driftedTodoPS(steps []*plan.Step) []plan.ApplyStep {
	var todo []plan.ApplyStep
	for _, a := range driftedTodo(steps) {
		switch a.Step.Action {
		case "shell", "patch":
			continue // skipped by the first script; evaluateSystem refuses a patch on Windows
		case "package":
			a.Commands = "dl_pkg_do 'winget' 'install' @('curl')\ndl_pkg_do 'winget' 'upgrade' @('jq')\n"
		case "service":
			a.Commands = "dl_svc_do windows start 'app' && dl_svc_do windows enable 'app'"
		default: // the other values need nothing here
		}
		todo = append(todo, a)
	}
	return todo
}

func powershellTodo(steps []*plan.Step) []plan.ApplyStep {
	var todo []plan.ApplyStep
	for _, s := range steps {
		var a plan.ApplyStep
		switch s.Name {
		case "hosts":
			a = drifted(s, "127.0.0.1 localhost\r\n", "")
		case "spooler":
			a = drifted(s, "", "dl_svc_do windows stop 'Spooler' && dl_svc_do windows disable 'Spooler'")
		case "git":
			a = drifted(s, "", "dl_pkg_do 'winget' 'install' @('Git.Git')\n")
		case "sysinternals":
			a = drifted(s, "", "dl_pkg_do 'choco' 'upgrade' @('sysinternals')\n")
		case "with-env":
			a = plan.ApplyStep{Step: s, Recheck: true}
		default:
			a = drifted(s, "", "")
		}
		todo = append(todo, a)
	}
	return todo
}

// allRun runs every step that runs in the shell (script steps without a
// check, as in SSM); the first script reported the others skipped.
func allRun(shell transport.Shell) func([]*plan.Step) []plan.ApplyStep {
	other := documents.ActionPowerShell
	if shell == transport.ShellPowerShell {
		other = documents.ActionShell
	}
	return func(steps []*plan.Step) []plan.ApplyStep {
		var todo []plan.ApplyStep
		for _, s := range steps {
			// An SSM powershell step runs with pwsh on Linux too.
			if s.Action != other || (shell == transport.ShellPOSIX && s.SSM) {
				todo = append(todo, plan.ApplyStep{Step: s})
			}
		}
		return todo
	}
}

// TestGolden compares every generated script with its golden file.
func TestGolden(t *testing.T) {
	got := goldenScripts(t)
	for name, text := range got {
		if strings.Contains(text, goldenSecret) {
			t.Errorf("%s holds the secret parameter's value", name)
		}
		if strings.ContainsAny(name, "/\\") {
			t.Fatalf("golden file name %q", name)
		}
	}
	existing, _ := filepath.Glob(filepath.Join(goldenDir, "*"+goldenExt))
	if updating() {
		for _, f := range existing {
			if _, ok := got[strings.TrimSuffix(filepath.Base(f), goldenExt)]; !ok {
				if err := os.Remove(f); err != nil {
					t.Fatal(err)
				}
			}
		}
		for name, text := range got {
			if err := os.WriteFile(filepath.Join(goldenDir, name+goldenExt), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	for _, f := range existing {
		if _, ok := got[strings.TrimSuffix(filepath.Base(f), goldenExt)]; !ok {
			t.Errorf("%s: no test renders it any more (go test ./runner -run Golden -update removes it)", f)
		}
	}
	names := make([]string, 0, len(got))
	for name := range got {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		want, err := os.ReadFile(filepath.Join(goldenDir, name+goldenExt))
		if errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: no golden file (go test ./runner -run Golden -update writes it)", name)
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		if g := got[name]; g != string(want) {
			t.Errorf("%s differs from its golden file at line %d (go test ./runner -run Golden -update rewrites it; read the diff):\n got: %q\nwant: %q",
				name, firstDiffLine(g, string(want)), lineAt(g, firstDiffLine(g, string(want))), lineAt(string(want), firstDiffLine(g, string(want))))
		}
	}
}

// The golden set covers every action, and what the scripts print of a
// secret parameter is ******.
func TestGoldenCoverage(t *testing.T) {
	cfg := goldenConfig(t)
	seen := map[documents.Action]bool{}
	for _, name := range append(goldenDocs, "inner") {
		for _, s := range cfg.Document(name).Steps {
			seen[s.Action] = true
		}
	}
	for _, a := range documents.ActionNames {
		if !seen[a] {
			t.Errorf("no golden document has a %s step", a)
		}
	}
	hs, err := Script(cfg, ScriptOptions{Name: "shell", Host: "linux"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"export DL_PARAM_token='******'", `printf '\''%s'\'' '\''******'\'' > ~/.token`} {
		if !strings.Contains(hs.Script, want) {
			t.Errorf("the shell document's script lacks %q", want)
		}
	}
}

// become = "sudo" wraps the transport's command line (package ssh), not
// the script: a sudo host gets the very same scripts.
func TestGoldenSudo(t *testing.T) {
	cfg := goldenConfig(t)
	if cfg.Inventory.Host("linux-sudo").Become != "sudo" {
		t.Fatal("linux-sudo is not a sudo host")
	}
	for _, name := range goldenDocs {
		for _, check := range []bool{true, false} {
			plain, err1 := Script(cfg, ScriptOptions{Name: name, Host: "linux", Check: check})
			sudo, err2 := Script(cfg, ScriptOptions{Name: name, Host: "linux-sudo", Check: check})
			if err := errors.Join(err1, err2); err != nil {
				t.Fatal(err)
			}
			// The same, but for the host's own guard key (its name).
			if unkeyed(plain.Script) != unkeyed(sudo.Script) {
				t.Errorf("%s (check %v): a sudo host gets another script", name, check)
			}
		}
	}
}

// shellcheckExcluded are the shellcheck codes that flag what the scripts
// do on purpose, each with why. Any other finding fails
// TestGoldenShellcheck.
var shellcheckExcluded = []struct{ code, why string }{
	{"SC2317", "unreachable command: the prelude defines every helper in every script; a script calls those its steps need"},
	{"SC2034", "variable appears unused: helpers set values for the fragments that may follow (dl_m dl_o dl_g dl_z of dl_stat, dl_h, dl_clean, dl_pm_auto)"},
	{"SC2030", "modification local to a subshell: a step's environment is exported in the subshell that runs its command, to reach that command only"},
	{"SC2031", "the other half of SC2030: the same variables, exported again in the next step's subshell"},
	{"SC2086", "unquoted expansion: numbers the script set ($dl_rc, $dl_n, $dl_h) or field splitting on purpose under set -f ($dl_x, $dl_l<n>)"},
	{"SC2046", "unquoted command substitution: set -- $(stat ...) splits stat's fields on purpose"},
	{"SC1007", "space after =: dl_lc= dl_sr= empties several variables in one command"},
	{"SC2174", "mkdir -p -m sets the mode of the step's directory only: parents made on the way get the umask's, as mkdir -p does"},
}

// TestGoldenShellcheck runs shellcheck -s sh on every golden POSIX
// script: any finding not excluded above fails. (shellcheck takes about
// 30 s of CPU for the set: the files are checked in parallel.)
func TestGoldenShellcheck(t *testing.T) {
	if _, err := osexec.LookPath("shellcheck"); err != nil {
		t.Fatal("shellcheck not found: apt-get install shellcheck (./test.sh installs it)")
	}
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.sh"+goldenExt))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden POSIX scripts in %s (%v)", goldenDir, err)
	}
	codes := make([]string, len(shellcheckExcluded))
	for i, e := range shellcheckExcluded {
		codes[i] = e.code
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			cmd := osexec.Command("shellcheck", "--norc", "-s", "sh", "-f", "gcc", "-e", strings.Join(codes, ","), f)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if stderr.Len() > 0 || (err != nil && stdout.Len() == 0) {
				t.Fatalf("shellcheck: %v: %s", err, stderr.String())
			}
			if stdout.Len() > 0 {
				t.Errorf("shellcheck -s sh found:\n%s", stdout.String())
			}
		})
	}
}

// unkeyed is a script without the line that names its association and
// host (dl_key, posix.MainFor).
func unkeyed(script string) string {
	if rest, ok := strings.CutPrefix(script, "dl_key="); ok {
		_, after, _ := strings.Cut(rest, "\n")
		return after
	}
	return script
}

// TestGoldenPowerShellParses parses every golden PowerShell script with a
// real PowerShell grammar (tree-sitter-powershell, see internal/psparse):
// no error node in any of them.
func TestGoldenPowerShellParses(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.ps1"+goldenExt))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden PowerShell scripts in %s (%v)", goldenDir, err)
	}
	scripts := make(map[string]string, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		scripts[filepath.Base(f)] = string(b)
	}
	psparse.Check(t, scripts)
}
