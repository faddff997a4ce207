package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/creack/pty"
	gossh "golang.org/x/crypto/ssh"

	"github.com/driftless-dev/driftless/internal/sshsim"
	"github.com/driftless-dev/driftless/internal/sshtest"
)

// runPTY runs the driftless binary in a pseudo-terminal of cols columns,
// as a user at a terminal would, and returns what the terminal got
// (escape codes kept, \r\n as \n) and the exit code.
func runPTY(t *testing.T, cols int, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(buildBinary(t), args...)
	cmd.Env = append(slicesDeleteEnv(os.Environ(), "NO_COLOR"), "TERM=xterm-256color")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: uint16(cols)})
	if err != nil {
		t.Fatalf("pty: %v", err)
	}
	var out bytes.Buffer
	_, err = io.Copy(&out, tty)
	if err != nil && !errors.Is(err, syscall.EIO) { // EIO: the terminal closed
		t.Fatalf("read pty: %v", err)
	}
	tty.Close()
	code := 0
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	return strings.ReplaceAll(out.String(), "\r\n", "\n"), code
}

// screenLines is what the terminal shows at the end, line by line,
// without colours: a small terminal that moves its cursor on \r, \n and
// cursor-up, and clears on erase-below, as the live progress asks.
func screenLines(s string) []string {
	lines := [][]rune{nil}
	row, col := 0, 0
	csi := regexp.MustCompile(`^\x1b\[([0-9;]*)([A-Za-z])`)
	for i := 0; i < len(s); {
		if m := csi.FindStringSubmatch(s[i:]); m != nil {
			i += len(m[0])
			switch m[2] {
			case "A":
				n := 1
				if m[1] != "" {
					n, _ = strconv.Atoi(m[1])
				}
				row = max(row-n, 0)
			case "J":
				lines[row] = lines[row][:min(col, len(lines[row]))]
				lines = lines[:row+1]
			case "K":
				lines[row] = lines[row][:min(col, len(lines[row]))]
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch r {
		case '\n':
			row, col = row+1, 0
			if row == len(lines) {
				lines = append(lines, nil)
			}
		case '\r':
			col = 0
		default:
			if col < len(lines[row]) {
				lines[row][col] = r
			} else {
				lines[row] = append(lines[row], r)
			}
			col++
		}
	}
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, strings.TrimRight(string(l), " "))
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// At 80 and at 200 columns, the output of a check that found drift and the
// tables of status and history fit the terminal: no line wider than it,
// no word broken across lines, every header whole; the end table lists
// only the host that drifted, then the summary names it.
func TestTerminalWidths(t *testing.T) {
	f := startFleet(t, 3, "[associations.web-baseline]\ndocument = \"app\"\ntargets = [\"tag:role=web\"]\nparameters = { token = \"x\" }\ncompliance_severity = \"HIGH\"\n")
	f.mustRun(t, "apply", 0, "", "apply")
	os.WriteFile(filepath.Join(f.hosts[1].Home, "app/conf/app.toml"), []byte("[server]\nport = 1\nname = \"web-2\"\n"), 0o644)

	for _, cols := range []int{80, 200} {
		out, code := runPTY(t, cols, "-C", f.dir, "check")
		if code != exitDrift {
			t.Fatalf("check at %d columns: exit %d\n%s", cols, code, out)
		}
		if !strings.Contains(out, "running: web-") {
			t.Errorf("%d columns: the live progress does not show the hosts in flight:\n%q", cols, out)
		}
		if !strings.Contains(out, "\x1b[") {
			t.Errorf("%d columns: no colour on a terminal:\n%q", cols, out)
		}
		screen := strings.Join(screenLines(out), "\n")
		for _, want := range []string{
			"web-baseline web-2 Success (2 Compliant, 1 Drifted)\n  config (file): Drifted\n    --- ~/app/conf/app.toml (on host)",
			"\n    -port = 1\n    +port = 8080\n",
			"web-baseline check, 3 hosts: 1 drifted: web-2; 2 compliant (driftless show ",
		} {
			if !strings.Contains(screen, want) {
				t.Errorf("%d columns: no %q in\n%s", cols, want, screen)
			}
		}
		// A compliant host is only counted on a terminal, and the end
		// table lists only what is not compliant.
		if strings.Contains(screen, "web-1 Success") || regexp.MustCompile(`(?m)^web-baseline +web-[13] `).MatchString(screen) {
			t.Errorf("%d columns: a compliant host is listed:\n%s", cols, screen)
		}
		if !regexp.MustCompile(`(?m)^ASSOCIATION +HOST +RESULT +DETAIL\nweb-baseline +web-2 +Drifted +2 Compliant, 1 Drifted$`).MatchString(screen) {
			t.Errorf("%d columns: end table:\n%s", cols, screen)
		}
		checkWidth(t, cols, "check", screen)
	}

	// Tables: fitted to 80 columns between words, whole at 200.
	for _, cmd := range [][]string{{"status"}, {"history"}, {"drift", "--since", "all"}, {"inventory"}, {"documents"}} {
		narrow, _ := runPTY(t, 80, append([]string{"-C", f.dir}, cmd...)...)
		wide, _ := runPTY(t, 200, append([]string{"-C", f.dir}, cmd...)...)
		nl, wl := screenLines(narrow), screenLines(wide)
		checkWidth(t, 80, cmd[0], strings.Join(nl, "\n"))
		checkWidth(t, 200, cmd[0], strings.Join(wl, "\n"))
		checkWords(t, cmd[0], nl, wl)
	}
	wide, _ := runPTY(t, 200, "-C", f.dir, "history")
	if !regexp.MustCompile(`(?m)^RUN +ASSOCIATION +MODE +TRIGGER +STARTED +DURATION +STATUS +HOSTS +DRIFTED\n.*\n2 +web-baseline +check +manual +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +\S+ +Success +3 Success +1\n1 +web-baseline +apply +manual +\S+ \S+ +\S+ +Success +3 Success +3 corrected$`).MatchString(ansi.Strip(wide)) {
		t.Errorf("history at 200 columns:\n%s", ansi.Strip(wide))
	}
	narrow, _ := runPTY(t, 80, "-C", f.dir, "history")
	if !regexp.MustCompile(`(?m)^2 +web-baseline +check +\d\d-\d\d \d\d:\d\dZ +\S+ +Success +3 Success +1$`).MatchString(ansi.Strip(narrow)) {
		t.Errorf("history at 80 columns, one line a run:\n%s", ansi.Strip(narrow))
	}
	narrow, _ = runPTY(t, 80, "-C", f.dir, "status")
	if n := strings.Count(strings.TrimSpace(ansi.Strip(narrow)), "\n"); n != 4 { // header, 3 rows, the count
		t.Errorf("status at 80 columns: %d lines, want one a row:\n%s", n+1, ansi.Strip(narrow))
	}
}

// checkWidth fails when a line of screen is wider than cols.
func checkWidth(t *testing.T, cols int, what, screen string) {
	t.Helper()
	for l := range strings.SplitSeq(screen, "\n") {
		if w := ansi.StringWidth(l); w > cols {
			t.Errorf("%s at %d columns: a line of %d columns:\n%s", what, cols, w, l)
		}
	}
}

// checkWords fails when a word of the wide output is broken in the
// narrow one: each word of a narrow line must be a word of the wide
// output, a word of the narrow layouts (a short time, TOOK), or cut with
// "…".
func checkWords(t *testing.T, what string, narrow, wide []string) {
	t.Helper()
	short := regexp.MustCompile(`^(\d\d-\d\d|\d\d:\d\dZ|TOOK|check)$`)
	words := map[string]bool{}
	for _, l := range wide {
		for w := range strings.FieldsSeq(l) {
			words[w] = true
		}
	}
	for _, l := range narrow {
		for w := range strings.FieldsSeq(l) {
			if !words[w] && !short.MatchString(w) && !strings.HasSuffix(w, "…") {
				t.Errorf("%s at 80 columns: %q is not a whole word of the output at 200:\n%s", what, w, strings.Join(narrow, "\n"))
				return
			}
		}
	}
}

// Off a terminal, check and apply print each host, and under a host that
// drifted or was corrected each such step with its diff (--no-diff: its
// gist); the summary counts and names the hosts; --quiet keeps every host
// that drifted, was corrected or failed.
func TestRunOutputDrift(t *testing.T) {
	t.Setenv("APP_TOKEN", "tok-5ecret-v4lue")
	f := startFleet(t, 3, baseAssoc)
	f.mustRun(t, "apply", 0, "", "apply")
	os.WriteFile(filepath.Join(f.hosts[1].Home, "app/conf/app.toml"), []byte("[server]\nport = 1\nname = \"web-2\"\n"), 0o644)

	r := f.run(t, "check")
	if r.code != exitDrift {
		t.Fatalf("check: %s", r)
	}
	for _, want := range []string{
		"app web-2 Success (2 Compliant, 1 Drifted)\n  config (file): Drifted\n    --- ~/app/conf/app.toml (on host)\n    +++ ~/app/conf/app.toml (wanted)\n    @@ -1,3 +1,3 @@\n     [server]\n    -port = 1\n    +port = 8080\n     name = \"web-2\"\n",
		"app web-1 Success (3 Compliant)\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("check: no %q in\n%s", want, r)
		}
	}
	if want := "app check, 3 hosts: 1 drifted: web-2; 2 compliant (driftless show 2)\n"; r.stderr != want {
		t.Errorf("check summary %q, want %q", r.stderr, want)
	}

	r = f.run(t, "check", "--no-diff")
	if !strings.Contains(r.stdout, "app web-2 Success (2 Compliant, 1 Drifted)\n  config (file): Drifted: ~/app/conf/app.toml: +1 -1 lines\n") || strings.Contains(r.stdout, "@@") {
		t.Errorf("check --no-diff: %s", r)
	}

	// --quiet: the host that drifted, whole, and the summary; not the
	// compliant ones, and never "1 Success" alone for a drift.
	r = f.run(t, "check", "-q")
	if r.code != exitDrift || !strings.Contains(r.stdout, "app web-2 Success (2 Compliant, 1 Drifted)\n  config (file): Drifted\n") ||
		strings.Contains(r.stdout, "web-1") || !strings.Contains(r.stderr, "1 drifted: web-2; 2 compliant") {
		t.Errorf("check -q: %s", r)
	}
	r = f.run(t, "apply", "-q")
	if r.code != 0 || !strings.Contains(r.stdout, "app web-2 Success (2 Compliant, 1 Corrected)\n  config (file): Corrected\n    --- ") ||
		strings.Contains(r.stdout, "web-3") || !strings.Contains(r.stderr, "app apply, 3 hosts: 1 corrected: web-2; 2 compliant (driftless show 5)") {
		t.Errorf("apply -q: %s", r)
	}

	// history tells the check that found drift and the apply that
	// corrected it.
	r = f.run(t, "history")
	for _, re := range []string{`(?m)^5 +app +apply .* +Success +3 Success +1 corrected$`, `(?m)^4 +app +check .* +Success +3 Success +1$`,
		`(?m)^2 +app +check .* +Success +3 Success +1$`, `(?m)^1 +app +apply .* +Success +3 Success +3 corrected$`} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("history: no %s in\n%s", re, r.stdout)
		}
	}
	r = f.run(t, "history", "--json")
	if !strings.Contains(r.stdout, `"drifted_hosts": 1,`) || !strings.Contains(r.stdout, `"corrected_hosts": 3`) {
		t.Errorf("history --json: %s", r.stdout)
	}
}

