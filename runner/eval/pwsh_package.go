package eval

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/driftless-dev/driftless/internal/pwsh"
	"github.com/driftless-dev/driftless/runner/frame"
	"github.com/driftless-dev/driftless/runner/plan"
	"github.com/driftless-dev/driftless/runner/powershell"
)

// The Windows side of the package action: winget first, then
// Chocolatey (docs/actions.md#package). The PowerShell helpers only run the managers'
// commands and report what they printed; whether a package is there,
// outdated or not is decided here in Go, from those outputs, so that the
// parsing is tested against the managers' real output formats.
//
// Check (tag "state", "after" in apply), one frame then one per query:
//
//	state  "winget" | "choco <version>" | "none"
//	pkg    payload: the command's output (stdout and stderr merged);
//	       fields "<total size> <exit code> <query> <name>", query being
//	       list      winget list --id NAME --exact
//	                 choco list --exact NAME --limit-output (choco 2),
//	                 choco list --local-only --exact NAME --limit-output (1.x)
//	       upgrade   winget list --id NAME --exact --upgrade-available
//	                 (state latest, when NAME is installed)
//	       outdated  choco outdated --limit-output (state latest; name "-")
//
// winget is found in PATH or, for accounts whose PATH lacks the
// per-user app alias (services, remote sessions of another user), as the
// newest Microsoft.DesktopAppInstaller package's winget.exe under
// Program Files\WindowsApps. A manager is looked up once per script.
//
// Apply runs the commands evaluatePackagePS chose (dl_pkg_do: install,
// upgrade, remove), stopping at the first that fails, as the run frame
// and its payloads out and err, then the check again with tag "after".
// winget takes one package per command; choco all of them at once. All
// run unattended (--silent and the agreements accepted; -y). Exit 3010
// and 1641 (a reboot completes the change) count as success and are
// noted in the output; they do not reboot the host.

// wingetNotFound is winget's exit code when nothing matches
// (APPINSTALLER_CLI_ERROR_NO_APPLICATIONS_FOUND, 0x8A150014) as
// PowerShell's $LASTEXITCODE holds it; wingetNotFoundU as an unsigned
// code.
const (
	wingetNotFound  = -1978335212
	wingetNotFoundU = 0x8A150014
)

// isPSManager reports whether a state frame comes from the PowerShell
// helpers.
func isPSManager(f *frame.Frame) bool {
	return f != nil && len(f.Fields) > 0 && (f.Fields[0] == "winget" || f.Fields[0] == "choco")
}

// pkgQuery is one pkg frame: a manager's command and what it said.
type pkgQuery struct {
	code int
	out  string
}

// psPkgState reads the frames that follow the last frame of kind tag
// (a "state" or "after" frame) and sorts the step's packages.
func psPkgState(s *plan.Step, fs []frame.Frame, tag frame.Kind) (pm string, missing, outdated, unwanted []string, err error) {
	at := -1
	for i := range fs {
		if fs[i].Kind == tag {
			at = i
		}
	}
	if at < 0 {
		return "", nil, nil, nil, fmt.Errorf("the check did not report (the script stopped early)")
	}
	if f := fs[at].Fields; len(f) > 0 {
		pm = f[0]
	}
	if err = psManagerError(s, pm); err != nil {
		return pm, nil, nil, nil, err
	}
	q := pkgQueries(fs[at+1:])
	var outdatedChoco map[string]bool
	if pm == "choco" && s.PkgWant == "latest" {
		r, ok := q["outdated -"]
		if !ok {
			return pm, nil, nil, nil, fmt.Errorf("choco outdated did not report (the script stopped early)")
		}
		if outdatedChoco, err = chocoOutdated(r); err != nil {
			return pm, nil, nil, nil, err
		}
	}
	for _, n := range s.Names {
		r, ok := q["list "+n]
		if !ok {
			return pm, nil, nil, nil, fmt.Errorf("%s list did not report %s (the script stopped early)", pm, n)
		}
		var installed bool
		if pm == "winget" {
			installed, err = wingetListed(r, "list --id "+n)
		} else {
			installed, err = chocoInstalled(r, n)
		}
		if err != nil {
			return pm, nil, nil, nil, err
		}
		switch {
		case !installed && s.PkgWant != "absent":
			missing = append(missing, n)
		case installed && s.PkgWant == "absent":
			unwanted = append(unwanted, n)
		case installed && s.PkgWant == "latest" && pm == "choco":
			if outdatedChoco[strings.ToLower(n)] {
				outdated = append(outdated, n)
			}
		case installed && s.PkgWant == "latest":
			u, ok := q["upgrade "+n]
			if !ok {
				return pm, nil, nil, nil, fmt.Errorf("winget did not report whether %s has an upgrade (the script stopped early)", n)
			}
			up, err := wingetListed(u, "list --id "+n+" --upgrade-available")
			if err != nil {
				return pm, nil, nil, nil, err
			}
			if up {
				outdated = append(outdated, n)
			}
		}
	}
	return pm, missing, outdated, unwanted, nil
}

