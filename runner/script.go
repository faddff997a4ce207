package runner

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Limits of what a step sends back.
const (
	// MaxOutput is the most of a step's stdout, and of its stderr, that
	// is kept (SPEC §2.3: 1 MiB each).
	MaxOutput = 1 << 20
	// maxDiffBytes is the largest file whose old content is fetched to
	// show a diff.
	maxDiffBytes = 256 << 10
	// maxLineFile is the largest file the line action edits.
	maxLineFile = 8 << 20
)

// The scripts below are POSIX sh, run by one "sh -c" per phase: the check
// phase checks every step in one round trip; the apply phase (only when
// something drifted) corrects and verifies the drifted steps, in order,
// in a second one. Each step reports through frames on stdout:
//
//	\n<marker> <step> <kind> <n> [fields...]\n<n bytes>
//
// where n is the size of the payload that follows (0 for a frame with
// fields only; a payload's first field is its full size on the host,
// before the cap), so the reader never mistakes output for a frame.
const prelude = `dl_t=$(mktemp -d 2>/dev/null || mktemp -d -t driftless) || exit 97
trap 'rm -rf "$dl_t"' EXIT
case "$(uname -s 2>/dev/null)" in
Linux) dl_os=Linux ;;
Darwin) dl_os=MacOS ;;
*) dl_os=$(uname -s 2>/dev/null) ;;
esac
dl_frame() { printf '\n%s %s %s 0 %s\n' "$DLM" "$1" "$2" "$3"; }
dl_payload() {
	if [ ! -s "$3" ]; then printf '\n%s %s %s 0 0\n' "$DLM" "$1" "$2"; return; fi
	dl_n=$(wc -c <"$3" | tr -d ' ')
	dl_c=$dl_n
	[ "$dl_c" -le "$4" ] || dl_c=$4
	printf '\n%s %s %s %s %s\n' "$DLM" "$1" "$2" "$dl_c" "$dl_n"
	head -c "$dl_c" "$3"
}
dl_sha() {
	if command -v sha256sum >/dev/null 2>&1; then dl_h=$(sha256sum <"$1"); else dl_h=$(shasum -a 256 <"$1"); fi
	echo "${dl_h%% *}"
}
dl_stat() { stat -c '%a %U %G %s' -- "$1" 2>/dev/null || stat -f '%Lp %Su %Sg %z' -- "$1"; }
# Step timeouts use GNU timeout in --foreground mode, which keeps the
# command in this script's process group, so that cancelling the run
# kills it too. Without it, the run's own timeout still applies.
dl_to=
dl_to_detect() {
	if timeout --foreground 5 true 2>/dev/null; then dl_to=1; else dl_to=0; fi
}
dl_run() {
	if [ "$1" -gt 0 ] && [ "$dl_to" = 1 ]; then
		timeout --foreground -k 5 "$1" sh -c "$2"
	else
		sh -c "$2"
	fi
}
dl_facts() { printf '\n%s - facts 0 %s %s\n' "$DLM" "$dl_os" "$(id -u 2>/dev/null || echo -)"; }
`

// quote makes s one single-quoted shell word.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// remotePath is a shell word for a host path; "~/" is the login user's
// home there.
func remotePath(p string) string {
	switch {
	case p == "~":
		return `"$HOME"`
	case strings.HasPrefix(p, "~/"):
		return `"$HOME"/` + quote(p[2:])
	}
	return quote(p)
}

// printfBytes writes b to the file named by the shell word dst with
// printf, exactly (every byte, no trailing newline added).
func printfBytes(b []byte, dst string) string {
	var sb strings.Builder
	sb.WriteString("{ ")
	const chunk = 4096
	for start := 0; start < len(b) || start == 0; start += chunk {
		part := b[start:min(start+chunk, len(b))]
		sb.WriteString("printf '")
		for _, c := range part {
			switch {
			case c == '\'' || c == '\\' || c == '%' || c < 0x20 || c >= 0x7f:
				fmt.Fprintf(&sb, `\%03o`, c)
			default:
				sb.WriteByte(c)
			}
		}
		sb.WriteString("'; ")
		if len(b) == 0 {
			break
		}
	}
	sb.WriteString("} >" + dst)
	return sb.String()
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// exports returns "export K='v'" lines, sorted.
func exports(env map[string]string) string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString("export " + k + "=" + quote(env[k]) + "; ")
	}
	return b.String()
}

