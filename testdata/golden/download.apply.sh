# driftless: the first script of an apply of association "download" (document "download") on host linux (POSIX sh)
# Its steps (its reports number them from 0):
#   1 tool (download)
dl_key='5c5cd2c9b62732eb624da457'
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
dl_clean=1
# step 1: tool (file /usr/local/bin/tool)
if [ -L '/usr/local/bin/tool' ]; then dl_k=3
elif [ -f '/usr/local/bin/tool' ]; then dl_k=1; dl_sha '/usr/local/bin/tool'; dl_stat '/usr/local/bin/tool'
elif [ -e '/usr/local/bin/tool' ] || [ -L '/usr/local/bin/tool' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 0 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 0 stat $dl_k; fi
if [ -n "$dl_clean" ] && ! { [ $dl_k = 1 ] && [ "$dl_s" = 9954acd9324ea1939fd80e9e99fb4a97b5b965916d7301d157ee0d254fc44d0a ] && [ "$dl_m" = 755 ]; }; then
	dl_need_t; dl_ok=1
	dl_tmp='/usr/local/bin'/'.tool'.dl-tmp.$dl_tok; printf '%s\n' "$dl_tmp" >>"$dl_t.w"
	if { { printf '#!/bin/sh\012# A tool the download step installs.\012echo "tool 1.0"\012'; } >"$dl_tmp"; } 2>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	if [ -n "$dl_ok" ]; then
		[ -z "$dl_ok" ] || chmod 0755 "$dl_tmp" 2>>"$dl_t.e" || dl_ok=
		if [ -n "$dl_ok" ] && mv -f -- "$dl_tmp" '/usr/local/bin/tool' 2>>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	fi
	dl_frame 0 applied "${dl_ok:-0}"; dl_payload 0 err "$dl_t.e"
	dl_fixed0=1
	[ -n "$dl_ok" ] || dl_clean=
fi
if [ -n "$dl_fixed0" ]; then
	if [ -L '/usr/local/bin/tool' ]; then dl_k=3
	elif [ -f '/usr/local/bin/tool' ]; then dl_k=1; if { IFS= read -r dl_l && [ "$dl_l" = '#!/bin/sh' ] && IFS= read -r dl_l && [ "$dl_l" = '# A tool the download step installs.' ] && IFS= read -r dl_l && [ "$dl_l" = 'echo "tool 1.0"' ] && ! IFS= read -r dl_l && [ -z "$dl_l" ]; } <'/usr/local/bin/tool' 2>/dev/null; then dl_s=9954acd9324ea1939fd80e9e99fb4a97b5b965916d7301d157ee0d254fc44d0a; else dl_sha '/usr/local/bin/tool'; fi; dl_m=- dl_o=- dl_g=- dl_z=0
	elif [ -e '/usr/local/bin/tool' ] || [ -L '/usr/local/bin/tool' ]; then dl_k=2; else dl_k=0; fi
	if [ $dl_k = 1 ]; then dl_frame 0 after "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 0 after $dl_k; fi
fi

}
dl_main </dev/null
dl_rc=$?
printf '%s\n%s - end 0 %s\n' "$dl_ob" "$DLM" $dl_rc
dl_ob=
exit $dl_rc
# apply: this script corrects the steps it finds drifted and runs the steps without a check, in order; a second script corrects and runs the rest only after a correction or a run that failed (as on_failure says), or after a step's timeout
