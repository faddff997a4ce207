package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/driftless-dev/driftless/documents"
	"github.com/driftless-dev/driftless/runner/plan"
)

// MaxDownload is the largest content the download action moves.
const MaxDownload = 512 << 20

// ErrChecksum is a download whose SHA-256 is not the one expected.
var ErrChecksum = errors.New("checksum mismatch")

// fetcher fetches download content on the control machine — hosts often
// have no internet, the bastion does —, verifies it and caches it by
// hash, once per invocation whatever the number of hosts.
type fetcher struct {
	dir      string // config dir, for relative sources
	cacheDir string // "" = no cache on disk
	client   *http.Client
	mu       sync.Mutex
	calls    map[string]*fetchCall
}

type fetchCall struct {
	once sync.Once
	b    []byte
	s    *plan.Stream
	err  error
}

func newFetcher(dir string) *fetcher {
	cache := ""
	if d, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(d, "driftless", "downloads")
	}
	return &fetcher{dir: dir, cacheDir: cache, client: &http.Client{Timeout: 10 * time.Minute}, calls: map[string]*fetchCall{}}
}

// fetch returns a download's content: in memory when small, else the
// file that holds it (the disk cache, or the source in the config dir),
// streamed to each host that writes it (plan.Stream).
func (f *fetcher) fetch(url, source, want string) ([]byte, *plan.Stream, error) {
	key := url + "\x00" + source + "\x00" + want
	f.mu.Lock()
	c := f.calls[key]
	if c == nil {
		c = &fetchCall{}
		f.calls[key] = c
	}
	f.mu.Unlock()
	c.once.Do(func() { c.b, c.s, c.err = f.get(url, source, want) })
	return c.b, c.s, c.err
}

func (f *fetcher) get(url, source, want string) ([]byte, *plan.Stream, error) {
	if want != "" && f.cacheDir != "" {
		if b, s, err := hashedFile(f.cacheDir, want); err == nil && (s != nil && s.SHA == want || s == nil && hexSHA(b) == want) {
			return b, s, nil
		}
	}
	var b []byte
	var s *plan.Stream
	var err error
	switch {
	case url != "" && f.cacheDir != "":
		b, s, err = f.httpGetFile(url)
	case url != "":
		b, err = f.httpGet(url)
	default:
		b, s, err = readLimited(f.dir, source)
	}
	if err != nil {
		return nil, nil, err
	}
	got := hexSHA(b)
	if s != nil {
		got = s.SHA
	}
	if want != "" && got != want {
		return nil, nil, fmt.Errorf("download: %w: got sha256 %s, want %s; nothing was written on the host", ErrChecksum, got, want)
	}
	if f.cacheDir != "" && s == nil && url == "" { // httpGetFile cached a download already
		if os.MkdirAll(f.cacheDir, 0o700) == nil {
			tmp := filepath.Join(f.cacheDir, ".tmp-"+got)
			if os.WriteFile(tmp, b, 0o600) == nil {
				os.Rename(tmp, filepath.Join(f.cacheDir, got))
			}
		}
	}
	return b, s, nil
}

// hashedFile reads the regular file name under dir: its content when it
// is small (plan.MaxDiffBytes at most), else, hashed as it is read, the
// plan.Stream that reads it for each host.
func hashedFile(dir, name string) ([]byte, *plan.Stream, error) {
	file, st, err := documents.OpenSource(dir, name)
	if err != nil {
		return nil, nil, err
	}
	defer file.Close()
	if st.Size() > MaxDownload {
		return nil, nil, fmt.Errorf("larger than %d bytes", MaxDownload)
	}
	if st.Size() <= plan.MaxDiffBytes {
		b, err := io.ReadAll(io.LimitReader(file, plan.MaxDiffBytes+1))
		if err == nil && len(b) > plan.MaxDiffBytes {
			err = fmt.Errorf("%s changed while it was read", name)
		}
		return b, nil, err
	}
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(file, st.Size()+1))
	if err == nil && n != st.Size() {
		err = fmt.Errorf("%s changed while it was read (%d bytes, then %d)", name, st.Size(), n)
	}
	if err != nil {
		return nil, nil, err
	}
	return nil, &plan.Stream{Dir: dir, Name: name, Size: n, SHA: hex.EncodeToString(h.Sum(nil))}, nil
}

// httpGetFile downloads url into the disk cache, named by its hash, and
// returns it as hashedFile does: the content is never held whole.
func (f *fetcher) httpGetFile(url string) ([]byte, *plan.Stream, error) {
	if err := os.MkdirAll(f.cacheDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("download %s: cache: %w", url, err)
	}
	body, err := f.httpBody(url)
	if err != nil {
		return nil, nil, err
	}
	defer body.Close()
	tmp, err := os.CreateTemp(f.cacheDir, ".tmp-*")
	if err != nil {
		return nil, nil, fmt.Errorf("download %s: cache: %w", url, err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(body, MaxDownload+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > MaxDownload {
		err = fmt.Errorf("larger than %d bytes", MaxDownload)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("download %s: %w", url, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	cached := filepath.Join(f.cacheDir, got)
	if err := os.Rename(tmp.Name(), cached); err != nil {
		return nil, nil, fmt.Errorf("download %s: cache: %w", url, err)
	}
	if n > plan.MaxDiffBytes { // hashed above as it was written: not read again
		return nil, &plan.Stream{Dir: f.cacheDir, Name: got, Size: n, SHA: got}, nil
	}
	b, err := os.ReadFile(cached)
	if err != nil {
		return nil, nil, fmt.Errorf("download %s: cache: %w", url, err)
	}
	return b, nil, nil
}

func (f *fetcher) httpBody(url string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", url, err)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("download %s: HTTP %s", url, resp.Status)
	}
	return resp.Body, nil
}

func (f *fetcher) httpGet(url string) ([]byte, error) {
	body, err := f.httpBody(url)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, MaxDownload+1))
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", url, err)
	}
	if len(b) > MaxDownload {
		return nil, fmt.Errorf("download %s: larger than %d bytes", url, MaxDownload)
	}
	return b, nil
}

// readLimited reads a download's source, confined to the config dir
// dir, of at most MaxDownload bytes (see hashedFile).
func readLimited(dir, source string) ([]byte, *plan.Stream, error) {
	b, s, err := hashedFile(dir, source)
	if err != nil {
		if strings.HasPrefix(err.Error(), "larger than") {
			return nil, nil, fmt.Errorf("source %s: %w", source, err)
		}
		return nil, nil, fmt.Errorf("source: %w", err)
	}
	return b, s, nil
}

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
