package runner_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/journal"
)

const bigDoc = `
[[steps]]
name = "big"
action = "file"
path = "~/big.bin"
source = "files/big.bin"
`

const bigAssoc = `[associations.big]
document = "big"
targets = ["tag:role=web"]
`

// heapPeak samples the controller's heap (live objects, with the
// collector kept eager) while run runs, and returns its peak above what
// it was before.
func heapPeak(run func()) uint64 {
	old := debug.SetGCPercent(5)
	defer debug.SetGCPercent(old)
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base := read()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if v := read(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	run()
	close(stop)
	wg.Wait()
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}

// writeBig writes size random bytes as the config dir's files/big.bin
// and returns their SHA-256.
func writeBig(t *testing.T, dir string, size int) string {
	t.Helper()
	b := make([]byte, size)
	rand.Read(b)
	os.MkdirAll(filepath.Join(dir, "files"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "files", "big.bin"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func fileSHA(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// envInt is the integer in the environment variable k, or def.
func envInt(k string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(k)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestLargeSourceMemoryBounded writes a large binary source to several
// hosts at once (real sshd) and bounds the controller's peak heap (SPEC
// §6: under 2× the file size plus 1 MiB per host; the content is
// streamed from the file, so the peak does not grow with the hosts).
// DL_STREAM_MB and DL_STREAM_HOSTS scale it (the table in docs/safety.md).
func TestLargeSourceMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes megabytes to several sshd hosts")
	}
	size, hosts := envInt("DL_STREAM_MB", 8)<<20, envInt("DL_STREAM_HOSTS", 4)
	f := newFleet(t, hosts, bigAssoc, "big.toml", bigDoc)
	want := writeBig(t, f.dir, size)
	var statuses []string
	peak := heapPeak(func() {
		r := f.run(t, false, nil)
		for _, h := range r.Hosts {
			statuses = append(statuses, h.Host+": "+string(h.Status)+" "+hostSteps(h))
		}
	})
	t.Logf("file %d MiB × %d hosts: controller heap peak %.1f MiB (%.2f× the file size per host)",
		size>>20, hosts, float64(peak)/(1<<20), float64(peak)/float64(size)/float64(hosts))
	for _, s := range statuses {
		if !strings.Contains(s, "Success big=Corrected") {
			t.Errorf("host %s, want Success big=Corrected", s)
		}
	}
	for _, h := range f.hosts {
		if got := fileSHA(t, filepath.Join(h.Home, "big.bin")); got != want {
			t.Errorf("%s: ~/big.bin has sha256 %s, want the source's %s", h.Name, got, want)
		}
	}
	if limit := uint64(2*size + hosts<<20); peak > limit {
		t.Errorf("controller heap peak %d bytes writing %d bytes to %d hosts: want under 2× the file size plus 1 MiB a host (%d)", peak, size, hosts, limit)
	}
}

func hostSteps(h journal.HostResult) string {
	var s []string
	for _, st := range h.Steps {
		s = append(s, st.Name+"="+string(st.Status))
		if st.Error != "" {
			s = append(s, fmt.Sprintf("(%s)", st.Error))
		}
	}
	return strings.Join(s, " ")
}
