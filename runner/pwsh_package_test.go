package runner

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/winstub"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner/plan"
)

func pkgStep(idx int, want, manager string, names ...string) *plan.Step {
	return &plan.Step{Idx: idx, Name: "pkgs", Action: "package", Kind: "package", Names: names, PkgWant: want, Manager: manager, Attempts: 1, Timeout: time.Hour}
}

// winPkgHost is a winstub host behind WinRM, with the package state of
// a test.
func winPkgHost(t *testing.T, winget, choco bool, chocoVersion string, installed, latest map[string]string) (*winstub.Host, *hostRun) {
	t.Helper()
	w, h, _ := newWinHost(t)
	w.Winget, w.Choco = winget, choco
	if chocoVersion != "" {
		w.Packages.ChocoVersion = chocoVersion
	}
	for k, v := range installed {
		w.Packages.Installed[k] = v
	}
	for k, v := range latest {
		w.Packages.Latest[k] = v
	}
	return w, h
}

// runSteps runs steps on h as the runner does (check, then apply).
func runSteps(t *testing.T, h *hostRun, check bool, steps ...*plan.Step) []journal.StepResult {
	t.Helper()
	h.steps, h.check = steps, check
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.run(ctx); err != nil {
		t.Fatalf("run: %v", err)
	}
	return h.results
}

