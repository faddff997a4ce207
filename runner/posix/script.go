package posix

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/runner/frame"
	"github.com/driftless-dev/driftless/runner/plan"
)

// Limits of what the shell itself reads.
const (
	// maxShellRead is the largest file the shell itself reads to compare
	// it with a file step's content or to look for a literal line,
	// instead of starting sha256sum or grep: sh's read builtin takes a
	// system call per byte, so beyond about 1 KiB the program is
	// cheaper. maxShellLines bounds the code a comparison adds to the
	// script.
	maxShellRead  = 1 << 10
	maxShellLines = 64
)

// The scripts below are POSIX sh (runner/doc.go tells the design): the
// check script checks every step in one round trip, and in apply mode also
// corrects what it can while everything before is in state; an apply
// script corrects and verifies the rest, in order, only when needed. Each
// step reports through frames on stdout:
//
//	\n<marker> <step> <kind> <n> [fields...]\n<n bytes>
//
// where n is the size of the payload that follows, 0 for a frame with
// fields only, or -1 for a payload streamed as it is produced, which ends
// where the next frame begins (the newline before the marker belongs to
// that frame): the reader never mistakes output for a frame, and the
// script needs no process to measure what it sends.
//
// Every program started costs a fork and an exec on the host, which is
// most of what a converged check costs beyond the connection: the
// prelude asks /proc rather than uname, picks its tools once with
// builtins, and the checks start only the programs that must look at
// something (stat, sha256sum, grep, the step's own check).
//
// Small files are read by the shell itself (maxShellRead): a file step's
// content is compared line by line (sameContent) and dl_hasline looks
// for a literal line. Both trust what they read only when it adds up to
// the size stat gave (sh drops NUL bytes); otherwise sha256sum or grep
// decides.
//
// A check command streams its stdout and stderr as they come ("sout" on
// stdout, "err" on stderr, each ending at the next frame of its stream).
// A run captures its output in private temporary files (tmpPrelude), so
// that a daemon it starts, holding its stdout open, cannot hold the
// session open; they are sent after it ended. Before each command a frame
// ("sout" or "start") tells the runner which step is running, so that the
// runner enforces the step's timeout itself (runner/host.go), on every platform,
// without a timeout program.
//
// Frames are gathered in dl_ob and written in one go (each write of the
// script's output is one SSH packet the runner reads, decrypts and
// parses): before anything else writes to stdout (a payload, a check
// command's streamed output), when a command starts (start, sout: they
// arm the step's timeout) or ends (check, recheck, verify, run: they
// disarm it), and at the end, or on any exit (the EXIT trap). A step
// whose commands run long still reports as it goes: only the shell's own
// quick work in between is gathered.
const prelude = `dl_os=
[ -r /proc/sys/kernel/ostype ] && read -r dl_os </proc/sys/kernel/ostype
if [ "$dl_os" != Linux ]; then
	dl_os=$(uname -s 2>/dev/null)
	[ "$dl_os" = Darwin ] && dl_os=MacOS
fi
if command -v sha256sum >/dev/null 2>&1; then dl_shacmd=sha256sum; else dl_shacmd='shasum -a 256'; fi
dl_ob= dl_t= dl_tmp= dl_lk= dl_cur= dl_cn=0 dl_tok=${DLM#@@DL-} dl_id= dl_me=
trap 'printf "%s" "$dl_ob"' EXIT
dl_frame() {
	dl_ob="$dl_ob
$DLM $1 $2 0 $3
"
	case $2 in
	start) dl_mark; printf '%s' "$dl_ob"; dl_ob= ;;
	check|recheck|verify|run) dl_unmark; printf '%s' "$dl_ob"; dl_ob= ;;
	esac
}
dl_mark() {
	dl_cn=$((dl_cn+1)); dl_cur=$dl_id.$dl_cn.
	export DRIFTLESS_STEP="$dl_cur"
	[ -z "$dl_lk" ] || printf '%s %s\n' "$dl_me" "$dl_cur" >"$dl_lk"
}
dl_unmark() { dl_cur=; [ -z "$dl_lk" ] || printf '%s -\n' "$dl_me" >"$dl_lk"; }
dl_eos() {
	dl_ob="$dl_ob
$DLM $1 eos 0
"
}
dl_payload() {
	[ -s "$3" ] || return 0
	printf '%s\n%s %s %s -1\n' "$dl_ob" "$DLM" "$1" "$2"; dl_ob=
	# The first lines ($4 bytes) by the shell itself, the rest (if any)
	# by cat; without $4, all of it by cat: sh's read drops NUL bytes, so
	# the shell reads only what its caller knows has none.
	{ dl_n=0; dl_l=
	while [ $dl_n -lt "${4:-0}" ] && IFS= read -r dl_l; do printf '%s\n' "$dl_l"; dl_n=$((dl_n+${#dl_l}+1)); dl_l=; done
	if [ $dl_n -ge "${4:-0}" ]; then cat; else printf '%s' "$dl_l"; fi; } <"$3"
	dl_eos "$1"
}
dl_cur() { printf '%s\n%s %s cur -1\n' "$dl_ob" "$DLM" "$1"; dl_ob=; head -c "$3" -- "$2" 2>/dev/null; dl_eos "$1"; }
dl_sout() { dl_mark; printf '%s\n%s %s sout -1 %s\n' "$dl_ob" "$DLM" "$1" "$2"; dl_ob=; printf '\n%s %s err -1\n' "$DLM" "$1" >&2; }
dl_send() { dl_frame "$1" "$2" "$3"; printf '\n%s %s eos 0\n' "$DLM" "$1" >&2; }
dl_sha() { dl_s=$($dl_shacmd <"$1" 2>/dev/null); dl_s=${dl_s%% *}; dl_s=${dl_s:--}; }
dl_stat() {
	if [ "$dl_os" = Linux ]; then set -- $(stat -c '%a %U %G %s' -- "$1" 2>/dev/null)
	else set -- $(stat -f '%Lp %Su %Sg %z' -- "$1" 2>/dev/null); fi
	dl_m=${1:--} dl_o=${2:--} dl_g=${3:--} dl_z=${4:-0}
}
dl_facts() {
	dl_ob="$dl_ob
$DLM - facts 0 $dl_os -
"
}
dl_hasline() {
	# zsh keeps NUL bytes that other shells drop: grep decides there.
	[ -z "${ZSH_VERSION-}" ] || return 1
	dl_h=0 dl_n=0 dl_l=
	{ while IFS= read -r dl_l; do dl_n=$((dl_n+${#dl_l}+1)); [ "$dl_l" = "$1" ] && dl_h=1; dl_l=; done; } <"$2" 2>/dev/null
	dl_n=$((dl_n+${#dl_l})); [ -z "$dl_l" ] || [ "$dl_l" != "$1" ] || dl_h=1
	[ "$dl_n" = "$3" ]
}
`

