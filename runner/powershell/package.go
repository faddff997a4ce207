package powershell

import (
	"fmt"
	"strings"

	"github.com/driftless-dev/driftless/internal/pwsh"
	"github.com/driftless-dev/driftless/runner/plan"
)

// psPackagePrelude defines the helpers of the package fragments; it goes
// after psPrelude and psServicePrelude (dl_text, $dl_so) in every
// PowerShell script.
const psPackagePrelude = `$dl_pm_cache = @{}
$dl_winget = $null
$dl_nc = 0
$dl_no = ''
function dl_native([string]$exe, [string[]]$a) {
	$ErrorActionPreference = 'Continue'
	try { [Console]::OutputEncoding = $dl_utf8 } catch { }
	$global:LASTEXITCODE = 9009
	try {
		$o = @(& $exe @a 2>&1 | ForEach-Object { [string]$_ })
		$script:dl_nc = $global:LASTEXITCODE
		$script:dl_no = $o -join $dl_nl
		if ($o.Count -gt 0) { $script:dl_no += $dl_nl }
	} catch {
		$script:dl_nc = 9009
		$script:dl_no = $_.Exception.Message + $dl_nl
	}
}
function dl_winget_exe {
	if ($null -eq $script:dl_winget) {
		$script:dl_winget = ''
		$c = @(Get-Command -Name winget.exe -CommandType Application -ErrorAction SilentlyContinue)
		if ($c.Count -gt 0) {
			$script:dl_winget = $c[0].Source
		} else {
			try {
				$d = @(Get-ChildItem -LiteralPath ([IO.Path]::Combine($env:ProgramFiles, 'WindowsApps')) -Filter 'Microsoft.DesktopAppInstaller_*_x64__8wekyb3d8bbwe' -Directory -ErrorAction SilentlyContinue |
					Sort-Object -Property { try { [version]($_.Name.Split('_')[1]) } catch { [version]'0.0' } } |
					ForEach-Object { [IO.Path]::Combine($_.FullName, 'winget.exe') } | Where-Object { [IO.File]::Exists($_) })
				if ($d.Count -gt 0) { $script:dl_winget = $d[-1] }
			} catch { }
		}
	}
	return $script:dl_winget
}
function dl_pm_find([string]$m) {
	if (-not $dl_pm_cache.ContainsKey($m)) {
		$r = 'none'
		if ((($m -eq '') -or ($m -eq 'winget')) -and ((dl_winget_exe) -ne '')) {
			$r = 'winget'
		} elseif ((($m -eq '') -or ($m -eq 'choco')) -and (@(Get-Command -Name choco.exe -CommandType Application -ErrorAction SilentlyContinue).Count -gt 0)) {
			dl_native 'choco.exe' @('--version')
			$v = @($script:dl_no -split $dl_nl | ForEach-Object { $_.Trim() } | Where-Object { $_ -match '^[0-9][0-9A-Za-z.+-]*$' })
			if ($v.Count -gt 0) { $r = 'choco ' + $v[0] } else { $r = 'choco 0' }
		}
		$dl_pm_cache[$m] = $r
	}
	return $dl_pm_cache[$m]
}
function dl_pkgout([string]$i, [string]$q, [string]$n) {
	$b = $dl_utf8.GetBytes($script:dl_no)
	$t = $b.Length
	if ($t -gt @MaxOutput@) {
		$c = New-Object byte[] @MaxOutput@
		[Array]::Copy($b, $c, @MaxOutput@)
		$b = $c
	}
	dl_w ('{0}{1} {2} pkg {3} {4} {5} {6} {7}{0}' -f $dl_nl, $DLM, $i, $b.Length, $t, $script:dl_nc, $q, $n)
	$dl_out.Write($b, 0, $b.Length)
	$dl_out.Flush()
}
function dl_pkg_check([string]$i, [string]$tag, [string]$m, [string]$want, [string[]]$names) {
	$pm = dl_pm_find $m
	dl_frame $i $tag $pm
	$f = $pm.Split(' ')
	if ($f[0] -eq 'winget') {
		$w = dl_winget_exe
		foreach ($n in $names) {
			dl_native $w @('list', '--id', $n, '--exact', '--accept-source-agreements')
			dl_pkgout $i 'list' $n
			if (($want -eq 'latest') -and ($script:dl_nc -eq 0)) {
				dl_native $w @('list', '--id', $n, '--exact', '--upgrade-available', '--accept-source-agreements')
				dl_pkgout $i 'upgrade' $n
			}
		}
	} elseif ($f[0] -eq 'choco') {
		$major = 0
		try { $major = [int]($f[1].Split('.')[0]) } catch { }
		foreach ($n in $names) {
			if ($major -ge 2) {
				dl_native 'choco.exe' @('list', '--exact', $n, '--limit-output')
			} else {
				dl_native 'choco.exe' @('list', '--local-only', '--exact', $n, '--limit-output')
			}
			dl_pkgout $i 'list' $n
		}
		if ($want -eq 'latest') {
			dl_native 'choco.exe' @('outdated', '--limit-output')
			dl_pkgout $i 'outdated' '-'
		}
	}
}
function dl_pkg_run([string]$exe, [string[]]$a) {
	if ($script:dl_rc -ne 0) { return }
	dl_native $exe $a
	[void]$dl_so.Append($script:dl_no)
	$c = $script:dl_nc
	$leaf = [IO.Path]::GetFileName($exe)
	if (($c -eq 3010) -or ($c -eq 1641)) {
		[void]$dl_so.Append(('driftless: {0} exited {1}: a reboot is needed to finish{2}' -f $leaf, $c, $dl_nl))
		$c = 0
	}
	if ($c -ne 0) {
		$h = ''
		if ($c -lt 0) { $h = ' (0x{0:X8})' -f $c }
		$l = @($script:dl_no.Trim() -split $dl_nl)[-1].Trim()
		if ($l -ne '') { $l = ': ' + $l }
		[void]$dl_e.Append(('{0} {1} exited {2}{3}{4}{5}' -f $leaf, ($a -join ' '), $c, $h, $l, $dl_nl))
		$script:dl_rc = $c
	}
}
function dl_pkg_do([string]$pm, [string]$verb, [string[]]$names) {
	if ($pm -eq 'winget') {
		$w = dl_winget_exe
		foreach ($n in $names) {
			if ($verb -eq 'remove') {
				dl_pkg_run $w @('uninstall', '--id', $n, '--exact', '--silent', '--accept-source-agreements')
			} else {
				dl_pkg_run $w @($verb, '--id', $n, '--exact', '--silent', '--accept-package-agreements', '--accept-source-agreements')
			}
		}
	} else {
		$v = $verb
		if ($verb -eq 'remove') { $v = 'uninstall' }
		dl_pkg_run 'choco.exe' (@($v) + $names + @('-y', '--no-progress'))
	}
}
`

