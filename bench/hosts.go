package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"golang.org/x/sync/errgroup"

	"github.com/driftless-dev/driftless/internal/sshsim"
	"github.com/driftless-dev/driftless/internal/sshtest"
)

// host is one benchmark host as a client reaches it.
type host struct {
	Name string
	Addr string
	Port int
	User string
	Home string // its home directory on this machine

	HostKey gossh.PublicKey
}

func (h host) knownHostsLine() string {
	return knownhosts.Line([]string{fmt.Sprintf("[%s]:%d", h.Addr, h.Port)}, h.HostKey)
}

// fleet is a set of hosts that one client key logs in to.
type fleet struct {
	kind  string // "sshd" or "sshsim"
	hosts []host
	key   string // the client's private key file

	// sessions returns how many sessions (commands, subsystems) each host
	// has started so far, in host order.
	sessions func() []int
	// busy tells, from the hosts' records of their sessions, how many
	// hosts were running one at once since a time (simulated hosts only:
	// nil for sshd).
	busy  func(since time.Time) sshsim.Busy
	close func()
}

// realFleetFirstAddr is where the sshd hosts listen: 127.2.0.1 and up,
// away from the addresses the tests use.
const realFleetFirstAddr = "127.2.0.1"

// startRealFleet starts n OpenSSH sshd hosts with internal/sshtest:
// each its own host key, unix user (as root) and home.
func startRealFleet(ctx context.Context, n int, log io.Writer) (*fleet, error) {
	st := sshtest.NewStandalone("driftless-bench")
	st.SetOutput(log)
	fl := &fleet{kind: "sshd", close: st.Close}
	ok := false
	defer func() {
		if !ok {
			st.Close()
		}
	}()
	if err := st.Do(func(tb testing.TB) { fl.key, _ = sshtest.NewClientKey(tb) }); err != nil {
		return nil, err
	}
	addrs, err := loopbackAddrs(realFleetFirstAddr, n)
	if err != nil {
		return nil, err
	}
	sshds := make([]*sshtest.Host, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range n {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			return st.Do(func(tb testing.TB) {
				sshds[i] = sshtest.StartSSHD(tb, sshtest.Options{
					Name: fmt.Sprintf("host-%d", i+1), Addr: addrs[i], ClientKeyPath: fl.key,
				})
			})
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, h := range sshds {
		fl.hosts = append(fl.hosts, host{Name: h.Name, Addr: h.Addr, Port: h.Port, User: h.User, Home: h.Home, HostKey: h.HostKey})
	}
	fl.sessions = func() []int {
		out := make([]int, len(sshds))
		for i, h := range sshds {
			out[i] = len(sessionRE.FindAllIndex([]byte(h.Log()), -1))
		}
		return out
	}
	ok = true
	return fl, nil
}

// sessionRE matches sshd's (LogLevel VERBOSE) line for a session: a
// command, a shell or a subsystem.
var sessionRE = regexp.MustCompile(`(?m)Starting session: `)

// simFleetFirstAddr is where simulated hosts listen.
const simFleetFirstAddr = "127.3.0.1"

// startSimFleet starts n simulated hosts in this process.
func startSimFleet(n int, work string) (*fleet, error) {
	dir := filepath.Join(work, "sim")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	key := filepath.Join(work, "sim_client_key")
	signer, err := sshsim.NewClientKey(key)
	if err != nil {
		return nil, err
	}
	sf, err := sshsim.Start(sshsim.Options{Hosts: n, AuthorizedKeys: []gossh.PublicKey{signer.PublicKey()},
		Dir: filepath.Join(dir, "homes"), FirstAddr: simFleetFirstAddr})
	if err != nil {
		return nil, err
	}
	fl := &fleet{kind: "sshsim", key: key, busy: sf.Busy, close: func() { sf.Close() }}
	for _, h := range sf.Hosts {
		fl.hosts = append(fl.hosts, host{Name: h.Name, Addr: h.Addr, Port: h.Port, User: "bench", Home: h.Home, HostKey: h.HostKey})
	}
	fl.sessions = func() []int {
		out := make([]int, len(sf.Hosts))
		for i, h := range sf.Hosts {
			out[i] = h.Execs()
		}
		return out
	}
	return fl, nil
}

// loopbackAddrs lists n consecutive IPv4 loopback addresses from first,
// skipping .0 and .255.
func loopbackAddrs(first string, n int) ([]string, error) {
	var a, b, c, d int
	if _, err := fmt.Sscanf(first, "%d.%d.%d.%d", &a, &b, &c, &d); err != nil || a != 127 {
		return nil, fmt.Errorf("%q is not a 127.x.y.z address", first)
	}
	out := make([]string, 0, n)
	for len(out) < n {
		if d != 0 && d != 255 {
			out = append(out, fmt.Sprintf("127.%d.%d.%d", b, c, d))
		}
		d++
		if d == 256 {
			d, c = 0, c+1
		}
		if c == 256 {
			c, b = 0, b+1
		}
		if b == 256 {
			return nil, fmt.Errorf("%d addresses from %s run past 127.255.255.254", n, first)
		}
	}
	return out, nil
}

// freshProfile is the ~/.profile of a fresh host, as /etc/skel would
// give it.
const freshProfile = "# ~/.profile: executed by the command interpreter for login shells.\nif [ -d \"$HOME/bin\" ] ; then\n    PATH=\"$HOME/bin:$PATH\"\nfi\n"

// reset makes every host fresh: an empty home but for ~/.profile, owned
// by the host's user.
func (fl *fleet) reset() error {
	var g errgroup.Group
	g.SetLimit(16)
	for _, h := range fl.hosts {
		g.Go(func() error { return resetHome(h.Home) })
	}
	return g.Wait()
}

func resetHome(home string) error {
	st, err := os.Stat(home)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(home)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(home, e.Name())); err != nil {
			return err
		}
	}
	profile := filepath.Join(home, ".profile")
	if err := os.WriteFile(profile, []byte(freshProfile), 0o644); err != nil {
		return err
	}
	if uid, gid, ok := owner(st); ok && uid != os.Geteuid() {
		return os.Chown(profile, uid, gid)
	}
	return nil
}

