package winstub

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/driftless-dev/driftless/winrm/winrmtest"
)

// MaxOutput is the runner's cap on one payload (frame.MaxOutput in runner/frame; this
// package cannot import the runner, whose own tests use it).
const MaxOutput = 1 << 20

// Profile is the login user's profile directory ("~/" on the host).
const Profile = `C:\Users\Administrator`

// StepFunc runs a powershell step's script (tag is "check", "run",
// "verify" or "recheck") with its environment and working directory.
type StepFunc func(tag, script string, env map[string]string, wd string) (code int, stdout, stderr string)

// NativeFunc runs a native program (winget.exe, choco.exe) with its
// arguments and returns its exit code and its output (stdout and stderr
// merged, as the scripts capture them).
type NativeFunc func(exe string, args []string) (code int, output string)

// Host is a Windows host as the runner's PowerShell scripts see it. Set
// its fields before the first script runs; afterwards use the methods,
// which lock.
type Host struct {
	mu sync.Mutex
	// Files and Dirs are the file system (paths as the scripts name
	// them, e.g. C:\app\app.toml); Owners the owner of a path when it
	// is not BUILTIN\Administrators.
	Files  map[string][]byte
	Dirs   map[string]bool
	Owners map[string]string
	// Step runs powershell steps; nil fails them.
	Step StepFunc
	// Services are the host's services: running, enabled (StartType
	// Automatic).
	Services map[string]*[2]bool
	// Winget and Choco say whether the package managers are installed;
	// Native answers their commands (default: DefaultNative, from
	// Packages).
	Winget, Choco bool
	Native        NativeFunc
	Packages      *Packages
	// Facts is what the facts frame says: "<os> <sid>".
	Facts string

	scripts   int
	svcOps    []string
	svcStates int
	native    []string
}

// New returns a host with C:\, C:\app and the profile directory, no
// services and no package manager.
func New() *Host {
	h := &Host{
		Files:    map[string][]byte{},
		Dirs:     map[string]bool{`C:`: true, `C:\app`: true, Profile: true},
		Owners:   map[string]string{},
		Services: map[string]*[2]bool{},
		Packages: NewPackages(),
		Facts:    "Windows S-1-5-21-1-500",
	}
	return h
}