// hostPrelude keeps what a script leaves on its host in order: one
// private directory per user (dl_u), the script's own files in it, and
// the older script of the same association and host (dl_key, set by
// MainFor) ended before this one runs (docs/safety.md#one-run-per-association-and-host,
// #nothing-left-behind).
//
// dl_u is .driftless-USER in $TMPDIR, else /dev/shm (as tmpPrelude
// says), else /tmp: made 0700 once (one mkdir, the first run after a
// boot), used only when it is a directory (not a link) the user owns,
// which no other user can make it be.
//
// The association's record, $dl_u/$dl_key.run, holds "pid marker" of the
// script running it (marker: the environment marker of the command it
// runs, "-" between commands), and is emptied when that script ends. A
// script that finds it full (its writer was killed, or still runs because
// its controller died) checks that the pid is still that script (dl_same:
// a driftless script's command line, not a zombie, started no later than
// the record was last written, so not a process that reused the pid),
// ends its process group (never its own), waits up to 5s for it to die,
// and ends every process whose environment carries its command's marker
// (DRIFTLESS_STEP=KEY.PID.N., exported before each command: what called
// setsid too); then writes its own. In the common case that is three
// tests, one test of an empty file and one write: no program, and no
// read of /proc (sh reads a file a byte per system call).
//
// dl_sweep removes the private files of scripts that died without
// removing them (their .u file names their shell, which is gone), and
// the temporary copies they were writing beside a target (listed in
// their .w file): a glob that matches nothing in the common case.
//
// dl_sig, on SIGTERM, SIGHUP, SIGINT (how a transport ends a script) and
// SIGPIPE (the controller is gone), removes the copy being written and
// ends the running command (with what it started, setsid or not), then
// the process group, as the transport's own trap does. The private files
// stay for the script that resumes after a step's timeout; the next
// script removes them.
//
// dl_sweep takes a .u file's pid for alive while /proc/PID is there and
// not a zombie (a reused pid only delays the cleanup).
//
// Without /proc (macOS, BSD): a pid is alive when kill -0 says so, the
// older script when ps shows a driftless script (no start time is
// compared); the process group comes from ps; processes
// that left the group (setsid) are not found.
const hostPrelude = `trap dl_exit EXIT
trap dl_sig TERM HUP INT PIPE
dl_id=$dl_key.$$ dl_me=$$
dl_u=${TMPDIR:-/tmp}
if [ -z "$TMPDIR" ] && [ -d /dev/shm ] && [ -k /dev/shm ] && [ -w /dev/shm ]; then dl_u=/dev/shm; fi
dl_u=$dl_u/.driftless-${USER:-${LOGNAME:-$(id -u)}}
dl_mine() {
	[ -d "$1" ] || mkdir -m 700 -- "$1" 2>/dev/null
	[ ! -L "$1" ] && [ -d "$1" ] && [ -O "$1" ]
}
dl_mine "$dl_u" || { dl_u=${dl_u%/*}/.driftless-$(id -u); dl_mine "$dl_u"; } || dl_u=
dl_alive() {
	[ "$dl_os" = Linux ] || { kill -0 "$1" 2>/dev/null; return; }
	dl_l=; { read -r dl_l </proc/"$1"/stat; } 2>/dev/null || return 1
	case $dl_l in *') Z '*) return 1 ;; esac
}
dl_same() {
	dl_alive "$1" || return 1
	if [ "$dl_os" != Linux ]; then
		case $(ps -o command= -p "$1" 2>/dev/null) in *dev/stdin*|*driftless-script-*) return 0 ;; esac
		return 1
	fi
	grep -qaF -e /dev/stdin -e driftless-script- /proc/"$1"/cmdline 2>/dev/null || return 1
	dl_l=; { read -r dl_l </proc/"$1"/stat; } 2>/dev/null || return 1
	dl_l=${dl_l##*) }; set -- "$1" "$2" $dl_l
	[ "$3" != Z ] || return 1
	dl_rn=${22:-} dl_x=
	while read -r dl_l dl_x; do [ "$dl_l" != btime ] || break; done </proc/stat
	dl_l=$(getconf CLK_TCK 2>/dev/null) dl_mt=$(stat -c %Y -- "$2" 2>/dev/null)
	dl_l=${dl_l:-100}
	case $dl_rn$dl_x$dl_l$dl_mt in *[!0-9]*|'') return 1 ;; esac
	[ $((dl_x+dl_rn/dl_l)) -le $((dl_mt+1)) ]
}
dl_pgof() {
	if [ "$dl_os" = Linux ]; then
		dl_l=; { read -r dl_l </proc/"$1"/stat; } 2>/dev/null; dl_l=${dl_l##*) }; set -- $dl_l; dl_l=${3:-}
	else dl_l=$(ps -o pgid= -p "$1" 2>/dev/null); dl_l=${dl_l##* }; fi
}
dl_reap() {
	[ "$dl_os" = Linux ] || return 0
	dl_rn=0
	while [ $dl_rn -lt 3 ]; do
		set -- "$1" $(DRIFTLESS_STEP= grep -lsaF -e "DRIFTLESS_STEP=$1" /proc/[0-9]*/environ 2>/dev/null)
		dl_rm=$1; shift
		for dl_rq; do dl_rq=${dl_rq#/proc/}; dl_rq=${dl_rq%/environ}; [ "$dl_rq" = $$ ] || set -- "$@" "$dl_rq"; shift; done
		[ $# -gt 0 ] || return 0
		kill -s KILL "$@" 2>/dev/null
		set -- "$dl_rm"; dl_rn=$((dl_rn+1))
	done
}
dl_end() {
	if [ "$1" != $$ ] && dl_same "$1" "$dl_lk"; then
		dl_pgof $$; dl_x=$dl_l; dl_pgof "$1"
		case $dl_l in ''|0|1|"$dl_x") ;; *) kill -s KILL -- "-$dl_l" 2>/dev/null ;; esac
		kill -s KILL "$1" 2>/dev/null
		dl_rn=0
		while dl_alive "$1" && [ $dl_rn -lt 50 ]; do sleep 0.1 2>/dev/null || sleep 1; dl_rn=$((dl_rn+1)); done
	fi
	[ "$2" = - ] || dl_reap "$2"
}
dl_sig() {
	trap '' TERM HUP INT PIPE
	set +f
	[ -z "$dl_tmp" ] || rm -f -- "$dl_tmp"
	[ -z "$dl_cur" ] || dl_reap "$dl_cur"
	kill -s KILL 0
}
dl_exit() {
	printf '%s' "$dl_ob"
	[ -z "$dl_t" ] || rm -f -- "$dl_t.o" "$dl_t.e" "$dl_t.p" "$dl_t.s" "$dl_t.w" "$dl_t.u" "$dl_t.x" "$dl_t.ps1"
	if [ -n "$dl_lk" ] && { read -r dl_l <"$dl_lk"; } 2>/dev/null; then
		case $dl_l in "$dl_me "*) : >"$dl_lk" ;; esac
	fi
}
dl_gone() {
	dl_gq=$1; set --
	if [ -f "$dl_gq.w" ]; then
		while IFS= read -r dl_l; do case $dl_l in *.dl-tmp."${dl_gq##*/}") set -- "$@" "$dl_l" ;; esac; done <"$dl_gq.w"
	fi
	rm -f -- "$dl_gq.o" "$dl_gq.e" "$dl_gq.p" "$dl_gq.s" "$dl_gq.w" "$dl_gq.u" "$dl_gq.x" "$dl_gq.ps1" "$@"
}
dl_sweep() {
	[ -n "$dl_u" ] || return 0
	for dl_q in "$dl_u"/*.u; do
		[ -f "$dl_q" ] || continue
		dl_wp=
		{ { read -r dl_l && read -r dl_wp; } <"$dl_q"; } 2>/dev/null
		[ -z "$dl_wp" ] || [ "$dl_wp" = $$ ] || dl_alive "$dl_wp" || dl_gone "${dl_q%.u}"
	done
}
if [ -n "$dl_u" ] && [ -n "$dl_key" ]; then
	dl_lk=$dl_u/$dl_key.run
	if [ -s "$dl_lk" ] && { read -r dl_wp dl_wc <"$dl_lk"; } 2>/dev/null; then dl_end "$dl_wp" "$dl_wc"; fi
	printf '%s -\n' "$dl_me" >"$dl_lk"
fi
`

// tmpPrelude makes, when first needed, the private temporary files that
// runs and system steps capture their output in, and removes them when
// the script ends.
//
// The files are $dl_t.o, $dl_t.e and $dl_t.p: private (umask 077), made
// by the shell itself with noclobber (O_EXCL: a file or link someone put
// there first makes the script fail, never write through it), with a name
// no one else knows (the marker, which travels on stdin); no mktemp
// program is started, and no subshell: the login umask is read back from
// $dl_t.u (it holds only that) into dl_um0, so that the script restores it
// after giving a file its mode with a umask. They are made in $TMPDIR when
// set, else in /dev/shm when it is a shared directory like /tmp (sticky,
// writable): memory, where making and removing a file costs a hundredth
// of what it costs on a disk-backed /tmp; else in /tmp.
const tmpPrelude = `dl_need_t() {
	[ -z "$dl_t" ] || return 0
	if [ -n "$dl_u" ]; then dl_t=$dl_u/$dl_tok
	else
		dl_t=${TMPDIR:-/tmp}
		if [ -z "$TMPDIR" ] && [ -d /dev/shm ] && [ -k /dev/shm ] && [ -w /dev/shm ]; then dl_t=/dev/shm; fi
		dl_t=$dl_t/.driftless-$dl_tok
	fi
	set -C
	if umask >"$dl_t.u" && read -r dl_um0 <"$dl_t.u" && umask 077 && printf '%s\n' $$ >>"$dl_t.u" &&
		true >"$dl_t.o" && true >"$dl_t.e" && true >"$dl_t.p" && true >"$dl_t.s" && true >"$dl_t.w"; then
		umask "$dl_um0"; set +C
	else
		exit 97
	fi
	dl_frame - tmp "$dl_t"
}
`

// Quote makes s one single-quoted shell word.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// remotePath is a shell word for a host path; "~/" is the login user's
// home there.
func remotePath(p string) string {
	switch {
	case p == "~":
		return `"$HOME"`
	case strings.HasPrefix(p, "~/"):
		return `"$HOME"/` + Quote(p[2:])
	}
	return Quote(p)
}

// pathWord is the shell word for the path of a file, directory or line
// step: its remotePath, or, for a step that follows a symlink there, the
// path it resolves to (followWord).
func pathWord(s *plan.Step) string {
	if s.Follow {
		return fmt.Sprintf(`"$dl_f%d"`, s.Idx)
	}
	return remotePath(s.Path)
}

// followPrelude resolves a path through its symlinks (dl_real), for the
// steps that follow them (follow = true): dl_rp is the path, with a /.
const followPrelude = `dl_real() {
	dl_rp=$1 dl_n=0
	while [ -L "$dl_rp" ] && [ $dl_n -lt 40 ] && dl_l=$(readlink -- "$dl_rp"); do
		case $dl_l in /*) dl_rp=$dl_l ;; *) case $dl_rp in */*) dl_rp=${dl_rp%/*}/$dl_l ;; *) dl_rp=$dl_l ;; esac ;; esac
		dl_n=$((dl_n+1))
	done
	case $dl_rp in */*) ;; *) dl_rp=./$dl_rp ;; esac
}
`

