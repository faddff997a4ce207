// Package winstub is a Go stand-in for a Windows host, for tests of the
// runner's PowerShell scripts (package runner/powershell) over WinRM or OpenSSH.
//
// PowerShell does not run here. Host replays the helper calls the
// scripts make (dl_stat, dl_payload, dl_run, dl_write, dl_result,
// dl_svc_state, dl_svc_do, dl_pkg_check, dl_pkg_do...) against an
// in-memory file system, service table and package managers, and writes
// the frames those helpers write. Tests thereby check the wire: what the
// scripts ask of the host, and that the frames they stream back are the
// ones the runner reads. The helpers' own PowerShell is not exercised.
//
// The native package managers are played by Host.Native, which by
// default answers winget.exe and choco.exe from Host.Packages with the
// output formats those tools print (see Winget and Choco); a test can
// script other answers.
package winstub
