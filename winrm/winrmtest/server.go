package winrmtest

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/driftless-dev/driftless/internal/connkit"
)

// Authentication schemes a Server accepts.
const (
	AuthBasic = 1 << iota
	AuthNTLM
)

// Defaults of Options.
const (
	DefaultUser     = "Administrator"
	DefaultPassword = "Passw0rd!"
	DefaultDomain   = "WIN-TEST"
)

// maxChunk is the most of one stream that one Receive answer carries.
const maxChunk = 64 << 10

// Options configure a Server. The zero value is an HTTP server that
// accepts Basic and NTLM for DefaultUser/DefaultPassword and runs every
// command as a no-op that exits 0.
type Options struct {
	// User and Password are the only credentials accepted. User may be
	// written "DOMAIN\user"; the domain is then ignored.
	User, Password string
	// Auth is AuthBasic, AuthNTLM or both (the default).
	Auth int
	// Domain is the NetBIOS name the NTLM challenge names.
	Domain string

	// TLS serves HTTPS with Certificate, or by default a certificate for
	// 127.0.0.1, ::1 and localhost from a CA of the server's own
	// (Server.CAPEM).
	TLS         bool
	Certificate *tls.Certificate

	// Handler runs every command; nil runs nothing and exits 0.
	Handler Handler

	// ReceiveTimeout, when set, caps how long a Receive waits for output
	// before answering the w:TimedOut fault (default: the request's
	// OperationTimeout, as Windows does).
	ReceiveTimeout time.Duration

	// Stall makes the server never answer the requests of an operation
	// (OpCreate, OpReceive...) for which it returns true: the request
	// hangs until the client gives up. It is called after
	// authentication.
	Stall func(op string) bool
}

// A Handler runs one command. It reads p.Stdin, writes p.Stdout and
// p.Stderr (each write reaches the client's next Receive) and returns the
// exit code. ctx ends when the client signals terminate or ctrl_c,
// deletes the shell, or the server closes: the handler must then return.
type Handler func(ctx context.Context, p *Process) int

// Process is one command as a Handler sees it.
type Process struct {
	Command
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Command is a command a client started.
type Command struct {
	ShellID, ID string
	// CommandLine is the command and its arguments, space-separated, as
	// received.
	CommandLine string
	// PowerShell is set when CommandLine runs powershell -EncodedCommand;
	// Script is then the decoded script.
	PowerShell bool
	Script     string
	// Options are the WINRS_* options of the request
	// (WINRS_CONSOLEMODE_STDIN, WINRS_SKIP_CMD_SHELL).
	Options map[string]string
	// Stdin is everything the client sent to the command's stdin so far.
	Stdin []byte
	// Done is set when the command ended; ExitCode is then its code.
	Done     bool
	ExitCode int
}

// Signal is a Signal request received.
type Signal struct {
	ShellID, CommandID, Code string
}

// Server is a WinRM endpoint on a loopback port.
type Server struct {
	// URL is the endpoint, http(s)://127.0.0.1:PORT/wsman; Host and Port
	// are its parts.
	URL  string
	Host string
	Port int

	opts  Options
	http  *httptest.Server
	caPEM []byte
	ctx   context.Context // ends when the server closes
	stop  context.CancelFunc

	mu         sync.Mutex
	handler    Handler
	shells     map[string]*shell
	commands   []*command
	signals    []Signal
	deleted    []string
	ops        []string
	authSeen   []string
	challenges [][8]byte // recent NTLM challenges, any connection
}

type shell struct {
	id   string
	cmds map[string]*command
}

type command struct {
	rec    Command
	ctx    context.Context
	cancel context.CancelFunc
	stdin  *pipe

	// Under Server.mu:
	out, errOut []byte
	done        bool
	code        int
	reported    bool          // Done was sent
	changed     chan struct{} // closed and replaced on every change
}

// connState is the authentication of one TCP connection: NTLM
// authenticates connections, not requests.
type connState struct {
	mu        sync.Mutex
	user      string
	challenge *[8]byte
}

type connKey struct{}

// New starts a server. Close it when done.
func New(opts Options) (*Server, error) {
	if opts.User == "" && opts.Password == "" {
		opts.User, opts.Password = DefaultUser, DefaultPassword
	}
	if opts.Auth == 0 {
		opts.Auth = AuthBasic | AuthNTLM
	}
	if opts.Domain == "" {
		opts.Domain = DefaultDomain
	}
	s := &Server{opts: opts, handler: opts.Handler, shells: map[string]*shell{}}
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.http = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.http.Config.ErrorLog = log.New(io.Discard, "", 0) // TLS handshakes that tests make fail
	s.http.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, &connState{})
	}
	if opts.TLS {
		cert := opts.Certificate
		if cert == nil {
			ca, err := NewCA("winrmtest CA")
			if err != nil {
				return nil, err
			}
			c, err := ca.Issue([]string{"127.0.0.1", "::1", "localhost"}, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
			if err != nil {
				return nil, err
			}
			cert, s.caPEM = &c, ca.PEM
		}
		s.http.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
		s.http.StartTLS()
	} else {
		s.http.Start()
	}
	u := s.http.URL
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://"))
	s.Host = host
	s.Port, _ = strconv.Atoi(port)
	s.URL = u + "/wsman"
	return s, nil
}

