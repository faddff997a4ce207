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
	"sync"
	"time"

	"github.com/driftless-dev/driftless/documents"
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
	err  error
}

func newFetcher(dir string) *fetcher {
	cache := ""
	if d, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(d, "driftless", "downloads")
	}
	return &fetcher{dir: dir, cacheDir: cache, client: &http.Client{Timeout: 10 * time.Minute}, calls: map[string]*fetchCall{}}
}

func (f *fetcher) fetch(url, source, want string) ([]byte, error) {
	key := url + "\x00" + source + "\x00" + want
	f.mu.Lock()
	c := f.calls[key]
	if c == nil {
		c = &fetchCall{}
		f.calls[key] = c
	}
	f.mu.Unlock()
	c.once.Do(func() { c.b, c.err = f.get(url, source, want) })
	return c.b, c.err
}

func (f *fetcher) get(url, source, want string) ([]byte, error) {
	if want != "" && f.cacheDir != "" {
		if b, err := os.ReadFile(filepath.Join(f.cacheDir, want)); err == nil && hexSHA(b) == want {
			return b, nil
		}
	}
	var b []byte
	var err error
	if url != "" {
		b, err = f.httpGet(url)
	} else {
		b, err = readLimited(f.dir, source)
	}
	if err != nil {
		return nil, err
	}
	got := hexSHA(b)
	if want != "" && got != want {
		return nil, fmt.Errorf("download: %w: got sha256 %s, want %s; nothing was written on the host", ErrChecksum, got, want)
	}
	if f.cacheDir != "" {
		if os.MkdirAll(f.cacheDir, 0o700) == nil {
			tmp := filepath.Join(f.cacheDir, ".tmp-"+got)
			if os.WriteFile(tmp, b, 0o600) == nil {
				os.Rename(tmp, filepath.Join(f.cacheDir, got))
			}
		}
	}
	return b, nil
}

func (f *fetcher) httpGet(url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", url, err)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download %s: HTTP %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxDownload+1))
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", url, err)
	}
	if len(b) > MaxDownload {
		return nil, fmt.Errorf("download %s: larger than %d bytes", url, MaxDownload)
	}
	return b, nil
}

// readLimited reads a download's source, confined to the config dir
// dir, of at most MaxDownload bytes.
func readLimited(dir, source string) ([]byte, error) {
	f, st, err := documents.OpenSource(dir, source)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	defer f.Close()
	if st.Size() > MaxDownload {
		return nil, fmt.Errorf("source %s: larger than %d bytes", source, MaxDownload)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxDownload+1))
	if err == nil && len(b) > MaxDownload {
		err = fmt.Errorf("larger than %d bytes", MaxDownload)
	}
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", source, err)
	}
	return b, nil
}

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
