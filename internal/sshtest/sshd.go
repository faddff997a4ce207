package sshtest

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"maps"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/driftless-dev/driftless/internal/connkit"
	"github.com/driftless-dev/driftless/internal/shquote"
)

// SSHDPath is where StartSSHD expects OpenSSH's sshd.
const SSHDPath = "/usr/sbin/sshd"

// Options configures one sshd started by StartSSHD. The zero value is a
// usable host on 127.0.0.1 and a free port.
type Options struct {
	// Name is the inventory name of the host ("web-1"); default "host".
	Name string
	// Addr is the loopback address to listen on (any of 127.0.0.0/8 on
	// Linux); default 127.0.0.1.
	Addr string
	// Port to listen on; default a free port.
	Port int
	// PerHostUser requires a dedicated unix user for the host. One is
	// always created when running as root; when not root, the test is
	// skipped.
	PerHostUser bool
	// ClientKeyPath is an existing private key (from NewClientKey, or one
	// with a readable path+".pub") to authorize. Default: a new key,
	// returned in Host.ClientKeyPath.
	ClientKeyPath string
	// AuthorizedKeys are further public keys allowed to log in.
	AuthorizedKeys []gossh.PublicKey
	// Password, when set, enables password authentication and sets the
	// host user's password. It needs root (a per-host user); the test is
	// skipped otherwise.
	Password string
	// Sudo installs the sudo stand-in described in the package doc first
	// on the session PATH; SudoPassword is the password it asks for ("" =
	// it asks for none, like a NOPASSWD rule).
	Sudo         bool
	SudoPassword string
	// Root logs in as root (needs root; skipped otherwise), for tests
	// that need real privileges: installing packages, services. HOME is
	// still the host's own directory.
	Root bool
	// Programs are further programs put first on the session PATH, by
	// name: their content (a "#!/bin/sh" script), made executable. A
	// stand-in for a program the machine lacks (pwsh).
	Programs map[string]string
	// Config holds extra sshd_config lines ("AllowTcpForwarding no",
	// "MaxSessions 2", ...). They come before the generated ones, so they
	// win (sshd keeps the first value of a keyword); no Match blocks.
	Config []string
}

// Host is a running sshd. Its fields describe how to reach it.
type Host struct {
	Name string // inventory name
	Addr string // loopback address it listens on
	Port int
	User string // user to log in as
	Home string // that user's home directory on this machine

	HostKey     gossh.PublicKey // the host's ed25519 key
	HostKeyLine string          // known_hosts line for Addr:Port

	// ClientKeyPath is an authorized, unencrypted private key.
	ClientKeyPath string

	Dir     string // sshd_config, keys and logs
	LogPath string // sshd's log (LogLevel VERBOSE)

	t       testing.TB
	uid     int // the per-host user's uid, -1 when there is none
	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	stopped bool
}

