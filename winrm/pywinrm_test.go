package winrm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/transport"

	mzwinrm "github.com/masterzen/winrm"

	"github.com/driftless-dev/driftless/winrm"
	"github.com/driftless-dev/driftless/winrm/winrmtest"
)

// The test server is checked against an independent client, Debian's
// python3-winrm (pywinrm, with requests_ntlm for NTLM): the same scripts
// through pywinrm, through github.com/masterzen/winrm and through
// driftless's client must give the same stdout, stderr and exit codes,
// and the server must record the same scripts.

// pyClient runs jobs (JSON on stdin: password and script) with pywinrm's
// run_cmd and prints their results as JSON.
const pyClient = `
import base64, json, sys
import winrm
from winrm.exceptions import InvalidCredentialsError
url, transport, user, ca = sys.argv[1:5]
kw = dict(transport=transport, message_encryption='never', operation_timeout_sec=5, read_timeout_sec=15)
if url.startswith('https'):
    kw.update(server_cert_validation='validate', ca_trust_path=ca)
out = []
for job in json.load(sys.stdin):
    s = winrm.Session(url, auth=(user, job['password']), **kw)
    enc = base64.b64encode(job['script'].encode('utf_16_le')).decode('ascii')
    try:
        r = s.run_cmd('powershell -encodedcommand ' + enc)
    except InvalidCredentialsError:
        out.append({'error': 'InvalidCredentialsError'})
        continue
    out.append({'stdout': base64.b64encode(r.std_out).decode(), 'stderr': base64.b64encode(r.std_err).decode(), 'code': r.status_code})
json.dump(out, sys.stdout)
`

// opensslLegacy enables OpenSSL 3's legacy provider, where Python's
// hashlib finds the MD4 that NTLM needs (Debian leaves it off).
const opensslLegacy = `openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
`

type result struct {
	Stdout []byte `json:"stdout"`
	Stderr []byte `json:"stderr"`
	Code   int    `json:"code"`
	Error  string `json:"error,omitempty"`
}

// pywinrm returns a python3 that imports winrm and requests_ntlm. Without
// one the test fails under CI=true (test.sh installs python3-winrm) and
// is skipped elsewhere; it never installs anything itself.
func pywinrm(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/python3", "python3"} {
		py, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if exec.Command(py, "-c", "import winrm, requests_ntlm").Run() == nil {
			return py
		}
	}
	msg := "python3-winrm (pywinrm) is not installed: apt-get install -y python3-winrm"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

type pyJob struct {
	Password string `json:"password"`
	Script   string `json:"script"`
}

func runPywinrm(t *testing.T, py string, srv *winrmtest.Server, transport string, jobs []pyJob) []result {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "openssl.cnf")
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(conf, []byte(opensslLegacy), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca, srv.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(jobs)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-c", pyClient, srv.URL, transport, winrmtest.DefaultUser, ca)
	cmd.Stdin = bytes.NewReader(in)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "OPENSSL_CONF":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, "OPENSSL_CONF="+conf, "NO_PROXY=127.0.0.1,localhost")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pywinrm (%s): %v\n%s", transport, err, stderr.String())
	}
	var res []result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("pywinrm output %q: %v", out, err)
	}
	return res
}

func runMasterzen(t *testing.T, srv *winrmtest.Server, ntlm bool, password string, scripts []string) []result {
	t.Helper()
	https := strings.HasPrefix(srv.URL, "https:")
	params := mzwinrm.NewParameters("PT5S", "en-US", 153600)
	if ntlm {
		params.TransportDecorator = func() mzwinrm.Transporter { return &mzwinrm.ClientNTLM{} }
	}
	c, err := mzwinrm.NewClientWithParameters(mzwinrm.NewEndpoint(srv.Host, srv.Port, https, false, srv.CAPEM(), nil, nil, 15*time.Second),
		winrmtest.DefaultUser, password, params)
	if err != nil {
		t.Fatal(err)
	}
	var res []result
	for _, s := range scripts {
		var o, e bytes.Buffer
		code, err := c.RunWithContext(context.Background(), "powershell -encodedcommand "+winrmtest.EncodeScript(s), &o, &e)
		if err != nil {
			if strings.Contains(err.Error(), "401") {
				res = append(res, result{Error: "InvalidCredentialsError"})
				continue
			}
			t.Fatalf("masterzen: %v", err)
		}
		res = append(res, result{Stdout: o.Bytes(), Stderr: e.Bytes(), Code: code})
	}
	return res
}

