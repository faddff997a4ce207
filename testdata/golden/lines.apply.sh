# driftless: the first script of an apply of association "lines" (document "lines") on host linux (POSIX sh)
# Its steps (its reports number them from 0):
#   1 editor (line)
#   2 allow (line)
#   3 root-login (line)
#   4 no-debug (line)
#   5 no-proxy (line)
#   6 quoted (line)
dl_key='6105faddb7bc4375a4966a64'
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
dl_p0="$HOME"/'.profile'; dl_e0=; if [ -e "$dl_p0" ]; then dl_any=1 dl_e0=1; else dl_p0=/; fi
dl_p1='/etc/hosts.allow'; dl_e1=; if [ -e "$dl_p1" ]; then dl_any=1 dl_e1=1; else dl_p1=/; fi
dl_p2='/etc/ssh/sshd_config'; dl_e2=; if [ -e "$dl_p2" ]; then dl_any=1 dl_e2=1; else dl_p2=/; fi
dl_p3='/etc/environment'; dl_e3=; if [ -e "$dl_p3" ]; then dl_any=1 dl_e3=1; else dl_p3=/; fi
dl_p4="$HOME"/'.bashrc'; dl_e4=; if [ -e "$dl_p4" ]; then dl_any=1 dl_e4=1; else dl_p4=/; fi
if [ -z "$dl_any" ]; then dl_bok=1 dl_m0=- dl_o0=- dl_g0=- dl_z0=0 dl_m1=- dl_o1=- dl_g1=- dl_z1=0 dl_m2=- dl_o2=- dl_g2=- dl_z2=0 dl_m3=- dl_o3=- dl_g3=- dl_z3=0 dl_m4=- dl_o4=- dl_g4=- dl_z4=0
else
	dl_x=$(if [ "$dl_os" = Linux ]; then stat -c '%a - - %s' -- "$dl_p0" "$dl_p1" "$dl_p2" "$dl_p3" "$dl_p4"; else stat -f '%Lp - - %z' -- "$dl_p0" "$dl_p1" "$dl_p2" "$dl_p3" "$dl_p4"; fi 2>/dev/null)
	dl_ifs=$IFS; IFS='