// follow resolves the path of step s in its variable (pathWord) when it
// follows symlinks, and is "" otherwise.
func follow(s *plan.Step) string {
	switch s.Action {
	case documents.ActionFile, documents.ActionDirectory, documents.ActionLine:
		if s.Follow {
			return fmt.Sprintf("dl_real %s; dl_f%d=$dl_rp\n", remotePath(s.Path), s.Idx)
		}
	default: // the other values need nothing here
	}
	return ""
}

// printfBytes writes b to the file named by the shell word dst with
// printf, exactly (every byte, no trailing newline added).
func printfBytes(b []byte, dst string) string {
	sb := make([]byte, 0, len(b)+len(b)/printfChunk*12+16+len(dst))
	sb = append(sb, "{ "...)
	for start := 0; start < len(b) || start == 0; start += printfChunk {
		sb = appendPrintf(sb, b[start:min(start+printfChunk, len(b))])
		if len(b) == 0 {
			break
		}
	}
	sb = append(sb, "} >"+dst...)
	return string(sb)
}

// printfChunk is the most bytes of content one printf writes.
const printfChunk = 4096

// appendPrintf appends to dst the printf command that writes part, and
// "; ".
func appendPrintf(dst, part []byte) []byte {
	dst = append(dst, "printf '"...)
	for i, c := range part {
		switch {
		// A format starting with "-" would be an option.
		case c == '\'' || c == '\\' || c == '%' || c < 0x20 || c >= 0x7f || (i == 0 && c == '-'):
			dst = append(dst, '\\', '0'+c>>6, '0'+(c>>3)&7, '0'+c&7)
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, "'; "...)
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
		b.WriteString("export " + k + "=" + Quote(env[k]) + "; ")
	}
	return b.String()
}

// stepShell is the subshell that runs cmd as step s: its environment,
// working directory, then the command, with stdin from /dev/null. The
// subshell is a fork of the script's shell, not a new sh: the command's
// own variables, options, traps, cd and exit stay in it; it has no
// positional parameters; $$ is the script's. A plain command (plainCmdRE)
// is written as is, so that the subshell execs it (eval would fork once
// more); any other goes through eval, so that a syntax error in it is the
// step's error, not the script's. A plain command naming a program, of a
// step without environment or working directory, needs no subshell at
// all (simpleCmd).
func stepShell(s *plan.Step, cmd string) string {
	if simpleCmd(s, cmd) {
		if cmdListRE.MatchString(cmd) {
			return "{ " + strings.TrimSpace(cmd) + "\n} </dev/null"
		}
		return strings.TrimSpace(cmd) + " </dev/null"
	}
	var b strings.Builder
	b.WriteString("( " + exports(s.Env))
	if s.Workdir != "" {
		b.WriteString("cd -- " + remotePath(s.Workdir) + " || exit 96; ")
	}
	if plainCmd(cmd) {
		b.WriteString(strings.TrimSpace(cmd) + "\n) </dev/null")
	} else {
		b.WriteString("eval " + Quote(cmd) + "\n) </dev/null")
	}
	return b.String()
}

// plainCmdRE matches a command of plain words (as plainTestRE), the first
// a program's name or path.
var plainCmdRE = regexp.MustCompile(`^[ \t]*[\w./-]+([ \t]+[\w./~+=:@%,!-]+)*[ \t]*$`)

// shellWords are the words that are not commands at the start of one.
var shellWords = []string{"!", "case", "do", "done", "elif", "else", "esac", "fi", "for", "function", "if", "in", "select", "then", "time", "until", "while"}

// plainCmd reports whether cmd is one simple command of plain words,
// which sh runs as written: no expansion, quote, glob, redirection,
// operator, assignment or reserved word.
func plainCmd(cmd string) bool {
	if !plainCmdRE.MatchString(cmd) {
		return false
	}
	first, _, _ := strings.Cut(strings.TrimSpace(cmd), " ")
	first, _, _ = strings.Cut(first, "\t")
	return !slices.Contains(shellWords, first)
}

// shBuiltins are the commands sh runs itself (dash's, and POSIX's
// special built-ins): run by the script's own shell, they could change it.
var shBuiltins = []string{".", ":", "[", "alias", "bg", "break", "cd", "chdir", "command", "continue", "echo", "eval", "exec", "exit", "export", "false", "fc", "fg", "getopts", "hash", "jobs", "kill", "local", "printf", "pwd", "read", "readonly", "return", "set", "shift", "source", "test", "times", "trap", "true", "type", "ulimit", "umask", "unalias", "unset", "wait"}

// simpleCmd reports whether cmd, a plain command (plainCmd) of a step
// without environment or working directory, names a program, not a
// built-in or one of the script's functions: the script's shell then runs
// it itself, as it runs stat, with a vfork and no subshell (a fork costs
// its page tables), and the program can change nothing in the shell.
//
// A list of such commands joined by &&, || or ; ("apt-get update &&
// apt-get install -y curl") is run the same, each command vforked.
func simpleCmd(s *plan.Step, cmd string) bool {
	if len(s.Env) > 0 || s.Workdir != "" {
		return false
	}
	for _, part := range cmdListRE.Split(cmd, -1) {
		if !plainCmd(part) {
			return false
		}
		first := strings.Fields(part)[0]
		if strings.HasPrefix(first, "dl_") || slices.Contains(shBuiltins, first) {
			return false
		}
	}
	return true
}

// cmdListRE splits a list of plain commands (whose words hold no &, | or
// ;) at its operators.
var cmdListRE = regexp.MustCompile(`[ \t]*(&&|\|\||;)[ \t]*`)

// checkCmd runs a check command (check, recheck, verify) for step s; its
// output streams; its exit status is in dl_rc and in the tag's frame.
func checkCmd(s *plan.Step, cmd, tag string) string {
	sh := stepShell(s, cmd)
	if plainTest(s, cmd) {
		sh = "eval " + Quote(cmd) + " </dev/null"
	}
	return fmt.Sprintf("dl_sout %d %s; %s; dl_rc=$?; dl_send %d %s $dl_rc\n", s.Idx, tag, sh, s.Idx, tag)
}

// plainTestRE matches a test of plain words: test or [, then words of
// letters, digits and _ . / ~ + = : @ % , - ! (a leading ~ is the home),
// separated by blanks, [ ending with ]. No expansion, quote, glob,
// redirection, newline or second command.
var plainTestRE = regexp.MustCompile(`^[ \t]*(test([ \t]+[\w./~+=:@%,!-]+)+|\[([ \t]+[\w./~+=:@%,!-]+)+[ \t]+\])[ \t]*$`)

// plainTest reports whether a check command is a plain test (plainTestRE)
// of a step without environment or working directory: the test builtin
// can change nothing in the shell, so the script runs it itself, without
// the fork of a subshell. A check such as "test -f /etc/app/installed" is
// the commonest guard.
func plainTest(s *plan.Step, cmd string) bool {
	return len(s.Env) == 0 && s.Workdir == "" && plainTestRE.MatchString(cmd)
}

// runCmd runs a step's run command, its output captured in files and
// sent after it ended. An SSM step's command is a script file
// (ssmScript), removed after it ran.
func runCmd(s *plan.Step, cmd string) string {
	if s.Action == documents.ActionPowerShell {
		return pwshCmd(s, cmd)
	}
	sh, rm := stepShell(s, cmd), ""
	if s.SSM {
		sh, rm = ssmScript(s, cmd, `"$dl_t.x"`, "chmod 700 \"$dl_t.x\"", `dl_script "$dl_t.x"`), "rm -f -- \"$dl_t.x\"; "
	}
	return fmt.Sprintf("dl_need_t; dl_frame %d start run; %s >\"$dl_t.o\" 2>\"$dl_t.e\"; dl_rc=$?\n"+
		"%sdl_frame %d run $dl_rc; dl_payload %d out \"$dl_t.o\"; dl_payload %d err \"$dl_t.e\"\n",
		s.Idx, sh, rm, s.Idx, s.Idx, s.Idx)
}

// pwshCmd runs an SSM aws:runPowerShellScript step on a Linux or macOS
// host as the agent does there (agent/plugins/runscript
// runpowershellscript.go, agent/appconfig: pwsh, the script in a
// _script.ps1 file): its lines, joined with newlines, in a private .ps1
// file run by "pwsh -NoProfile -NonInteractive -File", with the step's
// environment and working directory, stdin from /dev/null. Without pwsh
// on the PATH it fails with exit code 1 and "pwsh not found".
func pwshCmd(s *plan.Step, script string) string {
	sh := ssmScript(s, script, `"$dl_t.ps1"`, ":", `exec pwsh -NoProfile -NonInteractive -File "$dl_t.ps1"`)
	return fmt.Sprintf("dl_need_t; dl_frame %d start run; dl_nf=\n"+
		"if command -v pwsh >/dev/null 2>&1; then %s >\"$dl_t.o\" 2>\"$dl_t.e\"; dl_rc=$?; rm -f -- \"$dl_t.ps1\"\n"+
		"else dl_rc=1; dl_nf=%s; : >\"$dl_t.o\"; printf 'pwsh not found\\n' >\"$dl_t.e\"; fi\n"+
		"dl_frame %d run \"$dl_rc $dl_nf\"; dl_payload %d out \"$dl_t.o\"; dl_payload %d err \"$dl_t.e\"\n",
		s.Idx, sh, frame.PwshMissing, s.Idx, s.Idx, s.Idx)
}

