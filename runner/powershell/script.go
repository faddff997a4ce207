package powershell

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/internal/pwsh"
	"github.com/driftless-dev/driftless/runner/frame"
	"github.com/driftless-dev/driftless/runner/plan"
)

// The scripts below are the PowerShell twins of package posix's, for hosts
// whose connection says ShellPowerShell (WinRM; OpenSSH on Windows). They
// report through exactly the same frames, so that evaluate and applied
// read them unchanged:
//
//	facts      "<os> <uid>"                  (uid: the user's SID)
//	check, run, verify, recheck "<exit code>", then payloads out and err
//	stat, after "0" missing | "2" not a file/directory |
//	            "1 <sha256> <mode> <owner> <group> <size>"
//	cur        payload: the file's first bytes
//	applied    "1" or "0", then payload err
//	skip       "platform" | "failed" | "onSuccess" | "successAndExit"
//
// Windows differences, inside the same fields: mode is always "-" (NTFS
// has ACLs, not permission bits: a step's mode is not applied); sha is
// Get-FileHash's SHA-256; owner and group are read with Get-Acl, and
// reported as the step's own owner (group) when they are the same
// account ("Administrators" is BUILTIN\Administrators), else as the
// account name, else the SID; spaces and "%" in them are %-escaped
// (UnescapeField), since frame fields are separated by spaces. A
// directory's size is 0.
//
// Bytes go to stdout raw ([Console]::OpenStandardOutput), never through
// PowerShell's formatting or code page, so payload sizes are exact.
//
// A powershell step's script runs in a child powershell.exe, as the SSM
// agent runs aws:runPowerShellScript: written to a .ps1 file and run with
// -NoProfile -NonInteractive -ExecutionPolicy Bypass -File, with the
// step's environment and working directory, stdin closed, stdout and
// stderr captured to files; after the step's timeout the child and its
// process tree are killed (taskkill /T /F) and the exit code is 124, as
// with GNU timeout in package posix.
//
// A shell (POSIX sh) step is not run on Windows: it reports skip
// platform, as the SSM agent skips aws:runShellScript there.
//
// Like the sh scripts, these travel on stdin, never on a command line
// (process creation auditing logs command lines): the command is
// psStdinScript and stdin is psStdin(script), the script in base64 lines,
// which no console code page can alter. PowerShell hands stdin to the
// command as pipeline input, all of which is read before the script runs.

// psPrelude starts every PowerShell script, after $DLM. dl_rc, dl_ok,
// dl_stop and dl_e play the roles of their sh namesakes.
const psPrelude = `$ErrorActionPreference = 'Stop'
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
	dl_payload $i 'out' $of @MaxOutput@
	dl_payload $i 'err' $ef @MaxOutput@
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
	if ($n -gt @MaxOutput@) {
		$c = New-Object byte[] @MaxOutput@
		[Array]::Copy($b, $c, @MaxOutput@)
		$b = $c
	}
	dl_bytes $i 'err' $b $n
	dl_stat $i 'after' $p $dir $owner $group
}
function dl_fail([string]$i, $er) {
	[Console]::Error.WriteLine(('driftless: step {0}: {1}' -f $i, $er.Exception.Message))
}
`

// psPreludeText is psPrelude with its sizes filled in.
var psPreludeText = strings.ReplaceAll(psPrelude+psServicePrelude+psPackagePrelude, "@MaxOutput@", strconv.Itoa(frame.MaxOutput))

// psEnd ends every PowerShell script: the temporary directory goes.
const psEnd = `} finally {
	try { [IO.Directory]::Delete($dl_t, $true) } catch { }
}
exit 0
`

// StdinScript runs the script that psStdin sends.
const StdinScript = "$ProgressPreference = 'SilentlyContinue'\n" +
	"$dl_src = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String((@($input) -join '')))\n" +
	". ([ScriptBlock]::Create($dl_src))\n"

// psStdinLine is the length of psStdin's lines.
const psStdinLine = 4096