// StartSSHD starts a real OpenSSH sshd for the test and returns once it is
// listening. It is stopped (and its connections and per-host user removed)
// when the test ends.
func StartSSHD(t testing.TB, opts Options) *Host {
	t.Helper()
	if _, err := os.Stat(SSHDPath); err != nil {
		t.Fatalf("sshtest: %s: %v: apt-get install openssh-server (./test.sh installs it)", SSHDPath, err)
	}
	root := os.Geteuid() == 0
	if opts.Root && !root {
		t.Skip("sshtest: logging in as root needs root")
	}
	if opts.PerHostUser && !root {
		t.Skip("sshtest: a per-host user needs root")
	}
	if opts.Password != "" && !root {
		t.Skip("sshtest: password authentication needs root (a per-host user with a password)")
	}
	if opts.Name == "" {
		opts.Name = "host"
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1"
	}
	if ip := net.ParseIP(opts.Addr); ip == nil || !ip.IsLoopback() {
		t.Fatalf("sshtest: Addr %q is not a loopback IP address", opts.Addr)
	}
	if root {
		// sshd's privilege separation directory (Debian's unit creates it).
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatalf("sshtest: %v", err)
		}
	}

	h := &Host{
		Name: opts.Name,
		Addr: opts.Addr,
		Dir:  t.TempDir(),
		Home: t.TempDir(),
		t:    t,
		uid:  -1,
	}
	h.LogPath = filepath.Join(h.Dir, "sshd.log")
	if root {
		// The per-host user reads authorized_keys and the sudo stand-in in
		// Dir and lives in Home: let it through the test's 0700 temp dirs.
		for _, d := range []string{filepath.Dir(h.Dir), filepath.Dir(h.Home)} {
			if err := os.Chmod(d, 0o711); err != nil {
				t.Fatalf("sshtest: %v", err)
			}
		}
		if err := os.Chmod(h.Dir, 0o755); err != nil {
			t.Fatalf("sshtest: %v", err)
		}
		if opts.Root {
			h.User = "root"
			opts.Config = append(opts.Config, "PermitRootLogin prohibit-password")
		} else {
			h.User, h.uid = createUser(t, h.Home)
		}
		if opts.Password != "" && !opts.Root {
			setPassword(t, h.User, opts.Password)
		}
	} else {
		u, err := user.Current()
		if err != nil {
			t.Fatalf("sshtest: current user: %v", err)
		}
		h.User = u.Username
	}

	hostPEM, hostSigner := newHostKey(t)
	hostKeyPath := filepath.Join(h.Dir, "ssh_host_ed25519_key")
	if err := os.WriteFile(hostKeyPath, hostPEM, 0o600); err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	h.HostKey = hostSigner.PublicKey()

	h.ClientKeyPath = opts.ClientKeyPath
	if h.ClientKeyPath == "" {
		h.ClientKeyPath, _ = NewClientKey(t)
	}
	var ak bytes.Buffer
	ak.Write(gossh.MarshalAuthorizedKey(readPublicKey(t, h.ClientKeyPath)))
	for _, k := range opts.AuthorizedKeys {
		ak.Write(gossh.MarshalAuthorizedKey(k))
	}
	akPath := filepath.Join(h.Dir, "authorized_keys")
	if err := os.WriteFile(akPath, ak.Bytes(), 0o644); err != nil {
		t.Fatalf("sshtest: %v", err)
	}

	env := []string{"HOME=" + h.Home}
	if opts.Sudo || len(opts.Programs) > 0 {
		bin := filepath.Join(h.Dir, "bin")
		if err := os.Mkdir(bin, 0o755); err != nil {
			t.Fatalf("sshtest: %v", err)
		}
		progs := maps.Clone(opts.Programs)
		if opts.Sudo {
			if progs == nil {
				progs = map[string]string{}
			}
			progs["sudo"] = strings.Replace(fakeSudo, "@PASSWORD@", shquote.Quote(opts.SudoPassword), 1)
		}
		for name, script := range progs {
			if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
				t.Fatalf("sshtest: %v", err)
			}
		}
		env = append(env, "PATH="+bin+":/usr/local/bin:/usr/bin:/bin")
	}

	base := []string{
		"HostKey " + hostKeyPath,
		"PidFile none",
		"AuthorizedKeysFile " + akPath,
		"StrictModes no",
		"PubkeyAuthentication yes",
		"PasswordAuthentication " + yesNo(opts.Password != ""),
		"KbdInteractiveAuthentication no",
		"UsePAM no",
		"AllowUsers " + h.User,
		"Subsystem sftp internal-sftp",
		"LogLevel VERBOSE",
		"MaxStartups 1000",
		"MaxSessions 100",
		"MaxAuthTries 10",
		"AllowTcpForwarding yes",
		"X11Forwarding no",
		"PrintMotd no",
		"PrintLastLog no",
		"UseDNS no",
		"SetEnv " + quoteConfigWords(env),
	}
	if supportsPerSourcePenalties(t, hostKeyPath) {
		// OpenSSH 9.8+ would otherwise refuse 127.0.0.1 for a while
		// after a test's deliberate authentication failure.
		base = append(base, "PerSourcePenalties no")
	}
	// sshd keeps the first value of a keyword: extra lines go first.
	base = append(slices.Clone(opts.Config), base...)

	const attempts = 5
	for i := 1; ; i++ {
		port := opts.Port
		if port == 0 {
			port = freePort(t, h.Addr)
		}
		err := h.start(port, base)
		if err == nil {
			break
		}
		if opts.Port != 0 || i == attempts || !strings.Contains(err.Error(), "in use") {
			t.Fatalf("sshtest: start sshd %s: %v", h.Name, err)
		}
	}
	h.HostKeyLine = knownHostsLine(h.Addr, h.Port, h.HostKey)

	t.Cleanup(func() {
		h.DropConnections()
		h.Stop()
	})
	return h
}