// Wanted state of the baseline (baseline.toml, playbook.yml).
const (
	wantConfig = "# written by the driftless fleet benchmark\nlisten = 8080\nworkers = 4\n"
	wantLine   = "export BENCH_ENV=production"
)

// verify checks that every host is in the baseline's state: what a tool
// claims to have done, it did.
func (fl *fleet) verify() error {
	var mu sync.Mutex
	var errs []error
	var g errgroup.Group
	g.SetLimit(16)
	for _, h := range fl.hosts {
		g.Go(func() error {
			if err := verifyHome(h.Home); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", h.Name, err))
				mu.Unlock()
			}
			return nil
		})
	}
	g.Wait()
	if len(errs) > 3 {
		errs = append(errs[:3], fmt.Errorf("and %d more hosts", len(errs)-3))
	}
	return errors.Join(errs...)
}

func verifyHome(home string) error {
	if st, err := os.Stat(filepath.Join(home, "bench/app")); err != nil || !st.IsDir() || st.Mode().Perm() != 0o755 {
		return fmt.Errorf("~/bench/app is not a 0755 directory (%v)", err)
	}
	conf := filepath.Join(home, "bench/app/app.conf")
	b, err := os.ReadFile(conf)
	if err != nil || string(b) != wantConfig {
		return fmt.Errorf("~/bench/app/app.conf: %q %v", b, err)
	}
	if st, _ := os.Stat(conf); st.Mode().Perm() != 0o640 {
		return fmt.Errorf("~/bench/app/app.conf has mode %v", st.Mode().Perm())
	}
	b, err = os.ReadFile(filepath.Join(home, ".profile"))
	if err != nil || bytes.Count(b, []byte("\n"+wantLine+"\n")) != 1 || !strings.HasPrefix(string(b), freshProfile) {
		return fmt.Errorf("~/.profile: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(home, "bench/.installed")); err != nil {
		return fmt.Errorf("the guarded command did not run: %v", err)
	}
	return nil
}

// writeKnownHosts writes a known_hosts file for hosts.
func writeKnownHosts(path string, hosts []host) error {
	return os.WriteFile(path, []byte(knownHosts(hosts)), 0o600)
}

// knownHosts is a known_hosts file for hosts.
func knownHosts(hosts []host) string {
	var b strings.Builder
	for _, h := range hosts {
		b.WriteString(h.knownHostsLine() + "\n")
	}
	return b.String()
}

// writeFiles writes files (path under dir -> content) into dir, making
// the directories they stand in.
func writeFiles(dir string, files map[string]string) error {
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// sessionsDelta returns the sessions per host started between two
// readings of fleet.sessions, averaged over the hosts.
func sessionsDelta(before, after []int) float64 {
	if len(before) == 0 || len(before) != len(after) {
		return 0
	}
	total := 0
	for i := range before {
		total += after[i] - before[i]
	}
	return float64(total) / float64(len(before))
}