var (
	reMarker   = regexp.MustCompile(`^\$DLM = '(.*)'$`)
	reFacts    = regexp.MustCompile(`^dl_frame '-' 'facts' `)
	reIfOS     = regexp.MustCompile(`^if \(\$dl_os -eq '(\w+)'\) \{$`)
	reElseSkip = regexp.MustCompile(`^\} else \{ dl_frame '(\d+)' 'skip' 'platform' \}$`)
	rePath     = regexp.MustCompile(`^\$p = (.+)$`)
	reVarsNew  = regexp.MustCompile(`^\$dl_v = @\{\}$`)
	reVar      = regexp.MustCompile(`^\$dl_v\['((?:[^']|'')*)'\] = '((?:[^']|'')*)'$`)
	reStat     = regexp.MustCompile(`^dl_stat '(\d+)' '(\w+)' \$p \$(true|false) '((?:[^']|'')*)' '((?:[^']|'')*)'$`)
	reCurSha   = regexp.MustCompile(`^if \(\[IO\.File\]::Exists\(\$p\) -and \(\(dl_sha \$p\) -ne '([0-9a-f]+)'\)\) \{ dl_payload '(\d+)' 'cur' \$p (\d+) \}$`)
	reCur      = regexp.MustCompile(`^if \(\[IO\.File\]::Exists\(\$p\)\) \{ dl_payload '(\d+)' 'cur' \$p (\d+) \}$`)
	reRun      = regexp.MustCompile(`^dl_run '(\d+)' '(\w+)' '([A-Za-z0-9+/=]*)' \$dl_v (.+) (\d+)$`)
	reSkip     = regexp.MustCompile(`^dl_frame '(\d+)' 'skip' 'platform'$`)
	reWrite    = regexp.MustCompile(`^dl_write \$p '([A-Za-z0-9+/=]*)'$`)
	reMkdir    = regexp.MustCompile(`^if \(-not \[IO\.Directory\]::Exists\(\$p\)\) \{ \[void\]\[IO\.Directory\]::CreateDirectory\(\$p\) \}$`)
	reResult   = regexp.MustCompile(`^dl_result '(\d+)' \$p \$(true|false) '((?:[^']|'')*)' '((?:[^']|'')*)'$`)
	reSvcState = regexp.MustCompile(`^dl_frame '(\d+)' '(\w+)' \(dl_svc_state '((?:[^']|'')*)'\)$`)
	reSvcDo    = regexp.MustCompile(`^if \(\$dl_rc -eq 0\) \{ try \{ \[void\]\$dl_so\.Append\(\[string\]\(dl_svc_do '(\w+)' '((?:[^']|'')*)'\)\) \} catch \{ .* \} \}$`)
	reRCRun    = regexp.MustCompile(`^dl_frame '(\d+)' 'run' \$dl_rc$`)
	reRCText   = regexp.MustCompile(`^dl_text '(\d+)' '(out|err)' \(\$dl_(so|e)\.ToString\(\)\)$`)
	rePathExpr = regexp.MustCompile(`^\[IO\.Path\]::Combine\(\$env:USERPROFILE, '((?:[^']|'')*)'\)$`)
	reStopSkip = regexp.MustCompile(`^if \(\$dl_stop -ne ''\) \{ dl_frame '(\d+)' 'skip' \$dl_stop \} else \{$`)
	reIfNotOS  = regexp.MustCompile(`^if \(\$dl_os -ne '(\w+)'\) \{ dl_frame '(\d+)' 'skip' 'platform' \} else \{$`)
	rePkgCheck = regexp.MustCompile(`^dl_pkg_check '(\d+)' '(\w+)' '(\w*)' '(\w+)' @\(((?:'[^']*'(?:, )?)*)\)$`)
	rePkgDo    = regexp.MustCompile(`^dl_pkg_do '(\w+)' '(\w+)' @\(((?:'[^']*'(?:, )?)*)\)$`)
	reQuoted   = regexp.MustCompile(`'([^']*)'`)
)

// Unquote undoes PowerShell single quoting.
func Unquote(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		s = s[1 : len(s)-1]
	}
	return strings.ReplaceAll(s, "''", "'")
}