// start writes sshd_config for port and starts sshd, waiting until it
// logs that it listens.
func (h *Host) start(port int, lines []string) error {
	cfg := "ListenAddress " + net.JoinHostPort(h.Addr, strconv.Itoa(port)) + "\n" +
		strings.Join(lines, "\n") + "\n"
	cfgPath := filepath.Join(h.Dir, "sshd_config")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(h.LogPath, nil, 0o644); err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd := exec.Command(SSHDPath, "-D", "-f", cfgPath, "-E", h.LogPath)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()

	listening := fmt.Sprintf("Server listening on %s port %d", h.Addr, port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		logText, _ := os.ReadFile(h.LogPath)
		if bytes.Contains(logText, []byte(listening)) {
			break
		}
		select {
		case <-exited:
			logText, _ := os.ReadFile(h.LogPath)
			return fmt.Errorf("sshd exited: %s%s", stderr.String(), logText)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("sshd did not listen within 10s: %s%s", stderr.String(), logText)
		}
	}
	h.Port = port
	h.cmd = cmd
	h.exited = exited
	return nil
}

// Address is "Addr:Port".
func (h *Host) Address() string {
	return net.JoinHostPort(h.Addr, strconv.Itoa(h.Port))
}

// KnownHostsLine is the known_hosts line for the host's key, in the
// "[addr]:port" form.
func (h *Host) KnownHostsLine() string { return h.HostKeyLine }

var acceptedRE = regexp.MustCompile(`(?m)Accepted \S+ for \S+ from `)

// ConnectionCount is the number of successful logins so far, counted from
// sshd's log. Several sessions on one connection count once.
func (h *Host) ConnectionCount() int {
	h.t.Helper()
	data, err := os.ReadFile(h.LogPath)
	if err != nil {
		h.t.Fatalf("sshtest: %v", err)
	}
	return len(acceptedRE.FindAll(data, -1))
}

// Log returns sshd's log so far.
func (h *Host) Log() string {
	data, _ := os.ReadFile(h.LogPath)
	return string(data)
}

// DropConnections kills every process sshd started for its connections
// (and the sessions' processes), as if the host had crashed; sshd keeps
// listening. Linux only (it walks /proc).
func (h *Host) DropConnections() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped || h.cmd == nil {
		return
	}
	for _, pid := range descendants(h.cmd.Process.Pid) {
		killPID(pid)
	}
}

// Stop stops sshd listening; connections already open are left alone
// (use DropConnections first to end them).
func (h *Host) Stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped || h.cmd == nil {
		return
	}
	h.stopped = true
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.exited:
	case <-time.After(5 * time.Second):
		_ = h.cmd.Process.Kill()
		<-h.exited
	}
}

// descendants lists the processes below pid, children first found first,
// from /proc. It returns nothing where there is no /proc.
func descendants(pid int) []int {
	children := map[int][]int{}
	for p, stat := range procFiles("stat") {
		// pid (comm) state ppid ...; comm may hold spaces and parens.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 2 {
			continue
		}
		ppid, err := strconv.Atoi(fields[1])
		if err != nil {
			continue
		}
		children[ppid] = append(children[ppid], p)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// procFiles yields each process's id and its file name in /proc
// ("stat", "status"); nothing where there is no /proc.
func procFiles(name string) iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			b, err := os.ReadFile(filepath.Join("/proc", e.Name(), name))
			if err != nil {
				continue
			}
			if !yield(pid, b) {
				return
			}
		}
	}
}

// freePort returns a TCP port that was free on addr a moment ago.
func freePort(t testing.TB, addr string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		t.Fatalf("sshtest: find a free port on %s: %v", addr, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var (
	penaltiesOnce sync.Once
	penaltiesOK   bool
)

// supportsPerSourcePenalties reports whether this sshd knows the
// PerSourcePenalties option (OpenSSH 9.8+).
func supportsPerSourcePenalties(t testing.TB, hostKeyPath string) bool {
	penaltiesOnce.Do(func() {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "probe_config")
		text := "HostKey " + hostKeyPath + "\nPidFile none\nUsePAM no\nPerSourcePenalties no\n"
		if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
			return
		}
		// Older versions reject the keyword by name; any other complaint
		// (there should be none) will show when the real sshd starts.
		out, err := exec.Command(SSHDPath, "-t", "-f", cfg).CombinedOutput()
		penaltiesOK = err == nil || !bytes.Contains(out, []byte("PerSourcePenalties"))
	})
	return penaltiesOK
}

var userMu sync.Mutex