func runDriftless(t *testing.T, srv *winrmtest.Server, auth string, scripts []string) []result {
	t.Helper()
	c := dial(t, config(t, srv, auth))
	var res []result
	for _, s := range scripts {
		var o, e bytes.Buffer
		code, err := c.Run(context.Background(), &transport.Command{Script: s, Stdout: &o, Stderr: &e})
		if err != nil {
			t.Fatalf("driftless: %v", err)
		}
		res = append(res, result{Stdout: o.Bytes(), Stderr: e.Bytes(), Code: code})
	}
	return res
}

// answer is what the server answers a script with: its text, output
// that needs several Receives for "big", and an exit code from its size.
func answer(ctx context.Context, p *winrmtest.Process) int {
	s := strings.TrimPrefix(p.Script, prologue) // driftless's prologue
	fmt.Fprintf(p.Stdout, "ran: %s\n", s)
	if strings.Contains(s, "big") {
		for i := range 5000 {
			fmt.Fprintf(p.Stdout, "line %05d ✓ ünïcödé\n", i)
		}
	}
	fmt.Fprintf(p.Stderr, "%d characters", len([]rune(s)))
	return len(s) % 7
}

func TestPywinrmAgreesWithMasterzenAndDriftless(t *testing.T) {
	python := pywinrm(t)
	scripts := []string{
		"Write-Output 'hello'",
		"'ünïcödé ✓ — \"quotes\" & <xml> ]]>'\r\nexit 5",
		"1..5000 | % { \"big $_\" }",
	}
	for _, tc := range []struct {
		name string
		tls  bool
		ntlm bool
	}{
		{"http-basic", false, false},
		{"http-ntlm", false, true},
		{"https-basic", true, false},
		{"https-ntlm", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := winrmtest.New(winrmtest.Options{TLS: tc.tls, Handler: answer})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			transport, auth := "basic", winrm.AuthBasic
			if tc.ntlm {
				transport, auth = "ntlm", winrm.AuthNTLM
			}

			// The scripts, then the first one with a wrong password.
			var jobs []pyJob
			for _, s := range scripts {
				jobs = append(jobs, pyJob{winrmtest.DefaultPassword, s})
			}
			jobs = append(jobs, pyJob{"wrong", scripts[0]})
			pr := runPywinrm(t, python, srv, transport, jobs)
			pyScripts := srv.Scripts()
			mz := runMasterzen(t, srv, tc.ntlm, winrmtest.DefaultPassword, scripts)
			mzScripts := srv.Scripts()[len(pyScripts):]
			dl := runDriftless(t, srv, auth, scripts)

			for i := range scripts {
				if !same(pr[i], mz[i]) || !same(pr[i], dl[i]) {
					t.Errorf("script %d:\npywinrm   %s\nmasterzen %s\ndriftless %s", i, show(pr[i]), show(mz[i]), show(dl[i]))
				}
				if pr[i].Code != len(scripts[i])%7 || !bytes.HasPrefix(pr[i].Stdout, []byte("ran: "+scripts[i]+"\n")) {
					t.Errorf("script %d: pywinrm got %s", i, show(pr[i]))
				}
			}
			if strings.Join(pyScripts, "\x00") != strings.Join(scripts, "\x00") || strings.Join(mzScripts, "\x00") != strings.Join(scripts, "\x00") {
				t.Errorf("recorded scripts differ:\npywinrm   %q\nmasterzen %q", pyScripts, mzScripts)
			}
			if srv.OpenShells() > 1 { // driftless keeps one for reuse
				t.Errorf("%d shells left open", srv.OpenShells())
			}

			// A wrong password: both clients are refused the same way.
			badMZ := runMasterzen(t, srv, tc.ntlm, "wrong", scripts[:1])
			if bad := pr[len(scripts)]; bad.Error != "InvalidCredentialsError" || badMZ[0].Error != "InvalidCredentialsError" {
				t.Errorf("wrong password: pywinrm %s, masterzen %s", show(bad), show(badMZ[0]))
			}
		})
	}
}

func same(a, b result) bool {
	return bytes.Equal(a.Stdout, b.Stdout) && bytes.Equal(a.Stderr, b.Stderr) && a.Code == b.Code && a.Error == b.Error
}

func show(r result) string {
	if r.Error != "" {
		return r.Error
	}
	out := r.Stdout
	if len(out) > 60 {
		out = append(out[:60:60], "..."...)
	}
	return fmt.Sprintf("code %d, stdout %d bytes %q, stderr %q", r.Code, len(r.Stdout), out, r.Stderr)
}
