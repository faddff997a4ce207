package runner

import (
	"fmt"
	"testing"

	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/internal/psparse"
)

// The PowerShell the runner generates parses with a real PowerShell
// grammar (tree-sitter-powershell): the preludes alone, the stdin
// loader, and check and apply scripts with every action and option the
// PowerShell builders handle.
func TestGeneratedPowerShellParses(t *testing.T) {
	steps := psSteps()
	steps[0].onFailure = "continue"
	steps[1].onFailure = "successAndExit"
	steps[2].onSuccessEnd = true
	steps[6].finally = true
	steps[6].group = "Users"
	steps[7].absent = true
	pkg := pkgStep(8, "latest", "", "Git.Git", "7zip.7zip")
	svc := svcStep(9, "Spooler", ptr(true), ptr(false))
	absentDir := &step{idx: 10, name: "gone", action: "directory", path: `C:\old`, absent: true, attempts: 1}
	all := append(steps, pkg, svc, absentDir)
	apply := []applyStep{
		{s: steps[0], write: []byte("new ✓\r\n")},
		{s: steps[1]},
		{s: steps[2], write: []byte("10.0.0.5 db\n")},
		{s: steps[3], recheck: true},
		{s: steps[3]},
		{s: steps[4]},
		{s: steps[5]},
		{s: steps[6], write: []byte("same")},
		{s: steps[7]},
		{s: pkg, commands: "dl_pkg_do 'winget' 'install' @('7zip.7zip')\ndl_pkg_do 'choco' 'upgrade' @('git')\n"},
		{s: svc, commands: "dl_svc_do windows start 'Spooler' && dl_svc_do windows disable 'Spooler'"},
		{s: absentDir},
	}
	psparse.Check(t, map[string]string{
		"psPrelude":         psPreludeText,
		"psStdinScript":     psStdinScript,
		"check":             checkScriptPS("@@DL-0011223344556677", all),
		"check-empty":       checkScriptPS("@@DL-00", nil),
		"apply":             applyScriptPS("@@DL-0011223344556677", apply),
		"apply-one-finally": applyScriptPS("@@DL-00", []applyStep{{s: steps[6], write: []byte("x")}}),
	})
}

// The PowerShell that the built-in documents' powershell steps run (their
// run and check, as written) parses too.
func TestBuiltinPowerShellParses(t *testing.T) {
	docs, err := documents.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	scripts := map[string]string{}
	for _, d := range docs {
		for _, s := range d.Steps {
			if s.Action != documents.ActionPowerShell {
				continue
			}
			for _, in := range []string{"run", "check"} {
				if x := s.Input(in); x != nil {
					for i, tpl := range x.Templates() {
						if _, only := tpl.SoleParam(); !only {
							scripts[fmt.Sprintf("%s/%s/%s[%d]", d.Name, s.Name, in, i)] = tpl.Raw
						}
					}
				}
			}
		}
	}
	if len(scripts) == 0 {
		t.Fatal("no built-in PowerShell")
	}
	psparse.Check(t, scripts)
}
