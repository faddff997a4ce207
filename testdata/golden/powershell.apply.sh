# driftless: the first script of an apply of association "powershell" (document "powershell") on host linux (POSIX sh)
# Its steps (its reports number them from 0):
#   1 feature (powershell)
#   2 always (powershell)
#   3 with-env (powershell)
#   4 logs (directory)
#   5 old-logs (directory)
#   6 config (file)
#   7 profile-note (file)
#   8 stale (file)
#   9 hosts (line)
#   10 spooler (service)
#   11 git (package)
#   12 sysinternals (package)
#   13 on-windows (powershell)
#   14 posix-only (shell)
dl_key='213f5066f2bba3293b961a95'
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
dl_pm_auto=
dl_pm_detect() {
	for m in apt dnf yum apk zypper pacman brew; do
		c=$m; [ "$m" = apt ] && c=apt-get
		if command -v "$c" >/dev/null 2>&1; then echo "$m"; return; fi
	done
	echo none
}
dl_pkg_installed() {
	case $1 in
	apt) dpkg-query -W -f='${db:Status-Abbrev}' "$2" 2>/dev/null | grep -q '^ii' ;;
	dnf|yum|zypper) rpm -q "$2" >/dev/null 2>&1 ;;
	apk) apk info -e "$2" >/dev/null 2>&1 ;;
	pacman) pacman -Q "$2" >/dev/null 2>&1 ;;
	brew) brew list --versions "$2" >/dev/null 2>&1 ;;
	*) return 2 ;;
	esac
}
dl_pkg_outdated() {
	case $1 in
	apt) apt-get -s -o Debug::NoLocking=1 install --only-upgrade "$2" 2>/dev/null | grep -q "^Inst $2 " ;;
	dnf|yum) "$1" -q check-update "$2" >/dev/null 2>&1; [ $? -eq 100 ] ;;
	apk) apk version -l '<' "$2" 2>/dev/null | grep -q "^$2-" ;;
	zypper) zypper -n -q list-updates 2>/dev/null | grep -q "| $2 " ;;
	pacman) pacman -Qu "$2" >/dev/null 2>&1 ;;
	brew) [ -n "$(brew outdated --quiet "$2" 2>/dev/null)" ] ;;
	*) return 1 ;;
	esac
}
dl_apt() {
	DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=600 \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}