// ssmScript is the subshell that runs an SSM step's script as the SSM
// agent does (agent/plugins/runscript): its lines, joined with newlines,
// in a file (file: $dl_t.x, made executable by mode, for a shell script,
// which run runs by the interpreter its #! line names, else by sh:
// dl_script, ssmPrelude; $dl_t.ps1 for pwsh), private like the script's
// other temporary files: made with noclobber under umask 077; the script
// runs with the login umask, its environment (DL_PARAM_*) and working
// directory, stdin from /dev/null.
func ssmScript(s *plan.Step, script, file, mode, run string) string {
	var b strings.Builder
	b.WriteString("( umask 077; set -C; printf '%s\\n' " + Quote(script) + " >" + file + " && " + mode + " || exit 97\n")
	b.WriteString("umask \"$dl_um0\"; set +C; " + exports(s.Env))
	if s.Workdir != "" {
		b.WriteString("cd -- " + remotePath(s.Workdir) + " || exit 96; ")
	}
	b.WriteString(run + "\n) </dev/null")
	return b.String()
}

// ssmPrelude is what the scripts of SSM steps need: dl_script runs the
// script file $1 as the agent's "sh -c FILE" does, the way the kernel
// execs it: a #! line names the interpreter and at most one argument
// (all that follows it, blanks trimmed), else sh runs it. The shell
// reads that line itself, so that a temporary directory mounted noexec
// (a common hardening of /tmp and /dev/shm) runs the script all the same.
const ssmPrelude = `dl_script() {
	dl_l=; IFS= read -r dl_l <"$1"
	case $dl_l in
	'#!'*)
		dl_l=${dl_l#??}; dl_l=${dl_l#"${dl_l%%[! 	]*}"}
		dl_i=${dl_l%%[ 	]*}; dl_l=${dl_l#"$dl_i"}
		dl_l=${dl_l#"${dl_l%%[! 	]*}"}; dl_l=${dl_l%"${dl_l##*[! 	]}"}
		if [ -z "$dl_i" ]; then :
		elif [ -n "$dl_l" ]; then exec "$dl_i" "$dl_l" "$1"
		else exec "$dl_i" "$1"; fi ;;
	esac
	exec sh "$1"
}
`

// hasSSMScript reports whether a step of steps runs an SSM script.
func hasSSMScript(steps []*plan.Step) bool {
	return slices.ContainsFunc(steps, func(s *plan.Step) bool { return s.SSM && s.Action == documents.ActionShell })
}

// runsHere reports whether step s runs a script of its own in a POSIX
// script: a shell step, or an SSM aws:runPowerShellScript step, which
// the agent runs with pwsh on Linux and macOS (pwshCmd). A native
// powershell step is skipped here (docs/actions.md#powershell).
func runsHere(s *plan.Step) bool {
	return s.Action == documents.ActionShell || isPwsh(s)
}

// isPwsh reports whether s is a step that pwsh runs here (pwshCmd).
func isPwsh(s *plan.Step) bool { return s.SSM && s.Action == documents.ActionPowerShell }

// statFrameAt reports what is at the step's path: kind 0 missing, 1 file
// or directory as expected, 2 something else; then the SHA-256 (files),
// mode, owner, group and size. The values stay in dl_k, dl_s, dl_m, dl_o,
// dl_g and dl_z for the checks that follow. The check script took the
// stat (and hash) of all paths in one batch; slot is this step's place in
// it (-1: none).
func statFrameAt(s *plan.Step, tag string, slot int) string {
	p := pathWord(s)
	want, hash := "-d", "dl_s=-"
	if s.Action != documents.ActionDirectory {
		want, hash = "-f", "dl_sha "+p
	}
	get := hash + "; dl_stat " + p
	if slot >= 0 {
		bs := "dl_s=-"
		switch {
		case shellComparable(s):
			bs = fmt.Sprintf("if [ \"$dl_z%d\" = %d ] && %s; then dl_s=%s; else dl_sha %s; fi;", slot, len(s.Content), sameContent(s.Content, p, false), plan.SHA256Hex(s.Content), p)
		case s.Action == documents.ActionFile:
			bs = fmt.Sprintf("dl_s=$dl_s%d", slot)
		}
		// The batch's values hold only for a path that was there when
		// it was taken (dl_e): one an earlier step made is stat'ed now.
		get = fmt.Sprintf("if [ -n \"$dl_bok\" ] && [ -n \"$dl_e%d\" ]; then %s dl_m=$dl_m%d dl_o=$dl_o%d dl_g=$dl_g%d dl_z=$dl_z%d; else %s; fi", slot, bs, slot, slot, slot, slot, get)
	}
	return kindTestOf(s, want, p, get) +
		fmt.Sprintf("if [ $dl_k = 1 ]; then dl_frame %d %s \"1 $dl_s $dl_m $dl_o $dl_g $dl_z\"; else dl_frame %d %s $dl_k; fi\n", s.Idx, tag, s.Idx, tag)
}

// kindTest sets dl_k to what is at the shell word p: 1 what test's
// operator want ("-f", "-d") holds for, then get runs; 2 something else;
// 0 nothing.
func kindTest(want, p, get string) string {
	if get != "" {
		get = "; " + get
	}
	return fmt.Sprintf("if [ %s %s ]; then dl_k=1%s\nelif [ -e %s ] || [ -L %s ]; then dl_k=2; else dl_k=0; fi\n", want, p, get, p, p)
}

// kindTestOf is kindTest for the path of step s, which, unless s
// follows symlinks, finds a symlink there first: dl_k=3.
func kindTestOf(s *plan.Step, want, p, get string) string {
	if s.Follow {
		return kindTest(want, p, get)
	}
	return fmt.Sprintf("if [ -L %s ]; then dl_k=3\nel", p) + kindTest(want, p, get)
}

// shellComparable reports whether the shell itself compares a file
// step's file with its content (sameContent) once it knows the file's
// size, instead of hashing it: small content without NUL bytes.
func shellComparable(s *plan.Step) bool {
	return s.Action == documents.ActionFile && !s.Absent && s.Stream == nil && shellComparableContent(s.Content)
}

// shellComparableContent reports whether the shell compares a file with
// content itself: small, few lines, no NUL byte.
func shellComparableContent(content []byte) bool {
	return len(content) <= maxShellRead && bytes.Count(content, []byte("\n")) <= maxShellLines &&
		bytes.IndexByte(content, 0) < 0
}

// sameContent is a shell condition that holds when the file at the shell
// word p holds content: its lines, read by the shell, are content's.
// Without toEnd, the caller checked that the file's size is
// len(content), so that as many bytes were read as content has: none was
// dropped (NUL) and none is left. With toEnd, the file must end where
// content does; a NUL byte in it goes unseen (sh drops it), which is
// enough to verify a file the script has just written itself.
func sameContent(content []byte, p string, toEnd bool) string {
	if len(content) == 0 {
		if toEnd {
			return "[ ! -s " + p + " ]"
		}
		return "true"
	}
	lines := strings.Split(string(content), "\n")
	last := lines[len(lines)-1] // "" when content ends with a newline
	var c []string
	for _, l := range lines[:len(lines)-1] {
		c = append(c, "IFS= read -r dl_l && [ \"$dl_l\" = "+Quote(l)+" ]")
	}
	switch {
	case last != "":
		c = append(c, "! IFS= read -r dl_l && [ \"$dl_l\" = "+Quote(last)+" ]")
	case toEnd:
		c = append(c, "! IFS= read -r dl_l && [ -z \"$dl_l\" ]")
	}
	return "{ " + strings.Join(c, " && ") + "; } <" + p + " 2>/dev/null"
}

