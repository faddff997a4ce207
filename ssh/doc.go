// Package ssh is driftless's SSH transport: it implements transport.Conn over
// one authenticated SSH connection per host, made with
// golang.org/x/crypto/ssh and nothing installed on the host.
//
// Dial verifies the host key against known_hosts ("strict", or
// "accept-new", which records unknown keys and refuses changed ones; there
// is no way to skip verification), follows a ProxyJump chain, and
// authenticates with identity files, ssh-agent keys and an optional
// password. Its errors wrap transport's sentinel errors (ErrUnreachable,
// ErrTimeout, ErrAuth, ErrHostKeyUnknown, ErrHostKeyChanged) with a short
// stage, so that the runner can map them to statuses and the CLI to hints.
//
// A Client then carries every step for that host: Run opens one session
// per script on the same connection (and an SFTP channel, on first use,
// for scripts too long for the command line). Keepalives detect a dead
// peer; Close ends it all.
//
// # How a script runs
//
// Run sends one exec request:
//
//	exec sh -c '<trap: TERM kills the process group>; <script>'
//
// or, when the login shell is sh or dash ($0), the same without the exec:
// one program start less on the host.
//
// Values the script needs are written into its text by the runner
// (single-quoted, so no value is ever interpreted), never sent as SSH env
// requests, which sshd usually refuses. When the context is cancelled,
// Run sends SIGTERM over the session, which sshd delivers to the
// session's whole process group (killpg): the foreground command ends,
// then the shell's trap kills the rest of the group, so the script and
// everything it started end (a foreground command that ignores SIGTERM
// gets SIGKILL 2 s later); then Run closes the session. When the cause
// of the cancellation is transport.ErrScriptEnded, Run closes the session
// at once instead. The login shell must be POSIX-like (sh, bash, dash,
// zsh, ksh).
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
// where the wrapper runs the script in the background and, on SIGTERM
// (which sudo relays to it), kills its whole process group.
// Run watches stderr (hiding both markers): when sudo shows the prompt, it
// writes BecomePassword and a newline to stdin; when the shell reports
// that it runs, it starts streaming Command.Stdin. So the password is only
// sent when sudo asks for it (a NOPASSWD rule or cached credentials never
// let it reach the script), it never appears in output or errors, and a
// second prompt (wrong password) or a prompt without a configured password
// ends the command with an error wrapping transport.ErrAuth. A script too
// long for the command line is uploaded with SFTP as the login user, as
// without sudo, and run with sudo sh FILE.
package ssh
