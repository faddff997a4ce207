# driftless: the first script of an apply of association "system" (document "system") on host windows (PowerShell)
# Its steps (its reports number them from 0):
#   1 tools (package)
#   2 openssl (package)
#   3 no-telnet (package)
#   4 nginx (service)
#   5 cups (service)
#   6 scan (patch)
#   7 patch (patch)
$DLM = '@@DL-MARKER'
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$dl_os = 'Windows'
if ($PSVersionTable.PSEdition -eq 'Core') { if ($IsLinux) { $dl_os = 'Linux' } elseif ($IsMacOS) { $dl_os = 'MacOS' } }
$dl_uid = '-'
try { $dl_uid = [Security.Principal.WindowsIdentity]::GetCurrent().User.Value } catch { }
$dl_t = [IO.Path]::Combine([IO.Path]::GetTempPath(), 'driftless-' + [Guid]::NewGuid().ToString('N'))
[void][IO.Directory]::CreateDirectory($dl_t)
$dl_out = [Console]::OpenStandardOutput()
$dl_utf8 = New-Object Text.UTF8Encoding -ArgumentList $false
$dl_ps = (Get-Process -Id $PID).Path
if (-not $dl_ps) { $dl_ps = 'powershell.exe' }
$dl_nl = [string][char]10
$dl_rc = 0
$dl_ok = $true
$dl_stop = ''
$dl_e = New-Object Text.StringBuilder
function dl_w([string]$s) {
	$b = $dl_utf8.GetBytes($s)
	$dl_out.Write($b, 0, $b.Length)
}
function dl_frame([string]$i, [string]$k, [string]$f) {
	dl_w ('{0}{1} {2} {3} 0 {4}{0}' -f $dl_nl, $DLM, $i, $k, $f)
	$dl_out.Flush()
}
function dl_bytes([string]$i, [string]$k, [byte[]]$b, [long]$n) {
	if ($null -eq $b) { $b = New-Object byte[] 0 }
	dl_w ('{0}{1} {2} {3} {4} {5}{0}' -f $dl_nl, $DLM, $i, $k, $b.Length, $n)
	$dl_out.Write($b, 0, $b.Length)
	$dl_out.Flush()
}
function dl_payload([string]$i, [string]$k, [string]$p, [long]$max) {
	$fs = New-Object IO.FileStream -ArgumentList $p, ([IO.FileMode]::Open), ([IO.FileAccess]::Read), ([IO.FileShare]::ReadWrite)
	try {
		$n = $fs.Length
		$b = New-Object byte[] ([Math]::Min($n, $max))
		$r = 0
		while ($r -lt $b.Length) {
			$x = $fs.Read($b, $r, $b.Length - $r)
			if ($x -le 0) { break }
			$r += $x
		}
		if ($r -lt $b.Length) {
			$c = New-Object byte[] $r
			[Array]::Copy($b, $c, $r)
			$b = $c
		}
	} finally {
		$fs.Dispose()
	}
	dl_bytes $i $k $b $n
}
function dl_sha([string]$p) {
	try { return (Get-FileHash -LiteralPath $p -Algorithm SHA256).Hash.ToLowerInvariant() } catch { return '-' }
}
function dl_esc([string]$s) {
	return $s.Replace('%', '%25').Replace(' ', '%20').Replace([string][char]9, '%09').Replace([string][char]13, '%0D').Replace([string][char]10, '%0A')
}
function dl_acct([string]$p, [string]$which, [string]$want) {
	$name = '-'
	try {
		$acl = Get-Acl -LiteralPath $p
		if ($which -eq 'owner') { $sid = $acl.GetOwner([Security.Principal.SecurityIdentifier]) } else { $sid = $acl.GetGroup([Security.Principal.SecurityIdentifier]) }
		$name = $null
		if ($want -ne '') {
			try {
				if ($want -match '^S-1-') {
					$w = New-Object Security.Principal.SecurityIdentifier -ArgumentList $want
				} else {
					$w = (New-Object Security.Principal.NTAccount -ArgumentList $want).Translate([Security.Principal.SecurityIdentifier])
				}
				if ($w -eq $sid) { $name = $want }
			} catch { }
		}
		if ($null -eq $name) {
			try { $name = $sid.Translate([Security.Principal.NTAccount]).Value } catch { $name = $sid.Value }
		}
	} catch {
		$name = '-'
	}
	return (dl_esc $name)
}
function dl_stat([string]$i, [string]$k, [string]$p, [bool]$dir, [string]$owner, [string]$group) {
	$there = $true
	try { [void][IO.File]::GetAttributes($p) } catch { $there = $false }
	if ($dir -and [IO.Directory]::Exists($p)) {
		dl_frame $i $k ('1 - - {0} {1} 0' -f (dl_acct $p 'owner' $owner), (dl_acct $p 'group' $group))
	} elseif ((-not $dir) -and [IO.File]::Exists($p)) {
		$n = (New-Object IO.FileInfo -ArgumentList $p).Length
		dl_frame $i $k ('1 {0} - {1} {2} {3}' -f (dl_sha $p), (dl_acct $p 'owner' $owner), (dl_acct $p 'group' $group), $n)
	} elseif ($there) {
		dl_frame $i $k '2'
	} else {
		dl_frame $i $k '0'
	}
}
function dl_kill([int]$id) {
	$ErrorActionPreference = 'Continue'
	& taskkill.exe /T /F /PID $id 2>&1 | Out-Null
}
function dl_run([string]$i, [string]$tag, [string]$b64, [hashtable]$vars, [string]$wd, [int]$secs) {
	$script:dl_rc = 0
	$sf = [IO.Path]::Combine($dl_t, ('s{0}-{1}.ps1' -f $i, $tag))
	$of = [IO.Path]::Combine($dl_t, 'o')
	$ef = [IO.Path]::Combine($dl_t, 'e')
	$o = [IO.File]::Create($of)
	$e = [IO.File]::Create($ef)
	try {
		[IO.File]::WriteAllBytes($sf, [Convert]::FromBase64String($b64))
		if (($wd -ne '') -and (-not [IO.Directory]::Exists($wd))) {
			$m = $dl_utf8.GetBytes(('working_directory {0} does not exist' -f $wd) + $dl_nl)
			$e.Write($m, 0, $m.Length)
			$script:dl_rc = 96
		} else {
			$psi = New-Object Diagnostics.ProcessStartInfo
			$psi.FileName = $dl_ps
			$psi.Arguments = '-NoProfile -NonInteractive -ExecutionPolicy Bypass -File "' + $sf + '"'
			$psi.UseShellExecute = $false
			$psi.CreateNoWindow = $false
			$psi.RedirectStandardInput = $true
			$psi.RedirectStandardOutput = $true
			$psi.RedirectStandardError = $true
			if ($wd -ne '') { $psi.WorkingDirectory = $wd }
			foreach ($k in $vars.Keys) { $psi.EnvironmentVariables[$k] = $vars[$k] }
			$proc = [Diagnostics.Process]::Start($psi)
			$proc.StandardInput.Close()
			$ot = $proc.StandardOutput.BaseStream.CopyToAsync($o)
			$et = $proc.StandardError.BaseStream.CopyToAsync($e)
			$done = $true
			if ($secs -gt 0) { $done = $proc.WaitForExit($secs * 1000) } else { $proc.WaitForExit() }
			if ($done) {
				$proc.WaitForExit()
				$script:dl_rc = $proc.ExitCode
			} else {
				dl_kill $proc.Id
				[void]$proc.WaitForExit(5000)
				$script:dl_rc = 124
			}
			[void]$ot.Wait(5000)
			[void]$et.Wait(5000)
		}
	} catch {
		$m = $dl_utf8.GetBytes($_.Exception.Message + $dl_nl)
		$e.Write($m, 0, $m.Length)
		$script:dl_rc = 127
	} finally {
		$o.Dispose()
		$e.Dispose()
	}
	dl_frame $i $tag $script:dl_rc
	dl_payload $i 'out' $of 1048576
	dl_payload $i 'err' $ef 1048576
}
function dl_own([string]$p, [bool]$dir, [string]$owner, [string]$group) {
	if ($owner -ne '') {
		$ErrorActionPreference = 'Continue'
		$m = & icacls.exe $p /setowner $owner /Q 2>&1 | Out-String
		$ErrorActionPreference = 'Stop'
		if ($LASTEXITCODE -ne 0) { throw ('icacls /setowner {0}: {1}' -f $owner, $m.Trim()) }
	}
	if ($group -ne '') {
		$g = New-Object Security.Principal.NTAccount -ArgumentList $group
		if ($dir) {
			$sd = New-Object Security.AccessControl.DirectorySecurity
			$sd.SetGroup($g)
			[IO.Directory]::SetAccessControl($p, $sd)
		} else {
			$sd = New-Object Security.AccessControl.FileSecurity
			$sd.SetGroup($g)
			[IO.File]::SetAccessControl($p, $sd)
		}
	}
}
function dl_write([string]$p, [string]$b64) {
	$tmp = [IO.Path]::Combine([IO.Path]::GetDirectoryName($p), '.' + [IO.Path]::GetFileName($p) + '.dl-tmp.' + $PID)
	try {
		[IO.File]::WriteAllBytes($tmp, [Convert]::FromBase64String($b64))
		if ([IO.File]::Exists($p)) { [IO.File]::Replace($tmp, $p, [NullString]::Value, $true) } else { [IO.File]::Move($tmp, $p) }
	} catch {
		try { [IO.File]::Delete($tmp) } catch { }
		throw
	}
}
function dl_result([string]$i, [string]$p, [bool]$dir, [string]$owner, [string]$group) {
	if ($script:dl_ok) { dl_frame $i 'applied' '1' } else { dl_frame $i 'applied' '0' }
	$b = $dl_utf8.GetBytes($dl_e.ToString())
	$n = $b.Length
	if ($n -gt 1048576) {
		$c = New-Object byte[] 1048576
		[Array]::Copy($b, $c, 1048576)
		$b = $c
	}
	dl_bytes $i 'err' $b $n
	dl_stat $i 'after' $p $dir $owner $group
}
function dl_fail([string]$i, $er) {
	[Console]::Error.WriteLine(('driftless: step {0}: {1}' -f $i, $er.Exception.Message))
}
function dl_svc_state([string]$n) {
	$s = @(Get-Service -Name $n -ErrorAction SilentlyContinue | Where-Object { $_.Name -eq $n })
	if ($s.Count -eq 0) { return 'windows 0 0 0' }
	$r = 0
	if ($s[0].Status -eq 'Running') { $r = 1 }
	$t = ''
	try { $t = [string]$s[0].StartType } catch { }
	if ($t -eq '') {
		try { $t = [string](Get-CimInstance -ClassName Win32_Service -Filter ("Name='{0}'" -f $n)).StartMode } catch { }
	}
	$en = 0
	if ($t -like 'Auto*') { $en = 1 }
	return ('windows 1 {0} {1}' -f $r, $en)
}
function dl_svc_do([string]$verb, [string]$n) {
	switch ($verb) {
		'start' { Start-Service -Name $n 3>&1 | Out-String }
		'stop' { Stop-Service -Name $n 3>&1 | Out-String }
		'enable' { Set-Service -Name $n -StartupType Automatic 3>&1 | Out-String }
		'disable' { Set-Service -Name $n -StartupType Manual 3>&1 | Out-String }
		default { throw ('unknown service operation {0}' -f $verb) }
	}
}
function dl_text([string]$i, [string]$k, [string]$s) {
	$b = $dl_utf8.GetBytes($s)
	$n = $b.Length
	if ($n -gt 1048576) {
		$c = New-Object byte[] 1048576
		[Array]::Copy($b, $c, 1048576)
		$b = $c
	}
	dl_bytes $i $k $b $n
}
$dl_pm_cache = @{}
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
	if ($t -gt 1048576) {
		$c = New-Object byte[] 1048576
		[Array]::Copy($b, $c, 1048576)
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
try {
	dl_frame '-' 'facts' ('{0} {1}' -f $dl_os, $dl_uid)
	# step 1: tools (package)
	try {
		dl_pkg_check '0' 'state' '' 'present' @('curl', 'jq')
	} catch { dl_fail '0' $_ }
	# step 2: openssl (package)
	try {
		dl_pkg_check '1' 'state' 'apt' 'latest' @('openssl')
	} catch { dl_fail '1' $_ }
	# step 3: no-telnet (package)
	try {
		dl_pkg_check '2' 'state' '' 'absent' @('telnet')
	} catch { dl_fail '2' $_ }
	# step 4: nginx (service)
	try {
		dl_frame '3' 'state' (dl_svc_state 'nginx')
	} catch { dl_fail '3' $_ }
	# step 5: cups (service)
	try {
		dl_frame '4' 'state' (dl_svc_state 'cups')
	} catch { dl_fail '4' $_ }
	# step 6: scan (patch)
	try {
	} catch { dl_fail '5' $_ }
	# step 7: patch (patch)
	try {
	} catch { dl_fail '6' $_ }
} finally {
	try { [IO.Directory]::Delete($dl_t, $true) } catch { }
}
exit 0
# apply: this script only checks; a second script, built from what it reports, corrects the steps it found drifted and runs the steps without a check, in order
