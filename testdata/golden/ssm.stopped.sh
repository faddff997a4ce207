# driftless golden: the apply script of ssm on host linux: the same, resumed after step 1 "maybe-exit" (onFailure: successAndExit) ran past its timeout: only the finally step runs.
dl_main() {
DLM='@@DL-MARKER'
dl_os=
[ -r /proc/sys/kernel/ostype ] && read -r dl_os </proc/sys/kernel/ostype
if [ "$dl_os" != Linux ]; then
	dl_os=$(uname -s 2>/dev/null)
	[ "$dl_os" = Darwin ] && dl_os=MacOS
fi
if command -v sha256sum >/dev/null 2>&1; then dl_shacmd=sha256sum; else dl_shacmd='shasum -a 256'; fi
dl_ob=
trap 'printf "%s" "$dl_ob"' EXIT
dl_frame() {
	dl_ob="$dl_ob
$DLM $1 $2 0 $3
"
	case $2 in start|check|recheck|verify|run) printf '%s' "$dl_ob"; dl_ob= ;; esac
}
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
dl_sout() { printf '%s\n%s %s sout -1 %s\n' "$dl_ob" "$DLM" "$1" "$2"; dl_ob=; printf '\n%s %s err -1\n' "$DLM" "$1" >&2; }
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
dl_payload 1 out '/dev/shm/.driftless-MARKER.o'; dl_payload 1 err '/dev/shm/.driftless-MARKER.e'
rm -f -- '/dev/shm/.driftless-MARKER.o' '/dev/shm/.driftless-MARKER.e' '/dev/shm/.driftless-MARKER.p' '/dev/shm/.driftless-MARKER.s' '/dev/shm/.driftless-MARKER.u' '/dev/shm/.driftless-MARKER.x'
dl_t=
dl_need_t() {
	[ -z "$dl_t" ] || return 0
	dl_t=${TMPDIR:-/tmp}
	if [ -z "$TMPDIR" ] && [ -d /dev/shm ] && [ -k /dev/shm ] && [ -w /dev/shm ]; then dl_t=/dev/shm; fi
	dl_t=$dl_t/.driftless-${DLM#@@DL-}
	set -C
	if umask >"$dl_t.u" && read -r dl_um0 <"$dl_t.u" && umask 077 &&
		true >"$dl_t.o" && true >"$dl_t.e" && true >"$dl_t.p" && true >"$dl_t.s"; then
		umask "$dl_um0"; set +C
	else
		exit 97
	fi
	trap 'printf "%s" "$dl_ob"; rm -f -- "$dl_t.o" "$dl_t.e" "$dl_t.p" "$dl_t.s" "$dl_t.u"' EXIT
	dl_frame - tmp "$dl_t"
}
dl_script() {
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
dl_need_t
dl_stop='successAndExit'
# step 3: done-here (shell)
if [ -n "$dl_stop" ]; then dl_frame 2 skip "$dl_stop"; else
	dl_ok=1
	if :; then
		dl_a=0; while :; do dl_a=$((dl_a+1))
			dl_need_t; dl_frame 2 start run; ( umask 077; set -C; printf '%s\n' 'test -f /etc/app/done' >"$dl_t.x" && chmod 700 "$dl_t.x" || exit 97
				umask "$dl_um0"; set +C; export DL_PARAM_Message='hello'; dl_script "$dl_t.x"
			) </dev/null >"$dl_t.o" 2>"$dl_t.e"; dl_rc=$?
			rm -f -- "$dl_t.x"; dl_frame 2 run $dl_rc; dl_payload 2 out "$dl_t.o"; dl_payload 2 err "$dl_t.e"
			if [ $dl_rc -eq 0 ] || [ $dl_a -ge 1 ]; then break; fi; done
		[ $dl_rc -eq 0 ] || dl_ok=
	fi
	if [ -z "$dl_ok" ]; then :; fi
	if [ -n "$dl_ok" ]; then dl_stop=onSuccess; fi
	case $dl_rc in 168) dl_stop=exit168 ;; 169) dl_stop=exit169 ;; 194) dl_stop=reboot ;; esac
fi
# step 4: windows (powershell)
if [ -n "$dl_stop" ]; then dl_frame 3 skip "$dl_stop"; else
	dl_ok=1
	if :; then
		dl_a=0; while :; do dl_a=$((dl_a+1))
			dl_need_t; dl_frame 3 start run; dl_nf=
			if command -v pwsh >/dev/null 2>&1; then ( umask 077; set -C; printf '%s\n' 'Write-Output hello' >"$dl_t.ps1" && : || exit 97
					umask "$dl_um0"; set +C; export DL_PARAM_Message='hello'; exec pwsh -NoProfile -NonInteractive -File "$dl_t.ps1"
				) </dev/null >"$dl_t.o" 2>"$dl_t.e"; dl_rc=$?; rm -f -- "$dl_t.ps1"
			else dl_rc=1; dl_nf=nopwsh; : >"$dl_t.o"; printf 'pwsh not found\n' >"$dl_t.e"; fi
			dl_frame 3 run "$dl_rc $dl_nf"; dl_payload 3 out "$dl_t.o"; dl_payload 3 err "$dl_t.e"
			if [ $dl_rc -eq 0 ] || [ $dl_a -ge 1 ]; then break; fi; done
		[ $dl_rc -eq 0 ] || dl_ok=
	fi
	if [ -z "$dl_ok" ]; then :; fi
	case $dl_rc in 168) dl_stop=exit168 ;; 169) dl_stop=exit169 ;; 194) dl_stop=reboot ;; esac
fi
# step 5: cleanup (shell)
if :; then
	dl_ok=1
	if :; then
		dl_a=0; while :; do dl_a=$((dl_a+1))
			dl_need_t; dl_frame 4 start run; ( umask 077; set -C; printf '%s\n' 'rm -f /tmp/app.lock' >"$dl_t.x" && chmod 700 "$dl_t.x" || exit 97
				umask "$dl_um0"; set +C; export DL_PARAM_Message='hello'; dl_script "$dl_t.x"
			) </dev/null >"$dl_t.o" 2>"$dl_t.e"; dl_rc=$?
			rm -f -- "$dl_t.x"; dl_frame 4 run $dl_rc; dl_payload 4 out "$dl_t.o"; dl_payload 4 err "$dl_t.e"
			if [ $dl_rc -eq 0 ] || [ $dl_a -ge 1 ]; then break; fi; done
		[ $dl_rc -eq 0 ] || dl_ok=
	fi
	if [ -z "$dl_ok" ]; then :; fi
	case $dl_rc in 168) dl_stop=exit168 ;; 169) dl_stop=exit169 ;; 194) dl_stop=reboot ;; esac
fi

}
dl_main </dev/null
dl_rc=$?
printf '%s\n%s - end 0 %s\n' "$dl_ob" "$DLM" $dl_rc
dl_ob=
exit $dl_rc
