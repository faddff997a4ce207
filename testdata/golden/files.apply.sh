# driftless: the first script of an apply of association "files" (document "files") on host linux (POSIX sh)
# Its steps (its reports number them from 0):
#   1 conf-dir (directory)
#   2 cache-dir (directory)
#   3 old-dir (directory)
#   4 config (file)
#   5 motd (file)
#   6 script (file)
#   7 binary (file)
#   8 notes (file)
#   9 empty (file)
#   10 relative (file)
#   11 at-root (file)
#   12 stale (file)
dl_key='325a680315bfc4c697d3209c'
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
set -f; dl_bok= dl_any=
dl_p0='/etc/app'; dl_e0=; if [ -e "$dl_p0" ]; then dl_any=1 dl_e0=1; else dl_p0=/; fi
dl_p1="$HOME"/'cache'; dl_e1=; if [ -e "$dl_p1" ]; then dl_any=1 dl_e1=1; else dl_p1=/; fi
if [ -z "$dl_any" ]; then dl_bok=1 dl_m0=- dl_o0=- dl_g0=- dl_z0=0 dl_m1=- dl_o1=- dl_g1=- dl_z1=0
else
	dl_x=$(if [ "$dl_os" = Linux ]; then stat -c '%a %U %G %s' -- "$dl_p0" "$dl_p1"; else stat -f '%Lp %Su %Sg %z' -- "$dl_p0" "$dl_p1"; fi 2>/dev/null)
	dl_ifs=$IFS; IFS='
