package winrm_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/transport/transporttest"
	"github.com/driftless-dev/driftless/winrm"
	"github.com/driftless-dev/driftless/winrm/winrmtest"
)

// fakeHost plays a Windows host behind a winrmtest server: it stores the
// scripts driftless pushes (running the put script's protocol: base64 lines
// on stdin, a checksum line, exit 1 with a message on mismatch), runs the
// bootstrap of long scripts (read, delete, run the pushed file) and hands
// every other script to run.
type fakeHost struct {
	mu    sync.Mutex
	files map[string][]byte // by path; pushed scripts under %TEMP%\NAME
	// corrupt flips a byte of every pushed file before it is checked.
	corrupt bool
	run     func(ctx context.Context, p *winrmtest.Process, script string) int
}

const tempDir = `C:\Users\Administrator\AppData\Local\Temp\`

var (
	putPathRE       = regexp.MustCompile(`(?m)^\s*\$dl_path = (.+)$`)
	bootstrapFileRE = regexp.MustCompile(`(?m)^\$__dl_file = (.+)$`)
	tempTargetRE    = regexp.MustCompile(`^\[IO\.Path\]::Combine\(\[IO\.Path\]::GetTempPath\(\), '([^']+)'\)$`)
)

func newFakeHost() *fakeHost { return &fakeHost{files: map[string][]byte{}} }

func (h *fakeHost) fileCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.files)
}

// path evaluates the PowerShell expressions driftless uses for paths: a
// single-quoted string, or a file in the temporary directory.
func path(t testing.TB, expr string) string {
	expr = strings.TrimSpace(expr)
	if m := tempTargetRE.FindStringSubmatch(expr); m != nil {
		return tempDir + m[1]
	}
	if len(expr) >= 2 && expr[0] == '\'' && expr[len(expr)-1] == '\'' {
		return strings.ReplaceAll(expr[1:len(expr)-1], "''", "'")
	}
	t.Errorf("unexpected path expression %s", expr)
	return ""
}

func (h *fakeHost) handler(t testing.TB) winrmtest.Handler {
	return func(ctx context.Context, p *winrmtest.Process) int {
		if !p.PowerShell {
			fmt.Fprintf(p.Stderr, "not PowerShell: %s", p.CommandLine)
			return 1
		}
		if m := putPathRE.FindStringSubmatch(p.Script); m != nil && strings.HasPrefix(p.Script, "begin {") {
			return h.put(t, p, path(t, m[1]))
		}
		if m := bootstrapFileRE.FindStringSubmatch(p.Script); m != nil {
			file := path(t, m[1])
			h.mu.Lock()
			body, ok := h.files[file]
			delete(h.files, file)
			h.mu.Unlock()
			if !ok {
				fmt.Fprintf(p.Stderr, "Exception calling \"ReadAllText\": Could not find file '%s'.", file)
				return 1
			}
			return h.script(ctx, p, string(body))
		}
		if strings.Contains(p.Script, "[IO.File]::Delete(") {
			return 0
		}
		return h.script(ctx, p, p.Script)
	}
}

func (h *fakeHost) script(ctx context.Context, p *winrmtest.Process, script string) int {
	if h.run == nil {
		return 0
	}
	return h.run(ctx, p, script)
}

// put receives a file as the put script does.
func (h *fakeHost) put(t testing.TB, p *winrmtest.Process, path string) int {
	sum := sha256.New()
	var content []byte
	want := ""
	sc := bufio.NewScanner(p.Stdin)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "="):
			want = line[1:]
		case line != "":
			b, err := base64.StdEncoding.DecodeString(line)
			if err != nil {
				fmt.Fprintf(p.Stderr, "driftless put: %v\n", err)
				return 1
			}
			content = append(content, b...)
		}
	}
	if want == "" {
		io.WriteString(p.Stderr, "driftless put: the upload ended early (no checksum line)\n")
		return 1
	}
	if h.corrupt && len(content) > 0 {
		content[0] ^= 0xff
	}
	sum.Write(content)
	got := hex.EncodeToString(sum.Sum(nil)) + " " + strconv.Itoa(len(content))
	if got != want {
		fmt.Fprintf(p.Stderr, "driftless put: checksum mismatch: received %s, sent %s\n", got, want)
		return 1
	}
	h.mu.Lock()
	h.files[path] = content
	h.mu.Unlock()
	fmt.Fprintf(p.Stdout, "dl-put-ok %s\n", got)
	return 0
}

// newHost starts a test server in front of a fake host.
func newHost(t *testing.T, opts winrmtest.Options, run func(ctx context.Context, p *winrmtest.Process, script string) int) (*winrmtest.Server, *fakeHost) {
	t.Helper()
	h := newFakeHost()
	h.run = run
	opts.Handler = h.handler(t)
	srv, err := winrmtest.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv, h
}

// config is the Config a user would write for srv.
func config(t *testing.T, srv *winrmtest.Server, auth string) winrm.Config {
	t.Helper()
	cfg := winrm.Config{
		Name: "win-1", Address: srv.Host, Port: srv.Port,
		User: winrmtest.DefaultUser, Password: winrmtest.DefaultPassword,
		Auth: auth, ConnectTimeout: 5 * time.Second, OperationTimeout: 5 * time.Second,
	}
	if strings.HasPrefix(srv.URL, "https:") {
		cfg.HTTPS = true
		if pem := srv.CAPEM(); pem != nil {
			cfg.CAFile = writeFile(t, "ca.pem", pem)
		}
	}
	return cfg
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := t.TempDir() + "/" + name
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func dial(t *testing.T, cfg winrm.Config) *winrm.Client {
	t.Helper()
	return transporttest.Dial(t, func(ctx context.Context) (*winrm.Client, error) { return winrm.Dial(ctx, cfg) })
}