// psPath is a PowerShell expression of a host path; "~/" is the user's
// profile directory there.
func psPath(p string) string {
	switch {
	case p == "~":
		return "$env:USERPROFILE"
	case strings.HasPrefix(p, "~/"), strings.HasPrefix(p, `~\`):
		return "[IO.Path]::Combine($env:USERPROFILE, " + pwsh.Quote(p[2:]) + ")"
	}
	return pwsh.Quote(p)
}

// psBytes is a PowerShell string of b in base64.
func psBytes(b []byte) string {
	return "'" + base64.StdEncoding.EncodeToString(b) + "'"
}

// psStepScript is a step's script as the .ps1 file holds it: UTF-8 with
// a byte order mark, which Windows PowerShell needs to read non-ASCII
// text as UTF-8.
func psStepScript(script string) string {
	return psBytes(append([]byte("\xef\xbb\xbf"), script...))
}

// psVars fills $dl_v, a hashtable, with a step's environment, sorted. It
// is built by assignment, not as a literal, which would refuse names that
// differ only by case.
func psVars(env map[string]string) string {
	var b strings.Builder
	b.WriteString("$dl_v = @{}\n")
	for _, k := range slices.Sorted(maps.Keys(env)) {
		b.WriteString("$dl_v[" + pwsh.Quote(k) + "] = " + pwsh.Quote(env[k]) + "\n")
	}
	return b.String()
}

// psIdx is a step index as the helpers take it.
func psIdx(s *plan.Step) string { return pwsh.Quote(strconv.Itoa(s.Idx)) }

// psRun runs script (a step's run or check) for step s, reporting tag.
func psRun(s *plan.Step, script, tag string) string {
	wd := "''"
	if s.Workdir != "" {
		wd = "(" + psPath(s.Workdir) + ")"
	}
	return fmt.Sprintf("%sdl_run %s %s %s $dl_v %s %d\n", psVars(s.Env), psIdx(s), pwsh.Quote(tag), psStepScript(script), wd, min(plan.TimeoutSeconds(s), 2_000_000))
}

// psStat reports what is at the step's path (see dl_stat).
func psStat(s *plan.Step, tag string) string {
	return fmt.Sprintf("dl_stat %s %s $p %s %s %s\n", psIdx(s), pwsh.Quote(tag), psBool(s.Action == documents.ActionDirectory), pwsh.Quote(s.Owner), pwsh.Quote(s.Group))
}

func psBool(b bool) string {
	if b {
		return "$true"
	}
	return "$false"
}

// CheckScript checks every step of a plan, as checkScript does.
func CheckScript(marker string, steps []*plan.Step) string {
	var b writer
	b.WriteString("$DLM = " + pwsh.Quote(marker) + "\n")
	b.Verbatim(psPreludeText)
	b.WriteString("try {\n")
	b.WriteString("dl_frame '-' 'facts' ('{0} {1}' -f $dl_os, $dl_uid)\n")
	for _, s := range steps {
		if s.Err != nil || s.Skip != "" {
			continue
		}
		b.Comment(s.Label())
		if s.Platform != "" {
			fmt.Fprintf(&b, "if ($dl_os -eq %s) {\n", pwsh.Quote(s.Platform))
		}
		b.WriteString("try {\n")
		switch s.Action {
		case documents.ActionPowerShell:
			if s.HasCheck {
				b.WriteString(psRun(s, s.Check, "check"))
			}
		case documents.ActionShell:
			fmt.Fprintf(&b, "dl_frame %s 'skip' 'platform'\n", psIdx(s))
		case documents.ActionFile, documents.ActionDirectory:
			b.WriteString("$p = " + psPath(s.Path) + "\n")
			b.WriteString(psStat(s, "stat"))
			if s.Action == documents.ActionFile && s.ContentText && !s.Absent && !s.Secret {
				fmt.Fprintf(&b, "if ([IO.File]::Exists($p) -and ((dl_sha $p) -ne '%s')) { dl_payload %s 'cur' $p %d }\n", s.WantSHA(), psIdx(s), plan.MaxDiffBytes)
			}
		case documents.ActionLine:
			b.WriteString("$p = " + psPath(s.Path) + "\n")
			b.WriteString(psStat(s, "stat"))
			fmt.Fprintf(&b, "if ([IO.File]::Exists($p)) { dl_payload %s 'cur' $p %d }\n", psIdx(s), frame.MaxFile)
		case documents.ActionService:
			b.WriteString(ServiceCheck(s, "state"))
		case documents.ActionPackage:
			b.WriteString(psPackageCheck(s, "state"))
		default: // the other values need nothing here
		}
		fmt.Fprintf(&b, "} catch { dl_fail %s $_ }\n", psIdx(s))
		if s.Platform != "" {
			fmt.Fprintf(&b, "} else { dl_frame %s 'skip' 'platform' }\n", psIdx(s))
		}
	}
	b.WriteString(psEnd)
	return b.String()
}

// ApplyScript corrects the given steps, in order, as applyScript does:
// on_failure, onSuccess: exit and finally steps are honoured on the host.
func ApplyScript(marker string, steps []plan.ApplyStep) string {
	var b writer
	b.WriteString("$DLM = " + pwsh.Quote(marker) + "\n")
	b.Verbatim(psPreludeText)
	b.WriteString("try {\n")
	for _, a := range steps {
		s := a.Step
		idx := psIdx(s)
		b.Comment(s.Label())
		if s.Finally {
			b.WriteString("if ($true) {\n")
		} else {
			fmt.Fprintf(&b, "if ($dl_stop -ne '') { dl_frame %s 'skip' $dl_stop } else {\n", idx)
		}
		if s.Platform != "" {
			fmt.Fprintf(&b, "if ($dl_os -ne %s) { dl_frame %s 'skip' 'platform' } else {\n", pwsh.Quote(s.Platform), idx)
		}
		b.WriteString("$dl_ok = $true\n[void]$dl_e.Clear()\ntry {\n")
		psApplyAction(&b, a, idx)
		fmt.Fprintf(&b, "} catch { dl_fail %s $_; $dl_ok = $false }\n", idx)
		switch s.OnFailure {
		case "continue":
		case "successAndExit":
			b.WriteString("if ($dl_ok -eq $false) { $dl_stop = 'successAndExit' }\n")
		default:
			b.WriteString("if ($dl_ok -eq $false) { $dl_stop = 'failed' }\n")
		}
		if s.OnSuccessEnd {
			b.WriteString("if ($dl_ok -eq $true) { $dl_stop = 'onSuccess' }\n")
		}
		if s.Platform != "" {
			b.WriteString("}\n")
		}
		b.WriteString("}\n")
	}
	b.WriteString(psEnd)
	return b.String()
}

// psApplyAction writes to the apply script b the correction of the
// step of a (idx: its index, quoted) by its action, inside the step's
// try block: it sets $dl_ok to false when the correction fails.
func psApplyAction(b *writer, a plan.ApplyStep, idx string) {
	s := a.Step
	switch s.Action {
	case documents.ActionPowerShell:
		if a.Recheck && s.HasCheck {
			b.WriteString(psRun(s, s.Check, "recheck"))
			b.WriteString("if ($dl_rc -ne 0) {\n")
		} else {
			b.WriteString("if ($true) {\n")
		}
		fmt.Fprintf(b, "$dl_a = 0\nwhile ($true) {\n$dl_a++\n%sif (($dl_rc -eq 0) -or ($dl_a -ge %d) -or ($dl_rc -eq 124)) { break }\n}\n", psRun(s, s.Run, "run"), s.Attempts)
		b.WriteString("if ($dl_rc -ne 0) { $dl_ok = $false }\n")
		if s.HasCheck {
			fmt.Fprintf(b, "if ($dl_ok) {\n%sif ($dl_rc -ne 0) { $dl_ok = $false }\n}\n", psRun(s, s.Check, "verify"))
		}
		b.WriteString("}\n")
	case documents.ActionShell:
		// Not on Windows; skipped, like a false precondition, which
		// neither fails nor ends the document.
		fmt.Fprintf(b, "dl_frame %s 'skip' 'platform'\n$dl_ok = $null\n", idx)
	case documents.ActionDirectory:
		b.WriteString("$p = " + psPath(s.Path) + "\n")
		b.WriteString("try {\n")
		if s.Absent {
			b.WriteString("if ([IO.Directory]::Exists($p)) { [IO.Directory]::Delete($p, $true) } elseif ([IO.File]::Exists($p)) { [IO.File]::Delete($p) }\n")
		} else {
			b.WriteString("if (-not [IO.Directory]::Exists($p)) { [void][IO.Directory]::CreateDirectory($p) }\n")
			fmt.Fprintf(b, "dl_own $p $true %s %s\n", pwsh.Quote(s.Owner), pwsh.Quote(s.Group))
		}
		b.WriteString("} catch { [void]$dl_e.AppendLine($_.Exception.Message); $dl_ok = $false }\n")
		fmt.Fprintf(b, "dl_result %s $p $true %s %s\n", idx, pwsh.Quote(s.Owner), pwsh.Quote(s.Group))
	case documents.ActionFile, documents.ActionLine:
		b.WriteString("$p = " + psPath(s.Path) + "\n")
		b.WriteString("try {\n")
		if s.Absent && s.Action == documents.ActionFile {
			b.WriteString("if ([IO.Directory]::Exists($p)) { throw ('{0} is a directory' -f $p) }\n")
			b.WriteString("if ([IO.File]::Exists($p)) { [IO.File]::Delete($p) }\n")
		} else {
			// Write next to the target, then replace: atomic.
			if a.Streamed() {
				b.WriteString(streamed(s.Idx) + "dl_write $p $dl_b\n")
			} else {
				fmt.Fprintf(b, "dl_write $p %s\n", psBytes(a.Write))
			}
			fmt.Fprintf(b, "dl_own $p $false %s %s\n", pwsh.Quote(s.Owner), pwsh.Quote(s.Group))
		}
		b.WriteString("} catch { [void]$dl_e.AppendLine($_.Exception.Message); $dl_ok = $false }\n")
		fmt.Fprintf(b, "dl_result %s $p $false %s %s\n", idx, pwsh.Quote(s.Owner), pwsh.Quote(s.Group))
	case documents.ActionService:
		b.WriteString(ServiceApply(s, a.Commands))
	case documents.ActionPackage:
		b.WriteString(psPackageApply(s, a.Commands))
	default: // the other values need nothing here
	}
}

// UnescapeField undoes the %-escaping of owner and group fields in the
// stat frames of PowerShell scripts ("NT%20AUTHORITY\SYSTEM"). Other
// fields, and POSIX frames, come back unchanged.
func UnescapeField(f string) string {
	if !strings.Contains(f, "%") {
		return f
	}
	if u, err := url.PathUnescape(f); err == nil {
		return u
	}
	return f
}
