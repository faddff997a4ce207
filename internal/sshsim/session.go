package sshsim

import (
	"io"
	"os"
	"os/exec"
	"sync"

	"github.com/pkg/sftp"
	gossh "golang.org/x/crypto/ssh"
)

// defaultPath is PATH for commands, as OpenSSH's sshd sets it for a
// login (Options.Env may change it).
const defaultPath = "/usr/local/bin:/usr/bin:/bin:/usr/games"

// session is one session channel: at most one command or subsystem.
type session struct {
	conn *serverConn
	ch   gossh.Channel
	env  []string // from "env" requests

	mu      sync.Mutex
	started bool
	cmd     *exec.Cmd  // the running command, if any
	outputs []*os.File // read ends of its stdout and stderr
	done    chan struct{}
	// replied is closed once the client has been answered the request
	// that started the command or subsystem. The session reports its end
	// (exit-status, EOF, close) only after that, as sshd does: a client
	// still waiting for that answer when the channel closes gets EOF
	// instead of the command's exit status.
	replied chan struct{}
}

// testHookBeforeReply, when a test sets it, runs before each session
// request is answered.
var testHookBeforeReply func(reqType string)

// session serves one session channel until it is closed.
func (c *serverConn) session(nch gossh.NewChannel) {
	ch, reqs, err := nch.Accept()
	if err != nil {
		return
	}
	s := &session{conn: c, ch: ch}
	for req := range reqs {
		s.request(req)
	}
	// The channel is closed: by us once the command ended, or by the
	// client (or a lost connection) while it still runs.
	s.mu.Lock()
	done := s.done
	if s.cmd != nil && done != nil {
		select {
		case <-done:
		default:
			killGroup(s.cmd.Process)
			for _, f := range s.outputs {
				f.Close() // no one reads this output any more
			}
		}
	}
	s.mu.Unlock()
	ch.Close()
	if done != nil {
		<-done
	}
}

func (s *session) request(req *gossh.Request) {
	log := s.conn.host.fleet.opts.Logger
	ok, launched := false, false
	switch req.Type {
	case "env":
		var m struct{ Name, Value string }
		if gossh.Unmarshal(req.Payload, &m) == nil {
			s.env = append(s.env, m.Name+"="+m.Value)
			ok = true
		}
	case "exec":
		var m struct{ Command string }
		if gossh.Unmarshal(req.Payload, &m) == nil {
			ok = s.start([]string{"-c", m.Command})
			launched = ok
		}
	case "shell":
		ok = s.start(nil)
		launched = ok
	case "subsystem":
		var m struct{ Name string }
		if gossh.Unmarshal(req.Payload, &m) == nil && m.Name == "sftp" {
			ok = s.sftp()
			launched = ok
		}
	case "signal":
		var m struct{ Signal string }
		if gossh.Unmarshal(req.Payload, &m) == nil {
			s.mu.Lock()
			if s.cmd != nil {
				ok = signalGroup(s.cmd.Process, m.Signal) == nil
			}
			s.mu.Unlock()
		}
	}
	if !ok {
		log.Debug("sshsim request refused", "host", s.conn.host.Name, "type", req.Type)
	}
	if testHookBeforeReply != nil {
		testHookBeforeReply(req.Type)
	}
	if req.WantReply {
		_ = req.Reply(ok, nil)
	}
	if launched {
		close(s.replied)
	}
}

// claim marks the session as used by a command or subsystem; a session
// holds only one.
func (s *session) claim() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return false
	}
	s.started = true
	s.done = make(chan struct{})
	s.replied = make(chan struct{})
	return true
}

// start runs the shell with args, wired to the channel.
func (s *session) start(args []string) bool {
	if !s.claim() {
		return false
	}
	h := s.conn.host
	opts := h.fleet.opts
	cmd := exec.Command(opts.Shell, args...)
	cmd.Dir = h.Home
	cmd.Env = append([]string{"HOME=" + h.Home, "USER=" + s.conn.user, "LOGNAME=" + s.conn.user,
		"SHELL=" + opts.Shell, "PATH=" + defaultPath, "TMPDIR=" + h.TempDir}, opts.Env...)
	cmd.Env = append(cmd.Env, s.env...)
	setProcessGroup(cmd)

	// Own pipes for the output (not os/exec's copying goroutines), so
	// that a killed session can stop reading even while a grandchild
	// still holds the write ends.
	outR, outW, err := os.Pipe()
	if err != nil {
		return s.fail()
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return s.fail()
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	kind := "exec"
	if args == nil {
		kind = "shell"
	}
	rec := h.began(kind)
	stdin, err := cmd.StdinPipe()
	if err == nil {
		err = cmd.Start()
	}
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		h.fleet.opts.Logger.Debug("sshsim start", "host", h.Name, "err", err)
		h.ended(rec)
		return s.fail()
	}
	h.execs.Add(1)
	s.mu.Lock()
	s.cmd = cmd
	s.outputs = []*os.File{outR, errR}
	s.mu.Unlock()

	go func() {
		// Ends at the client's EOF, or when the process is gone and the
		// pipe refuses more.
		_, _ = io.Copy(stdin, s.ch)
		stdin.Close()
	}()
	go func() {
		defer close(s.done)
		var copies sync.WaitGroup
		copies.Add(2)
		go func() {
			defer copies.Done()
			_, _ = io.Copy(s.ch, outR)
		}()
		go func() {
			defer copies.Done()
			_, _ = io.Copy(s.ch.Stderr(), errR)
		}()
		werr := cmd.Wait()
		copies.Wait()
		outR.Close()
		errR.Close()
		h.ended(rec)
		<-s.replied
		if werr != nil && cmd.ProcessState == nil {
			s.exit(255, "")
		} else {
			s.exit(exitStatus(cmd.ProcessState))
		}
	}()
	return true
}

// fail ends a session whose command could not start.
func (s *session) fail() bool {
	close(s.done)
	return false
}

// exit reports how the command ended and closes the channel.
func (s *session) exit(code int, signal string) {
	if signal != "" {
		msg := struct {
			Signal     string
			CoreDumped bool
			Error      string
			Lang       string
		}{Signal: signal}
		_, _ = s.ch.SendRequest("exit-signal", false, gossh.Marshal(&msg))
	} else {
		_, _ = s.ch.SendRequest("exit-status", false, gossh.Marshal(&struct{ Status uint32 }{uint32(code)}))
	}
	_ = s.ch.CloseWrite()
	_ = s.ch.Close()
}

// sftp serves the SFTP subsystem on the channel, in the host's home.
func (s *session) sftp() bool {
	if !s.claim() {
		return false
	}
	h := s.conn.host
	rec := h.began("sftp")
	srv, err := sftp.NewServer(s.ch, sftp.WithServerWorkingDirectory(h.Home))
	if err != nil {
		h.ended(rec)
		return s.fail()
	}
	go func() {
		defer close(s.done)
		_ = srv.Serve()
		srv.Close()
		h.ended(rec)
		<-s.replied
		s.exit(0, "")
	}()
	return true
}