// batchStat takes the stat of every path of steps (and the hash of every
// file the shell does not compare itself) with one stat and at most one
// sha256sum, instead of a pair of programs per step: slot gives a step's
// place in the batch (-1: not in it). Missing paths are
// stood in for by "/" and "/dev/null", so that the output lines match
// the arguments; if their count is not as expected (a path removed
// meanwhile), dl_bok stays empty and each step takes its own.
func batchStat(steps []*plan.Step, toFile bool) (code string, slot func(*plan.Step) int) {
	slots := map[int]int{}
	slot = func(s *plan.Step) int {
		if i, ok := slots[s.Idx]; ok {
			return i
		}
		return -1
	}
	if len(steps) < 2 {
		return "", slot
	}
	var b, stats, hashes, none strings.Builder
	var files []int
	b.WriteString("set -f; dl_bok= dl_any=\n")
	for i, s := range steps {
		slots[s.Idx] = i
		fmt.Fprintf(&b, "dl_p%d=%s; dl_e%d=; if [ -e \"$dl_p%d\" ]; then dl_any=1 dl_e%d=1; else dl_p%d=/; fi\n", i, remotePath(s.Path), i, i, i, i)
		fmt.Fprintf(&none, " dl_m%d=- dl_o%d=- dl_g%d=- dl_z%d=0", i, i, i, i)
		fmt.Fprintf(&stats, " \"$dl_p%d\"", i)
		if s.Action == documents.ActionFile && !shellComparable(s) {
			fmt.Fprintf(&b, "dl_f%d=$dl_p%d; [ -f \"$dl_f%d\" ] || dl_f%d=/dev/null\n", i, i, i, i)
			fmt.Fprintf(&hashes, " \"$dl_f%d\"", i)
			fmt.Fprintf(&none, " dl_s%d=-", i)
			files = append(files, i)
		}
	}
	sha := ""
	if len(files) > 0 {
		sha = "; $dl_shacmd --" + hashes.String()
	}
	// Owner and group names cost stat a look-up in the user and group
	// databases: taken only when a step sets one.
	gnu, bsd := "%a - - %s", "%Lp - - %z"
	if slices.ContainsFunc(steps, func(s *plan.Step) bool { return s.Owner != "" || s.Group != "" }) {
		gnu, bsd = "%a %U %G %s", "%Lp %Su %Sg %z"
	}
	// When none of the paths is there (a fresh host), there is nothing
	// to stat.
	fmt.Fprintf(&b, "if [ -z \"$dl_any\" ]; then dl_bok=1%s\nelse\n", none.String())
	cmd := fmt.Sprintf("if [ \"$dl_os\" = Linux ]; then stat -c '%s' --%s%s; else stat -f '%s' --%s%s; fi 2>/dev/null",
		gnu, stats.String(), sha, bsd, stats.String(), sha)
	if toFile {
		// Into a private file, read back by the shell: a command
		// substitution is a fork of the shell, a command a vfork.
		b.WriteString("dl_need_t; " + cmd + " >\"$dl_t.s\"\n")
		b.WriteString("dl_x=; while IFS= read -r dl_l; do dl_x=$dl_x$dl_l'\n'; done <\"$dl_t.s\"\n")
	} else {
		b.WriteString("dl_x=$(" + cmd + ")\n")
	}
	b.WriteString("dl_ifs=$IFS; IFS='\n'; set -- $dl_x; IFS=$dl_ifs\n")
	fmt.Fprintf(&b, "if [ $# -eq %d ]; then dl_bok=1\n", len(steps)+len(files))
	for i := range steps {
		fmt.Fprintf(&b, "dl_l%d=${%d}\n", i, i+1)
	}
	for j, i := range files {
		fmt.Fprintf(&b, "dl_s%d=${%d}; dl_s%d=${dl_s%d%%%% *}; dl_s%d=${dl_s%d#\\\\}\n", i, len(steps)+j+1, i, i, i, i)
	}
	for i := range steps {
		fmt.Fprintf(&b, "set -- $dl_l%d; dl_m%d=$1 dl_o%d=$2 dl_g%d=$3 dl_z%d=$4\n", i, i, i, i, i)
	}
	b.WriteString("fi; fi; set +f\n")
	return b.String(), slot
}

// LiteralLine reports whether the host itself can tell that a line step
// is in state, with grep: a literal line (no regexp).
func LiteralLine(s *plan.Step) bool { return s.Action == documents.ActionLine && s.LineRe == "" }

// lineCheck is the check of a line step. For a literal line, grep tells
// whether it is in state (dl_lc=1), and the file's content is sent and
// the file stat'ed (its mode is kept) only when it is not (Go computes
// the edit). A line with a regexp always sends the content.
func lineCheck(s *plan.Step, slot int) string {
	p := pathWord(s)
	var b strings.Builder
	b.WriteString(kindTestOf(s, "-f", p, "") + "dl_lc= dl_sr=\n")
	if LiteralLine(s) {
		grep := fmt.Sprintf("grep -qxF -- %s %s 2>/dev/null", Quote(s.Line), p)
		if s.Absent {
			// In state only when the text is nowhere in the file: a
			// line that ends in CR (a CRLF file) is the line too, and
			// Go decides.
			grep = fmt.Sprintf("grep -qF -- %s %s 2>/dev/null", Quote(s.Line), p)
		} else if slot >= 0 {
			// A small file is read by the shell: no grep.
			grep = fmt.Sprintf("if [ -n \"$dl_bok\" ] && [ -n \"$dl_e%d\" ] && [ \"$dl_z%d\" -le %d ] && dl_hasline %s %s \"$dl_z%d\"; then dl_sr=1; [ $dl_h = 1 ]; else %s; fi", slot, slot, maxShellRead, Quote(s.Line), p, slot, grep)
		}
		fmt.Fprintf(&b, "if [ $dl_k = 1 ] && %s; then dl_h=1; else dl_h=0; fi\n", grep)
		if s.Absent {
			// In state when no line equals it, or there is no file.
			b.WriteString("if [ $dl_k = 0 ] || { [ $dl_k = 1 ] && [ $dl_h = 0 ]; }; then dl_lc=1; fi\n")
		} else {
			b.WriteString("if [ $dl_k = 1 ] && [ $dl_h = 1 ]; then dl_lc=1; fi\n")
		}
	}
	get := "dl_stat " + p
	if slot >= 0 {
		get = fmt.Sprintf("if [ -n \"$dl_bok\" ] && [ -n \"$dl_e%d\" ]; then dl_m=$dl_m%d dl_o=$dl_o%d dl_g=$dl_g%d dl_z=$dl_z%d; else %s; fi", slot, slot, slot, slot, slot, get)
	}
	fmt.Fprintf(&b, "if [ $dl_k = 1 ] && [ -z \"$dl_lc\" ]; then %s; else dl_m=- dl_o=- dl_g=- dl_z=0; fi\n", get)
	fmt.Fprintf(&b, "if [ $dl_k = 1 ]; then dl_frame %d stat \"1 - $dl_m $dl_o $dl_g $dl_z\"; else dl_frame %d stat $dl_k; fi\n", s.Idx, s.Idx)
	if LiteralLine(s) {
		fmt.Fprintf(&b, "dl_frame %d has ${dl_lc:-0}\n", s.Idx)
	}
	// A file the shell has read whole (dl_sr) is sent by the shell.
	fmt.Fprintf(&b, "if [ $dl_k = 1 ] && [ -z \"$dl_lc\" ]; then if [ -n \"$dl_sr\" ]; then dl_payload %d cur %s %d; else dl_cur %d %s %d; fi; fi\n", s.Idx, p, maxShellRead+1, s.Idx, p, frame.MaxFile+1)
	return b.String()
}

// CleanTest is a shell condition that holds when the step, just checked
// by the check script, is in its desired state; "" when only Go can tell
// (a line with a regexp, ...).
func CleanTest(s *plan.Step) string {
	var c []string
	switch s.Action {
	case documents.ActionShell, documents.ActionPowerShell:
		if !runsHere(s) {
			return "true" // skipped here (writeCheck)
		}
		if !s.HasCheck && s.OnSuccessEnd {
			return "false" // the document ends here: Go decides the rest
		}
		return "[ $dl_rc -eq 0 ]"
	case documents.ActionFile, documents.ActionDirectory, documents.ActionLine:
		if s.Absent {
			if s.Action == documents.ActionLine {
				if LiteralLine(s) {
					return "[ -n \"$dl_lc\" ]"
				}
				return ""
			}
			return "[ $dl_k = 0 ]"
		}
		c = append(c, "[ $dl_k = 1 ]")
		switch s.Action {
		case documents.ActionFile:
			c = append(c, "[ \"$dl_s\" = "+s.WantSHA()+" ]")
		case documents.ActionLine:
			if !LiteralLine(s) {
				return ""
			}
			c = append(c, "[ -n \"$dl_lc\" ]")
		default: // the other values need nothing here
		}
		if s.Mode != "" {
			// As text: stat prints no leading zero, and a "-" (no
			// stat) must compare unequal, not end the script.
			c = append(c, fmt.Sprintf("[ \"$dl_m\" = %s ]", plan.NormMode(s.Mode)))
		}
		if s.Owner != "" {
			c = append(c, "[ \"$dl_o\" = "+Quote(s.Owner)+" ]")
		}
		if s.Group != "" {
			c = append(c, "[ \"$dl_g\" = "+Quote(s.Group)+" ]")
		}
		return strings.Join(c, " && ")
	case documents.ActionPackage:
		return "! grep -qv '^ok ' \"$dl_t.p\""
	default: // the other values need nothing here
	}
	return ""
}

// CheckScript checks every step of a plan.
func CheckScript(marker string, steps []*plan.Step, st plan.Resume) string {
	return buildCheckScript(marker, steps, false, st)
}

// CheckRunScript checks every step and, as long as every step before is
// known to be in state, also runs the steps without a check (which apply
// mode always runs): a converged host then needs this one round trip.
func CheckRunScript(marker string, steps []*plan.Step, st plan.Resume) string {
	return buildCheckScript(marker, steps, true, st)
}

