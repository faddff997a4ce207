package ssh

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/transport"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sudo's prompt, the ready marker and the script's own stderr arrive in
// any chunking; the markers are hidden and reported once each.
func TestSudoFilter(t *testing.T) {
	m := &sudoMarkers{prompt: "[P]", ready: "<READY>"}
	stream := "lecture\n[P]Sorry, try again.\n[P]<READY>script err [P] <READ\n"
	for _, size := range []int{1, 2, 3, 5, 7, len(stream)} {
		var out bytes.Buffer
		f := newSudoFilter(&out, m)
		for i := 0; i < len(stream); i += size {
			if _, err := f.Write([]byte(stream[i:min(i+size, len(stream))])); err != nil {
				t.Fatal(err)
			}
		}
		f.flush()
		// After the ready marker everything passes through untouched.
		if want := "lecture\nSorry, try again.\nscript err [P] <READ\n"; out.String() != want {
			t.Errorf("chunks of %d: output %q, want %q", size, out.String(), want)
		}
		var events []sudoEvent
		for len(f.events) > 0 {
			events = append(events, <-f.events)
		}
		if want := []sudoEvent{sudoPrompt, sudoPrompt, sudoReady}; !slices.Equal(events, want) {
			t.Errorf("chunks of %d: events %v, want %v", size, events, want)
		}
		if err := f.authErr(true); !errors.Is(err, transport.ErrAuth) {
			t.Errorf("two prompts: authErr = %v, want ErrAuth", err)
		}
	}

	var out bytes.Buffer
	f := newSudoFilter(&out, m)
	f.Write([]byte("sudo: unknown user\n"))
	f.flush()
	if out.String() != "sudo: unknown user\n" || f.authErr(false) != nil {
		t.Errorf("no markers: output %q, authErr %v", out.String(), f.authErr(false))
	}
	f = newSudoFilter(&out, m)
	f.Write([]byte("[P]"))
	if err := f.authErr(false); !errors.Is(err, transport.ErrAuth) {
		t.Errorf("prompt without a password: authErr = %v, want ErrAuth", err)
	}
}

func TestHostKeyAlgorithms(t *testing.T) {
	got := hostKeyAlgorithms([]string{gossh.KeyAlgoRSA}, false)
	if want := []string{gossh.KeyAlgoRSASHA512, gossh.KeyAlgoRSASHA256}; !slices.Equal(got, want) {
		t.Errorf("rsa: %v, want %v", got, want)
	}
	got = hostKeyAlgorithms([]string{gossh.KeyAlgoED25519}, true)
	if want := []string{gossh.CertAlgoED25519v01, gossh.KeyAlgoED25519}; !slices.Equal(got, want) {
		t.Errorf("ed25519 with a CA: %v, want %v", got, want)
	}
	got = hostKeyAlgorithms(nil, false)
	if len(got) == 0 || got[0] != gossh.KeyAlgoED25519 || slices.ContainsFunc(got, func(a string) bool {
		return strings.Contains(a, "cert")
	}) {
		t.Errorf("unknown host: %v, want plain keys, ed25519 first", got)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "no address"},
		{Config{Address: "h", Port: 70000}, "port"},
		{Config{Address: "h", HostKeyPolicy: "ignore"}, "host_key_policy"},
		{Config{Address: "h", HostKeyPolicy: PolicyAcceptNew}, "known_hosts"},
		{Config{Address: "h", Become: "su"}, "become"},
	} {
		if _, err := tc.cfg.withDefaults(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want it to mention %q", tc.cfg, err, tc.want)
		}
	}
	cfg, err := Config{Name: "web-1", User: "u"}.withDefaults()
	if err != nil || cfg.Address != "web-1" || cfg.Port != 22 || cfg.HostKeyPolicy != PolicyStrict ||
		cfg.ConnectTimeout != DefaultConnectTimeout || cfg.KeepaliveInterval != DefaultKeepaliveInterval {
		t.Errorf("defaults: %+v, %v", cfg, err)
	}
	chain := hops([]Config{{Name: "b", Jump: []Config{{Name: "a"}}, Become: "sudo"}})
	if len(chain) != 2 || chain[0].Name != "a" || chain[1].Name != "b" || chain[1].Become != "" {
		t.Errorf("hops: %+v", chain)
	}
}

