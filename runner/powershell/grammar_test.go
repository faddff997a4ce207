package powershell

import (
	"fmt"
	"testing"

	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/internal/psparse"
	"github.com/driftless-dev/driftless/runner/plan"
)

// The PowerShell the runner generates parses with a real PowerShell
// grammar (tree-sitter-powershell): the preludes alone, the stdin
// loader, and check and apply scripts with every action and option the
// PowerShell builders handle.
func TestGeneratedPowerShellParses(t *testing.T) {
	steps := psApplySteps()
	pkg := pkgStep(8, "latest", "", "Git.Git", "7zip.7zip")
	svc := svcStep(9, "Spooler", ptr(true), ptr(false))
	absentDir := &plan.Step{Idx: 10, Name: "gone", Action: "directory", Path: `C:\old`, Absent: true, Attempts: 1}
	all := append(steps, pkg, svc, absentDir)
	// The content test's apply steps, the powershell step run without a
	// recheck, the sh step, and the package, service and absent
	// directory steps.
	apply := append(psApplyTodo(steps),
		plan.ApplyStep{Step: steps[3]},
		plan.ApplyStep{Step: steps[5]},
		plan.ApplyStep{Step: pkg, Commands: "dl_pkg_do 'winget' 'install' @('7zip.7zip')\ndl_pkg_do 'choco' 'upgrade' @('git')\n"},
		plan.ApplyStep{Step: svc, Commands: "dl_svc_do windows start 'Spooler' && dl_svc_do windows disable 'Spooler'"},
		plan.ApplyStep{Step: absentDir},
	)
	psparse.Check(t, map[string]string{
		"psPrelude":         psPreludeText,
		"psStdinScript":     StdinScript,
		"check":             CheckScript("@@DL-0011223344556677", all),
		"check-empty":       CheckScript("@@DL-00", nil),
		"apply":             ApplyScript("@@DL-0011223344556677", apply),
		"apply-one-finally": ApplyScript("@@DL-00", []plan.ApplyStep{{Step: steps[6], Write: []byte("x")}}),
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

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }
