package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/driftless-dev/driftless/internal/sshsim"
	"github.com/driftless-dev/driftless/inventory"
)

// A dial started early (while the journal opens) is the one the run
// gets: one connection, not two. One that no run takes is closed.
func TestPrefetchedDial(t *testing.T) {
	dir := t.TempDir()
	key, err := sshsim.NewClientKey(filepath.Join(dir, "id"))
	if err != nil {
		t.Fatal(err)
	}
	fl, err := sshsim.Start(sshsim.Options{Hosts: 2, AuthorizedKeys: []gossh.PublicKey{key.PublicKey()}, Dir: filepath.Join(dir, "hosts"), FirstAddr: "127.78.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	kh := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(kh, []byte(strings.Join(fl.KnownHosts(), "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	host := func(i int) *inventory.Host {
		s := fl.Hosts[i]
		return &inventory.Host{Name: s.Name, Address: s.Addr, Port: s.Port, User: "u", Transport: inventory.SSH,
			IdentityFiles: []string{filepath.Join(dir, "id")}, KnownHosts: []string{kh}, HostKeyPolicy: "strict", ConnectTimeout: 10 * time.Second}
	}
	d := newDialer()
	d.prefetch(context.Background(), host(0))
	c, err := d.dial(context.Background(), host(0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// (The server counts a login just after the client sees it.)
	waitUntil(func() bool { return fl.Hosts[0].Connections() > 0 })
	if n := fl.Hosts[0].Connections(); n != 1 {
		t.Errorf("%d connections to the prefetched host, want 1", n)
	}
	// Not taken: closed by closeEarly.
	d.prefetch(context.Background(), host(1))
	d.closeEarly()
	waitUntil(func() bool { return fl.Hosts[1].Active() == 0 })
	if n := fl.Hosts[1].Active(); n != 0 {
		t.Errorf("an early dial no run took is still open (%d connections)", n)
	}
	// A run whose context ends while the early dial is still on its way
	// does not wait for it.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d.prefetch(context.Background(), host(1))
	if _, err := d.dial(ctx, host(1)); !errors.Is(err, context.Canceled) {
		t.Errorf("dial with a cancelled context: %v", err)
	}
	d.closeEarly()
}

// waitUntil polls cond for up to 5 s.
func waitUntil(cond func() bool) {
	for deadline := time.Now().Add(5 * time.Second); !cond() && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
}