// start is the beginning of every script: the marker, the prelude, what
// the steps need.
func start(b *writer, marker string, steps []*plan.Step, runs bool, st plan.Resume) {
	// A script is a few KiB per step: grown once, not copied as it grows.
	b.Grow(len(prelude) + len(tmpPrelude) + 2048*len(steps))
	b.WriteString("DLM=" + Quote(marker) + "\n")
	b.Verbatim(prelude)
	b.Verbatim(hostPrelude)
	if c := st.Cleanup; c != "" {
		if st.Salvage >= 0 {
			fmt.Fprintf(b, "dl_payload %d out %s; dl_payload %d err %s\n", st.Salvage, Quote(c+".o"), st.Salvage, Quote(c+".e"))
		}
		b.WriteString("dl_gone " + Quote(c) + "\n")
	}
	b.WriteString("dl_sweep\n")
	sys := false
	for _, s := range steps {
		switch s.Action {
		case documents.ActionPackage, documents.ActionService, documents.ActionPatch:
			sys = true
		default: // the other values need nothing here
		}
	}
	if sys || runs {
		b.Verbatim(tmpPrelude)
	}
	if slices.ContainsFunc(steps, func(s *plan.Step) bool { return follow(s) != "" }) {
		b.Verbatim(followPrelude)
	}
	if sys {
		b.Verbatim(SystemPrelude)
	}
	if runs && hasSSMScript(steps) {
		b.Verbatim(ssmPrelude)
	}
}

// InlineOK reports whether the check script of an apply may correct the
// steps it finds drifted itself (inlineFix), while everything before is
// in state: not when the document ends early or has finally steps, which
// the apply script orders.
func InlineOK(steps []*plan.Step) bool {
	for _, s := range steps {
		if s.Finally || s.OnSuccessEnd || s.OnFailure == "successAndExit" {
			return false
		}
	}
	return true
}

// inlineFix is how the check script of an apply corrects s itself, or ""
// when s needs the runner's decision (a second round trip): a line with a
// regexp or to remove, a system action. A fix empties dl_ok when it
// fails; the line fix leaves the step to the runner (dl_clean emptied,
// no "applied" frame) when the file has CRLF line ends.
func inlineFix(s *plan.Step) string {
	switch s.Action {
	case documents.ActionShell:
		if !s.HasCheck {
			return ""
		}
		return applyFragment(plan.ApplyStep{Step: s})
	case documents.ActionDirectory:
		return applyFragment(plan.ApplyStep{Step: s, Mode: s.Mode}) + fmt.Sprintf("dl_fixed%d=1\n", s.Idx)
	case documents.ActionFile:
		if len(s.Content) > plan.MaxInlineContent || s.Stream != nil {
			return "" // every check would carry it: written only when drifted
		}
		return applyFragment(plan.ApplyStep{Step: s, Write: s.Content, Mode: s.Mode, KeepMode: s.Mode == ""}) + fmt.Sprintf("dl_fixed%d=1\n", s.Idx)
	case documents.ActionLine:
		if !LiteralLine(s) || s.Absent {
			return ""
		}
		return lineFix(s)
	default: // the other values need nothing here
	}
	return ""
}

// lineFix appends a literal line to a file (or creates it) on the host,
// as editLine would: every line kept, the last one ended by a newline,
// the line added; the file's mode kept. A file with a CR, or larger than
// the line action edits, is left to the runner.
func lineFix(s *plan.Step) string {
	p := pathWord(s)
	var b strings.Builder
	fmt.Fprintf(&b, "dl_tmp=%s.dl-tmp.$dl_tok; dl_rc=3; printf '%%s\\n' \"$dl_tmp\" >>\"$dl_t.w\"\n", tmpFor(s))
	fmt.Fprintf(&b, "if [ $dl_k = 1 ] && [ \"$dl_z\" -le %d ]; then\n", frame.MaxFile)
	// The file's mode, when a umask can give it, is given at creation
	// (no chmod program): 644 is created under umask 133.
	b.WriteString("\tdl_um=; case $dl_m in [0246][0246][0246]) dl_r=${dl_m#?}; dl_um=$((7-${dl_m%??}))$((7-${dl_r%?}))$((7-${dl_m#??})) ;; esac\n")
	// A file the check read whole with the shell (dl_sr: no NUL byte) is
	// copied by the shell too, else by awk; either stops at a CR (exit 3).
	fmt.Fprintf(&b, "\tif [ -n \"$dl_sr\" ]; then\n"+
		"\t\t[ -z \"$dl_um\" ] || umask $dl_um; dl_rc=0\n"+
		"\t\t{ dl_l=; while IFS= read -r dl_l; do case $dl_l in *'\r'*) dl_rc=3; break ;; esac; printf '%%s\\n' \"$dl_l\"; dl_l=; done\n"+
		"\t\tcase $dl_l in *'\r'*) dl_rc=3 ;; esac\n"+
		"\t\tif [ $dl_rc = 0 ]; then [ -z \"$dl_l\" ] || printf '%%s\\n' \"$dl_l\"; printf '%%s\\n' %s; fi; } 2>\"$dl_t.e\" <%s >\"$dl_tmp\" || { [ $dl_rc = 3 ] || dl_rc=1; }\n"+
		"\t\tumask \"$dl_um0\"\n"+
		"\telse\n", Quote(s.Line), p)
	fmt.Fprintf(&b, "\t( [ -z \"$dl_um\" ] || umask $dl_um; export DL_LINE=%s; exec awk 'index($0, \"\\r\") { cr = 1; exit 3 } { print } END { if (!cr) print ENVIRON[\"DL_LINE\"] }' <%s >\"$dl_tmp\" ) 2>\"$dl_t.e\"; dl_rc=$?\n\tfi\n", Quote(s.Line), p)
	if s.Create {
		fmt.Fprintf(&b, "elif [ $dl_k = 0 ]; then\n\tumask go-w; printf '%%s\\n' %s 2>\"$dl_t.e\" >\"$dl_tmp\"; dl_rc=$?; umask \"$dl_um0\"\n", Quote(s.Line))
	}
	b.WriteString("fi\n")
	b.WriteString("if [ $dl_rc = 3 ]; then rm -f -- \"$dl_tmp\"; dl_ok=\nelse\n")
	b.WriteString("[ $dl_rc = 0 ] || dl_ok=\n")
	b.WriteString("[ -z \"$dl_ok\" ] || [ $dl_k != 1 ] || [ \"$dl_m\" = - ] || [ -n \"$dl_um\" ] || chmod \"$dl_m\" \"$dl_tmp\" 2>>\"$dl_t.e\" || dl_ok=\n")
	fmt.Fprintf(&b, "if [ -n \"$dl_ok\" ] && mv -f -- \"$dl_tmp\" %s 2>>\"$dl_t.e\"; then :; else dl_ok=; rm -f -- \"$dl_tmp\"; fi\n", p)
	b.WriteString(applyResult(s))
	fmt.Fprintf(&b, "dl_fixed%d=1\n", s.Idx)
	b.WriteString("fi\n")
	return b.String()
}

func buildCheckScript(marker string, steps []*plan.Step, run bool, st plan.Resume) string {
	inline := run && InlineOK(steps)
	runs, sure := checkRuns(steps, run, inline)
	var b writer
	start(&b, marker, steps, runs, st)
	b.WriteString("dl_facts\n")
	if st.Unclean {
		b.WriteString("dl_clean=\n")
	} else {
		b.WriteString("dl_clean=1\n")
	}
	code, slot := batchStat(statBatch(steps, run, inline), sure) // through a private file when one is made anyway
	b.WriteString(code)
	after := &afters{b: &b, guarded: true}
	for _, s := range steps {
		if s.Err != nil {
			b.WriteString("dl_clean=\n")
			continue
		}
		if s.Skip != "" {
			continue
		}
		after.before(s)
		b.Comment(s.Label())
		b.WriteString(follow(s))
		if s.Platform != "" {
			fmt.Fprintf(&b, "if [ \"$dl_os\" = %s ]; then :\n", Quote(s.Platform))
		}
		writeCheck(&b, s, run, slot)
		if run {
			writeClean(&b, s, inline, after)
		}
		if s.Platform != "" {
			fmt.Fprintf(&b, "else dl_frame %d skip platform; fi\n", s.Idx)
		}
	}
	after.flush()
	return b.String()
}

// checkRuns says, for the check script of steps (run: it also runs and,
// inline, corrects them), whether a run, or a correction, may capture its
// output in files (runs), and whether a command surely runs (a step
// without a check), so that the files are made anyway (sure).
func checkRuns(steps []*plan.Step, run, inline bool) (runs, sure bool) {
	for _, s := range steps {
		if run && s.Err == nil && s.Skip == "" {
			runs = runs || (runsHere(s) && (!s.HasCheck || inline)) ||
				(inline && (s.Action == documents.ActionFile || s.Action == documents.ActionDirectory || LiteralLine(s)))
			sure = sure || (runsHere(s) && !s.HasCheck && s.Platform == "")
		}
	}
	return runs, sure
}

