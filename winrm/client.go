package winrm

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/driftless-dev/driftless/internal/connkit"
	"github.com/driftless-dev/driftless/transport"

	mzwinrm "github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"
)

// envelopeSize is the MaxEnvelopeSize driftless announces (the size of
// the answers it accepts), as masterzen/winrm and pywinrm do.
const envelopeSize = 153600

// Client is one Windows host reached over WinRM. It implements
// transport.Conn and transport.Sheller and is safe for concurrent use.
//
// WinRM has no long-lived session like SSH: each Run runs one process in a
// WinRS shell. The Client keeps the shells it opened and reuses them
// (opening one costs a round trip), at most Config.MaxShells at once.
type Client struct {
	cfg    Config
	w      *wire
	params *mzwinrm.Parameters
	sem    connkit.Slots // running commands

	mu     sync.Mutex
	idle   []string // shells ready for a command
	closed chan struct{}
	once   sync.Once
}

var (
	_ transport.Conn    = (*Client)(nil)
	_ transport.Sheller = (*Client)(nil)
)

// Dial checks that the host answers WinRM and accepts the credentials, by
// opening a first shell, which the Client keeps for its first command.
// The whole dial is bounded by cfg.ConnectTimeout and by ctx.
//
// Errors start with "dial NAME: " and wrap transport.ErrAuth (401: wrong
// password, or an auth method the host does not offer),
// transport.ErrUnreachable (refused, DNS, TLS: with ErrTLS, no answer: with
// transport.ErrTimeout), or ctx.Err() (plus transport.ErrTimeout for a
// deadline).
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", cfg.Name, err)
	}
	w, err := newWire(cfg, 2*cfg.MaxShells+2)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", cfg.Name, err)
	}
	c := &Client{
		cfg:    cfg,
		w:      w,
		params: mzwinrm.NewParameters(isoSeconds(cfg.OperationTimeout), "en-US", envelopeSize),
		sem:    connkit.NewSlots(cfg.MaxShells),
		closed: make(chan struct{}),
	}
	dctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	id, err := c.createShell(dctx, cfg.ConnectTimeout)
	if err != nil {
		w.close()
		switch {
		case ctx.Err() != nil:
			return nil, connkit.CtxErr("dial "+cfg.Name, ctx.Err())
		case dctx.Err() != nil:
			return nil, fmt.Errorf("dial %s: %w: %w: WinRM: no answer from %s within %s (connect_timeout)",
				cfg.Name, transport.ErrUnreachable, transport.ErrTimeout, w.where, cfg.ConnectTimeout)
		}
		if !errors.Is(err, transport.ErrAuth) && !errors.Is(err, transport.ErrUnreachable) {
			err = fmt.Errorf("%w: %w", transport.ErrUnreachable, err) // no WinRM there: a fault, a 404...
		}
		return nil, fmt.Errorf("dial %s: %w", cfg.Name, err)
	}
	c.idle = append(c.idle, id)
	cfg.Logger.Debug("winrm connected", "host", cfg.Name, "url", w.url, "user", cfg.User, "auth", cfg.Auth)
	return c, nil
}

// Shell returns transport.ShellPowerShell: the runner sends PowerShell
// scripts to this host.
func (c *Client) Shell() transport.Shell { return transport.ShellPowerShell }

// Close deletes the shells the client keeps and closes its connections.
// Runs in flight fail with transport.ErrConnLost.
func (c *Client) Close() error {
	c.once.Do(func() {
		close(c.closed)
		c.mu.Lock()
		idle := c.idle
		c.idle = nil
		c.mu.Unlock()
		c.cleanup(func(ctx context.Context) {
			for _, id := range idle {
				c.deleteShell(ctx, id)
			}
		})
		c.w.close()
	})
	return nil
}

func (c *Client) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// acquire takes a command slot (see connkit.Slots).
func (c *Client) acquire(ctx context.Context) error { return c.sem.Acquire(ctx, c.closed) }

func (c *Client) release() { c.sem.Release() }

// takeShell returns an idle shell, or opens one; pooled says which.
func (c *Client) takeShell(ctx context.Context) (id string, pooled bool, err error) {
	c.mu.Lock()
	if n := len(c.idle); n > 0 {
		id = c.idle[n-1]
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		return id, true, nil
	}
	c.mu.Unlock()
	id, err = c.createShell(ctx, c.requestTimeout())
	return id, false, err
}

