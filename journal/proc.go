package journal

import "strings"

// liveness is what this process can tell about another process of the
// same hostname.
type liveness int

const (
	unknown liveness = iota // cannot tell: treat it like a process elsewhere
	alive
	dead
)

// procState says whether the process that recorded (pid, token) on a
// machine of this hostname still runs. token, from procToken at the time,
// tells a reused pid, a reboot and another pid namespace (a container
// sharing the hostname) apart where the platform allows.
func procState(pid int, token string) liveness {
	if token != "" {
		i := strings.LastIndexByte(token, '/')
		frame, self := token[:max(i, 0)], selfNS()
		if frame != self {
			boot, _, _ := strings.Cut(frame, "/")
			myBoot, _, _ := strings.Cut(self, "/")
			if self != "" && boot != myBoot {
				return dead // the machine rebooted since
			}
			return unknown // another pid namespace: its pids mean nothing here
		}
		if !pidAlive(pid) {
			return dead
		}
		if now := procToken(pid); now != "" && now != token {
			return dead // the pid was reused
		}
		return alive
	}
	if !pidAlive(pid) {
		return dead
	}
	return alive
}
