// Package sshsim simulates a fleet of SSH hosts inside one process, with
// golang.org/x/crypto/ssh servers on loopback: far more hosts than real
// sshd processes allow on one machine, started in milliseconds, with
// nothing to install. The fleet benchmark's scale mode and `driftless
// demo` use it; tests may too.
//
// Start serves Options.Hosts hosts. Each has
//
//   - its own listener, on its own loopback address: consecutive addresses
//     of 127.0.0.0/8 from Options.FirstAddr (default 127.1.0.1, skipping
//     .0 and .255), each on a port the kernel picks, so that thousands of
//     hosts never run short of ports. Where only 127.0.0.1 exists (macOS),
//     every host listens there on its own port;
//   - its own generated ed25519 host key (Host.HostKey,
//     Host.KnownHostsLine, Fleet.KnownHosts);
//   - its own home directory (Host.Home), under Options.Dir;
//   - its own temporary directory (Host.TempDir, its commands' TMPDIR),
//     under /dev/shm where it can: the hosts are separate machines, each
//     with its own /tmp and /dev/shm, so that what a command keeps there
//     (a driftless script's private files, which each script sweeps) is
//     not every host's at once.
//
// Clients log in by public key with one of Options.AuthorizedKeys (as
// Options.User, or any user name when it is empty). NewClientKey makes a
// key pair in the format identity files use.
//
// A session's "exec" request runs the command as
//
//	/bin/sh -c COMMAND
//
// as the user running the simulator, in the host's home directory, with
// HOME, USER, LOGNAME, SHELL and PATH set as sshd sets them for a login
// (PATH=/usr/local/bin:/usr/bin:/bin:/usr/games, not the simulator's),
// TMPDIR as pam_tmpdir sets it (the host's TempDir), then Options.Env, then what the client sent with "env" requests (all
// are accepted; a later value of a variable wins). "shell" runs /bin/sh reading commands from stdin (there is
// no pty). The command gets its own process group, as under sshd, so that
// the client's "signal" requests reach the command and everything it
// started; closing the channel (or losing the connection) while the
// command runs kills that group. The exit status (or "exit-signal" when a
// signal ended it) is sent before the channel closes, after all output.
//
// The "sftp" subsystem is github.com/pkg/sftp's server: paths are those
// of this machine, relative ones start in the host's home. Global
// keepalive@openssh.com requests are answered (with success); other
// global requests and port forwarding are refused.
//
// Host.Connections counts successful logins, Host.Execs exec and shell
// requests and Host.Keepalives keepalive requests, so that a test can
// tell how many connections and round trips a client made. Each host
// also records its sessions (Host.Sessions: kind, start and end, from
// the request until the command has ended, before the client hears of
// it), and Fleet.Busy counts from them the most hosts running at once:
// the hosts' own count, taken in the simulator, which costs them no
// process. Close stops
// everything: listeners, connections, running commands, the hosts'
// temporary directories, and Dir when Start created it.
//
// Unlike internal/sshtest, nothing here needs the testing package or root.
package sshsim
