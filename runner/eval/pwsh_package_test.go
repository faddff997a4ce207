package eval

import (
	"strings"
	"testing"

	"github.com/driftless-dev/driftless/internal/winstub"
)

// Outputs in the formats winget and Chocolatey print.
func TestPSPackageParsing(t *testing.T) {
	winget := map[string]struct {
		q         pkgQuery
		listed    bool
		errSubstr string
	}{
		"installed":                    {q: pkgQuery{0, winstub.WingetList("Git", "Git.Git", "2.43.0", "2.44.0")}, listed: true},
		"installed, no upgrade column": {q: pkgQuery{0, winstub.WingetList("7-Zip 23.01 (x64)", "7zip.7zip", "23.01", "")}, listed: true},
		"not installed":                {q: pkgQuery{wingetNotFound, winstub.WingetNoneInstalled}},
		"unsigned code":                {q: pkgQuery{wingetNotFoundU, winstub.WingetNoneInstalled}},
		"message with exit 0":          {q: pkgQuery{0, "No installed package found matching input criteria.\n"}},
		"source failure": {q: pkgQuery{-1978335217, "Failed when searching source: winget\r\nAn unexpected error occurred while executing the command:\r\n0x8a15000f : Data required by the source is missing\r\n"},
			errSubstr: "winget list --id X exited -1978335217 (0x8A15000F): 0x8a15000f : Data required by the source is missing"},
	}
	for name, tc := range winget {
		got, err := wingetListed(tc.q, "list --id X")
		if got != tc.listed || (err == nil) != (tc.errSubstr == "") || (err != nil && !strings.Contains(err.Error(), tc.errSubstr)) {
			t.Errorf("winget %s: %v %v", name, got, err)
		}
	}
	choco := map[string]struct {
		q         pkgQuery
		installed bool
		errSubstr string
	}{
		"limit output":            {q: pkgQuery{0, "git|2.43.0\r\n"}, installed: true},
		"limit output, case":      {q: pkgQuery{0, "Git|2.43.0\n"}, installed: true},
		"limit output, none":      {q: pkgQuery{0, ""}},
		"enhanced exit code":      {q: pkgQuery{2, ""}},
		"v1 table":                {q: pkgQuery{0, "Chocolatey v1.4.0\r\ngit 2.43.0\r\n1 packages installed.\r\n"}, installed: true},
		"v2 table, none":          {q: pkgQuery{0, "Chocolatey v2.2.2\r\n0 packages installed.\r\n"}},
		"other package":           {q: pkgQuery{0, "git.install|2.43.0\r\n"}},
		"v2 refuses --local-only": {q: pkgQuery{1, "Chocolatey v2.2.2\r\nInvalid argument --local-only. This argument has been removed from the list command and cannot be used.\r\n"}, errSubstr: "choco list git exited 1: Invalid argument --local-only"},
	}
	for name, tc := range choco {
		got, err := chocoInstalled(tc.q, "git")
		if got != tc.installed || (err == nil) != (tc.errSubstr == "") || (err != nil && !strings.Contains(err.Error(), tc.errSubstr)) {
			t.Errorf("choco %s: %v %v", name, got, err)
		}
	}
	// The banner is not the package named chocolatey.
	if ok, _ := chocoInstalled(pkgQuery{0, "Chocolatey v2.2.2\r\n0 packages installed.\r\n"}, "chocolatey"); ok {
		t.Error("choco's banner read as the chocolatey package")
	}
	out, err := chocoOutdated(pkgQuery{0, "git|2.43.0|2.44.0|false\r\nnodejs|20.1.0|21.0.0|true\r\n"})
	if err != nil || !out["git"] || out["nodejs"] {
		t.Errorf("outdated %v %v", out, err)
	}
}
