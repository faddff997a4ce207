package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/transport"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/inventory"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner"
	"github.com/driftless-dev/driftless/ssh"
)

// TestMain lets the test binary be the spawner that measureChild starts
// children through, as the bench binary is.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == spawnArg {
		os.Exit(spawnChild(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// TestMeasureChild checks what measureChild reports of a small child
// while this process holds much memory: the child's own peak RSS, not
// this process's (as Linux gives a vforked child), its CPU time, and its
// exit status.
func TestMeasureChild(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peak RSS of children is measured on Linux")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 400<<20)
	for i := range big {
		big[i] = byte(i)
	}
	defer runtime.KeepAlive(big)
	ctx := context.Background()
	spin := "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"
	for _, spawner := range []string{"", self} {
		spawnerPath = spawner
		s, err := measureChild(ctx, os.Environ(), "/bin/sh", "-c", spin)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("spawner %q: rss %d MB, cpu %s", spawner, s.rss>>20, s.cpu)
		if s.cpu <= 0 || s.cpu > 10*time.Second {
			t.Errorf("spawner %q: cpu %s", spawner, s.cpu)
		}
		if spawner != "" && (s.rss <= 0 || s.rss > 100<<20) {
			t.Errorf("through the spawner, a shell's peak RSS is %d MB", s.rss>>20)
		}
		if _, err := measureChild(ctx, os.Environ(), "/bin/sh", "-c", "echo oops; exit 3"); err == nil ||
			!strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "oops") {
			t.Errorf("spawner %q: a failing child: %v", spawner, err)
		}
	}
	spawnerPath = ""
}

// simFleet starts n simulated hosts for a test, fresh.
func simFleet(tb testing.TB, n int) *fleet {
	tb.Helper()
	fl, err := startSimFleet(n, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(fl.close)
	if err := fl.reset(); err != nil {
		tb.Fatal(err)
	}
	return fl
}

// libRunner runs the bench's association in-process: the library path
// the driftless binary takes, without the process, the journal and the
// output.
type libRunner struct {
	cfg *config.Config
}

func newLibRunner(tb testing.TB, fl *fleet, doc string, conc int) *libRunner {
	tb.Helper()
	cd, err := writeConfig(filepath.Join(tb.TempDir(), "cfg"), fl.hosts, fl.key, doc, conc)
	if err != nil {
		tb.Fatal(err)
	}
	cfg, list := config.Load(config.Options{Dir: cd.dir})
	if err := list.Err(); err != nil {
		tb.Fatalf("the config dir the bench writes is invalid: %v", err)
	}
	return &libRunner{cfg: cfg}
}

func (l *libRunner) run(ctx context.Context, check bool) (*runner.RunResult, error) {
	r := runner.New(runner.Options{Config: l.cfg, Dial: func(ctx context.Context, h *inventory.Host) (transport.Conn, error) {
		c, err := ssh.Dial(ctx, ssh.Config{Name: h.Name, Address: h.Address, Port: h.Port, User: h.User,
			IdentityFiles: h.IdentityFiles, KnownHosts: h.KnownHosts, ConnectTimeout: h.ConnectTimeout})
		if err != nil {
			return nil, err
		}
		return c, nil
	}})
	defer r.Close()
	return r.Run(ctx, runner.Job{Assoc: l.cfg.Association("bench"), Check: check})
}

func statuses(res *runner.RunResult) map[string]int {
	n := map[string]int{}
	for _, h := range res.Hosts {
		n["host "+string(h.Status)]++
		for _, s := range h.Steps {
			n[string(s.Status)]++
		}
	}
	return n
}

// TestBaselineOnSimulatedHosts checks that the baseline document does
// the five things verify looks for, and that a second run finds nothing
// to do.
func TestBaselineOnSimulatedHosts(t *testing.T) {
	fl := simFleet(t, 2)
	lr := newLibRunner(t, fl, baselineDoc, 10)
	ctx := context.Background()
	res, err := lr.run(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(res); got["host Success"] != 2 || got[string(journal.StatusCorrected)] != 8 || got[string(journal.StatusSuccess)] != 2 {
		t.Errorf("first apply: %v", got)
	}
	if err := fl.verify(); err != nil {
		t.Fatal(err)
	}
	res, err = lr.run(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(res); got[string(journal.StatusCompliant)] != 8 || res.Drifted() {
		t.Errorf("check after apply: %v", got)
	}
	if err := fl.reset(); err != nil {
		t.Fatal(err)
	}
	if err := verifyHome(fl.hosts[0].Home); err == nil {
		t.Error("verify passed on a fresh host")
	}
}

func TestCheck10Document(t *testing.T) {
	fl := simFleet(t, 1)
	lr := newLibRunner(t, fl, check10Doc, 10)
	ctx := context.Background()
	if _, err := lr.run(ctx, false); err != nil {
		t.Fatal(err)
	}
	res, err := lr.run(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(res); got[string(journal.StatusCompliant)] != 9 || len(res.Hosts[0].Steps) != 10 || res.Drifted() {
		for _, s := range res.Hosts[0].Steps {
			t.Logf("%s %s %s %s", s.Name, s.Status, s.Differ, s.Error)
		}
		t.Errorf("check of the ten steps: %v", got)
	}
}

func TestFloorAndDelayProxy(t *testing.T) {
	fl := simFleet(t, 3)
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	if err := writeKnownHosts(kh, fl.hosts); err != nil {
		t.Fatal(err)
	}
	spec := floorSpec{Key: fl.key, KnownHosts: kh, Concurrency: 2, Command: floorCommand}
	for _, h := range fl.hosts {
		spec.Hosts = append(spec.Hosts, floorHost{Name: h.Name, Addr: h.Addr, Port: h.Port, User: h.User})
	}
	if err := runFloor(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	for i, n := range fl.sessions() {
		if n != 1 {
			t.Errorf("%s: %d sessions", fl.hosts[i].Name, n)
		}
	}

	// Through the proxies: same hosts, same keys, and at least the
	// handshake's round trips of delay.
	const rtt = 40 * time.Millisecond
	ph, stop, err := proxied(fl.hosts, rtt)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if err := writeKnownHosts(kh, ph); err != nil {
		t.Fatal(err)
	}
	spec.Hosts = nil
	for _, h := range ph {
		if h.Addr != fl.hosts[0].Addr && h.Addr != fl.hosts[1].Addr && h.Addr != fl.hosts[2].Addr {
			t.Errorf("proxy for %s listens on %s", h.Name, h.Addr)
		}
		spec.Hosts = append(spec.Hosts, floorHost{Name: h.Name, Addr: h.Addr, Port: h.Port, User: h.User})
	}
	spec.Concurrency = 3
	began := time.Now()
	if err := runFloor(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	// TCP (half), banners, kex, newkeys, auth none, key query, key sign,
	// channel open, exec and its output: at least five round trips.
	if took := time.Since(began); took < 5*rtt || took > 5*time.Second {
		t.Errorf("floor through %s proxies took %s", rtt, took)
	}
}

func TestProxyDelaysEachDirection(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c) // echo
	}()
	const rtt = 60 * time.Millisecond
	p, err := startProxy("127.0.0.1:0", l.Addr().String(), rtt)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", net.JoinHostPort(p.Addr(), strconv.Itoa(p.Port())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 5)
	for i := range 3 {
		began := time.Now()
		c.Write([]byte("hello"))
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
			t.Fatalf("echo %q %v", buf, err)
		}
		took := time.Since(began)
		// (The first one also waits for the proxy's dial, half an RTT
		// after it accepted, but that wait began when the connection was
		// accepted, before the clock here started: it is not counted.)
		min := rtt
		// Never faster than the delay; the upper bound only catches a
		// proxy that holds data much too long (a loaded machine is slow).
		if took < min || took > min+5*time.Second {
			t.Errorf("round trip %d took %s, want about %s", i, took, min)
		}
	}
}

func TestAnsibleFilesAndReport(t *testing.T) {
	hosts := []host{{Name: "host-1", Addr: "127.2.0.1", Port: 2201, User: "dl-1"}, {Name: "host-2", Addr: "127.2.0.2", Port: 2202, User: "dl-2"}}
	fl := simFleet(t, 1)
	hosts[0].HostKey, hosts[1].HostKey = fl.hosts[0].HostKey, fl.hosts[0].HostKey
	ad, err := writeAnsible(t.TempDir(), hosts, "/k/id")
	if err != nil {
		t.Fatal(err)
	}
	inv, _ := os.ReadFile(filepath.Join(ad.dir, "inventory.ini"))
	cfg, _ := os.ReadFile(filepath.Join(ad.dir, "ansible.cfg"))
	if !strings.Contains(string(inv), "host-2 ansible_host=127.2.0.2 ansible_port=2202 ansible_user=dl-2\n") ||
		!strings.Contains(string(cfg), "forks = 2\n") || !strings.Contains(string(cfg), "pipelining = True") {
		t.Errorf("ansible files:\n%s\n%s", inv, cfg)
	}

	floor := &measurement{name: "floor", hosts: 2, samples: []sample{{wall: time.Second, rss: 10 << 20}, {wall: 3 * time.Second}}, sessions: []float64{1, 1}}
	m := &measurement{name: "x", hosts: 2, samples: []sample{{wall: 2 * time.Second, rss: 20 << 20}, {wall: 4 * time.Second}, {wall: 9 * time.Second}}}
	row := ratioRow(m, floor, "t", verdict(within(m, floor, 2)))
	want := []string{"x", "2", "2.000 s", "4.000 s", "2.00", "2.00", "20 MB", "—", "t", "yes"}
	if strings.Join(row, "|") != strings.Join(want, "|") {
		t.Errorf("row %q, want %q", row, want)
	}
	floor.samples[0].cpu, floor.samples[1].cpu = time.Second, 3*time.Second
	m.samples[0].cpu, m.samples[1].cpu, m.samples[2].cpu = 2400*time.Millisecond, 9*time.Second, 2600*time.Millisecond
	row = scaleRow(m, floor, "t", "yes", 1.3)
	want = []string{"x", "2", "2.000 s", "4.000 s", "2.00", "2.00", "2.600 s", "1.30", "20 MB", "—", "t", "yes", "≤ 1.3× floor's CPU", "yes"}
	if strings.Join(row, "|") != strings.Join(want, "|") || len(row) != len(scaleHeader) {
		t.Errorf("scale row %q, want %q", row, want)
	}
	if row := scaleRow(m, floor, "", "", 1.2); row[len(row)-1] != "**no**" {
		t.Errorf("1.30× the floor's CPU met a 1.2× target: %q", row)
	}
	if row := scaleRow(m, nil, "", "", 0); row[7] != "—" || row[len(row)-2] != "" {
		t.Errorf("scale row without a floor: %q", row)
	}
	rep := &report{machine: machine{cpus: 2, date: time.Unix(0, 0).UTC()}, command: "go run ./bench -n 2"}
	var out bytes.Buffer
	rep.add(&section{title: "T", header: ratioHeader, rows: [][]string{row}}, &out)
	md := rep.markdown()
	for _, s := range []string{"# Fleet benchmark results", "- Machine: 2 CPUs", "`go run ./bench -n 2`", "| x | 2 | 2.000 s |"} {
		if !strings.Contains(md, s) {
			t.Errorf("report lacks %q:\n%s", s, md)
		}
	}
}

// The Go benchmarks run the library path of `driftless apply` and
// `driftless check` on simulated hosts (no process, no journal), next to
// the floor on the same hosts: go test -bench . ./bench/

const benchHosts = 20

func BenchmarkFloor(b *testing.B) {
	fl := simFleet(b, benchHosts)
	kh := filepath.Join(b.TempDir(), "known_hosts")
	if err := writeKnownHosts(kh, fl.hosts); err != nil {
		b.Fatal(err)
	}
	spec := floorSpec{Key: fl.key, KnownHosts: kh, Concurrency: benchHosts, Command: floorCommand}
	for _, h := range fl.hosts {
		spec.Hosts = append(spec.Hosts, floorHost{Name: h.Name, Addr: h.Addr, Port: h.Port, User: h.User})
	}
	for b.Loop() {
		if err := runFloor(context.Background(), spec); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkRun(b *testing.B, check, fresh bool) {
	fl := simFleet(b, benchHosts)
	lr := newLibRunner(b, fl, baselineDoc, benchHosts)
	ctx := context.Background()
	if _, err := lr.run(ctx, false); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if fresh {
			b.StopTimer()
			if err := fl.reset(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		res, err := lr.run(ctx, check)
		if err != nil || res.Failed() || res.Drifted() {
			b.Fatalf("%v %v", statuses(res), err)
		}
	}
}

func BenchmarkApplyFresh(b *testing.B)     { benchmarkRun(b, false, true) }
func BenchmarkApplyConverged(b *testing.B) { benchmarkRun(b, false, false) }
func BenchmarkCheckConverged(b *testing.B) { benchmarkRun(b, true, false) }

func TestFlagsAndAddresses(t *testing.T) {
	o, err := parseFlags([]string{"-mode", "latency", "-n", "7", "-rtt", "20ms"}, io.Discard)
	if err != nil || o.hosts != 7 || o.rtt != 20*time.Millisecond || !o.rttSet || !o.wants("latency") || o.wants("fleet") {
		t.Errorf("parse: %+v %v", o, err)
	}
	if got := reproduceCommand(o); got != "go run ./bench -mode latency -n 7 -rtt 20ms" {
		t.Errorf("reproduce: %q", got)
	}
	o, _ = parseFlags(nil, io.Discard)
	if o.rttSet || !o.wants("fleet") || !o.wants("scale") || o.simHosts != 2000 || o.concurrency != 500 {
		t.Errorf("defaults: %+v", o)
	}
	for _, bad := range [][]string{{"-mode", "x"}, {"-n", "0"}, {"extra"}, {"-rtt", "-1s"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	addrs, err := loopbackAddrs("127.2.0.253", 4)
	if err != nil || strings.Join(addrs, " ") != "127.2.0.253 127.2.0.254 127.2.1.1 127.2.1.2" {
		t.Errorf("addresses %v %v", addrs, err)
	}
	if _, err := loopbackAddrs("10.0.0.1", 1); err == nil {
		t.Error("a non-loopback address was accepted")
	}
}