func seconds(s *step) int {
	return int((s.timeout + 999_999_999) / 1_000_000_000)
}

// shellCmd runs cmd for step s, capturing its output into o/e files and
// its exit status into dl_rc.
func shellCmd(s *step, cmd, tag string) string {
	var b strings.Builder
	b.WriteString("( " + exports(s.env))
	if s.workdir != "" {
		b.WriteString("cd -- " + remotePath(s.workdir) + " || exit 96; ")
	}
	fmt.Fprintf(&b, "dl_run %d %s ) >\"$dl_t/o\" 2>\"$dl_t/e\" </dev/null; dl_rc=$?\n", seconds(s), quote(cmd))
	fmt.Fprintf(&b, "dl_frame %d %s $dl_rc; dl_payload %d out \"$dl_t/o\" %d; dl_payload %d err \"$dl_t/e\" %d\n",
		s.idx, tag, s.idx, MaxOutput, s.idx, MaxOutput)
	return b.String()
}

// statFrame reports what is at the step's path: kind 0 missing, 1 file
// or directory as expected, 2 something else; then the SHA-256 (files),
// mode, owner, group and size. The values stay in dl_k, dl_s, dl_m, dl_o
// and dl_g for the checks that follow.
func statFrame(s *step, tag string) string {
	p := remotePath(s.path)
	want, hash := "-d", "dl_s=-"
	if s.action != "directory" {
		want, hash = "-f", "dl_s=$(dl_sha "+p+")"
	}
	return fmt.Sprintf("if [ %s %s ]; then dl_k=1; %s; set -- $(dl_stat %s); dl_m=$1 dl_o=$2 dl_g=$3 dl_z=$4\n"+
		"elif [ -e %s ] || [ -L %s ]; then dl_k=2; else dl_k=0; fi\n"+
		"if [ $dl_k = 1 ]; then dl_frame %d %s \"1 $dl_s $dl_m $dl_o $dl_g $dl_z\"; else dl_frame %d %s $dl_k; fi\n",
		want, p, hash, p, p, p, s.idx, tag, s.idx, tag)
}

// cleanTest is a shell condition that holds when the step, just checked
// by the check script, is in its desired state; "" when only Go can tell
// (a line with a regexp, ...).
func cleanTest(s *step) string {
	var c []string
	switch s.action {
	case "shell":
		if !s.hasCheck && s.onSuccessEnd {
			return "false" // the document ends here: Go decides the rest
		}
		return "[ $dl_rc -eq 0 ]"
	case "file", "directory", "line":
		if s.absent {
			if s.action == "line" {
				return ""
			}
			return "[ $dl_k = 0 ]"
		}
		c = append(c, "[ $dl_k = 1 ]")
		switch s.action {
		case "file":
			c = append(c, "[ \"$dl_s\" = "+sha(s.content)+" ]")
		case "line":
			if s.lineRe != "" {
				return ""
			}
			c = append(c, "grep -qxF -- "+quote(s.line)+" "+remotePath(s.path))
		}
		if s.mode != "" {
			c = append(c, fmt.Sprintf("[ $((0$dl_m)) -eq $((0%s)) ]", strings.TrimLeft(s.mode, "0")))
		}
		if s.owner != "" {
			c = append(c, "[ \"$dl_o\" = "+quote(s.owner)+" ]")
		}
		if s.group != "" {
			c = append(c, "[ \"$dl_g\" = "+quote(s.group)+" ]")
		}
		return strings.Join(c, " && ")
	case "package":
		return "! grep -qv '^ok ' \"$dl_t/p\""
	case "powershell":
		return "true"
	}
	return ""
}

// checkScript checks every step of a plan.
func checkScript(marker string, steps []*step) string { return buildCheckScript(marker, steps, false) }

// checkRunScript checks every step and, as long as every step before is
// known to be in state, also runs the steps without a check (which apply
// mode always runs): a converged host then needs this one round trip.
func checkRunScript(marker string, steps []*step) string {
	return buildCheckScript(marker, steps, true)
}

