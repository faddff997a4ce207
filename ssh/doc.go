// Package ssh is driftless's SSH transport: it implements runner.Conn over
// one authenticated SSH connection per host, made with
// golang.org/x/crypto/ssh and nothing installed on the host.
//
// Dial verifies the host key against known_hosts ("strict", or
// "accept-new", which records unknown keys and refuses changed ones; there
// is no way to skip verification), follows a ProxyJump chain, and
// authenticates with identity files, ssh-agent keys and an optional
// password. Its errors wrap the runner's sentinel errors (ErrUnreachable,
// ErrTimeout, ErrAuth, ErrHostKeyUnknown, ErrHostKeyChanged) with a short
// stage, so that the runner can map them to statuses and the CLI to hints.
//
// A Client then carries every step for that host: Run opens one session
// per script on the same connection, PutFile writes files over one SFTP
// channel opened on first use (or through sudo when the host config says
// become = "sudo"). Keepalives detect a dead peer; Close ends it all.
//
// # How a script runs
//
// Run sends one exec request:
//
//	exec sh -c '<wrapper>' sh '<exports and script>'
//
// Environment variables travel inside the script as export K='v' lines
// (single-quoted, so no value is ever interpreted), never as SSH env
// requests, which sshd usually refuses. The wrapper runs the script in the
// background with the session's stdin, waits for it, and on SIGTERM kills
// its whole process group: when the context is cancelled, Run sends TERM
// over the session (sshd delivers it to the wrapper, the session leader),
// so the script and everything it started really end; then Run closes the
// session. As in any background job of sh, SIGINT and SIGQUIT are
// ignored by the script. The login shell must be POSIX-like (sh, bash,
// dash, zsh, ksh).
//
// Scripts longer than about 120 KiB once quoted (Linux limits one argument
// to 128 KiB) are first written with SFTP to a private file in the login
// user's home, run with sh FILE, and removed afterwards.
//
// # become = "sudo"
//
// With Become "sudo" the command is
//
//	exec sudo -S -p '<random prompt>' sh -c '<report ready>; <wrapper>' sh '<script>'
//
// Run watches stderr (hiding both markers): when sudo shows the prompt, it
// writes BecomePassword and a newline to stdin; when the shell reports
// that it runs, it starts streaming Command.Stdin. So the password is only
// sent when sudo asks for it (a NOPASSWD rule or cached credentials never
// let it reach the script), it never appears in output or errors, and a
// second prompt (wrong password) or a prompt without a configured password
// ends the command with an error wrapping runner.ErrAuth. PutFile then
// streams the content through sudo sh -c 'cat > tmp && chmod && mv', after
// checking the byte count, instead of using SFTP; files end up owned by the
// become user.
package ssh
