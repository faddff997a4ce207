# driftless: the first script of a check of association "drifted" (document "drifted") on host linux (POSIX sh)
# Its steps (its reports number them from 0):
#   1 installed (shell)
#   2 reload (shell)
#   3 conf-dir (directory)
#   4 old-dir (directory)
#   5 config (file)
#   6 stale (file)
#   7 root-login (line)
#   8 tools (package)
#   9 app-service (service)
#   10 patch (patch)
#   11 checked-after (shell)
dl_key='4cdc9bb0498c2a32973325a4'
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
set -f; dl_bok= dl_any=
dl_p0='/etc/app'; dl_e0=; if [ -e "$dl_p0" ]; then dl_any=1 dl_e0=1; else dl_p0=/; fi
dl_p1='/var/lib/app/old'; dl_e1=; if [ -e "$dl_p1" ]; then dl_any=1 dl_e1=1; else dl_p1=/; fi
dl_p2='/etc/app/app.conf'; dl_e2=; if [ -e "$dl_p2" ]; then dl_any=1 dl_e2=1; else dl_p2=/; fi
dl_p3='/etc/app/stale.conf'; dl_e3=; if [ -e "$dl_p3" ]; then dl_any=1 dl_e3=1; else dl_p3=/; fi
dl_f3=$dl_p3; [ -f "$dl_f3" ] || dl_f3=/dev/null
dl_p4='/etc/ssh/sshd_config'; dl_e4=; if [ -e "$dl_p4" ]; then dl_any=1 dl_e4=1; else dl_p4=/; fi
if [ -z "$dl_any" ]; then dl_bok=1 dl_m0=- dl_o0=- dl_g0=- dl_z0=0 dl_m1=- dl_o1=- dl_g1=- dl_z1=0 dl_m2=- dl_o2=- dl_g2=- dl_z2=0 dl_m3=- dl_o3=- dl_g3=- dl_z3=0 dl_s3=- dl_m4=- dl_o4=- dl_g4=- dl_z4=0
else
	dl_x=$(if [ "$dl_os" = Linux ]; then stat -c '%a %U %G %s' -- "$dl_p0" "$dl_p1" "$dl_p2" "$dl_p3" "$dl_p4"; $dl_shacmd -- "$dl_f3"; else stat -f '%Lp %Su %Sg %z' -- "$dl_p0" "$dl_p1" "$dl_p2" "$dl_p3" "$dl_p4"; $dl_shacmd -- "$dl_f3"; fi 2>/dev/null)
	dl_ifs=$IFS; IFS='
