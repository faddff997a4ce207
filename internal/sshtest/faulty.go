package sshtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/driftless-dev/driftless/internal/connkit"
	gossh "golang.org/x/crypto/ssh"
)

// FaultMode is how a Faulty server misbehaves.
type FaultMode int

const (
	// FaultNone is a working server: any client key or password is
	// accepted, and a command is answered with the command's text on
	// stdout and exit status 0 (nothing is executed).
	FaultNone FaultMode = iota
	// FaultHangBanner accepts TCP connections and never says anything,
	// like a firewall that black-holes after the TCP handshake.
	FaultHangBanner
	// FaultHangAuth completes the key exchange and never answers
	// authentication.
	FaultHangAuth
	// FaultDropAfterAuth closes the TCP connection as soon as the client
	// has logged in.
	FaultDropAfterAuth
	// FaultDropDuringRun starts a command, writes "started\n" to its
	// stdout and closes the TCP connection.
	FaultDropDuringRun
	// FaultStall stops answering anything once the client has logged in:
	// no sessions open, keepalives get no reply.
	FaultStall
	// FaultNoExitStatus runs a command that writes "partial\n" and ends
	// its session without an exit status or signal.
	FaultNoExitStatus
)

func (m FaultMode) String() string {
	switch m {
	case FaultNone:
		return "none"
	case FaultHangBanner:
		return "hang-banner"
	case FaultHangAuth:
		return "hang-auth"
	case FaultDropAfterAuth:
		return "drop-after-auth"
	case FaultDropDuringRun:
		return "drop-during-run"
	case FaultStall:
		return "stall"
	case FaultNoExitStatus:
		return "no-exit-status"
	}
	return "FaultMode(" + strconv.Itoa(int(m)) + ")"
}

// Faulty is an in-process SSH server (golang.org/x/crypto/ssh) on
// 127.0.0.1 that misbehaves as its mode says. It offers two host keys:
// HostKey (ed25519) and AltHostKey (ecdsa-sha2-nistp256, which
// x/crypto/ssh clients prefer by default), so tests can check that a client
// asks for the key type its known_hosts has.
type Faulty struct {
	Addr       string
	Port       int
	HostKey    gossh.PublicKey
	AltHostKey gossh.PublicKey

	mode     FaultMode
	ln       net.Listener
	done     chan struct{}
	wg       sync.WaitGroup
	conns    connkit.Set[net.Conn]
	accepted atomic.Int64
	logins   atomic.Int64
}

// StartFaulty starts a Faulty server in mode; it is closed when the test
// ends.
func StartFaulty(t testing.TB, mode FaultMode) *Faulty {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("sshtest: listen: %v", err)
	}
	_, edSigner := newHostKey(t)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("sshtest: generate host key: %v", err)
	}
	ecSigner, err := gossh.NewSignerFromKey(ecKey)
	if err != nil {
		t.Fatalf("sshtest: host key signer: %v", err)
	}
	f := &Faulty{
		Addr:       "127.0.0.1",
		Port:       ln.Addr().(*net.TCPAddr).Port,
		HostKey:    edSigner.PublicKey(),
		AltHostKey: ecSigner.PublicKey(),
		mode:       mode,
		ln:         ln,
		done:       make(chan struct{}),
	}
	accept := func() (*gossh.Permissions, error) {
		if mode == FaultHangAuth {
			<-f.done
			return nil, errors.New("closed")
		}
		return nil, nil
	}
	cfg := &gossh.ServerConfig{
		PublicKeyCallback: func(gossh.ConnMetadata, gossh.PublicKey) (*gossh.Permissions, error) {
			return accept()
		},
		PasswordCallback: func(gossh.ConnMetadata, []byte) (*gossh.Permissions, error) {
			return accept()
		},
		ServerVersion: "SSH-2.0-driftless-faulty",
	}
	cfg.AddHostKey(edSigner)
	cfg.AddHostKey(ecSigner)

	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			f.accepted.Add(1)
			if !f.conns.Go(&f.wg, conn, func() { f.serve(conn, cfg) }) {
				conn.Close()
				return
			}
		}
	}()
	t.Cleanup(f.close)
	return f
}

// Address is "Addr:Port".
func (f *Faulty) Address() string {
	return net.JoinHostPort(f.Addr, strconv.Itoa(f.Port))
}

// KnownHostsLine is the known_hosts line for HostKey.
func (f *Faulty) KnownHostsLine() string { return knownHostsLine(f.Addr, f.Port, f.HostKey) }

// AltKnownHostsLine is the known_hosts line for AltHostKey.
func (f *Faulty) AltKnownHostsLine() string { return knownHostsLine(f.Addr, f.Port, f.AltHostKey) }

// Accepted is the number of TCP connections accepted so far.
func (f *Faulty) Accepted() int { return int(f.accepted.Load()) }

// Logins is the number of clients that completed authentication.
func (f *Faulty) Logins() int { return int(f.logins.Load()) }

func (f *Faulty) close() {
	close(f.done)
	for _, c := range f.conns.Close() {
		c.Close()
	}
	f.ln.Close()
	f.wg.Wait()
}

func (f *Faulty) serve(conn net.Conn, cfg *gossh.ServerConfig) {
	defer conn.Close()
	if f.mode == FaultHangBanner {
		_, _ = io.Copy(io.Discard, conn) // until the client or close() hangs up
		return
	}
	sc, chans, reqs, err := gossh.NewServerConn(conn, cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	f.logins.Add(1)
	switch f.mode {
	case FaultDropAfterAuth:
		return
	case FaultStall:
		// Take everything, answer nothing.
		go func() {
			for range reqs {
			}
		}()
		for range chans {
		}
		return
	default: // the other values need nothing here
	}
	go gossh.DiscardRequests(reqs)
	ServeSessions(chans, func(ch gossh.Channel, creqs <-chan *gossh.Request) {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.session(conn, ch, creqs)
		}()
	})
}

// ServeSessions accepts the session channels of a server connection and
// hands each to accepted, which must not block (it starts what serves the
// channel); it rejects every other channel type. It returns when chans is
// closed: the connection is gone.
func ServeSessions(chans <-chan gossh.NewChannel, accepted func(ch gossh.Channel, reqs <-chan *gossh.Request)) {
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(gossh.UnknownChannelType, "sessions only")
			continue
		}
		ch, reqs, err := nc.Accept()
		if err != nil {
			continue
		}
		accepted(ch, reqs)
	}
}

func (f *Faulty) session(conn net.Conn, ch gossh.Channel, reqs <-chan *gossh.Request) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			if req.WantReply {
				_ = req.Reply(false, nil)
			}
			continue
		}
		var exec struct{ Command string }
		if err := gossh.Unmarshal(req.Payload, &exec); err != nil {
			_ = req.Reply(false, nil)
			continue
		}
		_ = req.Reply(true, nil)
		switch f.mode {
		case FaultDropDuringRun:
			fmt.Fprintln(ch, "started")
			conn.Close()
		case FaultNoExitStatus:
			fmt.Fprintln(ch, "partial")
		default:
			fmt.Fprintln(ch, exec.Command)
			status := struct{ Status uint32 }{0}
			_, _ = ch.SendRequest("exit-status", false, gossh.Marshal(&status))
		}
		return
	}
}
