# driftless golden: the first script of shell on host linux, resumed after step 1 "always" ran past its timeout; its output is sent first.
dl_key=''
dl_main() {
DLM='@@DL-MARKER'
dl_os=
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
trap dl_exit EXIT
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
dl_payload 1 out '/dev/shm/.driftless-MARKER.o'; dl_payload 1 err '/dev/shm/.driftless-MARKER.e'
dl_gone '/dev/shm/.driftless-MARKER'
dl_sweep
dl_need_t() {
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
dl_facts
dl_clean=
# step 3: scripted (shell)
dl_sout 2 check; ( export DEPLOY_KEY='******'; export DL_PARAM_flavour='full'; export DL_PARAM_token='******'; export DL_PARAM_wait='45'; export FLAVOUR='full'; export TIER='frontend'; cd -- "$HOME"/'app' || exit 96; eval 'grep -q '\''^flavour='\'' app.conf'
) </dev/null; dl_rc=$?; dl_send 2 check $dl_rc
if [ -n "$dl_clean" ] && ! { [ $dl_rc -eq 0 ]; }; then
	dl_need_t; dl_ok=1
	if :; then
		dl_a=0; while :; do dl_a=$((dl_a+1))
			dl_need_t; dl_frame 2 start run; ( export DEPLOY_KEY='******'; export DL_PARAM_flavour='full'; export DL_PARAM_token='******'; export DL_PARAM_wait='45'; export FLAVOUR='full'; export TIER='frontend'; cd -- "$HOME"/'app' || exit 96; eval 'printf '\''flavour=%s\n'\'' "$FLAVOUR" >> app.conf
echo "tier $TIER, port 8080"'
			) </dev/null >"$dl_t.o" 2>"$dl_t.e"; dl_rc=$?
			dl_frame 2 run $dl_rc; dl_payload 2 out "$dl_t.o"; dl_payload 2 err "$dl_t.e"
			if [ $dl_rc -eq 0 ] || [ $dl_a -ge 1 ]; then break; fi; done
		[ $dl_rc -eq 0 ] || dl_ok=
		if [ -n "$dl_ok" ]; then dl_sout 2 verify; ( export DEPLOY_KEY='******'; export DL_PARAM_flavour='full'; export DL_PARAM_token='******'; export DL_PARAM_wait='45'; export FLAVOUR='full'; export TIER='frontend'; cd -- "$HOME"/'app' || exit 96; eval 'grep -q '\''^flavour='\'' app.conf'
			) </dev/null; dl_rc=$?; dl_send 2 verify $dl_rc
			[ $dl_rc -eq 0 ] || dl_ok=; fi
	fi
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 4: secret (shell)
dl_sout 3 check; ( export DL_PARAM_flavour='full'; export DL_PARAM_token='******'; export DL_PARAM_wait='45'; test -s ~/.token
) </dev/null; dl_rc=$?; dl_send 3 check $dl_rc
if [ -n "$dl_clean" ] && ! { [ $dl_rc -eq 0 ]; }; then
	dl_need_t; dl_ok=1
	if :; then
		dl_a=0; while :; do dl_a=$((dl_a+1))
			dl_need_t; dl_frame 3 start run; ( export DL_PARAM_flavour='full'; export DL_PARAM_token='******'; export DL_PARAM_wait='45'; eval 'umask 077; printf '\''%s'\'' '\''******'\'' > ~/.token; test "$DL_PARAM_token" = '\''******'\'''
			) </dev/null >"$dl_t.o" 2>"$dl_t.e"; dl_rc=$?
			dl_frame 3 run $dl_rc; dl_payload 3 out "$dl_t.o"; dl_payload 3 err "$dl_t.e"
			if [ $dl_rc -eq 0 ] || [ $dl_a -ge 1 ]; then break; fi; done
		[ $dl_rc -eq 0 ] || dl_ok=
		if [ -n "$dl_ok" ]; then dl_sout 3 verify; ( export DL_PARAM_flavour='full'; export DL_PARAM_token='******'; export DL_PARAM_wait='45'; test -s ~/.token
			) </dev/null; dl_rc=$?; dl_send 3 verify $dl_rc
			[ $dl_rc -eq 0 ] || dl_ok=; fi
	fi
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 5: timed (shell)
dl_sout 4 check; ( export DL_PARAM_flavour='full'; export DL_PARAM_token='******'; export DL_PARAM_wait='45'; eval '[ -f /var/lib/app/warm ]'
) </dev/null; dl_rc=$?; dl_send 4 check $dl_rc
if [ -n "$dl_clean" ] && ! { [ $dl_rc -eq 0 ]; }; then
	dl_need_t; dl_ok=1
	if :; then
		dl_a=0; while :; do dl_a=$((dl_a+1))
			dl_need_t; dl_frame 4 start run; ( export DL_PARAM_flavour='full'; export DL_PARAM_token='******'; export DL_PARAM_wait='45'; eval 'sleep 5 && touch /var/lib/app/warm'
			) </dev/null >"$dl_t.o" 2>"$dl_t.e"; dl_rc=$?
			dl_frame 4 run $dl_rc; dl_payload 4 out "$dl_t.o"; dl_payload 4 err "$dl_t.e"
			if [ $dl_rc -eq 0 ] || [ $dl_a -ge 1 ]; then break; fi; done
		[ $dl_rc -eq 0 ] || dl_ok=
		if [ -n "$dl_ok" ]; then dl_sout 4 verify; ( export DL_PARAM_flavour='full'; export DL_PARAM_token='******'; export DL_PARAM_wait='45'; eval '[ -f /var/lib/app/warm ]'
			) </dev/null; dl_rc=$?; dl_send 4 verify $dl_rc
			[ $dl_rc -eq 0 ] || dl_ok=; fi
	fi
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 6: only-full (shell)
if [ -n "$dl_clean" ]; then
	dl_a=0; while :; do dl_a=$((dl_a+1))
		dl_need_t; dl_frame 5 start run; ( export DL_PARAM_flavour='full'; export DL_PARAM_token='******'; export DL_PARAM_wait='45'; echo full flavour
		) </dev/null >"$dl_t.o" 2>"$dl_t.e"; dl_rc=$?
		dl_frame 5 run $dl_rc; dl_payload 5 out "$dl_t.o"; dl_payload 5 err "$dl_t.e"
		if [ $dl_rc -eq 0 ] || [ $dl_a -ge 1 ]; then break; fi; done
fi
[ $dl_rc -eq 0 ] || dl_clean=
# step 8: not-lite (shell)
dl_sout 7 check; ( export DL_PARAM_flavour='full'; export DL_PARAM_token='******'; export DL_PARAM_wait='45'; true
) </dev/null; dl_rc=$?; dl_send 7 check $dl_rc
if [ -n "$dl_clean" ] && ! { [ $dl_rc -eq 0 ]; }; then
	dl_need_t; dl_ok=1
	if :; then
		dl_a=0; while :; do dl_a=$((dl_a+1))
			dl_need_t; dl_frame 7 start run; ( export DL_PARAM_flavour='full'; export DL_PARAM_token='******'; export DL_PARAM_wait='45'; echo not lite
			) </dev/null >"$dl_t.o" 2>"$dl_t.e"; dl_rc=$?
			dl_frame 7 run $dl_rc; dl_payload 7 out "$dl_t.o"; dl_payload 7 err "$dl_t.e"
			if [ $dl_rc -eq 0 ] || [ $dl_a -ge 1 ]; then break; fi; done
		[ $dl_rc -eq 0 ] || dl_ok=
		if [ -n "$dl_ok" ]; then dl_sout 7 verify; ( export DL_PARAM_flavour='full'; export DL_PARAM_token='******'; export DL_PARAM_wait='45'; true
			) </dev/null; dl_rc=$?; dl_send 7 verify $dl_rc
			[ $dl_rc -eq 0 ] || dl_ok=; fi
	fi
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 9: on-macos (shell)
if [ "$dl_os" = 'MacOS' ]; then :
	if [ -n "$dl_clean" ]; then
		dl_a=0; while :; do dl_a=$((dl_a+1))
			dl_need_t; dl_frame 8 start run; ( export DL_PARAM_flavour='full'; export DL_PARAM_token='******'; export DL_PARAM_wait='45'; sw_vers
			) </dev/null >"$dl_t.o" 2>"$dl_t.e"; dl_rc=$?
			dl_frame 8 run $dl_rc; dl_payload 8 out "$dl_t.o"; dl_payload 8 err "$dl_t.e"
			if [ $dl_rc -eq 0 ] || [ $dl_a -ge 1 ]; then break; fi; done
	fi
	[ $dl_rc -eq 0 ] || dl_clean=
else dl_frame 8 skip platform; fi
# step 10: windows-only (powershell)
dl_frame 9 skip platform
true || dl_clean=

}
dl_main </dev/null
dl_rc=$?
printf '%s\n%s - end 0 %s\n' "$dl_ob" "$DLM" $dl_rc
dl_ob=
exit $dl_rc