// Close ends every command and stops the server.
func (s *Server) Close() {
	s.stop()
	s.mu.Lock()
	for _, c := range s.commands {
		c.stdin.close()
	}
	s.mu.Unlock()
	s.http.CloseClientConnections()
	s.http.Close()
}

// CAPEM is the PEM certificate of the CA that signed the server's default
// TLS certificate (nil with Options.Certificate or without TLS).
func (s *Server) CAPEM() []byte { return s.caPEM }

// SetHandler replaces the handler for commands started from now on.
func (s *Server) SetHandler(h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handler = h
}

// Commands returns every command received, in order, as they are now.
func (s *Server) Commands() []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Command, len(s.commands))
	for i, c := range s.commands {
		out[i] = c.rec
		out[i].Stdin = append([]byte(nil), c.rec.Stdin...)
	}
	return out
}

// Scripts returns the decoded script of every PowerShell command
// received, in order.
func (s *Server) Scripts() []string {
	var out []string
	for _, c := range s.Commands() {
		if c.PowerShell {
			out = append(out, c.Script)
		}
	}
	return out
}

// Signals returns every Signal received.
func (s *Server) Signals() []Signal { return snapshot(s, &s.signals) }

// Deleted returns the ids of the shells the clients deleted.
func (s *Server) Deleted() []string { return snapshot(s, &s.deleted) }

// Operations returns the operation of every authenticated request, in
// order of arrival (OpCreate, OpCommand, ...).
func (s *Server) Operations() []string { return snapshot(s, &s.ops) }

// Count is how many authenticated requests of operation op (OpReceive...)
// arrived.
func (s *Server) Count(op string) int {
	n := 0
	for _, o := range s.Operations() {
		if o == op {
			n++
		}
	}
	return n
}

// AuthSchemes returns the scheme of the Authorization header of every
// request ("Basic", "NTLM", "Negotiate", or "" without one), in order.
func (s *Server) AuthSchemes() []string { return snapshot(s, &s.authSeen) }

// snapshot is a copy of one of the server's lists, taken under its lock.
func snapshot[T any](s *Server, list *[]T) []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]T(nil), *list...)
}

// OpenShells returns the number of shells open now.
func (s *Server) OpenShells() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.shells)
}

// DropShells forgets every open shell, as a host does after a restart or
// an idle timeout: later requests naming them get the InvalidSelectors
// fault.
func (s *Server) DropShells() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, sh := range s.shells {
		for _, c := range sh.cmds {
			c.cancel()
		}
		delete(s.shells, id)
	}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/wsman" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if !s.authenticate(w, r) {
		return
	}
	req, err := parseRequest(body)
	if err != nil {
		s.fault(w, "", faultBadRequest.with(err.Error()))
		return
	}
	op, ok := opOfAction[req.Header.Action]
	if !ok {
		s.fault(w, req.Header.MessageID, faultUnsupported.with(req.Header.Action))
		return
	}
	s.mu.Lock()
	s.ops = append(s.ops, op)
	s.mu.Unlock()
	if s.opts.Stall != nil && s.opts.Stall(op) {
		select {
		case <-r.Context().Done():
		case <-s.ctx.Done():
		}
		return
	}
	switch op {
	case OpCreate:
		s.create(w, req)
	case OpCommand:
		s.command(w, req)
	case OpReceive:
		s.receive(w, r, req)
	case OpSend:
		s.send(w, req)
	case OpSignal:
		s.signal(w, req)
	case OpDelete:
		s.delete(w, req)
	}
}