// statBatch is the path steps of the check script that are checked
// before anything can change the host, to be stat'ed at once: each path
// once, the first step on it.
func statBatch(steps []*plan.Step, run, inline bool) []*plan.Step {
	var batch []*plan.Step
	seen := map[string]bool{}
steps:
	for _, s := range steps {
		if run && runsHere(s) && (!s.HasCheck || inline) {
			break // it may change the host before the paths after it are checked
		}
		switch s.Action {
		case documents.ActionFile, documents.ActionDirectory, documents.ActionLine:
			if inline && s.Action == documents.ActionDirectory && s.Absent {
				break steps // it may remove the paths after it
			}
			if s.Err == nil && s.Skip == "" && s.Platform == "" && !s.Follow && !seen[s.Path] {
				batch = append(batch, s)
			}
			seen[s.Path] = true // a later step on it sees what the earlier wrote
		default: // the other values need nothing here
		}
	}
	return batch
}

// writeCheck writes the check of step s to the check script b (run: a
// shell step without a check runs there, when everything before it is
// in state); a path checked in the batch reads its stat from slot.
func writeCheck(b *writer, s *plan.Step, run bool, slot func(*plan.Step) int) {
	switch s.Action {
	case documents.ActionShell, documents.ActionPowerShell:
		if !runsHere(s) {
			fmt.Fprintf(b, "dl_frame %d skip platform\n", s.Idx)
		} else if s.HasCheck {
			b.WriteString(checkCmd(s, s.Check, "check"))
		} else if run {
			fmt.Fprintf(b, "if [ -n \"$dl_clean\" ]; then\n%sfi\n", runLoop(s))
		}
	case documents.ActionFile, documents.ActionDirectory:
		b.WriteString(statFrameAt(s, "stat", slot(s)))
		if s.Action == documents.ActionFile && s.ContentText && !s.Absent && !s.Secret {
			p := pathWord(s)
			fmt.Fprintf(b, "if [ $dl_k = 1 ] && [ \"$dl_s\" != %s ]; then dl_cur %d %s %d; fi\n", plan.SHA256Hex(s.Content), s.Idx, p, plan.MaxDiffBytes+1)
		}
	case documents.ActionLine:
		b.WriteString(lineCheck(s, slot(s)))
	case documents.ActionPackage, documents.ActionService, documents.ActionPatch:
		b.WriteString(systemCheck(s, "state"))
	default: // the other values need nothing here
	}
}

// writeClean writes to the check-and-run script b what keeps dl_clean
// (everything so far in state or corrected) after step s: its correction
// at once when inline and it has one (after then learns what it
// writes), else its test in state, or the end of dl_clean when it has
// none.
func writeClean(b *writer, s *plan.Step, inline bool, after *afters) {
	t := CleanTest(s)
	fix := ""
	if inline && t != "" {
		fix = inlineFix(s)
	}
	switch {
	case fix != "":
		// Corrected at once, as long as everything before is in
		// state or was corrected: no second round trip.
		fmt.Fprintf(b, "if [ -n \"$dl_clean\" ] && ! { %s; }; then\ndl_need_t; dl_ok=1\n%s[ -n \"$dl_ok\" ] || dl_clean=\nfi\n", t, fix)
		switch s.Action {
		case documents.ActionFile:
			after.add(s, s.Content)
		case documents.ActionDirectory, documents.ActionLine:
			after.add(s, nil)
		default: // the other values need nothing here
		}
	case t == "":
		b.WriteString("dl_clean=\n")
	default:
		fmt.Fprintf(b, "%s || dl_clean=\n", t)
	}
}

// runLoop runs a script step's run, up to max_attempts times.
func runLoop(s *plan.Step) string {
	return fmt.Sprintf("dl_a=0; while :; do dl_a=$((dl_a+1))\n%sif [ $dl_rc -eq 0 ] || [ $dl_a -ge %d ]; then break; fi; done\n", runCmd(s, s.Run), s.Attempts)
}

// ApplyScript corrects the given steps, in order, honouring on_failure,
// onSuccess: exit and finally steps.
func ApplyScript(marker string, steps []plan.ApplyStep, st plan.Resume) string {
	var b writer
	plain := make([]*plan.Step, len(steps))
	for i, a := range steps {
		plain[i] = a.Step
	}
	start(&b, marker, plain, true, st)
	b.WriteString("dl_need_t\ndl_stop=" + Quote(st.Stop) + "\n")
	after := &afters{b: &b}
	for _, a := range steps {
		s := a.Step
		after.before(s)
		b.Comment(s.Label())
		b.WriteString(follow(s))
		switch s.Action {
		case documents.ActionFile, documents.ActionDirectory, documents.ActionLine:
			after.add(s, a.Write)
		default: // the other values need nothing here
		}
		if s.Finally {
			b.WriteString("if :; then\n")
		} else {
			fmt.Fprintf(&b, "if [ -n \"$dl_stop\" ]; then dl_frame %d skip \"$dl_stop\"; else\n", s.Idx)
		}
		if s.Platform != "" {
			fmt.Fprintf(&b, "if [ \"$dl_os\" != %s ]; then dl_frame %d skip platform; else\n", Quote(s.Platform), s.Idx)
		}
		b.WriteString("dl_ok=1\n")
		b.WriteString(applyFragment(a))
		b.WriteString("if [ -z \"$dl_ok\" ]; then ")
		switch s.OnFailure {
		case "continue":
			b.WriteString(":")
		case "successAndExit":
			b.WriteString("dl_stop=successAndExit")
		default:
			b.WriteString("dl_stop=failed")
		}
		b.WriteString("; fi\n")
		if s.OnSuccessEnd {
			b.WriteString("if [ -n \"$dl_ok\" ]; then dl_stop=onSuccess; fi\n")
		}
		if s.SSM && runsHere(s) {
			// SSM's exit statuses that stop the document, or end this
			// pass for a reboot (the runner reboots, then runs this step
			// again and goes on).
			b.WriteString("case $dl_rc in 168) dl_stop=exit168 ;; 169) dl_stop=exit169 ;; 194) dl_stop=reboot ;; esac\n")
		}
		if s.Platform != "" {
			b.WriteString("fi\n")
		}
		b.WriteString("fi\n")
	}
	after.flush()
	return b.String()
}

// afters reports the state after of the paths that steps wrote, in
// batches: before a step that runs a command (which may change them, or
// run past its timeout and end the script), before a second step on the
// same path (whose state after is its own), and at the end. When
// guarded, only the steps the script corrected (dl_fixed<step> set) are
// reported, and nothing runs when none was.
//
// The runner needs of the state after only what is there and, for what
// was written, whether it holds what was written. The shell tells that
// itself (shellAfter) for a directory, a removal, a line whose content
// the runner does not know, and small content (compared line by line); the
// rest is stat'ed and hashed in one batch.
type afters struct {
	b       *writer
	guarded bool
	pending []written
}

// written is a step whose state after is reported, with the content it
// wrote when the runner knows it (nil: not known, or none).
type written struct {
	s       *plan.Step
	content []byte
}

// before is called before each step is written.
func (a *afters) before(s *plan.Step) {
	switch s.Action {
	case documents.ActionFile, documents.ActionDirectory, documents.ActionLine:
		if !slices.ContainsFunc(a.pending, func(w written) bool { return w.s.Path == s.Path }) {
			return
		}
	default: // the other values need nothing here
	}
	a.flush()
}

func (a *afters) add(s *plan.Step, content []byte) {
	a.pending = append(a.pending, written{s, content})
}

func (a *afters) flush() {
	pending := a.pending
	a.pending = nil
	if len(pending) == 0 {
		return
	}
	var batch []*plan.Step
	for _, w := range pending {
		if shellAfter(w) == "" && !w.s.Follow {
			batch = append(batch, w.s)
		}
	}
	// The private files are there: something was written.
	code, slot := batchStat(batch, true)
	frame := func(w written) string {
		if f := shellAfter(w); f != "" {
			return f
		}
		return statFrameAt(w.s, "after", slot(w.s))
	}
	if !a.guarded {
		a.b.WriteString(code)
		for _, w := range pending {
			a.b.WriteString(frame(w))
		}
		return
	}
	if code != "" {
		var any strings.Builder
		for _, s := range batch {
			fmt.Fprintf(&any, "$dl_fixed%d", s.Idx)
		}
		fmt.Fprintf(a.b, "if [ -n \"%s\" ]; then\n%sfi\n", any.String(), code)
	}
	for _, w := range pending {
		fmt.Fprintf(a.b, "if [ -n \"$dl_fixed%d\" ]; then\n%sfi\n", w.s.Idx, frame(w))
	}
}

// shellAfter is the "after" frame of w made by the shell alone (no
// program), or "" when the content written must be hashed: what is at
// the path, and for small content whether the file holds it
// (sameContent, to the end of the file; when it does not, sha256sum
// tells what it holds). Owner, group and mode are not reported: the
// runner does not use them after a write.
func shellAfter(w written) string {
	s := w.s
	p := pathWord(s)
	want, hash := "-f", "dl_s=-"
	switch {
	case s.Action == documents.ActionDirectory:
		want = "-d"
	case s.Absent && s.Action != documents.ActionLine:
	case s.Action == documents.ActionLine && w.content == nil:
	case shellComparableContent(w.content) && (s.Action == documents.ActionFile || s.Action == documents.ActionLine):
		hash = fmt.Sprintf("if %s; then dl_s=%s; else dl_sha %s; fi", sameContent(w.content, p, true), plan.SHA256Hex(w.content), p)
	default:
		return ""
	}
	return kindTestOf(s, want, p, hash+"; dl_m=- dl_o=- dl_g=- dl_z=0") +
		fmt.Sprintf("if [ $dl_k = 1 ]; then dl_frame %d after \"1 $dl_s $dl_m $dl_o $dl_g $dl_z\"; else dl_frame %d after $dl_k; fi\n", s.Idx, s.Idx)
}