// seedKey is the ed25519 public key made from a seed of seed and zeros:
// the same key for the same seed, a different one for another.
func seedKey(t *testing.T, seed byte) gossh.PublicKey {
	t.Helper()
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	k, err := gossh.NewPublicKey(ed25519.NewKeyFromSeed(s).Public())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The parsed known_hosts is cached, and a change to the file (ssh-keygen
// -R, an accept-new append by another process) is seen at the next dial.
func TestKnownHostsCacheSeesChanges(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "known_hosts")
	a, b := seedKey(t, 1), seedKey(t, 2)
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22}
	check := func(host string, key gossh.PublicKey) error {
		t.Helper()
		cb, _, err := loadKnownHosts([]string{file, filepath.Join(dir, "missing")})
		if err != nil {
			t.Fatal(err)
		}
		return cb(host+":22", addr, key)
	}
	if err := check("web-1", a); err == nil {
		t.Fatal("no known_hosts yet: web-1 accepted")
	}
	if err := os.WriteFile(file, []byte(knownhosts.Line([]string{"web-1"}, a)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := check("web-1", a); err != nil {
		t.Fatalf("web-1 after the file was written: %v", err)
	}
	cb1, _, _ := loadKnownHosts([]string{file, filepath.Join(dir, "missing")})
	cb2, _, _ := loadKnownHosts([]string{file, filepath.Join(dir, "missing")})
	if reflect.ValueOf(cb1).Pointer() != reflect.ValueOf(cb2).Pointer() {
		t.Error("an unchanged known_hosts was parsed again")
	}
	if err := appendLine(file, knownhosts.Line([]string{"web-2"}, b)); err != nil {
		t.Fatal(err)
	}
	if err := check("web-2", b); err != nil {
		t.Fatalf("web-2 after it was appended: %v", err)
	}
	// Replaced by a file of another size: web-1 now has key b.
	if err := os.WriteFile(file, []byte(knownhosts.Line([]string{"web-1", "web-9"}, b)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var ke *knownhosts.KeyError
	if err := check("web-1", a); !errors.As(err, &ke) || len(ke.Want) == 0 {
		t.Fatalf("web-1 with its old key after the file changed: %v, want a changed-key error", err)
	}
}

// The exec command runs the script with sh whatever the login shell:
// sh itself runs it (no second exec), another shell execs sh. Either way
// the script sees no positional parameters, has the TERM trap, and sends
// what it reads on stdin.
func TestRemoteCommandLoginShells(t *testing.T) {
	if _, err := os.Stat("/proc/self/comm"); err != nil {
		t.Skip("needs /proc")
	}
	for _, login := range []string{"/bin/sh", "/bin/dash", "/bin/bash"} {
		if _, err := os.Stat(login); err != nil {
			continue
		}
		traps := filepath.Join(t.TempDir(), "traps")
		script := "trap >" + traps + "; echo \"$# $(grep -c TERM " + traps + ")\"; read -r c </proc/$$/comm; echo \"$c\"; cat"
		cmd := exec.Command(login, "-c", remoteCommand("export A='x y'\n"+script, nil))
		cmd.Stdin = strings.NewReader("from stdin\n")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", login, err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != 3 || lines[0] != "0 1" || lines[2] != "from stdin" {
			t.Errorf("%s: output %q", login, out)
			continue
		}
		// bash execs sh; sh runs the script itself.
		if lines[1] == "bash" {
			t.Errorf("%s: the script ran in bash, want sh", login)
		}
	}
}

// TestKnownHostsIndexAgrees checks that the index of plain known_hosts
// lines answers every check as x/crypto's knownhosts does (nil, or the
// same KeyError), and that a file with any other line is not indexed.
func TestKnownHostsIndexAgrees(t *testing.T) {
	dir := t.TempDir()
	k := []gossh.PublicKey{seedKey(t, 1), seedKey(t, 2), seedKey(t, 3), seedKey(t, 4)}
	line := func(hosts string, k gossh.PublicKey) string {
		return hosts + " " + strings.TrimSpace(string(gossh.MarshalAuthorizedKey(k)))
	}
	plain1 := strings.Join([]string{
		"# a comment",
		line("web-1", k[0]),
		"",
		line("[web-1]:2222", k[1]),
		line("web-2,10.0.0.2,[10.0.0.2]:22", k[1]),
		"  \t" + line("web-3", k[2]) + " a comment\r",
		line("web-1", k[2]),
		line("web-4,web-4,web-4:22", k[3]),
		line("db:2200,,::1", k[0]),
		line("[fe80::1]:2022", k[1]),
	}, "\n")
	plain2 := line("web-2", k[3]) + "\n" + line("[web-1]:2222", k[0])
	f1, f2 := filepath.Join(dir, "kh1"), filepath.Join(dir, "kh2")
	for f, c := range map[string]string{f1: plain1, f2: plain2} {
		if err := os.WriteFile(f, []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db, err := loadKnownHostsDB([]string{f1, filepath.Join(dir, "missing"), f2})
	if err != nil || db.byAddr == nil {
		t.Fatalf("plain files not indexed: %v", err)
	}
	remote := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 22}
	describe := func(err error) string {
		var ke *knownhosts.KeyError
		if !errors.As(err, &ke) {
			return "<" + errors.Unwrap(err).Error() + ">" // must not happen
		}
		var b strings.Builder
		b.WriteString(err.Error())
		for _, w := range ke.Want {
			b.WriteString(" " + w.String())
		}
		return b.String()
	}
	checks := 0
	for _, addr := range []string{"web-1:22", "web-1:2222", "web-2:22", "10.0.0.2:22", "web-3:22", "web-4:22",
		"db:2200", "db:22", "[::1]:22", "[fe80::1]:2022", "[fe80::1]:22", "web-9:22", "WEB-1:22"} {
		// The keys known for the address (the verifier's set-up), as
		// knownhosts lists them.
		list := func(keys []knownhosts.KnownKey) string {
			var b strings.Builder
			for _, k := range keys {
				b.WriteString(k.String() + "; ")
			}
			return b.String()
		}
		if want, got := list(knownKeys(db.slow, addr)), list(db.known(addr)); want != got {
			t.Errorf("%s: the index knows %q, knownhosts %q", addr, got, want)
		}
		for _, key := range append(k, probeKey) {
			want, got := db.slow(addr, remote, key), db.check(addr, remote, key)
			if (want == nil) != (got == nil) || (want != nil && describe(want) != describe(got)) {
				t.Errorf("%s %s: index says %v, knownhosts %v", addr, gossh.FingerprintSHA256(key), got, want)
			}
			checks++
		}
	}
	if err := db.check("web-1:22", remote, k[2]); err != nil || checks != 65 {
		t.Errorf("web-1's second key: %v (%d checks)", err, checks)
	}

	for _, odd := range []string{
		knownhosts.Line([]string{knownhosts.HashHostname("web-1")}, k[0]),
		line("web-*", k[0]),
		line("web-?", k[0]),
		line("!web-1,web-2", k[0]),
		"@cert-authority " + line("*.example", k[0]),
		"@revoked " + line("web-1", k[0]),
		line("[web-1:22", k[0]),
		"web-1 ssh-rsa " + strings.Fields(line("x", k[0]))[2],
		"web-1 ssh-ed25519 !!!",
		"web-1",
	} {
		f := filepath.Join(dir, "odd")
		if err := os.WriteFile(f, []byte(plain1+"\n"+odd+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if idx, ok := indexKnownHosts([]string{f}, [][]byte{[]byte(plain1 + "\n" + odd + "\n")}); ok || idx != nil {
			t.Errorf("a file with %q was indexed", odd)
		}
	}
}

// TestGateReadFrom checks that a session's output passes whole through
// the gate's buffers, short and long (a read that fills the small
// buffer moves the copy to a large one), and none after detach.
func TestGateReadFrom(t *testing.T) {
	for _, size := range []int{0, 1, 2<<10 - 1, 2 << 10, 2<<10 + 1, 100 << 10} {
		data := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		var got bytes.Buffer
		g := newGate(&got)
		n, err := g.ReadFrom(io.MultiReader(bytes.NewReader(data[:size/3]), bytes.NewReader(data[size/3:])))
		if err != nil || n != int64(size) || !bytes.Equal(got.Bytes(), data) {
			t.Errorf("%d bytes: copied %d (%v), %d arrived intact: %v", size, n, err, got.Len(), bytes.Equal(got.Bytes(), data))
		}
		var in bytes.Buffer
		if n, err := copyInput(&in, strings.NewReader(string(data))); err != nil || n != int64(size) || !bytes.Equal(in.Bytes(), data) {
			t.Errorf("%d bytes of stdin: copied %d (%v)", size, n, err)
		}
	}
	var got bytes.Buffer
	g := newGate(&got)
	g.detach()
	if n, err := g.ReadFrom(strings.NewReader("late")); err != nil || n != 4 || got.Len() != 0 {
		t.Errorf("after detach: %d %v %q", n, err, got.String())
	}
}

// The dials a run starts at once all find the cache empty: the value is
// made once, by one of them, and the others wait for it, rather than each
// parsing the fleet's known_hosts (or decrypting the key) itself. A
// change to the file is still seen by the next get.
func TestFileCacheMakesOnce(t *testing.T) {
	file := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(file, []byte("v1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var c fileCache[string]
	var loads atomic.Int64
	load := func() (string, bool, error) {
		loads.Add(1)
		time.Sleep(20 * time.Millisecond) // long enough for every get to miss
		data, err := os.ReadFile(file)
		return string(data), true, err
	}
	var wg sync.WaitGroup
	got := make([]string, 50)
	for i := range got {
		wg.Go(func() {
			v, err := c.get(file, []string{file}, load)
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		})
	}
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Errorf("50 gets at once made the value %d times, want once", n)
	}
	for i, v := range got {
		if v != "v1\n" {
			t.Fatalf("get %d: %q", i, v)
		}
	}
	if err := os.WriteFile(file, []byte("version 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if v, err := c.get(file, []string{file}, load); err != nil || v != "version 2\n" || loads.Load() != 2 {
		t.Errorf("after a change: %q (%v), %d loads", v, err, loads.Load())
	}
}