// authenticate checks the request's credentials, or answers 401.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) bool {
	cs, _ := r.Context().Value(connKey{}).(*connState)
	h := r.Header.Get("Authorization")
	scheme, data, _ := strings.Cut(h, " ")
	s.mu.Lock()
	s.authSeen = append(s.authSeen, scheme)
	s.mu.Unlock()
	switch {
	case h == "":
		cs.mu.Lock()
		ok := cs.user != ""
		cs.mu.Unlock()
		if ok {
			return true
		}
	case strings.EqualFold(scheme, "Basic") && s.opts.Auth&AuthBasic != 0:
		u, p, ok := r.BasicAuth()
		if ok && s.userMatches(u) && p == s.opts.Password {
			return true
		}
	case (strings.EqualFold(scheme, "NTLM") || strings.EqualFold(scheme, "Negotiate")) && s.opts.Auth&AuthNTLM != 0:
		msg, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data))
		if err != nil {
			break
		}
		switch ntlmMessageType(msg) {
		case 1:
			c := newChallenge()
			cs.mu.Lock()
			cs.challenge = &c
			cs.mu.Unlock()
			s.mu.Lock()
			s.challenges = append(s.challenges, c)
			if len(s.challenges) > 64 {
				s.challenges = s.challenges[1:]
			}
			s.mu.Unlock()
			w.Header().Set("WWW-Authenticate", scheme+" "+base64.StdEncoding.EncodeToString(challengeMessage(c, s.opts.Domain)))
			w.WriteHeader(http.StatusUnauthorized)
			return false
		case 3:
			a, err := parseAuthenticate(msg)
			if err != nil || !s.userMatches(a.user) {
				break
			}
			if s.verify(cs, a) {
				cs.mu.Lock()
				cs.user = a.user
				cs.challenge = nil
				cs.mu.Unlock()
				return true
			}
		}
	}
	if s.opts.Auth&AuthNTLM != 0 {
		w.Header().Add("WWW-Authenticate", "Negotiate")
	}
	if s.opts.Auth&AuthBasic != 0 {
		w.Header().Add("WWW-Authenticate", `Basic realm="WSMAN"`)
	}
	w.WriteHeader(http.StatusUnauthorized)
	return false
}

// verify checks an NTLM response against the connection's challenge, or
// any recent one (a client may finish the handshake on another
// connection of its pool).
func (s *Server) verify(cs *connState, a authenticate) bool {
	cs.mu.Lock()
	c := cs.challenge
	cs.mu.Unlock()
	if c != nil && verifyNTLMv2(a, s.opts.Password, *c) {
		return true
	}
	s.mu.Lock()
	recent := append([][8]byte(nil), s.challenges...)
	s.mu.Unlock()
	for _, c := range recent {
		if verifyNTLMv2(a, s.opts.Password, c) {
			return true
		}
	}
	return false
}

func (s *Server) userMatches(u string) bool {
	strip := func(x string) string {
		if i := strings.LastIndexByte(x, '\\'); i >= 0 {
			x = x[i+1:]
		}
		if i := strings.IndexByte(x, '@'); i >= 0 {
			x = x[:i]
		}
		return x
	}
	return strings.EqualFold(strip(u), strip(s.opts.User))
}

func (s *Server) reply(w http.ResponseWriter, action, relatesTo, body string) {
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	w.Write(envelope(action, relatesTo, body))
}

func (s *Server) fault(w http.ResponseWriter, relatesTo string, f fault) {
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	w.WriteHeader(http.StatusInternalServerError)
	w.Write(envelope(actFault, relatesTo, f.body()))
}

func (s *Server) create(w http.ResponseWriter, req *request) {
	id := connkit.NewUUID()
	s.mu.Lock()
	s.shells[id] = &shell{id: id, cmds: map[string]*command{}}
	s.mu.Unlock()
	s.reply(w, actCreate+"Response", req.Header.MessageID, fmt.Sprintf(
		`<x:ResourceCreated><a:Address>%s</a:Address><a:ReferenceParameters><w:ResourceURI>%s/cmd</w:ResourceURI>`+
			`<w:SelectorSet><w:Selector Name="ShellId">%s</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>`+
			`<rsp:Shell><rsp:ShellId>%s</rsp:ShellId><rsp:ResourceUri>%s/cmd</rsp:ResourceUri><rsp:Owner>%s</rsp:Owner>`+
			`<rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`,
		xmlText(s.URL), nsShell, id, id, nsShell, xmlText(s.opts.User)))
}