// createUser adds a unix user whose home is home (owned by it) and
// removes it when the test ends, after killing its processes.
func createUser(t testing.TB, home string) (string, int) {
	t.Helper()
	name := "dl-" + connkit.RandomHex(4)
	runAdmin(t, "useradd", "--no-create-home", "--home-dir", home, "--shell", "/bin/sh",
		"--user-group", "--password", "*", name)
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("sshtest: look up %s: %v", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	t.Cleanup(func() {
		// Registered before sshd's cleanup, so it runs after it.
		killUserProcesses(uid)
		// --force: a zombie left for init to reap must not block it.
		if err := retryAdmin("userdel", "--force", name); err != nil {
			t.Errorf("sshtest: %v", err)
		}
	})
	if err := os.Chown(home, uid, gid); err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	return name, uid
}

func setPassword(t testing.TB, name, password string) {
	t.Helper()
	cmd := exec.Command("chpasswd")
	cmd.Stdin = strings.NewReader(name + ":" + password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sshtest: chpasswd: %v: %s", err, out)
	}
}

func runAdmin(t testing.TB, name string, args ...string) {
	t.Helper()
	if err := retryAdmin(name, args...); err != nil {
		t.Fatalf("sshtest: %v", err)
	}
}

// retryAdmin runs useradd/userdel, retrying while another process (tests
// of other packages run in parallel) holds the lock on /etc/passwd, or
// while a killed process of the user is still being reaped.
func retryAdmin(name string, args ...string) error {
	userMu.Lock()
	defer userMu.Unlock()
	var err error
	var out []byte
	for range 100 {
		out, err = exec.Command(name, args...).CombinedOutput()
		if err == nil {
			return nil
		}
		s := string(out)
		if !strings.Contains(s, "lock") && !strings.Contains(s, "currently used by process") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
}

// killUserProcesses kills every process whose real or effective uid is
// uid (all started by the test that created the user) and waits, up to 2s,
// until none is left but zombies.
func killUserProcesses(uid int) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		pids := userProcesses(uid)
		if len(pids) == 0 || time.Now().After(deadline) {
			return
		}
		for _, pid := range pids {
			killPID(pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func userProcesses(uid int) []int {
	want := strconv.Itoa(uid)
	var pids []int
	for pid, status := range procFiles("status") {
		zombie, mine := false, false
		for line := range strings.SplitSeq(string(status), "\n") {
			if rest, ok := strings.CutPrefix(line, "State:"); ok {
				zombie = strings.HasPrefix(strings.TrimSpace(rest), "Z")
			}
			if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
				f := strings.Fields(rest)
				mine = len(f) >= 2 && (f[0] == want || f[1] == want)
				break
			}
		}
		if mine && !zombie {
			pids = append(pids, pid)
		}
	}
	return pids
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// quoteConfigWords double-quotes each word for sshd_config.
func quoteConfigWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		if strings.ContainsAny(w, "\"\n") {
			panic(errors.New("sshtest: sshd_config value with a quote or newline: " + w))
		}
		q[i] = `"` + w + `"`
	}
	return strings.Join(q, " ")
}

// fakeSudo is the sudo stand-in (see the package doc).
const fakeSudo = `#!/bin/sh
# sudo stand-in written by driftless's internal/sshtest: it checks the
# password protocol of "sudo -S -p PROMPT" and runs the command as the
# same user.
prompt='[sudo] password: '
stdin_pw=0
non_interactive=0
while [ $# -gt 0 ]; do
	case $1 in
	-S) stdin_pw=1 ;;
	-n) non_interactive=1 ;;
	-k) ;;
	-p) shift; prompt=$1 ;;
	--) shift; break ;;
	-*) echo "sudo: unsupported option $1 (sshtest stand-in)" >&2; exit 1 ;;
	*) break ;;
	esac
	shift
done
want=@PASSWORD@
if [ -n "$want" ]; then
	if [ "$non_interactive" = 1 ]; then
		echo "sudo: a password is required" >&2
		exit 1
	fi
	if [ "$stdin_pw" = 0 ]; then
		echo "sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper" >&2
		exit 1
	fi
	tries=0
	while :; do
		printf '%s' "$prompt" >&2
		if ! IFS= read -r got; then
			echo "sudo: no password was provided" >&2
			exit 1
		fi
		[ "$got" = "$want" ] && break
		tries=$((tries + 1))
		if [ "$tries" -ge 3 ]; then
			echo "sudo: 3 incorrect password attempts" >&2
			exit 1
		fi
		echo "Sorry, try again." >&2
	done
fi
if [ $# -eq 0 ]; then
	echo "usage: sudo command" >&2
	exit 1
fi
SUDO_USER=${USER:-$(id -un)}
export SUDO_USER
exec "$@"
`