dl_pkg_do() {
	dl_m=$1 dl_a=$2; shift 2
	case $dl_m in
	apt) case $dl_a in
		install) dl_apt install --no-install-recommends "$@" || { dl_apt update && dl_apt install --no-install-recommends "$@"; } ;;
		upgrade) dl_apt update && dl_apt install --only-upgrade "$@" ;;
		remove) dl_apt remove "$@" ;;
		esac ;;
	dnf|yum) case $dl_a in install) "$dl_m" -y install "$@" ;; upgrade) "$dl_m" -y upgrade "$@" ;; remove) "$dl_m" -y remove "$@" ;; esac ;;
	apk) case $dl_a in install) apk add "$@" ;; upgrade) apk add -u "$@" ;; remove) apk del "$@" ;; esac ;;
	zypper) case $dl_a in install) zypper -n install "$@" ;; upgrade) zypper -n update "$@" ;; remove) zypper -n remove "$@" ;; esac ;;
	pacman) case $dl_a in install) pacman -S --noconfirm --needed "$@" ;; upgrade) pacman -S --noconfirm "$@" ;; remove) pacman -R --noconfirm "$@" ;; esac ;;
	brew) case $dl_a in install) brew install "$@" ;; upgrade) brew upgrade "$@" ;; remove) brew uninstall "$@" ;; esac ;;
	*) echo "no supported package manager found (apt, dnf, yum, apk, zypper, pacman, brew)" >&2; return 2 ;;
	esac
}
dl_pkg_list() {
	dl_m=$1 dl_w=$2; shift 2
	for n in "$@"; do
		if dl_pkg_installed "$dl_m" "$n"; then
			if [ "$dl_w" = absent ]; then echo "unwanted $n"
			elif [ "$dl_w" = latest ] && dl_pkg_outdated "$dl_m" "$n"; then echo "outdated $n"
			else echo "ok $n"; fi
		elif [ "$dl_w" = absent ]; then echo "ok $n"
		else echo "missing $n"; fi
	done
}
dl_patch_list() {
	case $1 in
	apt) apt-get -s -o Debug::NoLocking=1 upgrade 2>/dev/null | awk '/^Inst /{print $2}' ;;
	dnf|yum) "$1" -q check-update 2>/dev/null | awk 'NF==3 && $1 !~ /^(Last|Obsoleting|Security)/ {print $1}' ;;
	apk) apk version -l '<' 2>/dev/null | awk 'NR>1 {print $1}' ;;
	zypper) zypper -n -q list-updates 2>/dev/null | awk -F'|' 'NR>2 {gsub(/ /,"",$3); print $3}' ;;
	pacman) pacman -Qu 2>/dev/null | awk '{print $1}' ;;
	brew) brew outdated --quiet 2>/dev/null ;;
	esac
}
dl_patch_install() {
	case $1 in
	apt) dl_apt update && dl_apt upgrade ;;
	dnf|yum) "$1" -y upgrade ;;
	apk) apk upgrade ;;
	zypper) zypper -n update ;;
	pacman) pacman -Syu --noconfirm ;;
	brew) brew upgrade ;;
	*) echo "no supported package manager found" >&2; return 2 ;;
	esac
}
dl_reboot_required() {
	[ -f /var/run/reboot-required ] && return 0
	if command -v needs-restarting >/dev/null 2>&1; then needs-restarting -r >/dev/null 2>&1 || return 0; fi
	return 1
}
dl_svc_init() {
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then echo systemd
	elif command -v rc-service >/dev/null 2>&1; then echo openrc
	else echo sysv; fi
}
dl_svc_state() {
	dl_e=0 dl_r=0 dl_en=0
	case $1 in
	systemd)
		systemctl cat "$2" >/dev/null 2>&1 && dl_e=1
		systemctl is-active --quiet "$2" && dl_r=1
		systemctl is-enabled --quiet "$2" 2>/dev/null && dl_en=1 ;;
	openrc)
		[ -x "/etc/init.d/$2" ] && dl_e=1
		rc-service "$2" status >/dev/null 2>&1 && dl_r=1
		rc-update show 2>/dev/null | grep -q "^ *$2 |" && dl_en=1 ;;
	*)
		[ -x "/etc/init.d/$2" ] && dl_e=1
		if command -v service >/dev/null 2>&1; then service "$2" status >/dev/null 2>&1 && dl_r=1
		else "/etc/init.d/$2" status >/dev/null 2>&1 && dl_r=1; fi
		ls /etc/rc[2345].d/S[0-9][0-9]"$2" >/dev/null 2>&1 && dl_en=1 ;;
	esac
	echo "$1 $dl_e $dl_r $dl_en"
}
dl_svc_do() {
	case $1 in
	systemd) systemctl "$2" "$3" ;;
	openrc) case $2 in
		start|stop) rc-service "$3" "$2" ;;
		enable) rc-update add "$3" default ;;
		disable) rc-update del "$3" default ;;
		esac ;;
	*) case $2 in
		start|stop) if command -v service >/dev/null 2>&1; then service "$3" "$2"; else "/etc/init.d/$3" "$2"; fi ;;
		enable) if command -v update-rc.d >/dev/null 2>&1; then update-rc.d "$3" defaults >/dev/null && update-rc.d "$3" enable; else chkconfig "$3" on; fi ;;
		disable) if command -v update-rc.d >/dev/null 2>&1; then update-rc.d "$3" disable; else chkconfig "$3" off; fi ;;
		esac ;;
	esac
}
dl_facts
dl_clean=1
# step 1: feature (powershell)
dl_frame 0 skip platform
true || dl_clean=
# step 2: always (powershell)
dl_frame 1 skip platform
true || dl_clean=
# step 3: with-env (powershell)
dl_frame 2 skip platform
true || dl_clean=
# step 4: logs (directory C:\app\logs)
if [ -L 'C:\app\logs' ]; then dl_k=3
elif [ -d 'C:\app\logs' ]; then dl_k=1; dl_s=-; dl_stat 'C:\app\logs'
elif [ -e 'C:\app\logs' ] || [ -L 'C:\app\logs' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 3 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 3 stat $dl_k; fi
if [ -n "$dl_clean" ] && ! { [ $dl_k = 1 ] && [ "$dl_o" = 'Administrators' ]; }; then
	dl_need_t; dl_ok=1
	if [ -L 'C:\app\logs' ]; then rm -f -- 'C:\app\logs' || dl_ok=; fi 2>"$dl_t.e"
	if [ -d 'C:\app\logs' ]; then :
		[ -z "$dl_ok" ] || chown 'Administrators' 'C:\app\logs' 2>>"$dl_t.e" || dl_ok=
	else umask go-w; mkdir -p -- 'C:\app\logs' 2>>"$dl_t.e" || dl_ok=; umask "$dl_um0"
		[ -z "$dl_ok" ] || chown 'Administrators' 'C:\app\logs' 2>>"$dl_t.e" || dl_ok=
	fi
	dl_frame 3 applied "${dl_ok:-0}"; dl_payload 3 err "$dl_t.e"
	dl_fixed3=1
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 5: old-logs (directory C:\app\old)
if [ -L 'C:\app\old' ]; then dl_k=3
elif [ -d 'C:\app\old' ]; then dl_k=1; dl_s=-; dl_stat 'C:\app\old'
elif [ -e 'C:\app\old' ] || [ -L 'C:\app\old' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 4 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 4 stat $dl_k; fi
if [ -n "$dl_clean" ] && ! { [ $dl_k = 0 ]; }; then
	dl_need_t; dl_ok=1
	rm -rf -- 'C:\app\old' 2>"$dl_t.e" || dl_ok=
	dl_frame 4 applied "${dl_ok:-0}"; dl_payload 4 err "$dl_t.e"
	dl_fixed4=1
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 6: config (file C:\app\app.json)
if [ -L 'C:\app\app.json' ]; then dl_k=3
elif [ -f 'C:\app\app.json' ]; then dl_k=1; dl_sha 'C:\app\app.json'; dl_stat 'C:\app\app.json'
elif [ -e 'C:\app\app.json' ] || [ -L 'C:\app\app.json' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 5 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 5 stat $dl_k; fi
if [ $dl_k = 1 ] && [ "$dl_s" != f5fa995d7bb54cb8d57fefb54dee8dda417766ba1de9a7ca2852a8d8d5ce03dc ]; then dl_cur 5 'C:\app\app.json' 262145; fi
if [ -n "$dl_clean" ] && ! { [ $dl_k = 1 ] && [ "$dl_s" = f5fa995d7bb54cb8d57fefb54dee8dda417766ba1de9a7ca2852a8d8d5ce03dc ] && [ "$dl_o" = 'Administrators' ] && [ "$dl_g" = 'Users' ]; }; then
	dl_need_t; dl_ok=1
	dl_tmp='./''.C:\app\app.json'.dl-tmp.$dl_tok; printf '%s\n' "$dl_tmp" >>"$dl_t.w"
	umask go-w
	[ $dl_k != 1 ] || umask 077
	if { { printf '{"tier": "frontend", "note": "it\047s 100\045 done"}\015\012'; } >"$dl_tmp"; } 2>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	umask "$dl_um0"
	if [ -n "$dl_ok" ]; then
		[ $dl_k != 1 ] || [ "$dl_m" = - ] || chmod "$dl_m" "$dl_tmp" 2>>"$dl_t.e" || dl_ok=
		[ -z "$dl_ok" ] || chown 'Administrators:Users' "$dl_tmp" 2>>"$dl_t.e" || dl_ok=
		if [ -n "$dl_ok" ] && mv -f -- "$dl_tmp" 'C:\app\app.json' 2>>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	fi
	dl_frame 5 applied "${dl_ok:-0}"; dl_payload 5 err "$dl_t.e"
	dl_fixed5=1
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 7: profile-note (file ~/notes.txt)
if [ -L "$HOME"/'notes.txt' ]; then dl_k=3
elif [ -f "$HOME"/'notes.txt' ]; then dl_k=1; dl_sha "$HOME"/'notes.txt'; dl_stat "$HOME"/'notes.txt'
elif [ -e "$HOME"/'notes.txt' ] || [ -L "$HOME"/'notes.txt' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 6 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 6 stat $dl_k; fi
if [ $dl_k = 1 ] && [ "$dl_s" != b95becd154aa095f76c4ca47a5aeb8350d6dfcb838404edfc9dae06628de938d ]; then dl_cur 6 "$HOME"/'notes.txt' 262145; fi
if [ -n "$dl_clean" ] && ! { [ $dl_k = 1 ] && [ "$dl_s" = b95becd154aa095f76c4ca47a5aeb8350d6dfcb838404edfc9dae06628de938d ]; }; then
	dl_need_t; dl_ok=1
	dl_tmp="$HOME"/'.notes.txt'.dl-tmp.$dl_tok; printf '%s\n' "$dl_tmp" >>"$dl_t.w"
	umask go-w
	[ $dl_k != 1 ] || umask 077
	if { { printf 'h\303\251llo\012'; } >"$dl_tmp"; } 2>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	umask "$dl_um0"
	if [ -n "$dl_ok" ]; then
		[ $dl_k != 1 ] || [ "$dl_m" = - ] || chmod "$dl_m" "$dl_tmp" 2>>"$dl_t.e" || dl_ok=
		if [ -n "$dl_ok" ] && mv -f -- "$dl_tmp" "$HOME"/'notes.txt' 2>>"$dl_t.e"; then :; else dl_ok=; rm -f -- "$dl_tmp"; fi
	fi
	dl_frame 6 applied "${dl_ok:-0}"; dl_payload 6 err "$dl_t.e"
	dl_fixed6=1
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 8: stale (file C:\app\stale.txt)
if [ -L 'C:\app\stale.txt' ]; then dl_k=3
elif [ -f 'C:\app\stale.txt' ]; then dl_k=1; dl_sha 'C:\app\stale.txt'; dl_stat 'C:\app\stale.txt'
elif [ -e 'C:\app\stale.txt' ] || [ -L 'C:\app\stale.txt' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 7 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 7 stat $dl_k; fi
if [ -n "$dl_clean" ] && ! { [ $dl_k = 0 ]; }; then
	dl_need_t; dl_ok=1
	rm -f -- 'C:\app\stale.txt' 2>"$dl_t.e" || dl_ok=
	dl_frame 7 applied "${dl_ok:-0}"; dl_payload 7 err "$dl_t.e"
	dl_fixed7=1
	[ -n "$dl_ok" ] || dl_clean=
fi
# step 9: hosts (line C:\Windows\System32\drivers\etc\hosts)
if [ -L 'C:\Windows\System32\drivers\etc\hosts' ]; then dl_k=3
elif [ -f 'C:\Windows\System32\drivers\etc\hosts' ]; then dl_k=1
elif [ -e 'C:\Windows\System32\drivers\etc\hosts' ] || [ -L 'C:\Windows\System32\drivers\etc\hosts' ]; then dl_k=2; else dl_k=0; fi
dl_lc= dl_sr=
if [ $dl_k = 1 ] && [ -z "$dl_lc" ]; then dl_stat 'C:\Windows\System32\drivers\etc\hosts'; else dl_m=- dl_o=- dl_g=- dl_z=0; fi
if [ $dl_k = 1 ]; then dl_frame 8 stat "1 - $dl_m $dl_o $dl_g $dl_z"; else dl_frame 8 stat $dl_k; fi
if [ $dl_k = 1 ] && [ -z "$dl_lc" ]; then if [ -n "$dl_sr" ]; then dl_payload 8 cur 'C:\Windows\System32\drivers\etc\hosts' 1025; else dl_cur 8 'C:\Windows\System32\drivers\etc\hosts' 8388609; fi; fi
dl_clean=
if [ -n "$dl_fixed3" ]; then
	if [ -L 'C:\app\logs' ]; then dl_k=3
	elif [ -d 'C:\app\logs' ]; then dl_k=1; dl_s=-; dl_m=- dl_o=- dl_g=- dl_z=0
	elif [ -e 'C:\app\logs' ] || [ -L 'C:\app\logs' ]; then dl_k=2; else dl_k=0; fi
	if [ $dl_k = 1 ]; then dl_frame 3 after "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 3 after $dl_k; fi
fi
if [ -n "$dl_fixed4" ]; then
	if [ -L 'C:\app\old' ]; then dl_k=3
	elif [ -d 'C:\app\old' ]; then dl_k=1; dl_s=-; dl_m=- dl_o=- dl_g=- dl_z=0
	elif [ -e 'C:\app\old' ] || [ -L 'C:\app\old' ]; then dl_k=2; else dl_k=0; fi
	if [ $dl_k = 1 ]; then dl_frame 4 after "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 4 after $dl_k; fi
fi
if [ -n "$dl_fixed5" ]; then
	if [ -L 'C:\app\app.json' ]; then dl_k=3
	elif [ -f 'C:\app\app.json' ]; then dl_k=1; if { IFS= read -r dl_l && [ "$dl_l" = '{"tier": "frontend", "note": "it'\''s 100% done"}' ] && ! IFS= read -r dl_l && [ -z "$dl_l" ]; } <'C:\app\app.json' 2>/dev/null; then dl_s=f5fa995d7bb54cb8d57fefb54dee8dda417766ba1de9a7ca2852a8d8d5ce03dc; else dl_sha 'C:\app\app.json'; fi; dl_m=- dl_o=- dl_g=- dl_z=0
	elif [ -e 'C:\app\app.json' ] || [ -L 'C:\app\app.json' ]; then dl_k=2; else dl_k=0; fi
	if [ $dl_k = 1 ]; then dl_frame 5 after "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 5 after $dl_k; fi
fi
if [ -n "$dl_fixed6" ]; then
	if [ -L "$HOME"/'notes.txt' ]; then dl_k=3
	elif [ -f "$HOME"/'notes.txt' ]; then dl_k=1; if { IFS= read -r dl_l && [ "$dl_l" = 'héllo' ] && ! IFS= read -r dl_l && [ -z "$dl_l" ]; } <"$HOME"/'notes.txt' 2>/dev/null; then dl_s=b95becd154aa095f76c4ca47a5aeb8350d6dfcb838404edfc9dae06628de938d; else dl_sha "$HOME"/'notes.txt'; fi; dl_m=- dl_o=- dl_g=- dl_z=0
	elif [ -e "$HOME"/'notes.txt' ] || [ -L "$HOME"/'notes.txt' ]; then dl_k=2; else dl_k=0; fi
	if [ $dl_k = 1 ]; then dl_frame 6 after "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 6 after $dl_k; fi
fi
if [ -n "$dl_fixed7" ]; then
	if [ -L 'C:\app\stale.txt' ]; then dl_k=3
	elif [ -f 'C:\app\stale.txt' ]; then dl_k=1; dl_s=-; dl_m=- dl_o=- dl_g=- dl_z=0
	elif [ -e 'C:\app\stale.txt' ] || [ -L 'C:\app\stale.txt' ]; then dl_k=2; else dl_k=0; fi
	if [ $dl_k = 1 ]; then dl_frame 7 after "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 7 after $dl_k; fi
fi
# step 10: spooler (service)
dl_need_t
dl_frame 9 state "$(dl_svc_state "$(dl_svc_init)" 'Spooler')"
dl_clean=
# step 11: git (package)
dl_need_t
dl_pkg_list 'winget' 'present' 'Git.Git' >"$dl_t.p" 2>/dev/null
dl_frame 10 state 'winget'; dl_payload 10 list "$dl_t.p"
! grep -qv '^ok ' "$dl_t.p" || dl_clean=
# step 12: sysinternals (package)
dl_need_t
dl_pkg_list 'choco' 'latest' 'sysinternals' >"$dl_t.p" 2>/dev/null
dl_frame 11 state 'choco'; dl_payload 11 list "$dl_t.p"
! grep -qv '^ok ' "$dl_t.p" || dl_clean=
# step 13: on-windows (powershell)
if [ "$dl_os" = 'Windows' ]; then :
	dl_frame 12 skip platform
	true || dl_clean=
else dl_frame 12 skip platform; fi
# step 14: posix-only (shell)
if [ -n "$dl_clean" ]; then
	dl_a=0; while :; do dl_a=$((dl_a+1))
		dl_need_t; dl_frame 13 start run; ( export DL_PARAM_token='******'; uname -a
		) </dev/null >"$dl_t.o" 2>"$dl_t.e"; dl_rc=$?
		dl_frame 13 run $dl_rc; dl_payload 13 out "$dl_t.o"; dl_payload 13 err "$dl_t.e"
		if [ $dl_rc -eq 0 ] || [ $dl_a -ge 1 ]; then break; fi; done
fi
[ $dl_rc -eq 0 ] || dl_clean=

}
dl_main </dev/null
dl_rc=$?
printf '%s\n%s - end 0 %s\n' "$dl_ob" "$DLM" $dl_rc
dl_ob=
exit $dl_rc
# step 1 "feature" is a powershell step: it runs only on Windows (skipped)
# step 2 "always" is a powershell step: it runs only on Windows (skipped)
# step 3 "with-env" is a powershell step: it runs only on Windows (skipped)
# step 13 "on-windows" is a powershell step: it runs only on Windows (skipped)
# apply: this script corrects the steps it finds drifted and runs the steps without a check, in order, as long as every step before is in state or corrected. It stops at the steps below; from there a second script, built from what this one reports, corrects the steps found drifted and runs the steps without a check, in order:
#   step 9 "hosts": a line with a regexp (the runner computes the edit); always: only the runner can tell whether it is in state
#   step 10 "spooler": a service (the runner chooses the commands); always: only the runner can tell whether it is in state
#   step 11 "git": a package (the runner chooses the commands); when it drifted
#   step 12 "sysinternals": a package (the runner chooses the commands); when it drifted
