// Package sshtest starts SSH servers for tests: real OpenSSH sshd processes
// listening on loopback addresses, and an in-process server built on
// golang.org/x/crypto/ssh that misbehaves on purpose (hangs, drops the
// connection, never sends an exit status).
//
// Everything is generated per test and removed in t.Cleanup: host keys,
// client keys, sshd_config, authorized_keys, known_hosts lines and, when the
// tests run as root, one throwaway unix user per host. No key is ever read
// from or written to the repository.
//
// A typical test:
//
//	h := sshtest.StartSSHD(t, sshtest.Options{Name: "web-1"})
//	kh := filepath.Join(t.TempDir(), "known_hosts")
//	sshtest.WriteKnownHosts(t, kh, h)
//	// dial h.Addr:h.Port as h.User with h.ClientKeyPath, verifying against kh
//
// # Home directories
//
// Each host has its own home directory (Host.Home), so that several hosts
// started by one test do not see each other's files:
//
//   - As root (CI), each host gets its own unix user, created with useradd
//     (named "dl-" plus random hex, password "*" so that sshd does not treat
//     the account as locked) and deleted with userdel when the test ends.
//     Host.Home is that user's home: the login directory, $HOME and the SFTP
//     working directory.
//   - As an ordinary user, sshd can only log in the current user. The host
//     sets $HOME to Host.Home with sshd_config SetEnv, but the session still
//     starts in the user's real home directory and SFTP relative paths are
//     relative to it. Tests that need more set Options.PerHostUser, which
//     skips them when not root.
//
// sshd is /usr/sbin/sshd from Debian's openssh-server (./test.sh installs
// it); StartSSHD fails the test with that hint when it is missing.
//
// # sudo
//
// Options.Sudo puts a small sudo stand-in first on the session PATH. It
// understands the flags driftless uses (-S, -p PROMPT, -n, -k), asks for
// Options.SudoPassword on stderr the way sudo -S does (re-prompting with
// "Sorry, try again." up to three times) and then runs the command as the
// same user with SUDO_USER set. It lets tests check the password protocol
// without a real sudo or changes to /etc/sudoers.
package sshtest