// lookup finds the shell of a request and, when cmdID is not empty, its
// command; it answers the fault itself when one is missing.
func (s *Server) lookup(w http.ResponseWriter, req *request, cmdID string) (*shell, *command, bool) {
	id := req.selector("ShellId")
	s.mu.Lock()
	sh := s.shells[id]
	var c *command
	if sh != nil && cmdID != "" {
		c = sh.cmds[cmdID]
	}
	s.mu.Unlock()
	if sh == nil {
		s.fault(w, req.Header.MessageID, faultNoShell.with(id))
		return nil, nil, false
	}
	if cmdID != "" && c == nil {
		s.fault(w, req.Header.MessageID, faultNoCommand.with(cmdID))
		return nil, nil, false
	}
	return sh, c, true
}

func (s *Server) command(w http.ResponseWriter, req *request) {
	sh, _, ok := s.lookup(w, req, "")
	if !ok {
		return
	}
	cl := req.Body.CommandLine
	if cl == nil {
		s.fault(w, req.Header.MessageID, faultBadRequest.with("Command without CommandLine"))
		return
	}
	line := strings.TrimSpace(cl.Command)
	for _, a := range cl.Arguments {
		line += " " + strings.TrimSpace(a)
	}
	c := &command{rec: Command{ShellID: sh.id, ID: connkit.NewUUID(), CommandLine: line, Options: map[string]string{}}}
	for _, o := range req.Header.OptionSet.Options {
		c.rec.Options[o.Name] = strings.TrimSpace(o.Value)
	}
	script, isPS, err := DecodeCommandLine(line)
	if err != nil {
		s.fault(w, req.Header.MessageID, faultBadRequest.with(err.Error()))
		return
	}
	c.rec.PowerShell, c.rec.Script = isPS, script
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	c.stdin = newPipe()
	c.changed = make(chan struct{})

	s.mu.Lock()
	sh.cmds[c.rec.ID] = c
	s.commands = append(s.commands, c)
	h := s.handler
	s.mu.Unlock()

	p := &Process{Command: c.rec, Stdin: c.stdin, Stdout: &stream{s: s, c: c}, Stderr: &stream{s: s, c: c, err: true}}
	go func() {
		code := 0
		if h != nil {
			code = h(c.ctx, p)
		}
		s.mu.Lock()
		c.done, c.code = true, code
		c.rec.Done, c.rec.ExitCode = true, code
		s.notify(c)
		s.mu.Unlock()
	}()
	s.reply(w, actCommand+"Response", req.Header.MessageID,
		fmt.Sprintf(`<rsp:CommandResponse><rsp:CommandId>%s</rsp:CommandId></rsp:CommandResponse>`, c.rec.ID))
}

// notify wakes the Receives waiting on c. Called with s.mu held.
func (s *Server) notify(c *command) {
	close(c.changed)
	c.changed = make(chan struct{})
}

// stream is a command's stdout or stderr.
type stream struct {
	s   *Server
	c   *command
	err bool
}

func (st *stream) Write(p []byte) (int, error) {
	st.s.mu.Lock()
	defer st.s.mu.Unlock()
	if st.c.done {
		return 0, io.ErrClosedPipe
	}
	if st.err {
		st.c.errOut = append(st.c.errOut, p...)
	} else {
		st.c.out = append(st.c.out, p...)
	}
	st.s.notify(st.c)
	return len(p), nil
}

func (s *Server) receive(w http.ResponseWriter, r *http.Request, req *request) {
	if req.Body.Receive == nil {
		s.fault(w, req.Header.MessageID, faultBadRequest.with("Receive without DesiredStream"))
		return
	}
	_, c, ok := s.lookup(w, req, strings.TrimSpace(req.Body.Receive.DesiredStream.CommandID))
	if !ok {
		return
	}
	wait := req.operationTimeout()
	if wait <= 0 {
		wait = 60 * time.Second
	}
	if s.opts.ReceiveTimeout > 0 && s.opts.ReceiveTimeout < wait {
		wait = s.opts.ReceiveTimeout
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if len(c.out) > 0 || len(c.errOut) > 0 || (c.done && !c.reported) {
			body := s.takeOutput(c)
			s.mu.Unlock()
			s.reply(w, actReceive+"Response", req.Header.MessageID, body)
			return
		}
		changed := c.changed
		s.mu.Unlock()
		// A terminated command changes too: its handler returns, and
		// the loop reports Done.
		select {
		case <-changed:
		case <-timer.C:
			s.fault(w, req.Header.MessageID, faultTimedOut)
			return
		case <-r.Context().Done():
			return
		}
	}
}