func (h *Host) path(expr string) string {
	if m := rePathExpr.FindStringSubmatch(expr); m != nil {
		return Profile + `\` + Unquote("'"+m[1]+"'")
	}
	if expr == "$env:USERPROFILE" {
		return Profile
	}
	return Unquote(expr)
}

// LogicalLines splits a script into lines, keeping single-quoted strings
// that span lines whole.
func LogicalLines(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' && quoted && i+1 < len(s) && s[i+1] == '\'':
			cur.WriteString("''")
			i++
			continue
		case c == '\'':
			quoted = !quoted
		case c == '\n' && !quoted:
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(c)
	}
	return append(out, cur.String())
}

func (h *Host) acct(p, want string, owner bool) string {
	actual := `WIN-1\None`
	if owner {
		actual = `BUILTIN\Administrators`
		if o, ok := h.Owners[p]; ok {
			actual = o
		}
	}
	strip := func(s string) string { return strings.TrimPrefix(strings.ToLower(s), `builtin\`) }
	if want != "" && strip(want) == strip(actual) {
		actual = want
	}
	return strings.NewReplacer("%", "%25", " ", "%20").Replace(actual)
}

func (h *Host) stat(p string, dir bool, owner, group string) string {
	if dir && h.Dirs[p] {
		return fmt.Sprintf("1 - - %s %s 0", h.acct(p, owner, true), h.acct(p, group, false))
	}
	if b, ok := h.Files[p]; ok && !dir {
		sum := sha256.Sum256(b)
		return fmt.Sprintf("1 %s - %s %s %d", hex.EncodeToString(sum[:]), h.acct(p, owner, true), h.acct(p, group, false), len(b))
	}
	if _, ok := h.Files[p]; ok || h.Dirs[p] {
		return "2"
	}
	return "0"
}

// Parent is the directory of a host path.
func Parent(p string) string { return p[:max(0, strings.LastIndexAny(p, `\/`))] }

func quotedList(s string) []string {
	var out []string
	for _, m := range reQuoted.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// Exec runs a check or apply script, writing its frames to out.
func (h *Host) Exec(script string, out io.Writer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.scripts++
	x := &execution{h: h, out: out, vars: map[string]string{}, ok: true, pm: map[string]string{}}
	for _, l := range LogicalLines(script) {
		x.line(strings.TrimSpace(l))
	}
}

// execution is the state of one script.
type execution struct {
	h        *Host
	out      io.Writer
	marker   string
	p        string
	vars     map[string]string
	ok       bool
	errText  string
	skipping bool
	// depth > 0: inside a block that does not run, depth braces deep.
	depth int
	// stop plays $dl_stop; okNull is $dl_ok = $null (neither success
	// nor failure).
	stop   string
	okNull bool
	// rc, so and se play $dl_rc, $dl_so and $dl_e of the service and
	// package fragments.
	rc     int
	so, se string
	// pm caches dl_pm_find per manager asked for, as the script does.
	pm map[string]string
}

func (x *execution) frame(i, k, f string) { fmt.Fprintf(x.out, "\n%s %s %s 0 %s\n", x.marker, i, k, f) }

func (x *execution) payload(i, k string, b []byte, max int) {
	n := len(b)
	b = b[:min(n, max)]
	fmt.Fprintf(x.out, "\n%s %s %s %d %d\n", x.marker, i, k, len(b), n)
	x.out.Write(b)
}

func (x *execution) line(l string) {
	h := x.h
	if x.depth > 0 {
		x.depth += braces(l)
		return
	}
	if x.skipping {
		if m := reElseSkip.FindStringSubmatch(l); m != nil {
			x.frame(m[1], "skip", "platform")
			x.skipping = false
		}
		return
	}
	if m := reMarker.FindStringSubmatch(l); m != nil {
		x.marker = m[1]
	} else if m := reStopSkip.FindStringSubmatch(l); m != nil {
		if x.stop != "" {
			x.frame(m[1], "skip", x.stop)
			x.depth = 1
		}
	} else if m := reIfNotOS.FindStringSubmatch(l); m != nil {
		if m[1] != strings.Fields(h.Facts)[0] {
			x.frame(m[2], "skip", "platform")
			x.depth = 1
		}
	} else if l == "if ($dl_rc -ne 0) { $dl_ok = $false }" {
		if x.rc != 0 {
			x.ok, x.okNull = false, false
		}
	} else if l == "if ($dl_rc -ne 0) {" { // a recheck that failed: run
		if x.rc == 0 {
			x.depth = 1
		}
	} else if l == "if ($dl_ok) {" { // verify after a successful run
		if !x.ok || x.okNull {
			x.depth = 1
		}
	} else if l == "$dl_ok = $null" {
		x.okNull = true
	} else if strings.HasPrefix(l, "if ($dl_ok -eq $false) { $dl_stop = ") {
		if !x.ok && !x.okNull {
			x.stop = Unquote(strings.TrimSuffix(strings.TrimPrefix(l, "if ($dl_ok -eq $false) { $dl_stop = "), " }"))
		}
	} else if strings.HasPrefix(l, "if ($dl_ok -eq $true) { $dl_stop = ") {
		if x.ok && !x.okNull {
			x.stop = Unquote(strings.TrimSuffix(strings.TrimPrefix(l, "if ($dl_ok -eq $true) { $dl_stop = "), " }"))
		}
	} else if reFacts.MatchString(l) {
		x.frame("-", "facts", h.Facts)
	} else if m := reIfOS.FindStringSubmatch(l); m != nil {
		x.skipping = m[1] != strings.Fields(h.Facts)[0]
	} else if m := reSvcState.FindStringSubmatch(l); m != nil {
		h.svcStates++
		st := "windows 0 0 0"
		if sv := h.Services[Unquote("'"+m[3]+"'")]; sv != nil {
			st = fmt.Sprintf("windows 1 %d %d", b01(sv[0]), b01(sv[1]))
		}
		x.frame(m[1], m[2], st)
	} else if l == "$dl_rc = 0" {
		x.rc, x.so, x.se = 0, "", ""
	} else if m := reSvcDo.FindStringSubmatch(l); m != nil {
		x.svcDo(m[1], Unquote("'"+m[2]+"'"))
	} else if m := rePkgCheck.FindStringSubmatch(l); m != nil {
		x.pkgCheck(m[1], m[2], m[3], m[4], quotedList(m[5]))
	} else if m := rePkgDo.FindStringSubmatch(l); m != nil {
		x.pkgDo(m[1], m[2], quotedList(m[3]))
	} else if m := reRCRun.FindStringSubmatch(l); m != nil {
		x.frame(m[1], "run", strconv.Itoa(x.rc))
		if x.rc != 0 {
			x.ok = false
		}
	} else if m := reRCText.FindStringSubmatch(l); m != nil {
		b := x.so
		if m[3] == "e" {
			b = x.se
		}
		x.payload(m[1], m[2], []byte(b), MaxOutput)
	} else if m := rePath.FindStringSubmatch(l); m != nil {
		x.p = h.path(m[1])
	} else if reVarsNew.MatchString(l) {
		x.vars = map[string]string{}
	} else if m := reVar.FindStringSubmatch(l); m != nil {
		x.vars[Unquote("'"+m[1]+"'")] = Unquote("'" + m[2] + "'")
	} else if m := reStat.FindStringSubmatch(l); m != nil {
		x.frame(m[1], m[2], h.stat(x.p, m[3] == "true", Unquote("'"+m[4]+"'"), Unquote("'"+m[5]+"'")))
	} else if m := reCurSha.FindStringSubmatch(l); m != nil {
		if b, exists := h.Files[x.p]; exists && fmt.Sprintf("%x", sha256.Sum256(b)) != m[1] {
			n, _ := strconv.Atoi(m[3])
			x.payload(m[2], "cur", b, n)
		}
	} else if m := reCur.FindStringSubmatch(l); m != nil {
		if b, exists := h.Files[x.p]; exists {
			n, _ := strconv.Atoi(m[2])
			x.payload(m[1], "cur", b, n)
		}
	} else if m := reRun.FindStringSubmatch(l); m != nil {
		raw, _ := base64.StdEncoding.DecodeString(m[3])
		body, hasBOM := bytes.CutPrefix(raw, []byte("\xef\xbb\xbf"))
		code, o, e := -1, "", "step script without a BOM"
		if hasBOM && h.Step != nil {
			code, o, e = h.Step(m[2], string(body), x.vars, Unquote(strings.Trim(m[4], "()")))
		}
		x.rc = code
		x.frame(m[1], m[2], strconv.Itoa(code))
		x.payload(m[1], "out", []byte(o), MaxOutput)
		x.payload(m[1], "err", []byte(e), MaxOutput)
	} else if m := reSkip.FindStringSubmatch(l); m != nil {
		x.frame(m[1], "skip", "platform")
	} else if l == "$dl_ok = $true" {
		x.ok, x.okNull, x.errText = true, false, ""
	} else if m := reWrite.FindStringSubmatch(l); m != nil {
		if !h.Dirs[Parent(x.p)] {
			x.ok, x.errText = false, fmt.Sprintf("Could not find a part of the path '%s'.\n", x.p)
			return
		}
		b, _ := base64.StdEncoding.DecodeString(m[1])
		h.Files[x.p] = b
	} else if reMkdir.MatchString(l) {
		for d := x.p; d != "" && !h.Dirs[d]; d = Parent(d) {
			h.Dirs[d] = true
		}
	} else if m := reResult.FindStringSubmatch(l); m != nil {
		x.frame(m[1], "applied", map[bool]string{true: "1", false: "0"}[x.ok])
		x.payload(m[1], "err", []byte(x.errText), MaxOutput)
		x.frame(m[1], "after", h.stat(x.p, m[2] == "true", Unquote("'"+m[3]+"'"), Unquote("'"+m[4]+"'")))
	}
}

// braces is the number of { less the number of } in a line, outside
// single-quoted strings.
func braces(l string) int {
	n, quoted := 0, false
	for i := 0; i < len(l); i++ {
		switch c := l[i]; {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '{':
			n++
		case c == '}':
			n--
		}
	}
	return n
}

func (x *execution) svcDo(op, name string) {
	if x.rc != 0 {
		return
	}
	h := x.h
	h.svcOps = append(h.svcOps, op+" "+name)
	sv := h.Services[name]
	if sv == nil {
		x.rc, x.se = 1, fmt.Sprintf("Cannot find any service with service name '%s'.\r\n", name)
		return
	}
	switch op {
	case "start":
		sv[0] = true
		x.so += fmt.Sprintf("WARNING: Waiting for service '%s' to start...\r\n", name)
	case "stop":
		sv[0] = false
	case "enable":
		sv[1] = true
	case "disable":
		sv[1] = false
	}
}

func b01(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Handler is a winrmtest handler that runs the runner's scripts: the
// command must be the runner's stdin bootstrap (it reads $input), and
// stdin the script in base64 lines.
func (h *Host) Handler() winrmtest.Handler {
	return func(ctx context.Context, p *winrmtest.Process) int {
		if !strings.Contains(p.Script, "$input") {
			fmt.Fprintf(p.Stderr, "not the stdin bootstrap: %q", p.Script)
			return 1
		}
		in, _ := io.ReadAll(p.Stdin)
		if err := h.ExecStdin(in, p.Stdout); err != nil {
			fmt.Fprint(p.Stderr, err)
			return 1
		}
		return 0
	}
}

// ExecStdin runs the script that the runner sends on stdin (UTF-8 in
// base64 lines).
func (h *Host) ExecStdin(stdin []byte, out io.Writer) error {
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(stdin)), ""))
	if err != nil {
		return fmt.Errorf("stdin: %w", err)
	}
	if !bytes.HasPrefix(raw, []byte("$DLM = ")) {
		return fmt.Errorf("stdin is not a driftless script: %.40q", raw)
	}
	h.Exec(string(raw), out)
	return nil
}

// File returns a file's content.
func (h *Host) File(p string) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	b, ok := h.Files[p]
	return string(b), ok
}

// Set writes a file (tampering).
func (h *Host) Set(p, content string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.Files[p] = []byte(content)
}

// Service returns a service's running and enabled state.
func (h *Host) Service(name string) [2]bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return *h.Services[name]
}

// SetService sets a service's state, creating it.
func (h *Host) SetService(name string, running, enabled bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.Services[name] = &[2]bool{running, enabled}
}

// DeleteService removes a service.
func (h *Host) DeleteService(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.Services, name)
}

// SawServiceState reports whether a script asked for a service's state.
func (h *Host) SawServiceState() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.svcStates > 0
}

// Scripts is the number of driftless scripts run.
func (h *Host) Scripts() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.scripts
}

// SvcOps lists the service operations run ("start Spooler").
func (h *Host) SvcOps() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.svcOps...)
}

// NativeCalls lists the native commands run, as "exe arg arg...".
func (h *Host) NativeCalls() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.native...)
}
