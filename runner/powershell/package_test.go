package powershell

import (
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/runner/plan"
)

func TestPSPackageText(t *testing.T) {
	s := pkgStep(2, "latest", "", "Git.Git", "7zip.7zip")
	if got := psPackageCheck(s, "state"); got != "dl_pkg_check '2' 'state' '' 'latest' @('Git.Git', '7zip.7zip')\n" {
		t.Errorf("check fragment %q", got)
	}
	cmds := "dl_pkg_do 'winget' 'install' @('7zip.7zip')\n"
	want := "$dl_rc = 0\n$dl_so = New-Object Text.StringBuilder\n" + cmds +
		"dl_frame '2' 'run' $dl_rc\ndl_text '2' 'out' ($dl_so.ToString())\ndl_text '2' 'err' ($dl_e.ToString())\n" +
		"if ($dl_rc -ne 0) { $dl_ok = $false }\n" +
		"dl_pkg_check '2' 'after' '' 'latest' @('Git.Git', '7zip.7zip')\n"
	if got := psPackageApply(s, cmds); got != want {
		t.Errorf("apply fragment\n%s\nwant\n%s", got, want)
	}
	// The scripts carry the helpers and call them.
	check := CheckScript("@@DL-1", []*plan.Step{s})
	if !strings.Contains(check, "function dl_pkg_check(") || !strings.Contains(check, "dl_pkg_check '2' 'state' ") {
		t.Error("check script lacks the package helpers or the step")
	}
	apply := ApplyScript("@@DL-2", []plan.ApplyStep{{Step: s, Commands: cmds}})
	if !strings.Contains(apply, "function dl_pkg_do(") || !strings.Contains(apply, cmds) {
		t.Error("apply script lacks the package helpers or the commands")
	}
	// The commands the helpers run, as docs/actions.md gives them and as winstub plays them.
	for _, w := range []string{
		"@('list', '--id', $n, '--exact', '--accept-source-agreements')",
		"@('list', '--id', $n, '--exact', '--upgrade-available', '--accept-source-agreements')",
		"@('list', '--exact', $n, '--limit-output')",
		"@('list', '--local-only', '--exact', $n, '--limit-output')",
		"@('outdated', '--limit-output')",
		"@($verb, '--id', $n, '--exact', '--silent', '--accept-package-agreements', '--accept-source-agreements')",
		"@('uninstall', '--id', $n, '--exact', '--silent', '--accept-source-agreements')",
		"(@($v) + $names + @('-y', '--no-progress'))",
		"Microsoft.DesktopAppInstaller_*_x64__8wekyb3d8bbwe",
	} {
		if !strings.Contains(psPackagePrelude, w) {
			t.Errorf("prelude lacks %s", w)
		}
	}
	if strings.Count(psPackagePrelude, "{") != strings.Count(psPackagePrelude, "}") ||
		strings.Count(psPackagePrelude, "(") != strings.Count(psPackagePrelude, ")") {
		t.Error("unbalanced braces or parentheses")
	}
	if strings.Contains(psPreludeText, "@MaxOutput@") {
		t.Error("a size is left in the prelude")
	}
}

func pkgStep(idx int, want, manager string, names ...string) *plan.Step {
	return &plan.Step{Idx: idx, Name: "pkgs", Action: "package", Kind: "package", Names: names, PkgWant: want, Manager: manager, Attempts: 1, Timeout: time.Hour}
}