// keepShell makes a shell whose command ended cleanly available again.
func (c *Client) keepShell(id string) {
	c.mu.Lock()
	if !c.isClosed() && len(c.idle) < c.cfg.MaxShells {
		c.idle = append(c.idle, id)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.cleanup(func(ctx context.Context) { c.deleteShell(ctx, id) })
}

func (c *Client) requestTimeout() time.Duration {
	return c.cfg.OperationTimeout + receiveGrace(c.cfg.OperationTimeout)
}

func (c *Client) createShell(ctx context.Context, timeout time.Duration) (string, error) {
	msg := mzwinrm.NewOpenShellRequest(c.w.url, c.params)
	return c.requestID(ctx, msg.String(), timeout, mzwinrm.ParseOpenShellResponse, "Create without a shell id")
}

// requestID posts msg and returns the id that parse finds in the answer;
// what says what came instead ("Create without a shell id").
func (c *Client) requestID(ctx context.Context, msg string, timeout time.Duration, parse func(string) (string, error), what string) (string, error) {
	body, err := c.w.post(ctx, msg, timeout)
	if err != nil {
		return "", err
	}
	id, err := parse(body)
	if err != nil || id == "" {
		return "", fmt.Errorf("WinRM: %s answered %s%s", c.w.where, what, errSuffix(err))
	}
	return id, nil
}

// cleanup runs requests that tidy up on the host (Signal, Delete),
// whatever the caller's context: all of them together within
// ConnectTimeout, so that a host that stopped answering never holds up a
// cancellation or Close for long.
func (c *Client) cleanup(f func(ctx context.Context)) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.ConnectTimeout)
	defer cancel()
	f(ctx)
}

// deleteShell closes a shell, best effort.
func (c *Client) deleteShell(ctx context.Context, id string) {
	msg := mzwinrm.NewDeleteShellRequest(c.w.url, id, c.params)
	if _, err := c.w.post(ctx, msg.String(), c.cfg.ConnectTimeout); err != nil {
		c.cfg.Logger.Debug("winrm delete shell", "host", c.cfg.Name, "shell", id, "error", err)
	}
}

// signal sends the terminate signal to a command, best effort.
func (c *Client) signal(ctx context.Context, shellID, cmdID string) error {
	msg := mzwinrm.NewSignalRequest(c.w.url, shellID, cmdID, c.params)
	_, err := c.w.post(ctx, msg.String(), c.cfg.ConnectTimeout)
	if err != nil {
		c.cfg.Logger.Debug("winrm signal", "host", c.cfg.Name, "shell", shellID, "command", cmdID, "error", err)
	}
	return err
}

// startCommand starts a command line in a shell. WINRS_CONSOLEMODE_STDIN
// is FALSE when the command gets stdin, so that it reads a pipe (what
// PowerShell needs to see pipeline input), TRUE otherwise, as pywinrm and
// Ansible do.
func (c *Client) startCommand(ctx context.Context, shellID, line string, stdin bool) (string, error) {
	console := "TRUE"
	if stdin {
		console = "FALSE"
	}
	msg := soap.NewMessage()
	msg.Header().
		To(c.w.url).
		ReplyTo("http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous").
		MaxEnvelopeSize(c.params.EnvelopeSize).
		Id("uuid:" + connkit.NewUUID()).
		Locale(c.params.Locale).
		Timeout(c.params.Timeout).
		Action("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command").
		ResourceURI("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd").
		ShellId(shellID).
		AddOption(soap.NewHeaderOption("WINRS_CONSOLEMODE_STDIN", console)).
		AddOption(soap.NewHeaderOption("WINRS_SKIP_CMD_SHELL", "FALSE")).
		Build()
	body := msg.CreateBodyElement("CommandLine", soap.DOM_NS_WIN_SHELL)
	msg.CreateElement(body, "Command", soap.DOM_NS_WIN_SHELL).SetContent("<![CDATA[" + line + "]]>")
	return c.requestID(ctx, msg.String(), c.requestTimeout(), mzwinrm.ParseExecuteCommandResponse, "Command without a command id")
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}

// isoSeconds is an xs:duration in whole seconds ("PT60S").
func isoSeconds(d time.Duration) string {
	return fmt.Sprintf("PT%dS", max(1, int((d+time.Second-1)/time.Second)))
}