'; set -- $dl_x; IFS=$dl_ifs
	if [ $# -eq 5 ]; then dl_bok=1
		dl_l0=${1}
		dl_l1=${2}
		dl_l2=${3}
		dl_l3=${4}
		dl_l4=${5}
		set -- $dl_l0; dl_m0=$1 dl_o0=$2 dl_g0=$3 dl_z0=$4
		set -- $dl_l1; dl_m1=$1 dl_o1=$2 dl_g1=$3 dl_z1=$4
		set -- $dl_l2; dl_m2=$1 dl_o2=$2 dl_g2=$3 dl_z2=$4
		set -- $dl_l3; dl_m3=$1 dl_o3=$2 dl_g3=$3 dl_z3=$4
		set -- $dl_l4; dl_m4=$1 dl_o4=$2 dl_g4=$3 dl_z4=$4
	fi; fi; set +f
# step 1: editor (line ~/.profile)
if [ -L "$HOME"/'.profile' ]; then dl_k=3
elif [ -f "$HOME"/'.profile' ]; then dl_k=1
elif [ -e "$HOME"/'.profile' ] || [ -L "$HOME"/'.profile' ]; then dl_k=2; else dl_k=0; fi
dl_lc= dl_sr=
if [ $dl_k = 1 ] && if [ -n "$dl_bok" ] && [ -n "$dl_e0" ] && [ "$dl_z0" -le 1024 ] && dl_hasline 'export EDITOR=vi' "$HOME"/'.profile' "$dl_z0"; then dl_sr=1; [ $dl_h = 1 ]; else grep -qxF -- 'export EDITOR=vi' "$HOME"/'.profile' 2>/dev/null; fi; then dl_h=1; else dl_h=0; fi
if [ $dl_k = 1 ] && [ $dl_h = 1 ]; then dl_lc=1; fi
if [ $dl_k = 1 ] && [ -z "$dl_lc" ]; then if [ -n "$dl_bok" ] && [ -n "$dl_e0" ]; then dl_m=$dl_m0 dl_o=$dl_o0 dl_g=$dl_g0 dl_z=$dl_z0; else dl_stat "$HOME"/'.profile'; fi; else dl_m=- dl_o=- dl_g=- dl_z=0; fi
if [ $dl_k = 1 ]; then dl_frame 0 stat "1 - $dl_m $dl_o $dl_g $dl_z"; else dl_frame 0 stat $dl_k; fi
dl_frame 0 has ${dl_lc:-0}
if [ $dl_k = 1 ] && [ -z "$dl_lc" ]; then if [ -n "$dl_sr" ]; then dl_payload 0 cur "$HOME"/'.profile' 1025; else dl_cur 0 "$HOME"/'.profile' 8388609; fi; fi
if [ -n "$dl_clean" ] && ! { [ $dl_k = 1 ] && [ -n "$dl_lc" ]; }; then
	dl_need_t; dl_ok=1
	dl_tmp="$HOME"/'..profile'.dl-tmp.$dl_tok; dl_rc=3; printf '%s\n' "$dl_tmp" >>"$dl_t.w"
	if [ $dl_k = 1 ] && [ "$dl_z" -le 8388608 ]; then
		dl_um=; case $dl_m in [0246][0246][0246]) dl_r=${dl_m#?}; dl_um=$((7-${dl_m%??}))$((7-${dl_r%?}))$((7-${dl_m#??})) ;; esac
		if [ -n "$dl_sr" ]; then
			[ -z "$dl_um" ] || umask $dl_um; dl_rc=0
			{ dl_l=; while IFS= read -r dl_l; do case $dl_l in *''*) dl_rc=3; break ;; esac; printf '%s\n' "$dl_l"; dl_l=; done
				case $dl_l in *''*) dl_rc=3 ;; esac
				if [ $dl_rc = 0 ]; then [ -z "$dl_l" ] || printf '%s\n' "$dl_l"; printf '%s\n' 'export EDITOR=vi'; fi; } 2>"$dl_t.e" <"$HOME"/'.profile' >"$dl_tmp" || { [ $dl_rc = 3 ] || dl_rc=1; }
			umask "$dl_um0"
		else
			( [ -z "$dl_um" ] || umask $dl_um; export DL_LINE='export EDITOR=vi'; exec awk 'index($0, "\r") { cr = 1; exit 3 } { print } END { if (!cr) print ENVIRON["DL_LINE"] }' <"$HOME"/'.profile' >"$dl_tmp" ) 2>"$dl_t.e"; dl_rc=$?
		fi
	elif [ $dl_k = 0 ]; then
		umask go-w; printf '%s\n' 'export EDITOR=vi' 2>"$dl_t.e" >"$dl_tmp"; dl_rc=$?; umask "$dl_um0"
	fi
	if [ $dl_rc = 3 ]; then rm -f -- "$dl_tmp"; dl_ok=
	else
		[ $dl_rc = 0 ] || dl_ok=
		[ -z "$dl_ok" ] || [ $dl_k != 1 ] || [ "$dl_m" = - ] || [ -n "$dl_um" ] || chmod "$dl_m" "$dl_tmp" 2>>"$dl_t.e" || dl_ok=
		if [ -n "$dl_ok" ] && mv -f -- "$dl_tmp" "$HOME"/'.profile' 2>>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
		dl_frame 0 applied "${dl_ok:-0}"; dl_payload 0 err "$dl_t.e"
		dl_fixed0=1
	fi
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 2: allow (line /etc/hosts.allow)
if [ -L '/etc/hosts.allow' ]; then dl_k=3
elif [ -f '/etc/hosts.allow' ]; then dl_k=1
elif [ -e '/etc/hosts.allow' ] || [ -L '/etc/hosts.allow' ]; then dl_k=2; else dl_k=0; fi
dl_lc= dl_sr=
if [ $dl_k = 1 ] && if [ -n "$dl_bok" ] && [ -n "$dl_e1" ] && [ "$dl_z1" -le 1024 ] && dl_hasline 'sshd: 10.0.0.0/8' '/etc/hosts.allow' "$dl_z1"; then dl_sr=1; [ $dl_h = 1 ]; else grep -qxF -- 'sshd: 10.0.0.0/8' '/etc/hosts.allow' 2>/dev/null; fi; then dl_h=1; else dl_h=0; fi
if [ $dl_k = 1 ] && [ $dl_h = 1 ]; then dl_lc=1; fi
if [ $dl_k = 1 ] && [ -z "$dl_lc" ]; then if [ -n "$dl_bok" ] && [ -n "$dl_e1" ]; then dl_m=$dl_m1 dl_o=$dl_o1 dl_g=$dl_g1 dl_z=$dl_z1; else dl_stat '/etc/hosts.allow'; fi; else dl_m=- dl_o=- dl_g=- dl_z=0; fi
if [ $dl_k = 1 ]; then dl_frame 1 stat "1 - $dl_m $dl_o $dl_g $dl_z"; else dl_frame 1 stat $dl_k; fi
dl_frame 1 has ${dl_lc:-0}
if [ $dl_k = 1 ] && [ -z "$dl_lc" ]; then if [ -n "$dl_sr" ]; then dl_payload 1 cur '/etc/hosts.allow' 1025; else dl_cur 1 '/etc/hosts.allow' 8388609; fi; fi
if [ -n "$dl_clean" ] && ! { [ $dl_k = 1 ] && [ -n "$dl_lc" ]; }; then
	dl_need_t; dl_ok=1
	dl_tmp='/etc'/'.hosts.allow'.dl-tmp.$dl_tok; dl_rc=3; printf '%s\n' "$dl_tmp" >>"$dl_t.w"
	if [ $dl_k = 1 ] && [ "$dl_z" -le 8388608 ]; then
		dl_um=; case $dl_m in [0246][0246][0246]) dl_r=${dl_m#?}; dl_um=$((7-${dl_m%??}))$((7-${dl_r%?}))$((7-${dl_m#??})) ;; esac
		if [ -n "$dl_sr" ]; then
			[ -z "$dl_um" ] || umask $dl_um; dl_rc=0
			{ dl_l=; while IFS= read -r dl_l; do case $dl_l in *''*) dl_rc=3; break ;; esac; printf '%s\n' "$dl_l"; dl_l=; done
				case $dl_l in *''*) dl_rc=3 ;; esac
				if [ $dl_rc = 0 ]; then [ -z "$dl_l" ] || printf '%s\n' "$dl_l"; printf '%s\n' 'sshd: 10.0.0.0/8'; fi; } 2>"$dl_t.e" <'/etc/hosts.allow' >"$dl_tmp" || { [ $dl_rc = 3 ] || dl_rc=1; }
			umask "$dl_um0"
		else
			( [ -z "$dl_um" ] || umask $dl_um; export DL_LINE='sshd: 10.0.0.0/8'; exec awk 'index($0, "\r") { cr = 1; exit 3 } { print } END { if (!cr) print ENVIRON["DL_LINE"] }' <'/etc/hosts.allow' >"$dl_tmp" ) 2>"$dl_t.e"; dl_rc=$?
		fi
	fi
	if [ $dl_rc = 3 ]; then rm -f -- "$dl_tmp"; dl_ok=
	else
		[ $dl_rc = 0 ] || dl_ok=
		[ -z "$dl_ok" ] || [ $dl_k != 1 ] || [ "$dl_m" = - ] || [ -n "$dl_um" ] || chmod "$dl_m" "$dl_tmp" 2>>"$dl_t.e" || dl_ok=
		if [ -n "$dl_ok" ] && mv -f -- "$dl_tmp" '/etc/hosts.allow' 2>>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
		dl_frame 1 applied "${dl_ok:-0}"; dl_payload 1 err "$dl_t.e"
		dl_fixed1=1
	fi
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 3: root-login (line /etc/ssh/sshd_config)
if [ -L '/etc/ssh/sshd_config' ]; then dl_k=3
elif [ -f '/etc/ssh/sshd_config' ]; then dl_k=1
elif [ -e '/etc/ssh/sshd_config' ] || [ -L '/etc/ssh/sshd_config' ]; then dl_k=2; else dl_k=0; fi
dl_lc= dl_sr=
if [ $dl_k = 1 ] && [ -z "$dl_lc" ]; then if [ -n "$dl_bok" ] && [ -n "$dl_e2" ]; then dl_m=$dl_m2 dl_o=$dl_o2 dl_g=$dl_g2 dl_z=$dl_z2; else dl_stat '/etc/ssh/sshd_config'; fi; else dl_m=- dl_o=- dl_g=- dl_z=0; fi
if [ $dl_k = 1 ]; then dl_frame 2 stat "1 - $dl_m $dl_o $dl_g $dl_z"; else dl_frame 2 stat $dl_k; fi
if [ $dl_k = 1 ] && [ -z "$dl_lc" ]; then if [ -n "$dl_sr" ]; then dl_payload 2 cur '/etc/ssh/sshd_config' 1025; else dl_cur 2 '/etc/ssh/sshd_config' 8388609; fi; fi
dl_clean=
# step 4: no-debug (line /etc/environment)
if [ -L '/etc/environment' ]; then dl_k=3
elif [ -f '/etc/environment' ]; then dl_k=1
elif [ -e '/etc/environment' ] || [ -L '/etc/environment' ]; then dl_k=2; else dl_k=0; fi
dl_lc= dl_sr=
if [ $dl_k = 1 ] && grep -qF -- 'DEBUG=1' '/etc/environment' 2>/dev/null; then dl_h=1; else dl_h=0; fi
if [ $dl_k = 0 ] || { [ $dl_k = 1 ] && [ $dl_h = 0 ]; }; then dl_lc=1; fi
if [ $dl_k = 1 ] && [ -z "$dl_lc" ]; then if [ -n "$dl_bok" ] && [ -n "$dl_e3" ]; then dl_m=$dl_m3 dl_o=$dl_o3 dl_g=$dl_g3 dl_z=$dl_z3; else dl_stat '/etc/environment'; fi; else dl_m=- dl_o=- dl_g=- dl_z=0; fi
if [ $dl_k = 1 ]; then dl_frame 3 stat "1 - $dl_m $dl_o $dl_g $dl_z"; else dl_frame 3 stat $dl_k; fi
dl_frame 3 has ${dl_lc:-0}
if [ $dl_k = 1 ] && [ -z "$dl_lc" ]; then if [ -n "$dl_sr" ]; then dl_payload 3 cur '/etc/environment' 1025; else dl_cur 3 '/etc/environment' 8388609; fi; fi
[ -n "$dl_lc" ] || dl_clean=
# step 5: no-proxy (line /etc/environment)
if [ -L '/etc/environment' ]; then dl_k=3
elif [ -f '/etc/environment' ]; then dl_k=1
elif [ -e '/etc/environment' ] || [ -L '/etc/environment' ]; then dl_k=2; else dl_k=0; fi
dl_lc= dl_sr=
if [ $dl_k = 1 ] && [ -z "$dl_lc" ]; then dl_stat '/etc/environment'; else dl_m=- dl_o=- dl_g=- dl_z=0; fi
if [ $dl_k = 1 ]; then dl_frame 4 stat "1 - $dl_m $dl_o $dl_g $dl_z"; else dl_frame 4 stat $dl_k; fi
if [ $dl_k = 1 ] && [ -z "$dl_lc" ]; then if [ -n "$dl_sr" ]; then dl_payload 4 cur '/etc/environment' 1025; else dl_cur 4 '/etc/environment' 8388609; fi; fi
dl_clean=
# step 6: quoted (line ~/.bashrc)
if [ -L "$HOME"/'.bashrc' ]; then dl_k=3
elif [ -f "$HOME"/'.bashrc' ]; then dl_k=1
elif [ -e "$HOME"/'.bashrc' ] || [ -L "$HOME"/'.bashrc' ]; then dl_k=2; else dl_k=0; fi
dl_lc= dl_sr=
if [ $dl_k = 1 ] && if [ -n "$dl_bok" ] && [ -n "$dl_e4" ] && [ "$dl_z4" -le 1024 ] && dl_hasline 'alias ll='\''ls -l'\'' # 100% \ done' "$HOME"/'.bashrc' "$dl_z4"; then dl_sr=1; [ $dl_h = 1 ]; else grep -qxF -- 'alias ll='\''ls -l'\'' # 100% \ done' "$HOME"/'.bashrc' 2>/dev/null; fi; then dl_h=1; else dl_h=0; fi
if [ $dl_k = 1 ] && [ $dl_h = 1 ]; then dl_lc=1; fi
if [ $dl_k = 1 ] && [ -z "$dl_lc" ]; then if [ -n "$dl_bok" ] && [ -n "$dl_e4" ]; then dl_m=$dl_m4 dl_o=$dl_o4 dl_g=$dl_g4 dl_z=$dl_z4; else dl_stat "$HOME"/'.bashrc'; fi; else dl_m=- dl_o=- dl_g=- dl_z=0; fi
if [ $dl_k = 1 ]; then dl_frame 5 stat "1 - $dl_m $dl_o $dl_g $dl_z"; else dl_frame 5 stat $dl_k; fi
dl_frame 5 has ${dl_lc:-0}
if [ $dl_k = 1 ] && [ -z "$dl_lc" ]; then if [ -n "$dl_sr" ]; then dl_payload 5 cur "$HOME"/'.bashrc' 1025; else dl_cur 5 "$HOME"/'.bashrc' 8388609; fi; fi
if [ -n "$dl_clean" ] && ! { [ $dl_k = 1 ] && [ -n "$dl_lc" ]; }; then
	dl_need_t; dl_ok=1
	dl_tmp="$HOME"/'..bashrc'.dl-tmp.$dl_tok; dl_rc=3; printf '%s\n' "$dl_tmp" >>"$dl_t.w"
	if [ $dl_k = 1 ] && [ "$dl_z" -le 8388608 ]; then
		dl_um=; case $dl_m in [0246][0246][0246]) dl_r=${dl_m#?}; dl_um=$((7-${dl_m%??}))$((7-${dl_r%?}))$((7-${dl_m#??})) ;; esac
		if [ -n "$dl_sr" ]; then
			[ -z "$dl_um" ] || umask $dl_um; dl_rc=0
			{ dl_l=; while IFS= read -r dl_l; do case $dl_l in *''*) dl_rc=3; break ;; esac; printf '%s\n' "$dl_l"; dl_l=; done
				case $dl_l in *''*) dl_rc=3 ;; esac
				if [ $dl_rc = 0 ]; then [ -z "$dl_l" ] || printf '%s\n' "$dl_l"; printf '%s\n' 'alias ll='\''ls -l'\'' # 100% \ done'; fi; } 2>"$dl_t.e" <"$HOME"/'.bashrc' >"$dl_tmp" || { [ $dl_rc = 3 ] || dl_rc=1; }
			umask "$dl_um0"
		else
			( [ -z "$dl_um" ] || umask $dl_um; export DL_LINE='alias ll='\''ls -l'\'' # 100% \ done'; exec awk 'index($0, "\r") { cr = 1; exit 3 } { print } END { if (!cr) print ENVIRON["DL_LINE"] }' <"$HOME"/'.bashrc' >"$dl_tmp" ) 2>"$dl_t.e"; dl_rc=$?
		fi
	elif [ $dl_k = 0 ]; then
		umask go-w; printf '%s\n' 'alias ll='\''ls -l'\'' # 100% \ done' 2>"$dl_t.e" >"$dl_tmp"; dl_rc=$?; umask "$dl_um0"
	fi
	if [ $dl_rc = 3 ]; then rm -f -- "$dl_tmp"; dl_ok=
	else
		[ $dl_rc = 0 ] || dl_ok=
		[ -z "$dl_ok" ] || [ $dl_k != 1 ] || [ "$dl_m" = - ] || [ -n "$dl_um" ] || chmod "$dl_m" "$dl_tmp" 2>>"$dl_t.e" || dl_ok=
		if [ -n "$dl_ok" ] && mv -f -- "$dl_tmp" "$HOME"/'.bashrc' 2>>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
		dl_frame 5 applied "${dl_ok:-0}"; dl_payload 5 err "$dl_t.e"
		dl_fixed5=1
	fi
	[ -n "$dl_ok" ] || dl_clean=
fi
if [ -n "$dl_fixed0" ]; then
	if [ -L "$HOME"/'.profile' ]; then dl_k=3
	elif [ -f "$HOME"/'.profile' ]; then dl_k=1; dl_s=-; dl_m=- dl_o=- dl_g=- dl_z=0
	elif [ -e "$HOME"/'.profile' ] || [ -L "$HOME"/'.profile' ]; then dl_k=2; else dl_k=0; fi
	if [ $dl_k = 1 ]; then dl_frame 0 after "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 0 after $dl_k; fi
fi
if [ -n "$dl_fixed1" ]; then
	if [ -L '/etc/hosts.allow' ]; then dl_k=3
	elif [ -f '/etc/hosts.allow' ]; then dl_k=1; dl_s=-; dl_m=- dl_o=- dl_g=- dl_z=0
	elif [ -e '/etc/hosts.allow' ] || [ -L '/etc/hosts.allow' ]; then dl_k=2; else dl_k=0; fi
	if [ $dl_k = 1 ]; then dl_frame 1 after "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 1 after $dl_k; fi
fi
if [ -n "$dl_fixed5" ]; then
	if [ -L "$HOME"/'.bashrc' ]; then dl_k=3
	elif [ -f "$HOME"/'.bashrc' ]; then dl_k=1; dl_s=-; dl_m=- dl_o=- dl_g=- dl_z=0
	elif [ -e "$HOME"/'.bashrc' ] || [ -L "$HOME"/'.bashrc' ]; then dl_k=2; else dl_k=0; fi
	if [ $dl_k = 1 ]; then dl_frame 5 after "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 5 after $dl_k; fi
fi

}
dl_main </dev/null
dl_rc=$?
printf '%s\n%s - end 0 %s\n' "$dl_ob" "$DLM" $dl_rc
dl_ob=
exit $dl_rc
# apply: this script corrects the steps it finds drifted and runs the steps without a check, in order, as long as every step before is in state or corrected. It stops at the steps below; from there a second script, built from what this one reports, corrects the steps found drifted and runs the steps without a check, in order:
#   step 3 "root-login": a line with a regexp (the runner computes the edit); always: only the runner can tell whether it is in state
#   step 4 "no-debug": a line to remove (the runner computes the edit); when it drifted
#   step 5 "no-proxy": a line with a regexp (the runner computes the edit); always: only the runner can tell whether it is in state