'; set -- $dl_x; IFS=$dl_ifs
	if [ $# -eq 2 ]; then dl_bok=1
		dl_l0=${1}
		dl_l1=${2}
		set -- $dl_l0; dl_m0=$1 dl_o0=$2 dl_g0=$3 dl_z0=$4
		set -- $dl_l1; dl_m1=$1 dl_o1=$2 dl_g1=$3 dl_z1=$4
	fi; fi; set +f
# step 1: conf-dir (directory /etc/app)
if [ -L '/etc/app' ]; then dl_k=3
elif [ -d '/etc/app' ]; then dl_k=1; if [ -n "$dl_bok" ] && [ -n "$dl_e0" ]; then dl_s=- dl_m=$dl_m0 dl_o=$dl_o0 dl_g=$dl_g0 dl_z=$dl_z0; else dl_s=-; dl_stat '/etc/app'; fi
elif [ -e '/etc/app' ] || [ -L '/etc/app' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 0 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 0 stat $dl_k; fi
if [ -n "$dl_clean" ] && ! { [ $dl_k = 1 ] && [ "$dl_m" = 755 ] && [ "$dl_o" = 'root' ] && [ "$dl_g" = 'root' ]; }; then
	dl_need_t; dl_ok=1
	if [ -L '/etc/app' ]; then rm -f -- '/etc/app' || dl_ok=; fi 2>"$dl_t.e"
	if [ -d '/etc/app' ]; then :
		[ -z "$dl_ok" ] || chmod 0755 '/etc/app' 2>>"$dl_t.e" || dl_ok=
		[ -z "$dl_ok" ] || chown 'root:root' '/etc/app' 2>>"$dl_t.e" || dl_ok=
	else mkdir -p -m 0755 -- '/etc/app' 2>>"$dl_t.e" || dl_ok=
		[ -z "$dl_ok" ] || chown 'root:root' '/etc/app' 2>>"$dl_t.e" || dl_ok=
	fi
	dl_frame 0 applied "${dl_ok:-0}"; dl_payload 0 err "$dl_t.e"
	dl_fixed0=1
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 2: cache-dir (directory ~/cache)
if [ -L "$HOME"/'cache' ]; then dl_k=3
elif [ -d "$HOME"/'cache' ]; then dl_k=1; if [ -n "$dl_bok" ] && [ -n "$dl_e1" ]; then dl_s=- dl_m=$dl_m1 dl_o=$dl_o1 dl_g=$dl_g1 dl_z=$dl_z1; else dl_s=-; dl_stat "$HOME"/'cache'; fi
elif [ -e "$HOME"/'cache' ] || [ -L "$HOME"/'cache' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 1 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 1 stat $dl_k; fi
if [ -n "$dl_clean" ] && ! { [ $dl_k = 1 ]; }; then
	dl_need_t; dl_ok=1
	if [ -L "$HOME"/'cache' ]; then rm -f -- "$HOME"/'cache' || dl_ok=; fi 2>"$dl_t.e"
	if [ -d "$HOME"/'cache' ]; then :
	else umask go-w; mkdir -p -- "$HOME"/'cache' 2>>"$dl_t.e" || dl_ok=; umask "$dl_um0"
	fi
	dl_frame 1 applied "${dl_ok:-0}"; dl_payload 1 err "$dl_t.e"
	dl_fixed1=1
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 3: old-dir (directory /var/lib/app/old)
if [ -L '/var/lib/app/old' ]; then dl_k=3
elif [ -d '/var/lib/app/old' ]; then dl_k=1; dl_s=-; dl_stat '/var/lib/app/old'
elif [ -e '/var/lib/app/old' ] || [ -L '/var/lib/app/old' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 2 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 2 stat $dl_k; fi
if [ -n "$dl_clean" ] && ! { [ $dl_k = 0 ]; }; then
	dl_need_t; dl_ok=1
	rm -rf -- '/var/lib/app/old' 2>"$dl_t.e" || dl_ok=
	dl_frame 2 applied "${dl_ok:-0}"; dl_payload 2 err "$dl_t.e"
	dl_fixed2=1
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 4: config (file /etc/app/app.conf)
if [ -L '/etc/app/app.conf' ]; then dl_k=3
elif [ -f '/etc/app/app.conf' ]; then dl_k=1; dl_sha '/etc/app/app.conf'; dl_stat '/etc/app/app.conf'
elif [ -e '/etc/app/app.conf' ] || [ -L '/etc/app/app.conf' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 3 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 3 stat $dl_k; fi
if [ $dl_k = 1 ] && [ "$dl_s" != c816e9a8207ba950fc29ce9748c1828b8feb7da8a5004ff2c4e943744c62ad3c ]; then dl_cur 3 '/etc/app/app.conf' 262145; fi
if [ -n "$dl_clean" ] && ! { [ $dl_k = 1 ] && [ "$dl_s" = c816e9a8207ba950fc29ce9748c1828b8feb7da8a5004ff2c4e943744c62ad3c ] && [ "$dl_m" = 640 ] && [ "$dl_o" = 'root' ] && [ "$dl_g" = 'app' ]; }; then
	dl_need_t; dl_ok=1
	dl_tmp='/etc/app'/'.app.conf'.dl-tmp.$dl_tok; printf '%s\n' "$dl_tmp" >>"$dl_t.w"
	umask 137
	if { { printf '# managed by driftless: tier frontend\012listen = "0.0.0.0:8080"\012greeting = \047h\303\251llo\011world\047 # 100\045 \134 literal\012'; } >"$dl_tmp"; } 2>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	umask "$dl_um0"
	if [ -n "$dl_ok" ]; then
		[ -z "$dl_ok" ] || chown 'root:app' "$dl_tmp" 2>>"$dl_t.e" || dl_ok=
		if [ -n "$dl_ok" ] && mv -f -- "$dl_tmp" '/etc/app/app.conf' 2>>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	fi
	dl_frame 3 applied "${dl_ok:-0}"; dl_payload 3 err "$dl_t.e"
	dl_fixed3=1
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 5: motd (file /etc/motd)
if [ -L '/etc/motd' ]; then dl_k=3
elif [ -f '/etc/motd' ]; then dl_k=1; dl_sha '/etc/motd'; dl_stat '/etc/motd'
elif [ -e '/etc/motd' ] || [ -L '/etc/motd' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 4 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 4 stat $dl_k; fi
if [ $dl_k = 1 ] && [ "$dl_s" != a240f8fba6fb0af3ce476292a52a896ee8716ecd35b03223a5fb4b1b1986e886 ]; then dl_cur 4 '/etc/motd' 262145; fi
if [ -n "$dl_clean" ] && ! { [ $dl_k = 1 ] && [ "$dl_s" = a240f8fba6fb0af3ce476292a52a896ee8716ecd35b03223a5fb4b1b1986e886 ] && [ "$dl_m" = 644 ]; }; then
	dl_need_t; dl_ok=1
	dl_tmp='/etc'/'.motd'.dl-tmp.$dl_tok; printf '%s\n' "$dl_tmp" >>"$dl_t.w"
	umask 133
	if { { printf 'Authorised use only.'; } >"$dl_tmp"; } 2>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	umask "$dl_um0"
	if [ -n "$dl_ok" ]; then
		if [ -n "$dl_ok" ] && mv -f -- "$dl_tmp" '/etc/motd' 2>>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	fi
	dl_frame 4 applied "${dl_ok:-0}"; dl_payload 4 err "$dl_t.e"
	dl_fixed4=1
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 6: script (file /usr/local/bin/app-health)
if [ -L '/usr/local/bin/app-health' ]; then dl_k=3
elif [ -f '/usr/local/bin/app-health' ]; then dl_k=1; dl_sha '/usr/local/bin/app-health'; dl_stat '/usr/local/bin/app-health'
elif [ -e '/usr/local/bin/app-health' ] || [ -L '/usr/local/bin/app-health' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 5 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 5 stat $dl_k; fi
if [ $dl_k = 1 ] && [ "$dl_s" != 4226e081622713bb27bfc8eb30a4f4880b242fe6d39415d63ccb34a593218673 ]; then dl_cur 5 '/usr/local/bin/app-health' 262145; fi
if [ -n "$dl_clean" ] && ! { [ $dl_k = 1 ] && [ "$dl_s" = 4226e081622713bb27bfc8eb30a4f4880b242fe6d39415d63ccb34a593218673 ] && [ "$dl_m" = 755 ]; }; then
	dl_need_t; dl_ok=1
	dl_tmp='/usr/local/bin'/'.app-health'.dl-tmp.$dl_tok; printf '%s\n' "$dl_tmp" >>"$dl_t.w"
	if { { printf '#!/bin/sh\012exec curl -fsS http://localhost:8080/health\012'; } >"$dl_tmp"; } 2>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	if [ -n "$dl_ok" ]; then
		[ -z "$dl_ok" ] || chmod 0755 "$dl_tmp" 2>>"$dl_t.e" || dl_ok=
		if [ -n "$dl_ok" ] && mv -f -- "$dl_tmp" '/usr/local/bin/app-health' 2>>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	fi
	dl_frame 5 applied "${dl_ok:-0}"; dl_payload 5 err "$dl_t.e"
	dl_fixed5=1
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 7: binary (file /var/lib/app/logo.bin)
if [ -L '/var/lib/app/logo.bin' ]; then dl_k=3
elif [ -f '/var/lib/app/logo.bin' ]; then dl_k=1; dl_sha '/var/lib/app/logo.bin'; dl_stat '/var/lib/app/logo.bin'
elif [ -e '/var/lib/app/logo.bin' ] || [ -L '/var/lib/app/logo.bin' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 6 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 6 stat $dl_k; fi
if [ -n "$dl_clean" ] && ! { [ $dl_k = 1 ] && [ "$dl_s" = 7ea4b00d19fe7dee0b96e25c8db09af86417bc5977e722d4c9e20cb4bda6071d ]; }; then
	dl_need_t; dl_ok=1
	dl_tmp='/var/lib/app'/'.logo.bin'.dl-tmp.$dl_tok; printf '%s\n' "$dl_tmp" >>"$dl_t.w"
	umask go-w
	[ $dl_k != 1 ] || umask 077
	if { { printf 'PNG\000\001\002\377 logo\000\012'; } >"$dl_tmp"; } 2>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	umask "$dl_um0"
	if [ -n "$dl_ok" ]; then
		[ $dl_k != 1 ] || [ "$dl_m" = - ] || chmod "$dl_m" "$dl_tmp" 2>>"$dl_t.e" || dl_ok=
		if [ -n "$dl_ok" ] && mv -f -- "$dl_tmp" '/var/lib/app/logo.bin' 2>>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	fi
	dl_frame 6 applied "${dl_ok:-0}"; dl_payload 6 err "$dl_t.e"
	dl_fixed6=1
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 8: notes (file ~/notes.txt)
if [ -L "$HOME"/'notes.txt' ]; then dl_k=3
elif [ -f "$HOME"/'notes.txt' ]; then dl_k=1; dl_sha "$HOME"/'notes.txt'; dl_stat "$HOME"/'notes.txt'
elif [ -e "$HOME"/'notes.txt' ] || [ -L "$HOME"/'notes.txt' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 7 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 7 stat $dl_k; fi
if [ $dl_k = 1 ] && [ "$dl_s" != 4ffe15505ac1f594485290614004d512b52450cd14a5f0ca3b0143b82d752303 ]; then dl_cur 7 "$HOME"/'notes.txt' 262145; fi
if [ -n "$dl_clean" ] && ! { [ $dl_k = 1 ] && [ "$dl_s" = 4ffe15505ac1f594485290614004d512b52450cd14a5f0ca3b0143b82d752303 ]; }; then
	dl_need_t; dl_ok=1
	dl_tmp="$HOME"/'.notes.txt'.dl-tmp.$dl_tok; printf '%s\n' "$dl_tmp" >>"$dl_t.w"
	umask go-w
	[ $dl_k != 1 ] || umask 077
	if { { printf 'Notes kept on every host by driftless: line 01 of a text larger than a KiB.\012Notes kept on every host by driftless: line 02 of a text larger than a KiB.\012Notes kept on every host by driftless: line 03 of a text larger than a KiB.\012Notes kept on every host by driftless: line 04 of a text larger than a KiB.\012Notes kept on every host by driftless: line 05 of a text larger than a KiB.\012Notes kept on every host by driftless: line 06 of a text larger than a KiB.\012Notes kept on every host by driftless: line 07 of a text larger than a KiB.\012Notes kept on every host by driftless: line 08 of a text larger than a KiB.\012Notes kept on every host by driftless: line 09 of a text larger than a KiB.\012Notes kept on every host by driftless: line 10 of a text larger than a KiB.\012Notes kept on every host by driftless: line 11 of a text larger than a KiB.\012Notes kept on every host by driftless: line 12 of a text larger than a KiB.\012Notes kept on every host by driftless: line 13 of a text larger than a KiB.\012Notes kept on every host by driftless: line 14 of a text larger than a KiB.\012Notes kept on every host by driftless: line 15 of a text larger than a KiB.\012Notes kept on every host by driftless: line 16 of a text larger than a KiB.\012Notes kept on every host by driftless: line 17 of a text larger than a KiB.\012Notes kept on every host by driftless: line 18 of a text larger than a KiB.\012Notes kept on every host by driftless: line 19 of a text larger than a KiB.\012Notes kept on every host by driftless: line 20 of a text larger than a KiB.\012'; } >"$dl_tmp"; } 2>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	umask "$dl_um0"
	if [ -n "$dl_ok" ]; then
		[ $dl_k != 1 ] || [ "$dl_m" = - ] || chmod "$dl_m" "$dl_tmp" 2>>"$dl_t.e" || dl_ok=
		if [ -n "$dl_ok" ] && mv -f -- "$dl_tmp" "$HOME"/'notes.txt' 2>>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	fi
	dl_frame 7 applied "${dl_ok:-0}"; dl_payload 7 err "$dl_t.e"
	dl_fixed7=1
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 9: empty (file /etc/app/empty)
if [ -L '/etc/app/empty' ]; then dl_k=3
elif [ -f '/etc/app/empty' ]; then dl_k=1; dl_sha '/etc/app/empty'; dl_stat '/etc/app/empty'
elif [ -e '/etc/app/empty' ] || [ -L '/etc/app/empty' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 8 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 8 stat $dl_k; fi
if [ $dl_k = 1 ] && [ "$dl_s" != e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ]; then dl_cur 8 '/etc/app/empty' 262145; fi
if [ -n "$dl_clean" ] && ! { [ $dl_k = 1 ] && [ "$dl_s" = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ]; }; then
	dl_need_t; dl_ok=1
	dl_tmp='/etc/app'/'.empty'.dl-tmp.$dl_tok; printf '%s\n' "$dl_tmp" >>"$dl_t.w"
	umask go-w
	[ $dl_k != 1 ] || umask 077
	if { { printf ''; } >"$dl_tmp"; } 2>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	umask "$dl_um0"
	if [ -n "$dl_ok" ]; then
		[ $dl_k != 1 ] || [ "$dl_m" = - ] || chmod "$dl_m" "$dl_tmp" 2>>"$dl_t.e" || dl_ok=
		if [ -n "$dl_ok" ] && mv -f -- "$dl_tmp" '/etc/app/empty' 2>>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	fi
	dl_frame 8 applied "${dl_ok:-0}"; dl_payload 8 err "$dl_t.e"
	dl_fixed8=1
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 10: relative (file app.env)
if [ -L 'app.env' ]; then dl_k=3
elif [ -f 'app.env' ]; then dl_k=1; dl_sha 'app.env'; dl_stat 'app.env'
elif [ -e 'app.env' ] || [ -L 'app.env' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 9 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 9 stat $dl_k; fi
if [ $dl_k = 1 ] && [ "$dl_s" != c92d9fa0d29eb4d9d9b96e494c7134fb4a04542d6bdb24d45e4f9edeb542cb6e ]; then dl_cur 9 'app.env' 262145; fi
if [ -n "$dl_clean" ] && ! { [ $dl_k = 1 ] && [ "$dl_s" = c92d9fa0d29eb4d9d9b96e494c7134fb4a04542d6bdb24d45e4f9edeb542cb6e ]; }; then
	dl_need_t; dl_ok=1
	dl_tmp='./''.app.env'.dl-tmp.$dl_tok; printf '%s\n' "$dl_tmp" >>"$dl_t.w"
	umask go-w
	[ $dl_k != 1 ] || umask 077
	if { { printf 'TIER=frontend\012'; } >"$dl_tmp"; } 2>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	umask "$dl_um0"
	if [ -n "$dl_ok" ]; then
		[ $dl_k != 1 ] || [ "$dl_m" = - ] || chmod "$dl_m" "$dl_tmp" 2>>"$dl_t.e" || dl_ok=
		if [ -n "$dl_ok" ] && mv -f -- "$dl_tmp" 'app.env' 2>>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	fi
	dl_frame 9 applied "${dl_ok:-0}"; dl_payload 9 err "$dl_t.e"
	dl_fixed9=1
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 11: at-root (file /app.flag)
if [ -L '/app.flag' ]; then dl_k=3
elif [ -f '/app.flag' ]; then dl_k=1; dl_sha '/app.flag'; dl_stat '/app.flag'
elif [ -e '/app.flag' ] || [ -L '/app.flag' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 10 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 10 stat $dl_k; fi
if [ $dl_k = 1 ] && [ "$dl_s" != b6ac5bc39377e44ee783dff946f6703a994f5eb31a438e69dc0735b40060d2e8 ]; then dl_cur 10 '/app.flag' 262145; fi
if [ -n "$dl_clean" ] && ! { [ $dl_k = 1 ] && [ "$dl_s" = b6ac5bc39377e44ee783dff946f6703a994f5eb31a438e69dc0735b40060d2e8 ]; }; then
	dl_need_t; dl_ok=1
	dl_tmp='/''.app.flag'.dl-tmp.$dl_tok; printf '%s\n' "$dl_tmp" >>"$dl_t.w"
	umask go-w
	[ $dl_k != 1 ] || umask 077
	if { { printf 'on\012'; } >"$dl_tmp"; } 2>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	umask "$dl_um0"
	if [ -n "$dl_ok" ]; then
		[ $dl_k != 1 ] || [ "$dl_m" = - ] || chmod "$dl_m" "$dl_tmp" 2>>"$dl_t.e" || dl_ok=
		if [ -n "$dl_ok" ] && mv -f -- "$dl_tmp" '/app.flag' 2>>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	fi
	dl_frame 10 applied "${dl_ok:-0}"; dl_payload 10 err "$dl_t.e"
	dl_fixed10=1
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 12: stale (file /etc/app/stale.conf)
if [ -L '/etc/app/stale.conf' ]; then dl_k=3
elif [ -f '/etc/app/stale.conf' ]; then dl_k=1; dl_sha '/etc/app/stale.conf'; dl_stat '/etc/app/stale.conf'
elif [ -e '/etc/app/stale.conf' ] || [ -L '/etc/app/stale.conf' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 11 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 11 stat $dl_k; fi
if [ -n "$dl_clean" ] && ! { [ $dl_k = 0 ]; }; then
	dl_need_t; dl_ok=1
	rm -f -- '/etc/app/stale.conf' 2>"$dl_t.e" || dl_ok=
	dl_frame 11 applied "${dl_ok:-0}"; dl_payload 11 err "$dl_t.e"
	dl_fixed11=1
	[ -n "$dl_ok" ] || dl_clean=
fi
if [ -n "$dl_fixed6$dl_fixed7" ]; then
	set -f; dl_bok= dl_any=
	dl_p0='/var/lib/app/logo.bin'; dl_e0=; if [ -e "$dl_p0" ]; then dl_any=1 dl_e0=1; else dl_p0=/; fi
	dl_f0=$dl_p0; [ -f "$dl_f0" ] || dl_f0=/dev/null
	dl_p1="$HOME"/'notes.txt'; dl_e1=; if [ -e "$dl_p1" ]; then dl_any=1 dl_e1=1; else dl_p1=/; fi
	dl_f1=$dl_p1; [ -f "$dl_f1" ] || dl_f1=/dev/null
	if [ -z "$dl_any" ]; then dl_bok=1 dl_m0=- dl_o0=- dl_g0=- dl_z0=0 dl_s0=- dl_m1=- dl_o1=- dl_g1=- dl_z1=0 dl_s1=-
	else
		dl_need_t; if [ "$dl_os" = Linux ]; then stat -c '%a - - %s' -- "$dl_p0" "$dl_p1"; $dl_shacmd -- "$dl_f0" "$dl_f1"; else stat -f '%Lp - - %z' -- "$dl_p0" "$dl_p1"; $dl_shacmd -- "$dl_f0" "$dl_f1"; fi 2>/dev/null >"$dl_t.s"
		dl_x=; while IFS= read -r dl_l; do dl_x=$dl_x$dl_l'
'; done <"$dl_t.s"
			dl_ifs=$IFS; IFS='
'; set -- $dl_x; IFS=$dl_ifs
			if [ $# -eq 4 ]; then dl_bok=1
				dl_l0=${1}
				dl_l1=${2}
				dl_s0=${3}; dl_s0=${dl_s0%% *}; dl_s0=${dl_s0#\\}
				dl_s1=${4}; dl_s1=${dl_s1%% *}; dl_s1=${dl_s1#\\}
				set -- $dl_l0; dl_m0=$1 dl_o0=$2 dl_g0=$3 dl_z0=$4
				set -- $dl_l1; dl_m1=$1 dl_o1=$2 dl_g1=$3 dl_z1=$4
			fi; fi; set +f
	fi
	if [ -n "$dl_fixed0" ]; then
		if [ -L '/etc/app' ]; then dl_k=3
		elif [ -d '/etc/app' ]; then dl_k=1; dl_s=-; dl_m=- dl_o=- dl_g=- dl_z=0
		elif [ -e '/etc/app' ] || [ -L '/etc/app' ]; then dl_k=2; else dl_k=0; fi
		if [ $dl_k = 1 ]; then dl_frame 0 after "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 0 after $dl_k; fi
	fi
	if [ -n "$dl_fixed1" ]; then
		if [ -L "$HOME"/'cache' ]; then dl_k=3
		elif [ -d "$HOME"/'cache' ]; then dl_k=1; dl_s=-; dl_m=- dl_o=- dl_g=- dl_z=0
		elif [ -e "$HOME"/'cache' ] || [ -L "$HOME"/'cache' ]; then dl_k=2; else dl_k=0; fi
		if [ $dl_k = 1 ]; then dl_frame 1 after "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 1 after $dl_k; fi
	fi
	if [ -n "$dl_fixed2" ]; then
		if [ -L '/var/lib/app/old' ]; then dl_k=3
		elif [ -d '/var/lib/app/old' ]; then dl_k=1; dl_s=-; dl_m=- dl_o=- dl_g=- dl_z=0
		elif [ -e '/var/lib/app/old' ] || [ -L '/var/lib/app/old' ]; then dl_k=2; else dl_k=0; fi
		if [ $dl_k = 1 ]; then dl_frame 2 after "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 2 after $dl_k; fi
	fi
	if [ -n "$dl_fixed3" ]; then
		if [ -L '/etc/app/app.conf' ]; then dl_k=3
		elif [ -f '/etc/app/app.conf' ]; then dl_k=1; if { IFS= read -r dl_l && [ "$dl_l" = '# managed by driftless: tier frontend' ] && IFS= read -r dl_l && [ "$dl_l" = 'listen = "0.0.0.0:8080"' ] && IFS= read -r dl_l && [ "$dl_l" = 'greeting = '\''héllo	world'\'' # 100% \ literal' ] && ! IFS= read -r dl_l && [ -z "$dl_l" ]; } <'/etc/app/app.conf' 2>/dev/null; then dl_s=c816e9a8207ba950fc29ce9748c1828b8feb7da8a5004ff2c4e943744c62ad3c; else dl_sha '/etc/app/app.conf'; fi; dl_m=- dl_o=- dl_g=- dl_z=0
		elif [ -e '/etc/app/app.conf' ] || [ -L '/etc/app/app.conf' ]; then dl_k=2; else dl_k=0; fi
		if [ $dl_k = 1 ]; then dl_frame 3 after "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 3 after $dl_k; fi
	fi
	if [ -n "$dl_fixed4" ]; then
		if [ -L '/etc/motd' ]; then dl_k=3
		elif [ -f '/etc/motd' ]; then dl_k=1; if { ! IFS= read -r dl_l && [ "$dl_l" = 'Authorised use only.' ]; } <'/etc/motd' 2>/dev/null; then dl_s=a240f8fba6fb0af3ce476292a52a896ee8716ecd35b03223a5fb4b1b1986e886; else dl_sha '/etc/motd'; fi; dl_m=- dl_o=- dl_g=- dl_z=0
		elif [ -e '/etc/motd' ] || [ -L '/etc/motd' ]; then dl_k=2; else dl_k=0; fi
		if [ $dl_k = 1 ]; then dl_frame 4 after "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 4 after $dl_k; fi
	fi
	if [ -n "$dl_fixed5" ]; then
		if [ -L '/usr/local/bin/app-health' ]; then dl_k=3
		elif [ -f '/usr/local/bin/app-health' ]; then dl_k=1; if { IFS= read -r dl_l && [ "$dl_l" = '#!/bin/sh' ] && IFS= read -r dl_l && [ "$dl_l" = 'exec curl -fsS http://localhost:8080/health' ] && ! IFS= read -r dl_l && [ -z "$dl_l" ]; } <'/usr/local/bin/app-health' 2>/dev/null; then dl_s=4226e081622713bb27bfc8eb30a4f4880b242fe6d39415d63ccb34a593218673; else dl_sha '/usr/local/bin/app-health'; fi; dl_m=- dl_o=- dl_g=- dl_z=0
		elif [ -e '/usr/local/bin/app-health' ] || [ -L '/usr/local/bin/app-health' ]; then dl_k=2; else dl_k=0; fi
		if [ $dl_k = 1 ]; then dl_frame 5 after "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 5 after $dl_k; fi
	fi
	if [ -n "$dl_fixed6" ]; then
		if [ -L '/var/lib/app/logo.bin' ]; then dl_k=3
		elif [ -f '/var/lib/app/logo.bin' ]; then dl_k=1; if [ -n "$dl_bok" ] && [ -n "$dl_e0" ]; then dl_s=$dl_s0 dl_m=$dl_m0 dl_o=$dl_o0 dl_g=$dl_g0 dl_z=$dl_z0; else dl_sha '/var/lib/app/logo.bin'; dl_stat '/var/lib/app/logo.bin'; fi
		elif [ -e '/var/lib/app/logo.bin' ] || [ -L '/var/lib/app/logo.bin' ]; then dl_k=2; else dl_k=0; fi
		if [ $dl_k = 1 ]; then dl_frame 6 after "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 6 after $dl_k; fi
	fi
	if [ -n "$dl_fixed7" ]; then
		if [ -L "$HOME"/'notes.txt' ]; then dl_k=3
		elif [ -f "$HOME"/'notes.txt' ]; then dl_k=1; if [ -n "$dl_bok" ] && [ -n "$dl_e1" ]; then dl_s=$dl_s1 dl_m=$dl_m1 dl_o=$dl_o1 dl_g=$dl_g1 dl_z=$dl_z1; else dl_sha "$HOME"/'notes.txt'; dl_stat "$HOME"/'notes.txt'; fi
		elif [ -e "$HOME"/'notes.txt' ] || [ -L "$HOME"/'notes.txt' ]; then dl_k=2; else dl_k=0; fi
		if [ $dl_k = 1 ]; then dl_frame 7 after "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 7 after $dl_k; fi
	fi
	if [ -n "$dl_fixed8" ]; then
		if [ -L '/etc/app/empty' ]; then dl_k=3
		elif [ -f '/etc/app/empty' ]; then dl_k=1; if [ ! -s '/etc/app/empty' ]; then dl_s=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855; else dl_sha '/etc/app/empty'; fi; dl_m=- dl_o=- dl_g=- dl_z=0
		elif [ -e '/etc/app/empty' ] || [ -L '/etc/app/empty' ]; then dl_k=2; else dl_k=0; fi
		if [ $dl_k = 1 ]; then dl_frame 8 after "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 8 after $dl_k; fi
	fi
	if [ -n "$dl_fixed9" ]; then
		if [ -L 'app.env' ]; then dl_k=3
		elif [ -f 'app.env' ]; then dl_k=1; if { IFS= read -r dl_l && [ "$dl_l" = 'TIER=frontend' ] && ! IFS= read -r dl_l && [ -z "$dl_l" ]; } <'app.env' 2>/dev/null; then dl_s=c92d9fa0d29eb4d9d9b96e494c7134fb4a04542d6bdb24d45e4f9edeb542cb6e; else dl_sha 'app.env'; fi; dl_m=- dl_o=- dl_g=- dl_z=0
		elif [ -e 'app.env' ] || [ -L 'app.env' ]; then dl_k=2; else dl_k=0; fi
		if [ $dl_k = 1 ]; then dl_frame 9 after "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 9 after $dl_k; fi
	fi
	if [ -n "$dl_fixed10" ]; then
		if [ -L '/app.flag' ]; then dl_k=3
		elif [ -f '/app.flag' ]; then dl_k=1; if { IFS= read -r dl_l && [ "$dl_l" = 'on' ] && ! IFS= read -r dl_l && [ -z "$dl_l" ]; } <'/app.flag' 2>/dev/null; then dl_s=b6ac5bc39377e44ee783dff946f6703a994f5eb31a438e69dc0735b40060d2e8; else dl_sha '/app.flag'; fi; dl_m=- dl_o=- dl_g=- dl_z=0
		elif [ -e '/app.flag' ] || [ -L '/app.flag' ]; then dl_k=2; else dl_k=0; fi
		if [ $dl_k = 1 ]; then dl_frame 10 after "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 10 after $dl_k; fi
	fi
	if [ -n "$dl_fixed11" ]; then
		if [ -L '/etc/app/stale.conf' ]; then dl_k=3
		elif [ -f '/etc/app/stale.conf' ]; then dl_k=1; dl_s=-; dl_m=- dl_o=- dl_g=- dl_z=0
		elif [ -e '/etc/app/stale.conf' ] || [ -L '/etc/app/stale.conf' ]; then dl_k=2; else dl_k=0; fi
		if [ $dl_k = 1 ]; then dl_frame 11 after "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 11 after $dl_k; fi
	fi

}
dl_main </dev/null
dl_rc=$?
printf '%s\n%s - end 0 %s\n' "$dl_ob" "$DLM" $dl_rc
dl_ob=
exit $dl_rc
# apply: this script corrects the steps it finds drifted and runs the steps without a check, in order; a second script corrects and runs the rest only after a correction or a run that failed (as on_failure says), or after a step's timeout
