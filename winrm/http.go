package winrm

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/driftless-dev/driftless/transport"

	"github.com/Azure/go-ntlmssp"
)

// ErrTLS is wrapped (with transport.ErrUnreachable) when the host's TLS
// certificate is not trusted: unknown authority, wrong name, expired.
var ErrTLS = errors.New("TLS certificate rejected")

// maxResponse bounds the body of one WS-Management answer.
const maxResponse = 64 << 20

// receiveGrace is how much longer than OperationTimeout a request may go
// without an answer before it is given up (the host answers an empty
// Receive after OperationTimeout): a quarter of it, between 500ms and 15s.
func receiveGrace(op time.Duration) time.Duration {
	return min(15*time.Second, max(500*time.Millisecond, op/4))
}

// wire sends WS-Management messages to one host over HTTP(S). Each request
// takes a slot: an http.Transport with at most one connection, used by one
// request at a time, so that NTLM's three legs run on the same TCP
// connection (Windows binds the handshake to it) and the connection stays
// authenticated for the slot's next requests.
type wire struct {
	cfg   Config
	url   string
	where string // "win-1:5986", for messages
	slots chan *http.Transport
	all   []*http.Transport
}

func newWire(cfg Config, slots int) (*wire, error) {
	scheme := "http"
	var tc *tls.Config
	if cfg.HTTPS {
		scheme = "https"
		tc = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.Address}
		if cfg.InsecureSkipVerify {
			tc.InsecureSkipVerify = true //nolint:gosec // only when the inventory says so explicitly
		}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("ca_file %s: no PEM certificate in it", cfg.CAFile)
			}
			tc.RootCAs = pool
		}
	}
	w := &wire{
		cfg:   cfg,
		url:   fmt.Sprintf("%s://%s/wsman", scheme, net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port))),
		where: net.JoinHostPort(cfg.Name, strconv.Itoa(cfg.Port)),
		slots: make(chan *http.Transport, slots),
	}
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	for range slots {
		t := &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         dialer.DialContext,
			TLSClientConfig:     tc,
			TLSHandshakeTimeout: cfg.ConnectTimeout,
			MaxConnsPerHost:     1,
			MaxIdleConnsPerHost: 1,
			IdleConnTimeout:     90 * time.Second,
		}
		w.slots <- t
		w.all = append(w.all, t)
	}
	return w, nil
}

func (w *wire) close() {
	for _, t := range w.all {
		t.CloseIdleConnections()
	}
}

// post sends one message and returns the answer's body. The request is
// given up after timeout. Errors: ctx's own error as is; transport.ErrAuth
// for a 401; *Fault for a SOAP fault; otherwise a plain-words error that
// wraps transport.ErrUnreachable for connection failures (plus
// transport.ErrTimeout, or ErrTLS) and transport.ErrTimeout when no answer
// came in time.
func (w *wire) post(ctx context.Context, msg string, timeout time.Duration) (string, error) {
	var t *http.Transport
	select {
	case t = <-w.slots:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { w.slots <- t }()

	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := w.roundTrip(rctx, t, []byte(msg))
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", w.netErr(err, rctx, timeout)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", w.netErr(err, rctx, timeout)
	}
	switch {
	case res.StatusCode == http.StatusOK:
		return string(body), nil
	case res.StatusCode == http.StatusUnauthorized:
		return "", w.authErr(res.Header.Values("WWW-Authenticate"))
	case strings.Contains(res.Header.Get("Content-Type"), "soap+xml"):
		if f := parseFault(body); f != nil {
			f.Where = w.where
			return "", f
		}
	}
	return "", fmt.Errorf("WinRM: HTTP %s from %s%s%s", res.Status, w.where, short(body), w.httpHint(res.StatusCode))
}

// roundTrip sends the request with its credentials: Basic in every
// request, or NTLM: anonymous first (the slot's connection may be
// authenticated already), then negotiate, challenge, authenticate. It
// never falls back to Basic.
func (w *wire) roundTrip(ctx context.Context, t *http.Transport, body []byte) (*http.Response, error) {
	send := func(auth string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
		req.Header.Set("User-Agent", "driftless")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		return t.RoundTrip(req)
	}
	if w.cfg.Auth == AuthBasic {
		return send("Basic " + base64.StdEncoding.EncodeToString([]byte(w.cfg.User+":"+w.cfg.Password)))
	}
	res, err := send("")
	if err != nil || res.StatusCode != http.StatusUnauthorized {
		return res, err
	}
	scheme := ntlmScheme(res.Header.Values("WWW-Authenticate"))
	if scheme == "" {
		return res, nil // not offered: authErr says so
	}
	drain(res)
	user, domain, domainNeeded := ntlmssp.GetDomain(w.cfg.User)
	negotiate, err := ntlmssp.NewNegotiateMessage(domain, "")
	if err != nil {
		return nil, fmt.Errorf("NTLM: %w", err)
	}
	if res, err = send(scheme + " " + base64.StdEncoding.EncodeToString(negotiate)); err != nil || res.StatusCode != http.StatusUnauthorized {
		return res, err
	}
	challenge := authData(res.Header.Values("WWW-Authenticate"), scheme)
	if challenge == nil {
		return res, nil
	}
	drain(res)
	authenticate, err := ntlmssp.ProcessChallenge(challenge, user, w.cfg.Password, domainNeeded)
	if err != nil {
		return nil, fmt.Errorf("NTLM: %w", err)
	}
	return send(scheme + " " + base64.StdEncoding.EncodeToString(authenticate))
}