// takeOutput builds a ReceiveResponse from c's pending output. Called
// with s.mu held.
func (s *Server) takeOutput(c *command) string {
	var b strings.Builder
	b.WriteString("<rsp:ReceiveResponse>")
	take := func(buf *[]byte, name string) {
		n := min(len(*buf), maxChunk)
		if n == 0 {
			return
		}
		fmt.Fprintf(&b, `<rsp:Stream Name="%s" CommandId="%s">%s</rsp:Stream>`, name, c.rec.ID, base64.StdEncoding.EncodeToString((*buf)[:n]))
		*buf = (*buf)[n:]
	}
	take(&c.out, "stdout")
	take(&c.errOut, "stderr")
	if c.done && len(c.out) == 0 && len(c.errOut) == 0 {
		c.reported = true
		fmt.Fprintf(&b, `<rsp:Stream Name="stdout" CommandId="%s" End="true"></rsp:Stream><rsp:Stream Name="stderr" CommandId="%s" End="true"></rsp:Stream>`, c.rec.ID, c.rec.ID)
		fmt.Fprintf(&b, `<rsp:CommandState CommandId="%s" State="%s"><rsp:ExitCode>%d</rsp:ExitCode></rsp:CommandState>`, c.rec.ID, stateDone, c.code)
	} else {
		fmt.Fprintf(&b, `<rsp:CommandState CommandId="%s" State="%s"></rsp:CommandState>`, c.rec.ID, stateRunning)
	}
	b.WriteString("</rsp:ReceiveResponse>")
	return b.String()
}

func (s *Server) send(w http.ResponseWriter, req *request) {
	if req.Body.Send == nil {
		s.fault(w, req.Header.MessageID, faultBadRequest.with("Send without Stream"))
		return
	}
	for _, st := range req.Body.Send.Streams {
		_, c, ok := s.lookup(w, req, strings.TrimSpace(st.CommandID))
		if !ok {
			return
		}
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(st.Data))
		if err != nil {
			s.fault(w, req.Header.MessageID, faultBadRequest.with("stdin: "+err.Error()))
			return
		}
		s.mu.Lock()
		c.rec.Stdin = append(c.rec.Stdin, data...)
		s.mu.Unlock()
		c.stdin.write(data)
		if st.End == "true" || st.End == "True" || st.End == "1" {
			c.stdin.close()
		}
	}
	s.reply(w, actSend+"Response", req.Header.MessageID, `<rsp:SendResponse></rsp:SendResponse>`)
}

func (s *Server) signal(w http.ResponseWriter, req *request) {
	if req.Body.Signal == nil {
		s.fault(w, req.Header.MessageID, faultBadRequest.with("Signal without Code"))
		return
	}
	sig := Signal{ShellID: req.selector("ShellId"), CommandID: strings.TrimSpace(req.Body.Signal.CommandID), Code: strings.TrimSpace(req.Body.Signal.Code)}
	sh, c, ok := s.lookup(w, req, sig.CommandID)
	if !ok {
		return
	}
	s.mu.Lock()
	s.signals = append(s.signals, sig)
	if sig.Code == SignalTerminate {
		delete(sh.cmds, sig.CommandID)
	}
	s.mu.Unlock()
	c.cancel()
	c.stdin.close()
	s.reply(w, actSignal+"Response", req.Header.MessageID, `<rsp:SignalResponse></rsp:SignalResponse>`)
}

func (s *Server) delete(w http.ResponseWriter, req *request) {
	sh, _, ok := s.lookup(w, req, "")
	if !ok {
		return
	}
	s.mu.Lock()
	delete(s.shells, sh.id)
	s.deleted = append(s.deleted, sh.id)
	cmds := sh.cmds
	s.mu.Unlock()
	for _, c := range cmds {
		c.cancel()
		c.stdin.close()
	}
	s.reply(w, actDelete+"Response", req.Header.MessageID, "")
}

// pipe is a command's stdin: writes never block, reads wait for data or
// the end.
type pipe struct {
	mu     sync.Mutex
	buf    []byte
	closed bool
	ready  chan struct{}
}

func newPipe() *pipe { return &pipe{ready: make(chan struct{})} }

func (p *pipe) write(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(b) == 0 {
		return
	}
	p.buf = append(p.buf, b...)
	close(p.ready)
	p.ready = make(chan struct{})
}

func (p *pipe) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		close(p.ready)
	}
}

func (p *pipe) Read(b []byte) (int, error) {
	for {
		p.mu.Lock()
		if len(p.buf) > 0 {
			n := copy(b, p.buf)
			p.buf = p.buf[n:]
			p.mu.Unlock()
			return n, nil
		}
		if p.closed {
			p.mu.Unlock()
			return 0, io.EOF
		}
		ready := p.ready
		p.mu.Unlock()
		<-ready
	}
}