func buildCheckScript(marker string, steps []*step, run bool) string {
	var b strings.Builder
	b.WriteString("DLM=" + quote(marker) + "\n" + prelude + preludeFor(steps) + "dl_facts\ndl_clean=1\n")
	for _, s := range steps {
		if s.err != nil {
			b.WriteString("dl_clean=\n")
			continue
		}
		if s.skip != "" {
			continue
		}
		if s.platform != "" {
			fmt.Fprintf(&b, "if [ \"$dl_os\" = %s ]; then :\n", quote(s.platform))
		}
		switch s.action {
		case "shell":
			if s.hasCheck {
				b.WriteString(shellCmd(s, s.check, "check"))
			} else if run {
				fmt.Fprintf(&b, "if [ -n \"$dl_clean\" ]; then\n%sfi\n", runLoop(s))
			}
		case "file", "directory":
			b.WriteString(statFrame(s, "stat"))
			if s.action == "file" && s.contentText && !s.absent {
				p := remotePath(s.path)
				fmt.Fprintf(&b, "if [ $dl_k = 1 ] && [ \"$dl_s\" != %s ]; then dl_payload %d cur %s %d; fi\n", sha(s.content), s.idx, p, maxDiffBytes)
			}
		case "line":
			p := remotePath(s.path)
			b.WriteString(statFrame(s, "stat"))
			fmt.Fprintf(&b, "if [ -f %s ]; then dl_payload %d cur %s %d; fi\n", p, s.idx, p, maxLineFile)
		case "package", "service", "patch":
			b.WriteString(systemCheck(s, "state"))
		case "powershell":
			fmt.Fprintf(&b, "dl_frame %d skip platform\n", s.idx)
		}
		if run {
			if t := cleanTest(s); t == "" {
				b.WriteString("dl_clean=\n")
			} else {
				fmt.Fprintf(&b, "%s || dl_clean=\n", t)
			}
		}
		if s.platform != "" {
			fmt.Fprintf(&b, "else dl_frame %d skip platform; fi\n", s.idx)
		}
	}
	return b.String()
}

// runLoop runs a script step's run, up to max_attempts times.
func runLoop(s *step) string {
	return fmt.Sprintf("dl_a=0; while :; do dl_a=$((dl_a+1))\n%sif [ $dl_rc -eq 0 ] || [ $dl_a -ge %d ] || [ $dl_rc -eq 124 ]; then break; fi; done\n", shellCmd(s, s.run, "run"), s.attempts)
}

// applyStep is one step of the apply phase with what to do.
type applyStep struct {
	s        *step
	commands string // package, service, patch: what to run
	recheck  bool   // compliant at check time, but an earlier step changed the host: check again first
	write    []byte // file and line: the content to write
	mode     string // mode to set on what is written
}

