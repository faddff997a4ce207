package journal

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestProcState(t *testing.T) {
	self := os.Getpid()
	token := procToken(self)
	if got := procState(self, token); got != alive {
		t.Errorf("this process: %v, want alive", got)
	}
	if got := procState(deadPID(t), ""); got != dead {
		t.Errorf("exited process: %v, want dead", got)
	}
	if runtime.GOOS != "linux" {
		if token != "" {
			t.Errorf("token %q outside Linux", token)
		}
		return
	}
	boot, rest, _ := strings.Cut(token, "/")
	ns, start, _ := strings.Cut(rest, "/")
	if boot == "" || !strings.HasPrefix(ns, "pid:[") || start == "" {
		t.Fatalf("token %q, want BOOT/pid:[NS]/START", token)
	}
	for name, tc := range map[string]struct {
		token string
		want  liveness
	}{
		"pid reused":          {boot + "/" + ns + "/1", dead},
		"machine rebooted":    {"another-boot/" + ns + "/" + start, dead},
		"other pid namespace": {boot + "/pid:[1]/" + start, unknown},
	} {
		if got := procState(self, tc.token); got != tc.want {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
}