'; set -- $dl_x; IFS=$dl_ifs
	if [ $# -eq 6 ]; then dl_bok=1
		dl_l0=${1}
		dl_l1=${2}
		dl_l2=${3}
		dl_l3=${4}
		dl_l4=${5}
		dl_s3=${6}; dl_s3=${dl_s3%% *}; dl_s3=${dl_s3#\\}
		set -- $dl_l0; dl_m0=$1 dl_o0=$2 dl_g0=$3 dl_z0=$4
		set -- $dl_l1; dl_m1=$1 dl_o1=$2 dl_g1=$3 dl_z1=$4
		set -- $dl_l2; dl_m2=$1 dl_o2=$2 dl_g2=$3 dl_z2=$4
		set -- $dl_l3; dl_m3=$1 dl_o3=$2 dl_g3=$3 dl_z3=$4
		set -- $dl_l4; dl_m4=$1 dl_o4=$2 dl_g4=$3 dl_z4=$4
	fi; fi; set +f
# step 1: installed (shell)
dl_sout 0 check; eval 'test -f /opt/app/.installed' </dev/null; dl_rc=$?; dl_send 0 check $dl_rc
# step 2: reload (shell)
# step 3: conf-dir (directory /etc/app)
if [ -L '/etc/app' ]; then dl_k=3
elif [ -d '/etc/app' ]; then dl_k=1; if [ -n "$dl_bok" ] && [ -n "$dl_e0" ]; then dl_s=- dl_m=$dl_m0 dl_o=$dl_o0 dl_g=$dl_g0 dl_z=$dl_z0; else dl_s=-; dl_stat '/etc/app'; fi
elif [ -e '/etc/app' ] || [ -L '/etc/app' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 2 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 2 stat $dl_k; fi
# step 4: old-dir (directory /var/lib/app/old)
if [ -L '/var/lib/app/old' ]; then dl_k=3
elif [ -d '/var/lib/app/old' ]; then dl_k=1; if [ -n "$dl_bok" ] && [ -n "$dl_e1" ]; then dl_s=- dl_m=$dl_m1 dl_o=$dl_o1 dl_g=$dl_g1 dl_z=$dl_z1; else dl_s=-; dl_stat '/var/lib/app/old'; fi
elif [ -e '/var/lib/app/old' ] || [ -L '/var/lib/app/old' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 3 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 3 stat $dl_k; fi
# step 5: config (file /etc/app/app.conf)
if [ -L '/etc/app/app.conf' ]; then dl_k=3
elif [ -f '/etc/app/app.conf' ]; then dl_k=1; if [ -n "$dl_bok" ] && [ -n "$dl_e2" ]; then if [ "$dl_z2" = 16 ] && { IFS= read -r dl_l && [ "$dl_l" = 'tier = frontend' ]; } <'/etc/app/app.conf' 2>/dev/null; then dl_s=cb41616ba574a235002cdc4d878d77789b24118b6ec2979b259cd15a4382e0f6; else dl_sha '/etc/app/app.conf'; fi; dl_m=$dl_m2 dl_o=$dl_o2 dl_g=$dl_g2 dl_z=$dl_z2; else dl_sha '/etc/app/app.conf'; dl_stat '/etc/app/app.conf'; fi
elif [ -e '/etc/app/app.conf' ] || [ -L '/etc/app/app.conf' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 4 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 4 stat $dl_k; fi
if [ $dl_k = 1 ] && [ "$dl_s" != cb41616ba574a235002cdc4d878d77789b24118b6ec2979b259cd15a4382e0f6 ]; then dl_cur 4 '/etc/app/app.conf' 262145; fi
# step 6: stale (file /etc/app/stale.conf)
if [ -L '/etc/app/stale.conf' ]; then dl_k=3
elif [ -f '/etc/app/stale.conf' ]; then dl_k=1; if [ -n "$dl_bok" ] && [ -n "$dl_e3" ]; then dl_s=$dl_s3 dl_m=$dl_m3 dl_o=$dl_o3 dl_g=$dl_g3 dl_z=$dl_z3; else dl_sha '/etc/app/stale.conf'; dl_stat '/etc/app/stale.conf'; fi
elif [ -e '/etc/app/stale.conf' ] || [ -L '/etc/app/stale.conf' ]; then dl_k=2; else dl_k=0; fi
if [ $dl_k = 1 ]; then dl_frame 5 stat "1 $dl_s $dl_m $dl_o $dl_g $dl_z"; else dl_frame 5 stat $dl_k; fi
# step 7: root-login (line /etc/ssh/sshd_config)
if [ -L '/etc/ssh/sshd_config' ]; then dl_k=3
elif [ -f '/etc/ssh/sshd_config' ]; then dl_k=1
elif [ -e '/etc/ssh/sshd_config' ] || [ -L '/etc/ssh/sshd_config' ]; then dl_k=2; else dl_k=0; fi
dl_lc= dl_sr=
if [ $dl_k = 1 ] && [ -z "$dl_lc" ]; then if [ -n "$dl_bok" ] && [ -n "$dl_e4" ]; then dl_m=$dl_m4 dl_o=$dl_o4 dl_g=$dl_g4 dl_z=$dl_z4; else dl_stat '/etc/ssh/sshd_config'; fi; else dl_m=- dl_o=- dl_g=- dl_z=0; fi
if [ $dl_k = 1 ]; then dl_frame 6 stat "1 - $dl_m $dl_o $dl_g $dl_z"; else dl_frame 6 stat $dl_k; fi
if [ $dl_k = 1 ] && [ -z "$dl_lc" ]; then if [ -n "$dl_sr" ]; then dl_payload 6 cur '/etc/ssh/sshd_config' 1025; else dl_cur 6 '/etc/ssh/sshd_config' 8388609; fi; fi
# step 8: tools (package)
dl_need_t
[ -n "$dl_pm_auto" ] || dl_pm_auto=$(dl_pm_detect)
dl_pkg_list "$dl_pm_auto" 'latest' 'curl' 'jq' >"$dl_t.p" 2>/dev/null
dl_frame 7 state "$dl_pm_auto"; dl_payload 7 list "$dl_t.p"
# step 9: app-service (service)
dl_need_t
dl_frame 8 state "$(dl_svc_state "$(dl_svc_init)" 'app')"
# step 10: patch (patch)
dl_need_t
[ -n "$dl_pm_auto" ] || dl_pm_auto=$(dl_pm_detect)
dl_patch_list "$dl_pm_auto" >"$dl_t.p" 2>/dev/null
dl_frame 9 state "$dl_pm_auto"; dl_payload 9 list "$dl_t.p"
# step 11: checked-after (shell)
dl_sout 10 check; app --self-test </dev/null; dl_rc=$?; dl_send 10 check $dl_rc

}
dl_main </dev/null
dl_rc=$?
printf '%s\n%s - end 0 %s\n' "$dl_ob" "$DLM" $dl_rc
dl_ob=
exit $dl_rc
# step 2 "reload" has no check: check mode does not run it (skipped)