// applyFragment corrects one step: dl_ok is emptied when it fails.
func applyFragment(a plan.ApplyStep) string {
	var b strings.Builder
	s := a.Step
	switch s.Action {
	case documents.ActionShell, documents.ActionPowerShell:
		if a.Recheck && s.HasCheck {
			b.WriteString(checkCmd(s, s.Check, "recheck"))
			b.WriteString("if [ $dl_rc -ne 0 ]; then\n")
		} else {
			b.WriteString("if :; then\n")
		}
		b.WriteString(runLoop(s))
		b.WriteString("[ $dl_rc -eq 0 ] || dl_ok=\n")
		if s.HasCheck {
			fmt.Fprintf(&b, "if [ -n \"$dl_ok\" ]; then %s[ $dl_rc -eq 0 ] || dl_ok=; fi\n", checkCmd(s, s.Check, "verify"))
		}
		b.WriteString("fi\n")
	case documents.ActionPackage, documents.ActionService, documents.ActionPatch:
		b.WriteString(systemApply(s, a.Commands))
	case documents.ActionDirectory:
		p := pathWord(s)
		if s.Absent {
			fmt.Fprintf(&b, "rm -rf -- %s 2>\"$dl_t.e\" || dl_ok=\n", p)
		} else {
			errs := `2>"$dl_t.e"`
			if !s.Follow {
				// A symlink is replaced, its target untouched.
				fmt.Fprintf(&b, "if [ -L %s ]; then rm -f -- %s || dl_ok=; fi 2>\"$dl_t.e\"\n", p, p)
				errs = `2>>"$dl_t.e"`
			}
			fmt.Fprintf(&b, "if [ -d %s ]; then :\n%s", p, ownership(s, p, a.Mode))
			if a.Mode != "" {
				// Created with its mode: one program, not two.
				fmt.Fprintf(&b, "else mkdir -p -m %s -- %s %s || dl_ok=\n%sfi\n", a.Mode, p, errs, ownership(s, p, ""))
			} else {
				// Never more than 0755 (less the login umask).
				fmt.Fprintf(&b, "else umask go-w; mkdir -p -- %s %s || dl_ok=; umask \"$dl_um0\"\n%sfi\n", p, errs, ownership(s, p, ""))
			}
		}
		b.WriteString(applyResult(s))
	case documents.ActionFile, documents.ActionLine:
		p := pathWord(s)
		if s.Absent && s.Action == documents.ActionFile {
			fmt.Fprintf(&b, "rm -f -- %s 2>\"$dl_t.e\" || dl_ok=\n", p)
		} else {
			writeFile(&b, a)
		}
		b.WriteString(applyResult(s))
	default: // the other values need nothing here
	}
	return b.String()
}

// writeFile writes a file or line step's new content next to its target,
// then renames it over the target: atomic. A mode that a umask can give
// is given at creation (no chmod program), and the login umask (dl_um0)
// restored.
func writeFile(b *strings.Builder, a plan.ApplyStep) {
	s := a.Step
	p := pathWord(s)
	if s.SSM && s.Download { // aws:downloadContent: the SSM agent makes the destination's parent directories
		fmt.Fprintf(b, "mkdir -p -- \"$(dirname -- %s)\" 2>\"$dl_t.e\" || dl_ok=\n", p)
	}
	fmt.Fprintf(b, "dl_tmp=%s.dl-tmp.$dl_tok; printf '%%s\\n' \"$dl_tmp\" >>\"$dl_t.w\"\n", tmpFor(s))
	mode := a.Mode
	um, ok := umaskFor(mode)
	if ok {
		mode = ""
		b.WriteString("umask " + um + "\n")
	} else if mode == "" {
		// A new file: never more than 0644 (less the login umask).
		b.WriteString("umask go-w\n")
	}
	if a.KeepMode {
		// Private until it has the mode of the file it replaces.
		b.WriteString("[ $dl_k != 1 ] || umask 077\n")
	}
	write := printfBytes(a.Write, `"$dl_tmp"`)
	if a.Streamed() {
		write = streamed(s.Idx, `"$dl_tmp"`)
	}
	fmt.Fprintf(b, "if { %s; } 2>\"$dl_t.e\"; then :; else dl_ok=; rm -f -- \"$dl_tmp\"; fi\n", write)
	if ok || mode == "" {
		b.WriteString("umask \"$dl_um0\"\n")
	}
	b.WriteString("if [ -n \"$dl_ok\" ]; then\n")
	if a.KeepMode {
		b.WriteString("[ $dl_k != 1 ] || [ \"$dl_m\" = - ] || chmod \"$dl_m\" \"$dl_tmp\" 2>>\"$dl_t.e\" || dl_ok=\n")
	}
	b.WriteString(ownership(s, `"$dl_tmp"`, mode))
	fmt.Fprintf(b, "if [ -n \"$dl_ok\" ] && mv -f -- \"$dl_tmp\" %s 2>>\"$dl_t.e\"; then :; else dl_ok=; rm -f -- \"$dl_tmp\"; fi\n", p)
	b.WriteString("fi\n")
}

// umaskFor returns the umask under which a new file gets mode (files are
// created 0666 less the umask), when there is one.
func umaskFor(mode string) (string, bool) {
	m, err := strconv.ParseUint(mode, 8, 32)
	if mode == "" || err != nil || m&^0o666 != 0 {
		return "", false
	}
	return fmt.Sprintf("%03o", 0o777&^m), true
}

// tmpFor is a shell word for a hidden file beside the path of step s
// (tmpBeside), or beside what it resolves to when it follows symlinks.
func tmpFor(s *plan.Step) string {
	if s.Follow {
		return fmt.Sprintf(`"${dl_f%d%%/*}/.${dl_f%d##*/}"`, s.Idx, s.Idx)
	}
	return tmpBeside(s.Path)
}

// tmpBeside is a shell word for a hidden file in the directory of the
// host path p, named after it, to which the script appends a suffix.
func tmpBeside(p string) string {
	dir, base := path.Split(p)
	switch {
	case dir == "":
		dir = "./"
	case dir != "/":
		dir = strings.TrimSuffix(dir, "/")
		return remotePath(dir) + "/" + Quote("."+base)
	}
	return remotePath(dir) + Quote("."+base)
}

// ownership sets mode, owner and group on the shell word p.
func ownership(s *plan.Step, p, mode string) string {
	var b strings.Builder
	if mode != "" {
		fmt.Fprintf(&b, "[ -z \"$dl_ok\" ] || chmod %s %s 2>>\"$dl_t.e\" || dl_ok=\n", mode, p)
	}
	if s.Owner != "" || s.Group != "" {
		who := s.Owner
		if s.Group != "" {
			who += ":" + s.Group
		}
		fmt.Fprintf(&b, "[ -z \"$dl_ok\" ] || chown %s %s 2>>\"$dl_t.e\" || dl_ok=\n", Quote(who), p)
	}
	return b.String()
}

// applyResult reports the outcome of a file, directory or line step:
// the error output, then the state after.
func applyResult(s *plan.Step) string {
	return fmt.Sprintf("dl_frame %d applied \"${dl_ok:-0}\"; dl_payload %d err \"$dl_t.e\"\n", s.Idx, s.Idx)
}

// StdinScript runs the script sent on stdin: the shell reads it from the
// pipe itself (no cat), or, where stdin is not a pipe or file that can
// be opened again, through cat.
const StdinScript = `if [ -p /dev/stdin ] || [ -f /dev/stdin ]; then . /dev/stdin; else eval "$(cat)"; fi`

// GuardKey names the runs of association assoc on host host (its
// inventory name: two names of one machine are two hosts) on that host:
// hex, so that it is a file name; a hash, so that it holds neither.
func GuardKey(assoc, host string) string {
	sum := sha256.Sum256([]byte(assoc + "\x00" + host))
	return hex.EncodeToString(sum[:12])
}

// Main wraps a POSIX script in one function that is called once it
// is read whole: the shell parses the whole function before running any
// of it, so a script cut short in transit (a dropped connection) is a
// syntax error that runs nothing, never a truncated command; the steps
// run with stdin from /dev/null, so none can read the script.
func Main(script string) string { return MainFor("", script) }

// MainFor is Main for the run of an association on a host: key names
// them (GuardKey), so that the script ends an older one of the same key
// still running there (hostPrelude). An empty key guards nothing.
func MainFor(key, script string) string {
	return mainHead(key) + script + mainTail
}

// mainHead and mainTail are what MainFor puts around a script.
func mainHead(key string) string { return "dl_key=" + Quote(key) + "\ndl_main() {\n" }

const mainTail = "\n}\ndl_main </dev/null\ndl_rc=$?\nprintf '%s\\n%s - end 0 %s\\n' \"$dl_ob\" \"$DLM\" $dl_rc\ndl_ob=\nexit $dl_rc\n"
