package runner

import "testing"

// Only a test of plain words runs in the script's own shell; anything
// that could change the shell (a second command, an expansion, a
// redirection) runs in a subshell.
func TestPlainTest(t *testing.T) {
	for cmd, want := range map[string]bool{
		"test -f ~/bench/.installed":        true,
		"[ -d /etc/app ]":                   true,
		"  test ! -e /run/app.pid  ":        true,
		"test -x /usr/bin/app -a -f /etc/x": true,
		"[ -f /etc/app":                     false, // sh would fail the same, in a subshell
		"test":                              false,
		"test -f $HOME/x":                   false,
		"test -f ~/x; exit 0":               false,
		"test -f ~/x && cd /":               false,
		"test -f ~/x >/tmp/out":             false,
		"test -f '/a b'":                    false,
		"test -f /a*":                       false,
		"test -f `id`":                      false,
		"test -f /x\nexit":                  false,
		"testx -f /x":                       false,
		"[ -f /x ] || exit 1":               false,
	} {
		if got := plainTest(&step{}, cmd); got != want {
			t.Errorf("plainTest(%q) = %v, want %v", cmd, got, want)
		}
	}
	if plainTest(&step{workdir: "/srv"}, "test -f x") {
		t.Error("a step with a working directory runs its check in a subshell")
	}
	if plainTest(&step{env: map[string]string{"A": "1"}}, "test -f x") {
		t.Error("a step with environment runs its check in a subshell")
	}
}

// A plain command is written into the script as is; anything else goes
// through eval.
func TestPlainCmd(t *testing.T) {
	for cmd, want := range map[string]bool{
		"uname -r":                      true,
		"systemctl restart nginx":       true,
		"/usr/local/bin/app --reload=1": true,
		"  apt-get -y install curl  ":   true,
		"touch ~/x":                     true,
		"if":                            false,
		"then echo":                     false,
		"! true":                        false,
		"time sleep 1":                  false,
		"A=1 app":                       false,
		"echo $HOME":                    false,
		"echo 'a b'":                    false,
		"sleep 0.1 && touch ~/x":        false,
		"echo a; echo b":                false,
		"echo a\necho b":                false,
		"echo >/tmp/x":                  false,
		"ls *":                          false,
		"echo `id`":                     false,
		"{ echo; }":                     false,
		"(echo)":                        false,
		"~/bin/app":                     false, // a leading ~ is expanded; eval it
		"for":                           false,
	} {
		if got := plainCmd(cmd); got != want {
			t.Errorf("plainCmd(%q) = %v, want %v", cmd, got, want)
		}
	}
}
