package runner_test

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
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

	"github.com/driftless-dev/driftless/internal/configtest"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner/plan"
)

var bigDoc = configtest.Doc(testDocs, "big.toml")

var bigAssoc = configtest.Doc(testDocs, "big-associations.toml")

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
	return plan.SHA256Hex(b)
}

func fileSHA(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return plan.SHA256Hex(b)
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
	checkBigFile(t, f, want, "writing", size, peak)
}

// checkBigFile fails the test unless every host's ~/big.bin has the
// source's sha256 want, and the controller's heap peak stayed under 2×
// the file size plus 1 MiB a host while it sent (how: "writing",
// "downloading") size bytes to them.
func checkBigFile(t *testing.T, f *fleet, want, how string, size int, peak uint64) {
	t.Helper()
	for _, h := range f.hosts {
		if got := fileSHA(t, filepath.Join(h.Home, "big.bin")); got != want {
			t.Errorf("%s: ~/big.bin has sha256 %s, want the source's %s", h.Name, got, want)
		}
	}
	hosts := len(f.hosts)
	if limit := uint64(2*size + hosts<<20); peak > limit {
		t.Errorf("controller heap peak %d bytes %s %d bytes to %d hosts: want under 2× the file size plus 1 MiB a host (%d)", peak, how, size, hosts, limit)
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

// A source that changes between the plan and the write (here by a step
// before it, on a host that shares the controller's disk) fails the step
// with the reason; the host keeps its file as it was, with nothing of the
// new or old content mixed in, and no temporary file left beside it.
func TestLargeSourceChangedSincePlanned(t *testing.T) {
	for _, c := range []struct{ name, change, why string }{
		{"grew", `printf more >> "$SRC"`, "it is larger than the"},
		{"shrank", `truncate -s 300000 "$SRC"`, "it is 300000 bytes, it had"},
		{"same size", `printf Z | dd of="$SRC" bs=1 seek=400000 conv=notrunc 2>/dev/null`, "sha256 "},
	} {
		t.Run(c.name, func(t *testing.T) {
			// As root (when the tests are): the host's user changes the
			// controller's file.
			f := newFleetAs(t, 1, os.Getuid() == 0, bigAssoc, "big.toml", bigDoc)
			writeBig(t, f.dir, 1<<20)
			src := filepath.Join(f.dir, "files", "big.bin")
			os.WriteFile(filepath.Join(f.hosts[0].Home, "big.bin"), []byte("old\n"), 0o644)
			doc := fmt.Sprintf(`
[[steps]]
name = "change"
action = "shell"
run = '''SRC=%q; %s'''

[[steps]]
name = "big"
action = "file"
path = "~/big.bin"
source = "files/big.bin"

[[steps]]
name = "after"
action = "shell"
run = "echo after"
`, src, c.change)
			os.WriteFile(filepath.Join(f.dir, "documents", "big.toml"), []byte(doc), 0o600)
			f.reload(t)
			res := f.run(t, false, nil)
			h := res.Hosts[0]
			if got := hostSteps(h); !strings.HasPrefix(got, "change=Success big=Failed") || !strings.Contains(got, "after=Skipped") {
				t.Fatalf("steps %s, want change=Success big=Failed (reason) after=Skipped (stopped)", got)
			}
			why := h.Steps[1].Error
			if !strings.Contains(why, "source files/big.bin changed since it was planned") || !strings.Contains(why, c.why) || !strings.Contains(why, "nothing was written") {
				t.Errorf("reason %q, want the source changed since it was planned (%s...), nothing was written", why, c.why)
			}
			if b, _ := os.ReadFile(filepath.Join(f.hosts[0].Home, "big.bin")); string(b) != "old\n" {
				t.Errorf("~/big.bin on the host is %d bytes, want the old content kept", len(b))
			}
			if left, _ := filepath.Glob(filepath.Join(f.hosts[0].Home, ".big.bin.dl-tmp.*")); len(left) > 0 {
				t.Errorf("left on the host: %v", left)
			}
		})
	}
}

// A large download goes to the disk cache as it arrives and is streamed
// from there to each host: the controller never holds it whole.
func TestLargeDownloadStreamed(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	size, hosts := 4<<20, 3
	body := make([]byte, size)
	rand.Read(body)
	want := plan.SHA256Hex(body)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer srv.Close()
	doc := fmt.Sprintf("[[steps]]\nname = \"big\"\naction = \"download\"\nurl = \"%s/big.bin\"\nsha256 = %q\ndestination = \"~/big.bin\"\n", srv.URL, want)
	f := newFleet(t, hosts, bigAssoc, "big.toml", doc)
	var got []string
	peak := heapPeak(func() {
		for _, h := range f.run(t, false, nil).Hosts {
			got = append(got, hostSteps(h))
		}
	})
	t.Logf("download %d MiB × %d hosts: controller heap peak %.1f MiB", size>>20, hosts, float64(peak)/(1<<20))
	for _, s := range got {
		if s != "big=Corrected" {
			t.Errorf("steps %s, want big=Corrected", s)
		}
	}
	checkBigFile(t, f, want, "downloading", size, peak)
	if s := hostSteps(f.run(t, true, nil).Hosts[0]); s != "big=Compliant" {
		t.Errorf("check: %s, want big=Compliant", s)
	}
}