// List is a PowerShell array of single-quoted strings.
func List(items []string) string {
	q := make([]string, len(items))
	for i, it := range items {
		q[i] = pwsh.Quote(it)
	}
	return "@(" + strings.Join(q, ", ") + ")"
}

// psPackageCheck is the check fragment of a package step on a
// PowerShell host (tag "state"; "after" in apply).
func psPackageCheck(s *plan.Step, tag string) string {
	return fmt.Sprintf("dl_pkg_check %s %s %s %s %s\n", psIdx(s), pwsh.Quote(tag), pwsh.Quote(s.Manager), pwsh.Quote(s.PkgWant), List(s.Names))
}

// psPackageApply is the apply fragment: the dl_pkg_do lines that
// package eval (evaluatePackagePS) chose, their output as the run frame's payloads,
// then the state after.
func psPackageApply(s *plan.Step, commands string) string {
	var b strings.Builder
	idx := psIdx(s)
	b.WriteString("$dl_rc = 0\n$dl_so = New-Object Text.StringBuilder\n")
	b.WriteString(commands)
	fmt.Fprintf(&b, "dl_frame %s 'run' $dl_rc\ndl_text %s 'out' ($dl_so.ToString())\ndl_text %s 'err' ($dl_e.ToString())\n", idx, idx, idx)
	b.WriteString("if ($dl_rc -ne 0) { $dl_ok = $false }\n")
	b.WriteString(psPackageCheck(s, "after"))
	return b.String()
}