// The JUnit report as GitLab and Jenkins read it: totals on the root,
// a type and a body on every failure and error (a host whose login is
// refused too), and a report also when the files are invalid.
func TestJUnitReport(t *testing.T) {
	f := startFleet(t, 2, "[associations.app]\ndocument = \"app\"\ntargets = [\"*\"]\nparameters = { token = \"x\" }\n")
	other, _ := sshtest.NewClientKey(t)
	f.hosts = append(f.hosts, sshtest.StartSSHD(t, sshtest.Options{Name: "web-9", Addr: "127.0.0.19", ClientKeyPath: other}))
	sshtest.WriteKnownHosts(t, f.kh, f.hosts...)
	f.writeInventory(t, "")
	f.mustRun(t, "apply", 0, "", "apply", "--targets", "web-1")
	os.WriteFile(filepath.Join(f.hosts[0].Home, "app/conf/app.toml"), []byte("x\n"), 0o644)

	path := filepath.Join(t.TempDir(), "report.xml")
	r := f.run(t, "check", "--junit", path)
	if r.code != exitFailed {
		t.Fatalf("check: %s", r)
	}
	var rep struct {
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Time     string `xml:"time,attr"`
		Suites   []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Errors   int `xml:"errors,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Type    string `xml:"type,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Error *struct {
					Message string `xml:"message,attr"`
					Type    string `xml:"type,attr"`
					Text    string `xml:",chardata"`
				} `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	b, _ := os.ReadFile(path)
	if err := xml.Unmarshal(b, &rep); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if rep.Tests != 3 || rep.Failures+rep.Errors != 3 || rep.Time == "" || len(rep.Suites) != 1 || rep.Suites[0].Tests != 3 {
		t.Errorf("totals: %+v\n%s", rep, b)
	}
	for _, c := range rep.Suites[0].Cases {
		msg := c.Failure
		if msg == nil {
			msg = c.Error
		}
		switch {
		case msg == nil:
			t.Errorf("%s: neither failure nor error\n%s", c.Name, b)
		case msg.Type == "" || strings.TrimSpace(msg.Text) == "" || msg.Message == "":
			t.Errorf("%s: a failure without type, message or body: %+v", c.Name, msg)
		case c.Name == "app on web-1" && (msg.Type != "Drifted" || !strings.Contains(msg.Text, "+++ ~/app/conf/app.toml (wanted)")):
			t.Errorf("drift: %+v", msg)
		case c.Name == "app on web-9" && !strings.Contains(msg.Text, "web-9"):
			t.Errorf("refused login: %+v", msg)
		}
	}

	// Invalid files: nothing runs, the report says where.
	os.WriteFile(filepath.Join(f.dir, "associations.toml"), []byte("[associations.app]\ndocument = \"nope\"\ntargets = [\"*\"]\n"), 0o600)
	r = f.run(t, "check", "--junit", path)
	b, _ = os.ReadFile(path)
	if r.code != exitInvalid || !strings.Contains(string(b), `<testsuites name="driftless" tests="1" failures="1" errors="0" skipped="0"`) ||
		!regexp.MustCompile(`<testcase name="validate /\S+/associations.toml:2" classname="driftless.validate" file="/\S+/associations.toml"`).Match(b) ||
		!strings.Contains(string(b), `type="Invalid"`) || !strings.Contains(string(b), "nothing was run") {
		t.Errorf("junit of invalid files: %s\n%s", r, b)
	}
}

// A check of 48 hosts at 80 columns (in-process simulated SSH hosts):
// three drifted and one unreachable. What stays on the terminal is the
// diff under each host that drifted, a table of the four hosts that are
// not compliant, and a summary that names them; no line is wider than
// the terminal. go test -run TestFleet48CheckAt80 -v prints the screen.
func TestFleet48CheckAt80(t *testing.T) {
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "id_ed25519")
	key, err := sshsim.NewClientKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	web, err := sshsim.Start(sshsim.Options{Hosts: 48, NamePrefix: "web-", AuthorizedKeys: []gossh.PublicKey{key.PublicKey()},
		Dir: filepath.Join(dir, "hosts"), FirstAddr: "127.78.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer web.Close()
	cfg, kh := filepath.Join(dir, "config"), filepath.Join(dir, "known_hosts")
	os.MkdirAll(filepath.Join(cfg, "documents"), 0o755)
	if err := web.WriteKnownHosts(kh); err != nil {
		t.Fatal(err)
	}
	if err := writeDemoConfig(cfg, keyPath, kh, web.Hosts); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := Main([]string{"driftless", "-C", cfg, "apply", "web-baseline"}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out.String(), errb.String())
	}
	for _, i := range []int{3, 8, 16} {
		conf := filepath.Join(web.Hosts[i].Home, "app", "app.conf")
		b, _ := os.ReadFile(conf)
		os.WriteFile(conf, bytes.Replace(b, []byte("workers = 4"), []byte("workers = 64"), 1), 0o644)
	}
	// web-48 goes away: its port is now one where nothing listens.
	last := web.Hosts[47]
	inv, _ := os.ReadFile(filepath.Join(cfg, "inventory.toml"))
	inv = bytes.Replace(inv, fmt.Appendf(nil, "address = %q\nport = %d\n", last.Addr, last.Port), fmt.Appendf(nil, "address = %q\nport = 1\n", last.Addr), 1)
	os.WriteFile(filepath.Join(cfg, "inventory.toml"), inv, 0o644)

	raw, code := runPTY(t, 80, "-C", cfg, "check", "web-baseline")
	screen := strings.Join(screenLines(raw), "\n")
	t.Logf("$ driftless check web-baseline   # 48 hosts, 80 columns\n%s\n[exit %d]", screen, code)
	if code != exitFailed {
		t.Errorf("exit %d, want %d", code, exitFailed)
	}
	checkWidth(t, 80, "48-host check", screen)
	for _, want := range []string{
		"web-baseline web-9 Success (3 Compliant, 1 Drifted)\n  config (file): Drifted\n",
		"    -workers = 64\n    +workers = 4\n",
		"web-baseline check, 48 hosts: 1 unreachable: web-48;\n  3 drifted: web-4 web-9 web-17; 44 compliant (driftless show 2)",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("no %q on the screen", want)
		}
	}
	table := regexp.MustCompile(`(?m)^web-baseline +web-\d+ +(Drifted|Unreachable) `).FindAllString(screen, -1)
	if len(table) != 4 || strings.Contains(screen, "(4 Compliant)") {
		t.Errorf("the end table lists %d hosts, want the 4 not compliant:\n%s", len(table), screen)
	}
}

// The README's first run is what a terminal shows: each command of its
// transcript is run in a pty of 100 columns, in a new directory, and the
// output the README gives for a command is the output on the screen
// (with /home/me standing for that directory).
func TestReadmeFirstRun(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := string(b)[strings.Index(string(b), "## A first run"):]
	start := strings.Index(section, "```text\n") + len("```text\n")
	block := section[start : start+strings.Index(section[start:], "```\n")]
	home, err := os.MkdirTemp("/tmp", "me") // short, as /home/me
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	type step struct {
		cmd  string
		want []string
	}
	var steps []step
	for l := range strings.SplitSeq(strings.TrimRight(block, "\n"), "\n") {
		if cmd, ok := strings.CutPrefix(l, "$ "); ok {
			cmd, _, _ = strings.Cut(cmd, "  #")
			steps = append(steps, step{cmd: strings.TrimSpace(cmd)})
			continue
		}
		steps[len(steps)-1].want = append(steps[len(steps)-1].want, strings.ReplaceAll(l, "/home/me", home))
	}
	if len(steps) < 5 {
		t.Fatalf("the first-run transcript has %d commands:\n%s", len(steps), block)
	}
	for _, s := range steps {
		args := strings.Fields(s.cmd)
		if args[0] == "echo" { // echo TEXT > FILE
			os.WriteFile(filepath.Join(home, args[3]), []byte(args[1]+"\n"), 0o644)
			continue
		}
		if args[0] != "driftless" {
			t.Fatalf("not a driftless command: %s", s.cmd)
		}
		for i, a := range args {
			if a == "ops" {
				args[i] = filepath.Join(home, "ops")
			}
		}
		raw, code := runPTY(t, 100, args[1:]...)
		if code > exitDrift {
			t.Errorf("%s: exit %d\n%s", s.cmd, code, raw)
		}
		if s.want == nil {
			continue
		}
		if got := screenLines(raw); !slices.Equal(got, s.want) {
			t.Errorf("%s shows\n%s\nthe README says\n%s", s.cmd, strings.Join(got, "\n"), strings.Join(s.want, "\n"))
		}
	}
}