// applyScript corrects the given steps, in order, honouring on_failure,
// onSuccess: exit and finally steps.
func applyScript(marker string, steps []applyStep) string {
	var b strings.Builder
	plain := make([]*step, len(steps))
	for i, a := range steps {
		plain[i] = a.s
	}
	b.WriteString("DLM=" + quote(marker) + "\n" + prelude + preludeFor(plain) + "dl_stop=\n")
	for _, a := range steps {
		s := a.s
		if s.finally {
			b.WriteString("if :; then\n")
		} else {
			fmt.Fprintf(&b, "if [ -n \"$dl_stop\" ]; then dl_frame %d skip \"$dl_stop\"; else\n", s.idx)
		}
		if s.platform != "" {
			fmt.Fprintf(&b, "if [ \"$dl_os\" != %s ]; then dl_frame %d skip platform; else\n", quote(s.platform), s.idx)
		}
		b.WriteString("dl_ok=1\n")
		switch s.action {
		case "shell":
			if a.recheck && s.hasCheck {
				b.WriteString(shellCmd(s, s.check, "recheck"))
				b.WriteString("if [ $dl_rc -ne 0 ]; then\n")
			} else {
				b.WriteString("if :; then\n")
			}
			b.WriteString(runLoop(s))
			b.WriteString("[ $dl_rc -eq 0 ] || dl_ok=\n")
			if s.hasCheck {
				fmt.Fprintf(&b, "if [ -n \"$dl_ok\" ]; then %s[ $dl_rc -eq 0 ] || dl_ok=; fi\n", shellCmd(s, s.check, "verify"))
			}
			b.WriteString("fi\n")
		case "package", "service", "patch":
			b.WriteString(systemApply(s, a.commands))
		case "directory":
			p := remotePath(s.path)
			if s.absent {
				fmt.Fprintf(&b, "rm -rf -- %s 2>\"$dl_t/e\" || dl_ok=\n", p)
			} else {
				fmt.Fprintf(&b, "{ [ -d %s ] || mkdir -p -- %s; } 2>\"$dl_t/e\" || dl_ok=\n", p, p)
				b.WriteString(ownership(s, p, a.mode))
			}
			b.WriteString(applyResult(s))
		case "file", "line":
			p := remotePath(s.path)
			if s.absent && s.action == "file" {
				fmt.Fprintf(&b, "rm -f -- %s 2>\"$dl_t/e\" || dl_ok=\n", p)
			} else {
				// Write next to the target, then rename: atomic.
				fmt.Fprintf(&b, "dl_tmp=$(dirname -- %s)/.$(basename -- %s).dl-tmp.$$\n", p, p)
				fmt.Fprintf(&b, "if %s 2>\"$dl_t/e\"; then :; else dl_ok=; rm -f -- \"$dl_tmp\"; fi\n", printfBytes(a.write, `"$dl_tmp"`))
				b.WriteString("if [ -n \"$dl_ok\" ]; then\n")
				b.WriteString(ownership(s, `"$dl_tmp"`, a.mode))
				fmt.Fprintf(&b, "if [ -n \"$dl_ok\" ] && mv -f -- \"$dl_tmp\" %s 2>>\"$dl_t/e\"; then :; else dl_ok=; rm -f -- \"$dl_tmp\"; fi\n", p)
				b.WriteString("fi\n")
			}
			b.WriteString(applyResult(s))
		}
		b.WriteString("if [ -z \"$dl_ok\" ]; then ")
		switch s.onFailure {
		case "continue":
			b.WriteString(":")
		case "successAndExit":
			b.WriteString("dl_stop=successAndExit")
		default:
			b.WriteString("dl_stop=failed")
		}
		b.WriteString("; fi\n")
		if s.onSuccessEnd {
			b.WriteString("if [ -n \"$dl_ok\" ]; then dl_stop=onSuccess; fi\n")
		}
		if s.platform != "" {
			b.WriteString("fi\n")
		}
		b.WriteString("fi\n")
	}
	return b.String()
}

// preludeFor adds what the steps need: the system actions' functions,
// and (once per script) whether GNU timeout can bound script steps.
func preludeFor(steps []*step) string {
	var sys, script bool
	for _, s := range steps {
		switch s.action {
		case "package", "service", "patch":
			sys = true
		case "shell":
			script = true
		}
	}
	out := ""
	if sys {
		out += systemPrelude
	}
	if script {
		out += "dl_to_detect\n"
	}
	return out
}

// ownership sets mode, owner and group on the shell word p.
func ownership(s *step, p, mode string) string {
	var b strings.Builder
	if mode != "" {
		fmt.Fprintf(&b, "[ -z \"$dl_ok\" ] || chmod %s %s 2>>\"$dl_t/e\" || dl_ok=\n", mode, p)
	}
	if s.owner != "" || s.group != "" {
		who := s.owner
		if s.group != "" {
			who += ":" + s.group
		}
		fmt.Fprintf(&b, "[ -z \"$dl_ok\" ] || chown %s %s 2>>\"$dl_t/e\" || dl_ok=\n", quote(who), p)
	}
	return b.String()
}

// applyResult reports the outcome of a file, directory or line step:
// the error output, then the state after.
func applyResult(s *step) string {
	return fmt.Sprintf("dl_frame %d applied \"${dl_ok:-0}\"; dl_payload %d err \"$dl_t/e\" %d\n%s",
		s.idx, s.idx, MaxOutput, statFrame(s, "after"))
}

func itoa(i int) string { return strconv.Itoa(i) }
