// Package winrmtest is an in-process WS-Management / WinRS server for
// tests: what a Windows host's WinRM service looks like from the wire,
// without Windows.
//
// A Server listens on a loopback port (HTTP, or HTTPS with a certificate
// from its own test CA) and implements the WinRS operations a remote shell
// client uses: Create (open a shell), Command (start a process in it),
// Send (its stdin), Receive (its output, streamed: a Receive returns as
// soon as there is output, and after OperationTimeout with the w:TimedOut
// fault that real servers send when there is none), Signal (terminate or
// ctrl_c) and Delete (close the shell). It authenticates every request
// with HTTP Basic or NTLM (the server side of NTLMv2: negotiate,
// challenge, authenticate; a connection stays authenticated afterwards,
// as on Windows), and answers a failed login with 401 and the
// WWW-Authenticate headers that say what it accepts.
//
// Nothing is executed. A Handler decides what each command does: it gets
// the command line and, for "powershell -EncodedCommand ..." commands,
// the PowerShell script decoded from its UTF-16LE base64; it reads stdin,
// writes stdout and stderr (streamed to the client as it writes) and
// returns the exit code. The server records every command, script,
// signal, deleted shell and operation, so tests assert exactly what a
// client sent.
//
// The server is validated against two independent clients,
// github.com/masterzen/winrm and Debian's python3-winrm (pywinrm), by the
// tests of driftless's winrm package.
package winrmtest