// psManagerError says why the step s cannot use the package manager pm
// the host reported (nil: it can).
func psManagerError(s *plan.Step, pm string) error {
	switch {
	case s.Manager != "" && s.Manager != "winget" && s.Manager != "choco":
		return fmt.Errorf("manager %s does not run on Windows hosts (winget, choco)", s.Manager)
	case pm != "winget" && pm != "choco" && s.Manager != "":
		return fmt.Errorf("%s not found on the host (set manager = \"auto\" to use winget, then choco)", s.Manager)
	case pm != "winget" && pm != "choco":
		return fmt.Errorf("no supported package manager found on the host (winget, choco)")
	}
	return nil
}

// pkgQueries is what the pkg frames among fs say, by command and
// package ("list git", "outdated -").
func pkgQueries(fs []frame.Frame) map[string]pkgQuery {
	q := map[string]pkgQuery{}
	for _, f := range fs {
		if f.Kind != frame.Pkg || len(f.Fields) < 4 {
			continue
		}
		code, cerr := strconv.Atoi(f.Fields[1])
		if cerr != nil {
			continue
		}
		q[f.Fields[2]+" "+f.Fields[3]] = pkgQuery{code: code, out: string(f.Payload)}
	}
	return q
}

// wingetListed reads winget list: exit 0 with a table is a match; the
// "nothing found" code (or its message) is none.
func wingetListed(r pkgQuery, what string) (bool, error) {
	switch {
	case r.code == wingetNotFound || r.code == wingetNotFoundU:
		return false, nil
	case r.code == 0:
		return !strings.Contains(r.out, "No installed package found"), nil
	}
	return false, fmt.Errorf("winget %s exited %s: %s", what, exitText(r.code), lastOutputLine(r.out))
}

// chocoInstalled reads choco list for one package: "name|version" lines
// (--limit-output), or "name version" lines between choco's banner and
// its count.
func chocoInstalled(r pkgQuery, name string) (bool, error) {
	// 2: no result, with the useEnhancedExitCodes feature.
	if r.code != 0 && r.code != 2 {
		return false, fmt.Errorf("choco list %s exited %s: %s", name, exitText(r.code), lastOutputLine(r.out))
	}
	for _, l := range outputLines(r.out) {
		if n, _, ok := strings.Cut(l, "|"); ok {
			if strings.EqualFold(n, name) {
				return true, nil
			}
			continue
		}
		f := strings.Fields(l)
		if len(f) == 2 && strings.EqualFold(f[0], name) && !(f[0] == "Chocolatey" && strings.HasPrefix(f[1], "v")) {
			return true, nil
		}
	}
	return false, nil
}

// chocoOutdated reads choco outdated --limit-output:
// "name|current|available|pinned" lines; pinned packages are not
// outdated.
func chocoOutdated(r pkgQuery) (map[string]bool, error) {
	if r.code != 0 && r.code != 2 {
		return nil, fmt.Errorf("choco outdated exited %s: %s", exitText(r.code), lastOutputLine(r.out))
	}
	out := map[string]bool{}
	for _, l := range outputLines(r.out) {
		f := strings.Split(l, "|")
		if len(f) == 4 && f[3] != "true" {
			out[strings.ToLower(f[0])] = true
		}
	}
	return out, nil
}

// outputLines are the non-blank lines of a command's output; carriage
// returns (winget's spinner, CRLF) end lines too.
func outputLines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func lastOutputLine(s string) string {
	l := outputLines(s)
	if len(l) == 0 {
		return "no output"
	}
	return l[len(l)-1]
}

// exitText is an exit code, with its HRESULT form when it is one.
func exitText(code int) string {
	if code < 0 || code > 0x7fffffff {
		return fmt.Sprintf("%d (0x%08X)", code, uint32(code))
	}
	return strconv.Itoa(code)
}

// evaluatePackagePS decides drift for a package step on a PowerShell
// host and returns the dl_pkg_do lines that correct it.
func evaluatePackagePS(s *plan.Step, fs []frame.Frame) (cmds, differ string, drifted bool, err error) {
	pm, missing, outdated, unwanted, err := psPkgState(s, fs, frame.State)
	if err != nil {
		return "", "", false, err
	}
	var parts []string
	var run strings.Builder
	for _, c := range []struct {
		what, verb string
		names      []string
	}{{"missing", "install", missing}, {"outdated", "upgrade", outdated}, {"unwanted", "remove", unwanted}} {
		if len(c.names) == 0 {
			continue
		}
		parts = append(parts, c.what+": "+strings.Join(c.names, ", "))
		fmt.Fprintf(&run, "dl_pkg_do %s %s %s\n", pwsh.Quote(pm), pwsh.Quote(c.verb), powershell.List(c.names))
	}
	if len(parts) == 0 {
		return "", "", false, nil
	}
	return run.String(), strings.Join(parts, "\n") + " (" + pm + ")", true, nil
}

// verifyPackagePS checks a package step's state after the change.
func verifyPackagePS(s *plan.Step, fs []frame.Frame) error {
	_, m, o, u, err := psPkgState(s, fs, frame.After)
	if err != nil {
		return fmt.Errorf("after the change: %w", err)
	}
	if len(m)+len(o)+len(u) > 0 {
		return fmt.Errorf("still out of state after the change: %s", strings.Join(append(append(m, o...), u...), ", "))
	}
	return nil
}