func drain(res *http.Response) {
	io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
}

// ntlmScheme is the scheme to run NTLM with: Negotiate (what Windows
// offers; SPNEGO takes a raw NTLM token) or NTLM, or "" when neither is
// offered.
func ntlmScheme(offers []string) string {
	found := ""
	for _, o := range offers {
		s, _, _ := strings.Cut(strings.TrimSpace(o), " ")
		switch {
		case strings.EqualFold(s, "Negotiate"):
			return "Negotiate"
		case strings.EqualFold(s, "NTLM"):
			found = "NTLM"
		}
	}
	return found
}

// authData decodes the token of a WWW-Authenticate header of scheme.
func authData(values []string, scheme string) []byte {
	for _, v := range values {
		s, data, ok := strings.Cut(strings.TrimSpace(v), " ")
		if !ok || !strings.EqualFold(s, scheme) {
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data)); err == nil && len(b) > 0 {
			return b
		}
	}
	return nil
}

// authErr explains a 401 in plain words.
func (w *wire) authErr(offers []string) error {
	var schemes []string
	for _, o := range offers {
		s, _, _ := strings.Cut(strings.TrimSpace(o), " ")
		if s != "" {
			schemes = append(schemes, s)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "WinRM: 401 from %s — check user/password_env and auth = ntlm|basic (user %s, auth = %s", w.where, w.cfg.User, w.cfg.Auth)
	if len(schemes) > 0 {
		fmt.Fprintf(&b, "; the host offers %s", strings.Join(schemes, ", "))
	}
	b.WriteString(")")
	switch {
	case w.cfg.Auth == AuthNTLM && len(schemes) > 0 && ntlmScheme(offers) == "":
		b.WriteString(": the host does not offer NTLM (Negotiate)")
	case w.cfg.Auth == AuthBasic && len(schemes) > 0 && !offered(schemes, "Basic"):
		b.WriteString(": the host does not accept Basic authentication (enable it with winrm set winrm/config/service/auth @{Basic=\"true\"}, or use auth = \"ntlm\")")
	}
	if !w.cfg.HTTPS {
		b.WriteString("; over plain HTTP the host must also allow unencrypted WinRM (AllowUnencrypted), or use https = true")
	}
	return fmt.Errorf("%w: %s", transport.ErrAuth, b.String())
}

func offered(schemes []string, s string) bool {
	for _, x := range schemes {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// httpHint explains a few HTTP statuses.
func (w *wire) httpHint(status int) string {
	switch {
	case status == http.StatusBadRequest && !w.cfg.HTTPS:
		return " (if the port speaks HTTPS, set https = true)"
	case status == http.StatusNotFound:
		return " (no WinRM service at /wsman on that port)"
	}
	return ""
}

func short(body []byte) string {
	s := strings.TrimSpace(string(body))
	if s == "" {
		return ""
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return ": " + strings.Join(strings.Fields(s), " ")
}

// netErr explains a request that got no HTTP answer.
func (w *wire) netErr(err error, rctx context.Context, timeout time.Duration) error {
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var record tls.RecordHeaderError
	var opErr *net.OpError
	switch {
	case errors.As(err, &unknownCA):
		hint := "set winrm.ca_file to the CA that signed it"
		if w.cfg.CAFile != "" {
			hint = "it is not signed by the CA in ca_file " + w.cfg.CAFile
		}
		return fmt.Errorf("%w: %w: WinRM: the TLS certificate of %s is signed by an unknown authority (%s): %s (insecure_skip_verify = true skips the check, for tests only)",
			transport.ErrUnreachable, ErrTLS, w.where, certName(unknownCA.Cert), hint)
	case errors.As(err, &hostname):
		return fmt.Errorf("%w: %w: WinRM: the TLS certificate of %s is for %s, not %s: set address to a name the certificate holds",
			transport.ErrUnreachable, ErrTLS, w.where, certHosts(hostname.Certificate), hostname.Host)
	case errors.As(err, &invalid):
		return fmt.Errorf("%w: %w: WinRM: the TLS certificate of %s is not valid: %s", transport.ErrUnreachable, ErrTLS, w.where, invalid.Error())
	case errors.As(err, &record):
		return fmt.Errorf("%w: %w: WinRM: %s does not answer TLS (https = true; is it the HTTP port? HTTPS is usually 5986)", transport.ErrUnreachable, ErrTLS, w.where)
	case errors.As(err, &opErr) && opErr.Op == "dial" && isTimeout(err):
		return fmt.Errorf("%w: %w: WinRM: could not connect to %s within %s (connect_timeout)", transport.ErrUnreachable, transport.ErrTimeout, w.where, w.cfg.ConnectTimeout)
	case strings.Contains(err.Error(), "TLS handshake timeout"):
		return fmt.Errorf("%w: %w: WinRM: no TLS handshake from %s within %s (connect_timeout)", transport.ErrUnreachable, transport.ErrTimeout, w.where, w.cfg.ConnectTimeout)
	case rctx.Err() != nil || isTimeout(err):
		return fmt.Errorf("%w: %w: WinRM: no answer from %s within %s", transport.ErrUnreachable, transport.ErrTimeout, w.where, timeout.Round(time.Millisecond))
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: WinRM: %s refused the connection (is WinRM listening on port %d? %s)", transport.ErrUnreachable, w.where, w.cfg.Port, w.portHint())
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("%w: WinRM: cannot resolve %s: %w", transport.ErrUnreachable, w.cfg.Address, err)
	}
	hint := ""
	if !w.cfg.HTTPS && (errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
		hint = " (if the port speaks HTTPS, set https = true)"
	}
	return fmt.Errorf("%w: WinRM: %s: %w%s", transport.ErrUnreachable, w.where, unwrapURL(err), hint)
}

func (w *wire) portHint() string {
	if w.cfg.HTTPS {
		return "HTTPS is usually 5986"
	}
	return "HTTP is usually 5985"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func unwrapURL(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		if _, ok := err.(*net.OpError); ok {
			return err
		}
		err = u
	}
}

func certName(c *x509.Certificate) string {
	if c == nil {
		return "no certificate"
	}
	s := "issued by " + c.Issuer.String()
	if c.Subject.String() == c.Issuer.String() {
		s = "self-signed " + c.Subject.String()
	}
	return s
}

func certHosts(c *x509.Certificate) string {
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = append(names, c.Subject.CommonName)
	}
	if len(names) == 0 {
		return "no host name"
	}
	return strings.Join(names, ", ")
}

// Fault is a SOAP fault the host answered with, in plain words.
type Fault struct {
	Where     string // "win-1:5985"
	Code      string // "s:Sender"
	Subcode   string // "w:InvalidSelectors"
	WSManCode string // "2150858843"
	Reason    string
}

func (f *Fault) Error() string {
	s := fmt.Sprintf("WinRM: %s answered: %s", f.Where, f.Reason)
	if f.Subcode != "" {
		s += " (" + f.Subcode + ")"
	}
	return s
}

// timedOut reports whether f is the fault of a Receive that saw no
// output within OperationTimeout.
func (f *Fault) timedOut() bool {
	return f.WSManCode == "2150858793" || strings.HasSuffix(f.Subcode, ":TimedOut")
}

// noShell reports whether f says the shell is gone.
func (f *Fault) noShell() bool {
	return f.WSManCode == "2150858843" || strings.HasSuffix(f.Subcode, ":InvalidSelectors")
}

func parseFault(body []byte) *Fault {
	var env struct {
		Fault *struct {
			Code struct {
				Value   string `xml:"http://www.w3.org/2003/05/soap-envelope Value"`
				Subcode struct {
					Value string `xml:"http://www.w3.org/2003/05/soap-envelope Value"`
				} `xml:"http://www.w3.org/2003/05/soap-envelope Subcode"`
			} `xml:"http://www.w3.org/2003/05/soap-envelope Code"`
			Reason []string `xml:"http://www.w3.org/2003/05/soap-envelope Reason>Text"`
			Detail struct {
				WSMan struct {
					Code    string `xml:"Code,attr"`
					Message string `xml:",innerxml"`
				} `xml:"http://schemas.microsoft.com/wbem/wsman/1/wsmanfault WSManFault"`
			} `xml:"http://www.w3.org/2003/05/soap-envelope Detail"`
		} `xml:"http://www.w3.org/2003/05/soap-envelope Body>Fault"`
	}
	if err := xml.Unmarshal(body, &env); err != nil || env.Fault == nil {
		return nil
	}
	f := env.Fault
	out := &Fault{Code: strings.TrimSpace(f.Code.Value), Subcode: strings.TrimSpace(f.Code.Subcode.Value), WSManCode: f.Detail.WSMan.Code}
	for _, r := range f.Reason {
		if r = strings.TrimSpace(r); r != "" {
			out.Reason = strings.Join(strings.Fields(r), " ")
			break
		}
	}
	if out.Reason == "" {
		out.Reason = strings.Join(strings.Fields(stripTags(f.Detail.WSMan.Message)), " ")
	}
	if out.Reason == "" {
		out.Reason = "a fault without a message"
	}
	return out
}

// stripTags returns the text of an XML fragment.
func stripTags(s string) string {
	d := xml.NewDecoder(strings.NewReader("<x>" + s + "</x>"))
	var b strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			return b.String()
		}
		if cd, ok := tok.(xml.CharData); ok {
			b.Write(cd)
			b.WriteByte(' ')
		}
	}
}