func TestPSPackageRoundTrip(t *testing.T) {
	git := map[string]string{"Git.Git": "2.43.0"}
	for _, tc := range []struct {
		name              string
		winget, choco     bool
		chocoVersion      string
		installed, latest map[string]string
		fail              map[string]int
		reboot            bool
		step              *plan.Step
		checkOnly         bool
		status            journal.Status
		differ            string
		errText, stdout   string
		calls             []string
		after             map[string]string // installed afterwards
	}{
		{name: "winget installs what is missing", winget: true, choco: true, installed: git, latest: map[string]string{"7zip.7zip": "23.01"},
			step: pkgStep(0, "present", "", "Git.Git", "7zip.7zip"), status: journal.StatusCorrected, differ: "missing: 7zip.7zip (winget)",
			stdout: "Successfully installed",
			calls: []string{
				"winget.exe list --id Git.Git --exact --accept-source-agreements",
				"winget.exe list --id 7zip.7zip --exact --accept-source-agreements",
				"winget.exe install --id 7zip.7zip --exact --silent --accept-package-agreements --accept-source-agreements",
				"winget.exe list --id Git.Git --exact --accept-source-agreements",
				"winget.exe list --id 7zip.7zip --exact --accept-source-agreements",
			},
			after: map[string]string{"Git.Git": "2.43.0", "7zip.7zip": "23.01"}},
		{name: "winget upgrades what is outdated", winget: true, installed: map[string]string{"Git.Git": "2.43.0", "7zip.7zip": "23.01"},
			latest: map[string]string{"Git.Git": "2.44.0", "7zip.7zip": "23.01"},
			step:   pkgStep(0, "latest", "winget", "Git.Git", "7zip.7zip"), status: journal.StatusCorrected, differ: "outdated: Git.Git (winget)",
			calls: []string{
				"winget.exe list --id Git.Git --exact --accept-source-agreements",
				"winget.exe list --id Git.Git --exact --upgrade-available --accept-source-agreements",
				"winget.exe list --id 7zip.7zip --exact --accept-source-agreements",
				"winget.exe list --id 7zip.7zip --exact --upgrade-available --accept-source-agreements",
				"winget.exe upgrade --id Git.Git --exact --silent --accept-package-agreements --accept-source-agreements",
				"winget.exe list --id Git.Git --exact --accept-source-agreements",
				"winget.exe list --id Git.Git --exact --upgrade-available --accept-source-agreements",
				"winget.exe list --id 7zip.7zip --exact --accept-source-agreements",
				"winget.exe list --id 7zip.7zip --exact --upgrade-available --accept-source-agreements",
			},
			after: map[string]string{"Git.Git": "2.44.0", "7zip.7zip": "23.01"}},
		{name: "winget removes what is unwanted", winget: true, installed: git, step: pkgStep(0, "absent", "", "Git.Git"),
			status: journal.StatusCorrected, differ: "unwanted: Git.Git (winget)",
			calls: []string{
				"winget.exe list --id Git.Git --exact --accept-source-agreements",
				"winget.exe uninstall --id Git.Git --exact --silent --accept-source-agreements",
				"winget.exe list --id Git.Git --exact --accept-source-agreements",
			},
			after: map[string]string{}},
		{name: "compliant", winget: true, installed: git, latest: map[string]string{"Git.Git": "2.43.0"}, step: pkgStep(0, "latest", "", "Git.Git"),
			status: journal.StatusCompliant,
			calls: []string{
				"winget.exe list --id Git.Git --exact --accept-source-agreements",
				"winget.exe list --id Git.Git --exact --upgrade-available --accept-source-agreements",
			}},
		{name: "check mode reports and changes nothing", winget: true, latest: map[string]string{"Git.Git": "2.44.0"}, step: pkgStep(0, "present", "", "Git.Git"),
			checkOnly: true, status: journal.StatusDrifted, differ: "missing: Git.Git (winget)",
			calls: []string{"winget.exe list --id Git.Git --exact --accept-source-agreements"}, after: map[string]string{}},
		{name: "choco 2", choco: true, latest: map[string]string{"git": "2.44.0", "7zip": "23.1.0"},
			step: pkgStep(0, "present", "", "git", "7zip"), status: journal.StatusCorrected, differ: "missing: git, 7zip (choco)",
			stdout: "Chocolatey installed 2/2 packages.",
			calls: []string{
				"choco.exe --version",
				"choco.exe list --exact git --limit-output",
				"choco.exe list --exact 7zip --limit-output",
				"choco.exe install git 7zip -y --no-progress",
				"choco.exe --version",
				"choco.exe list --exact git --limit-output",
				"choco.exe list --exact 7zip --limit-output",
			},
			after: map[string]string{"git": "2.44.0", "7zip": "23.1.0"}},
		{name: "choco 1 lists with --local-only", choco: true, chocoVersion: "1.4.0", installed: map[string]string{"git": "2.43.0"}, latest: map[string]string{"git": "2.44.0"},
			step: pkgStep(0, "latest", "choco", "git"), status: journal.StatusCorrected, differ: "outdated: git (choco)",
			calls: []string{
				"choco.exe --version",
				"choco.exe list --local-only --exact git --limit-output",
				"choco.exe outdated --limit-output",
				"choco.exe upgrade git -y --no-progress",
				"choco.exe --version",
				"choco.exe list --local-only --exact git --limit-output",
				"choco.exe outdated --limit-output",
			},
			after: map[string]string{"git": "2.44.0"}},
		{name: "no manager", step: pkgStep(0, "present", "", "Git.Git"), status: journal.StatusFailed,
			errText: "no supported package manager found on the host (winget, choco)"},
		{name: "manager asked for is not there", winget: true, step: pkgStep(0, "present", "choco", "git"), status: journal.StatusFailed,
			errText: `choco not found on the host (set manager = "auto" to use winget, then choco)`},
		{name: "a Linux manager", winget: true, step: pkgStep(0, "present", "apt", "git"), status: journal.StatusFailed,
			errText: "manager apt does not run on Windows hosts (winget, choco)"},
		{name: "install fails", winget: true, latest: map[string]string{"Git.Git": "2.44.0"}, fail: map[string]int{"Git.Git": 1603},
			step: pkgStep(0, "present", "", "Git.Git"), status: journal.StatusFailed, differ: "missing: Git.Git (winget)",
			errText: "exited 1603: winget.exe install --id Git.Git --exact --silent --accept-package-agreements --accept-source-agreements exited 1603: Installer failed with exit code: 1603"},
		{name: "package not in the source", winget: true, step: pkgStep(0, "present", "", "No.Such"), status: journal.StatusFailed, differ: "missing: No.Such (winget)",
			errText: "exited -1978335212: winget.exe install --id No.Such --exact --silent --accept-package-agreements --accept-source-agreements exited -1978335212 (0x8A150014): No package found matching input criteria."},
		{name: "3010 is a success that needs a reboot", choco: true, latest: map[string]string{"dotnetfx": "4.8.1"}, reboot: true,
			step: pkgStep(0, "present", "", "dotnetfx"), status: journal.StatusCorrected, differ: "missing: dotnetfx (choco)",
			stdout: "driftless: choco.exe exited 3010: a reboot is needed to finish"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, h := winPkgHost(t, tc.winget, tc.choco, tc.chocoVersion, tc.installed, tc.latest)
			for k, v := range tc.fail {
				w.Packages.Fail[k] = v
			}
			if tc.reboot {
				for k := range tc.latest {
					w.Packages.Reboot[k] = true
				}
			}
			r := runSteps(t, h, tc.checkOnly, tc.step)[0]
			if r.Status != tc.status || r.Differ != tc.differ || r.Error != tc.errText {
				t.Fatalf("%s, differ %q, error %q; want %s, %q, %q\nstdout %q\nstderr %q", r.Status, r.Differ, r.Error, tc.status, tc.differ, tc.errText, r.Stdout, r.Stderr)
			}
			if !strings.Contains(r.Stdout, tc.stdout) {
				t.Errorf("stdout %q lacks %q", r.Stdout, tc.stdout)
			}
			if tc.calls != nil {
				if got := w.NativeCalls(); strings.Join(got, "\n") != strings.Join(tc.calls, "\n") {
					t.Errorf("commands run:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.calls, "\n"))
				}
			}
			if tc.after != nil {
				for k, v := range tc.after {
					if got, _ := w.Package(k); got != v {
						t.Errorf("%s: installed %q, want %q", k, got, v)
					}
				}
				for _, n := range tc.step.Names {
					if _, ok := tc.after[n]; !ok {
						if v, there := w.Package(n); there {
							t.Errorf("%s still installed (%s)", n, v)
						}
					}
				}
			}
		})
	}
}

// A manager that says it installed a package that is still not there
// fails the step: the state after the change is what counts.
func TestPSPackageVerified(t *testing.T) {
	w, h := winPkgHost(t, true, false, "", nil, nil)
	w.Native = func(exe string, args []string) (int, string) {
		if args[0] == "install" {
			return 0, "Successfully installed\r\n"
		}
		return winstub.WingetNotFound, winstub.WingetNoneInstalled
	}
	r := runSteps(t, h, false, pkgStep(0, "present", "", "Git.Git"))[0]
	if r.Status != journal.StatusFailed || r.Error != "still out of state after the change: Git.Git" {
		t.Fatalf("%s %q", r.Status, r.Error)
	}
}

// patch is not a Windows action: the step says so.
func TestPSPatchRefused(t *testing.T) {
	_, h := winPkgHost(t, true, false, "", nil, nil)
	r := runSteps(t, h, true, &plan.Step{Idx: 0, Name: "updates", Action: "patch", Kind: "patch", Attempts: 1, Timeout: time.Hour})[0]
	if r.Status != journal.StatusFailed || !strings.Contains(r.Error, "patch runs on Linux and macOS hosts; on Windows use a powershell step") {
		t.Fatalf("%s %q", r.Status, r.Error)
	}
}
