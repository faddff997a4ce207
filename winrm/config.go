package winrm

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/driftless-dev/driftless/internal/connkit"
)

// Authentication methods.
const (
	AuthBasic = "basic"
	AuthNTLM  = "ntlm"
)

// Defaults applied by Dial to zero fields.
const (
	DefaultHTTPPort         = 5985
	DefaultHTTPSPort        = 5986
	DefaultConnectTimeout   = 10 * time.Second
	DefaultOperationTimeout = 60 * time.Second
	// DefaultMaxShells leaves room under Windows's default
	// MaxShellsPerUser (30) for other clients of the same account.
	DefaultMaxShells = 8
)

// Config says how to reach and log in to one Windows host. Password is
// never logged or put in errors.
type Config struct {
	// Name is the inventory host name, used in errors ("dial win-1: ...")
	// and logs. Default: Address.
	Name string
	// Address is the host name or IP address. Default: Name.
	Address string
	// Port defaults to 5985, or 5986 with HTTPS.
	Port     int
	User     string // "Administrator", "DOMAIN\user" or "user@domain"
	Password string

	// HTTPS connects with TLS. The server's certificate is verified
	// against CAFile when set, else the system's roots, and must name
	// Address. CAFile and InsecureSkipVerify are ignored without HTTPS.
	HTTPS  bool
	CAFile string
	// InsecureSkipVerify accepts any certificate. It is only ever set
	// when the inventory says so explicitly.
	InsecureSkipVerify bool

	// Auth is AuthNTLM (default) or AuthBasic. NTLM never falls back to
	// Basic: a host that only offers Basic is an authentication error.
	Auth string

	// ConnectTimeout bounds connecting, the TLS handshake, logging in and
	// opening the first shell, in Dial; each new connection later; and
	// the clean-up after a cancelled Run or in Close (terminate signal,
	// shell deletion), so that a silent host never holds those up.
	// Default 10s.
	ConnectTimeout time.Duration
	// OperationTimeout is the WS-Management OperationTimeout of every
	// request: how long the host may wait for output before answering an
	// empty Receive (Run then simply asks again). A request that gets no
	// answer at all within OperationTimeout plus a grace period fails
	// with transport.ErrTimeout and transport.ErrConnLost. Default 60s.
	OperationTimeout time.Duration

	// MaxShells caps the commands (shells) running at once on the host;
	// more Runs wait for a free one. Default 8.
	MaxShells int

	// Logger receives debug logs (keys "host", ...); default
	// slog.Default().
	Logger *slog.Logger
}

// withDefaults returns cfg with its zero fields defaulted, or an error
// saying what is wrong with it.
func (cfg Config) withDefaults() (Config, error) {
	port := DefaultHTTPPort
	if cfg.HTTPS {
		port = DefaultHTTPSPort
	}
	var err error
	if cfg.Name, cfg.Address, cfg.Port, err = connkit.Endpoint(cfg.Name, cfg.Address, cfg.Port, port); err != nil {
		return cfg, err
	}
	if cfg.User == "" {
		return cfg, errors.New("config: no user (WinRM needs user and password_env)")
	}
	switch cfg.Auth {
	case "":
		cfg.Auth = AuthNTLM
	case AuthNTLM, AuthBasic:
	default:
		return cfg, fmt.Errorf("config: auth %q: want %q or %q", cfg.Auth, AuthNTLM, AuthBasic)
	}
	cfg.ConnectTimeout = connkit.OrDefault(cfg.ConnectTimeout, DefaultConnectTimeout)
	cfg.OperationTimeout = connkit.OrDefault(cfg.OperationTimeout, DefaultOperationTimeout)
	cfg.MaxShells = connkit.OrDefault(cfg.MaxShells, DefaultMaxShells)
	cfg.Logger = cmp.Or(cfg.Logger, slog.Default())
	return cfg, nil
}
