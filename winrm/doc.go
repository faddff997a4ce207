// Package winrm is driftless's WinRM transport for Windows hosts: it
// implements transport.Conn (and transport.Sheller: its scripts are PowerShell)
// over WS-Management / WinRS, with nothing installed on the host beyond
// what Windows ships.
//
// Messages are built and read with github.com/masterzen/winrm's request
// builders and parsers; the HTTP side is driftless's own, because every
// request must obey a context (masterzen's transport takes none) and
// cancellation must really stop the remote process.
//
// # Connecting
//
// Dial opens a first WinRS shell, which proves that the host answers on
// http(s)://ADDRESS:PORT/wsman and accepts the credentials, within
// Config.ConnectTimeout. HTTPS verifies the certificate against ca_file
// or the system roots (insecure_skip_verify only when set explicitly).
// Authentication is Basic or NTLM (NTLMv2 through
// github.com/Azure/go-ntlmssp, as masterzen/winrm uses it); NTLM never
// falls back to Basic, so a password is never sent in clear by surprise.
// Each request runs on a connection of its own slot, so that NTLM's three
// legs share one TCP connection and the connection stays authenticated.
// Plain HTTP needs AllowUnencrypted on the host (no message encryption is
// done): prefer HTTPS.
//
// Errors are in plain words and wrap transport's sentinels: a 401 is
// transport.ErrAuth ("WinRM: 401 from win-1:5986 — check user/password_env
// and auth = ntlm|basic"), a TLS failure is transport.ErrUnreachable and
// ErrTLS with what is wrong with the certificate, refused connections and
// silence are transport.ErrUnreachable (with transport.ErrTimeout), and SOAP
// faults are *Fault with the host's message, never raw XML.
//
// # Running a script
//
// Run sends
//
//	powershell.exe -NoProfile -NonInteractive -EncodedCommand <base64 of UTF-16LE>
//
// in a shell (kept and reused across Runs, at most Config.MaxShells at
// once). The script starts with $ProgressPreference = 'SilentlyContinue'.
// A command line longer than cmd.exe's ~8 KiB limit is not sent as is:
// the script is pushed as a file (see "Pushing a script" below) to the
// user's temporary directory, and a short script reads, deletes and
// dot-sources it.
//
// Output is streamed: each Receive returns what the process wrote since
// the last one; a Receive that sees nothing within OperationTimeout ends
// with a w:TimedOut fault and is simply sent again. PowerShell's CLIXML
// stderr is turned into plain text. When the context ends, Run sends the
// WinRS terminate signal and deletes the shell before it returns (within
// ConnectTimeout, should the host not answer).
//
// # Pushing a script
//
// A long script is pushed by one PowerShell process whose stdin (WinRS
// Send, with console-mode stdin off) carries it as base64 lines of 48 KiB
// and a last "=<sha256> <size>" line: each chunk is appended to a
// temporary file beside the target, the hash and size are checked at the
// end, and the file is moved into place. The temporary file is removed on
// any failure, and a script that does not verify is not run.
package winrm
