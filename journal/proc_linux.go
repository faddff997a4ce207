package journal

import (
	"os"
	"strconv"
	"strings"
	"sync"
)

// selfNS names the machine boot and the pid namespace this process lives
// in: the frame within which a pid number means one process. It is "" when
// /proc cannot tell.
var selfNS = sync.OnceValue(func() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b)) + "/" + ns
})

// procStat returns the state and the start time (in clock ticks since boot)
// of process pid, from /proc/PID/stat.
func procStat(pid int) (state, start string, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", "", false
	}
	// "pid (comm) state ppid …": comm may hold spaces and parentheses, so
	// count fields from the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", "", false
	}
	f := strings.Fields(s[i+1:])
	const startField = 22 - 3 // field 22 of stat, counted from field 3 (state)
	if len(f) <= startField {
		return "", "", false
	}
	return f[0], f[startField], true
}

// procToken identifies process pid in a way that a reused pid does not
// repeat: boot id, pid namespace and the process's start time,
// "BOOT/NS/START". It is "" when unknown.
func procToken(pid int) string {
	if pid <= 0 {
		return ""
	}
	ns := selfNS()
	_, start, ok := procStat(pid)
	if ns == "" || !ok {
		return ""
	}
	return ns + "/" + start
}

// zombie reports whether pid has exited and waits to be reaped: it still
// answers signal 0 but does no work.
func zombie(pid int) bool {
	state, _, ok := procStat(pid)
	return ok && (state == "Z" || state == "X")
}
