package posix

import (
	"fmt"
	"strings"

	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/runner/plan"
)

// SystemPrelude holds the shell functions of the package, service and
// patch actions. Package managers are detected once per script (once per
// host and phase) and always run non-interactively; apt waits for the
// dpkg lock instead of failing.
const SystemPrelude = `dl_pm_auto=
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
`

// pmWord is the shell word naming the step's package manager.
func pmWord(s *plan.Step) string {
	if s.Manager != "" {
		return Quote(s.Manager)
	}
	return `"$dl_pm_auto"`
}

func Words(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = Quote(n)
	}
	return strings.Join(q, " ")
}

// systemCheck is the check-phase fragment of a package, service or patch
// step.
func systemCheck(s *plan.Step, tag string) string {
	var b strings.Builder
	b.WriteString("dl_need_t\n")
	switch s.Action {
	case documents.ActionPackage, documents.ActionPatch:
		if s.Manager == "" {
			b.WriteString("[ -n \"$dl_pm_auto\" ] || dl_pm_auto=$(dl_pm_detect)\n")
		}
		if s.Action == documents.ActionPackage {
			fmt.Fprintf(&b, "dl_pkg_list %s %s %s >\"$dl_t.p\" 2>/dev/null\n", pmWord(s), Quote(s.PkgWant), Words(s.Names))
		} else {
			fmt.Fprintf(&b, "dl_patch_list %s >\"$dl_t.p\" 2>/dev/null\n", pmWord(s))
		}
		fmt.Fprintf(&b, "dl_frame %d %s %s; dl_payload %d list \"$dl_t.p\"\n", s.Idx, tag, pmWord(s), s.Idx)
	case documents.ActionService:
		fmt.Fprintf(&b, "dl_frame %d %s \"$(dl_svc_state \"$(dl_svc_init)\" %s)\"\n", s.Idx, tag, Quote(s.Service))
	default: // the other values need nothing here
	}
	return b.String()
}

// systemApply is the apply-phase fragment: the commands for what the
// check found, their output, then the state after.
func systemApply(s *plan.Step, commands string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dl_mark; ( %s ) >\"$dl_t.o\" 2>\"$dl_t.e\" </dev/null; dl_rc=$?\n", commands)
	fmt.Fprintf(&b, "dl_frame %d run $dl_rc; dl_payload %d out \"$dl_t.o\"; dl_payload %d err \"$dl_t.e\"\n", s.Idx, s.Idx, s.Idx)
	b.WriteString("[ $dl_rc -eq 0 ] || dl_ok=\n")
	b.WriteString(systemCheck(s, "after"))
	if s.Action == documents.ActionPatch && s.RebootIfNeed {
		fmt.Fprintf(&b, "if dl_reboot_required; then dl_frame %d reboot 0; fi\n", s.Idx)
	}
	return b.String()
}
