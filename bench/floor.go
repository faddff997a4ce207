package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"golang.org/x/sync/errgroup"
)

// floorChildArg makes this program the floor client (a child process of
// the bench, like driftless): `bench -floor-child SPEC.json`.
const floorChildArg = "-floor-child"

// floorCommand is what the floor runs on each host: one command that
// does something, as the baseline's last step does.
const floorCommand = "uname -r"

// floorSpec is what the floor child reads.
type floorSpec struct {
	Hosts       []floorHost `json:"hosts"`
	Key         string      `json:"key"`         // private key file
	KnownHosts  string      `json:"known_hosts"` // verified as driftless does
	Concurrency int         `json:"concurrency"` // hosts at once
	Command     string      `json:"command"`
}

type floorHost struct {
	Name string `json:"name"`
	Addr string `json:"addr"`
	Port int    `json:"port"`
	User string `json:"user"`
}

// floorTimeout bounds one host's connection and command.
const floorTimeout = 2 * time.Minute

// runFloor is the floor: for every host, at most spec.Concurrency at
// once, one x/crypto/ssh connection (TCP, handshake, host key checked
// against known_hosts, public key login), one session running
// spec.Command, its output read, the connection closed. The key and
// known_hosts are parsed once, as the cheapest correct client would.
func runFloor(ctx context.Context, spec floorSpec) error {
	pem, err := os.ReadFile(spec.Key)
	if err != nil {
		return err
	}
	signer, err := gossh.ParsePrivateKey(pem)
	if err != nil {
		return fmt.Errorf("%s: %w", spec.Key, err)
	}
	cb, err := knownhosts.New(spec.KnownHosts)
	if err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(spec.Concurrency, 1))
	for _, h := range spec.Hosts {
		g.Go(func() error {
			if err := floorHost1(ctx, h, signer, cb, spec.Command); err != nil {
				return fmt.Errorf("%s: %w", h.Name, err)
			}
			return nil
		})
	}
	return g.Wait()
}

func floorHost1(ctx context.Context, h floorHost, signer gossh.Signer, cb gossh.HostKeyCallback, command string) error {
	ctx, cancel := context.WithTimeout(ctx, floorTimeout)
	defer cancel()
	addr := net.JoinHostPort(h.Addr, strconv.Itoa(h.Port))
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	cc, chans, reqs, err := gossh.NewClientConn(conn, addr, &gossh.ClientConfig{
		User: h.User, Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)}, HostKeyCallback: cb,
	})
	if err != nil {
		conn.Close()
		return err
	}
	client := gossh.NewClient(cc, chans, reqs)
	defer client.Close()
	s, err := client.NewSession()
	if err != nil {
		return err
	}
	defer s.Close()
	out, err := s.Output(command)
	if err != nil {
		return fmt.Errorf("%s: %w", command, err)
	}
	if len(bytes.TrimSpace(out)) == 0 {
		return fmt.Errorf("%s printed nothing", command)
	}
	return nil
}

// floorChild runs the floor from a spec file and returns the exit code.
func floorChild(args []string, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: bench -floor-child SPEC.json")
		return 2
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintln(stderr, "floor:", err)
		return 1
	}
	var spec floorSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		fmt.Fprintln(stderr, "floor:", err)
		return 1
	}
	if path := os.Getenv("BENCH_FLOOR_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(stderr, "floor: BENCH_FLOOR_CPUPROFILE:", err)
			return 1
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	if err := runFloor(context.Background(), spec); err != nil {
		fmt.Fprintln(stderr, "floor:", err)
		return 1
	}
	return 0
}

// writeFloorSpec writes the floor's spec for hosts (reached at the given
// addresses) and returns its path.
func writeFloorSpec(path string, hosts []host, key, knownHosts string, concurrency int) error {
	spec := floorSpec{Key: key, KnownHosts: knownHosts, Concurrency: concurrency, Command: floorCommand}
	for _, h := range hosts {
		spec.Hosts = append(spec.Hosts, floorHost{Name: h.Name, Addr: h.Addr, Port: h.Port, User: h.User})
	}
	data, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}
