package ssh

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/driftless-dev/driftless/transport"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// knownHostsMu serialises accept-new appends within this process (hosts
// are dialed in parallel and usually share one known_hosts file).
var knownHostsMu sync.Mutex

// verifier checks the host key of one hop against known_hosts, and
// remembers what happened so that Dial can explain a failed handshake.
type verifier struct {
	cfg  Config
	addr string // host:port as dialed

	cb         gossh.HostKeyCallback
	algorithms []string // HostKeyAlgorithms to ask for; nil = x/crypto's defaults
	knownTypes []string // key types known_hosts has for addr

	verified bool  // the presented key was accepted
	err      error // why it was not
}

func newVerifier(cfg Config, addr string) (*verifier, error) {
	db, err := loadKnownHostsDB(cfg.KnownHosts)
	if err != nil {
		return nil, err
	}
	v := &verifier{cfg: cfg, addr: addr, cb: db.callback}
	for _, k := range db.known(addr) {
		if !slices.Contains(v.knownTypes, k.Key.Type()) {
			v.knownTypes = append(v.knownTypes, k.Key.Type())
		}
	}
	v.algorithms = hostKeyAlgorithms(v.knownTypes, db.hasCA)
	return v, nil
}

// loadKnownHosts builds a callback from the files that exist, and says
// whether any of them has @cert-authority lines. The files are parsed
// once per version (khCache).
func loadKnownHosts(files []string) (gossh.HostKeyCallback, bool, error) {
	db, err := loadKnownHostsDB(files)
	if err != nil {
		return nil, false, err
	}
	return db.callback, db.hasCA, nil
}

func loadKnownHostsDB(files []string) (*knownHostsDB, error) {
	return khCache.get(strings.Join(files, "\x00"), files, func() (*knownHostsDB, bool, error) {
		var existing []string
		var contents [][]byte
		hasCA := false
		for _, f := range files {
			data, err := os.ReadFile(f)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, false, fmt.Errorf("known_hosts: %w", err)
			}
			existing = append(existing, f)
			contents = append(contents, data)
			hasCA = hasCA || bytes.Contains(data, []byte("@cert-authority"))
		}
		db := &knownHostsDB{files: existing, hasCA: hasCA}
		db.byAddr, _ = indexKnownHosts(existing, contents)
		if db.byAddr == nil {
			cb, err := knownhosts.New(existing...)
			if err != nil {
				return nil, false, fmt.Errorf("known_hosts: %w", err)
			}
			db.cb = cb
		}
		db.callback = db.check
		return db, true, nil
	})
}

// knownHostsDB is what the known_hosts files say.
type knownHostsDB struct {
	files []string // those that exist
	hasCA bool
	// cb is x/crypto's knownhosts over files: made at once when there is
	// no byAddr, else when first needed (a certificate), so that a
	// fleet's keys are not held twice.
	cbOnce sync.Once
	cb     gossh.HostKeyCallback
	cbErr  error
	// byAddr lists the keys of the files by the address they are for
	// (addrKey), in the order x/crypto's knownhosts finds them, when the
	// files have only plain lines (plainLine); else it is nil. x/crypto
	// reads every line of the files to check one key: with a fleet's
	// known_hosts, every dial would read all the fleet's lines, twice.
	byAddr map[string]addrKeys
	// callback is check, made once.
	callback gossh.HostKeyCallback
}

// check is x/crypto's knownhosts callback, answered from byAddr when
// there is one.
func (db *knownHostsDB) check(address string, remote net.Addr, key gossh.PublicKey) error {
	if db.byAddr == nil || address == "" {
		return db.slow(address, remote, key)
	}
	if _, cert := key.(*gossh.Certificate); cert {
		return db.slow(address, remote, key)
	}
	// As knownhosts: the remote address must split (its error otherwise),
	// and the address dialed is the one checked.
	if _, _, err := net.SplitHostPort(remote.String()); err != nil {
		return db.slow(address, remote, key)
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return db.slow(address, remote, key)
	}
	want := db.byAddr[addrKey(host, port)]
	blob := key.Marshal()
	for _, b := range want.blobs {
		if bytes.Equal(b, blob) {
			return nil
		}
	}
	return &knownhosts.KeyError{Want: slices.Clone(want.keys)}
}

// addrKeys are the keys known_hosts has for one address, in order, and
// their wire encodings (Marshal, made once when the files are indexed:
// it costs a reflection walk per call).
type addrKeys struct {
	keys  []knownhosts.KnownKey
	blobs [][]byte
}

// known lists the keys the files have for addr (host:port), as a check
// of a key that none has would (the KeyError's Want): from the index
// when there is one, else by that check. The list is not to be changed.
func (db *knownHostsDB) known(addr string) []knownhosts.KnownKey {
	if db.byAddr != nil && addr != "" {
		if host, port, err := net.SplitHostPort(addr); err == nil {
			return db.byAddr[addrKey(host, port)].keys
		}
	}
	return knownKeys(db.callback, addr)
}

// slow is x/crypto's knownhosts callback.
func (db *knownHostsDB) slow(address string, remote net.Addr, key gossh.PublicKey) error {
	db.cbOnce.Do(func() {
		if db.cb == nil {
			db.cb, db.cbErr = knownhosts.New(db.files...)
			if db.cbErr != nil {
				db.cbErr = fmt.Errorf("known_hosts: %w", db.cbErr)
			}
		}
	})
	if db.cbErr != nil {
		return db.cbErr
	}
	return db.cb(address, remote, key)
}

func addrKey(host, port string) string { return host + "\x00" + port }

// indexKnownHosts indexes the keys of known_hosts files (names and
// contents) by address, as x/crypto's knownhosts matches them: for each
// address, the lines that match it, in file and line order. ok is false
// (and the index nil) when a line is not plain: a marker
// (@cert-authority, @revoked), a hashed host name, a wildcard or a
// negation, or a line knownhosts would skip as invalid.
func indexKnownHosts(files []string, contents [][]byte) (_ map[string]addrKeys, ok bool) {
	idx := map[string]addrKeys{}
	for i, data := range contents {
		sc := bufio.NewScanner(bytes.NewReader(data)) // lines as knownhosts reads them
		n := 0
		for sc.Scan() {
			n++
			line := bytes.Trim(sc.Bytes(), " \t")
			if len(line) == 0 || line[0] == '#' {
				continue
			}
			addrs, key, ok := plainLine(line)
			if !ok {
				return nil, false
			}
			blob := key.Marshal()
			for _, a := range addrs {
				e := idx[a]
				e.keys = append(e.keys, knownhosts.KnownKey{Key: key, Filename: files[i], Line: n})
				e.blobs = append(e.blobs, blob)
				idx[a] = e
			}
		}
		if sc.Err() != nil {
			return nil, false
		}
	}
	return idx, true
}

// plainLine parses a known_hosts line of plain host patterns ("name",
// "[name]:port", comma-separated) and a key, and returns the addresses
// it matches (addrKey) and the key. ok is false for any other line.
func plainLine(line []byte) (addrs []string, key gossh.PublicKey, ok bool) {
	word := func(b []byte) (string, []byte) {
		i := bytes.IndexAny(b, "\t ")
		if i < 0 {
			return string(b), nil
		}
		return string(b[:i]), bytes.Trim(b[i:], " \t")
	}
	hosts, rest := word(line)
	if hosts == "" || hosts[0] == '@' || hosts[0] == '|' || strings.ContainsAny(hosts, "*?!") || len(rest) == 0 {
		return nil, nil, false
	}
	keyType, rest := word(rest)
	if len(rest) == 0 {
		return nil, nil, false
	}
	blob, _ := word(rest)
	raw, err := base64.StdEncoding.DecodeString(blob)
	if err != nil {
		return nil, nil, false
	}
	if key, err = gossh.ParsePublicKey(raw); err != nil || key.Type() != keyType {
		return nil, nil, false
	}
	for _, p := range strings.Split(hosts, ",") {
		if p == "" {
			continue
		}
		host, port, err := net.SplitHostPort(p)
		if err != nil && p[0] == '[' {
			return nil, nil, false
		}
		if err != nil {
			host, port = p, "22"
		}
		if a := addrKey(host, port); !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	return addrs, key, true
}

var khCache fileCache[*knownHostsDB]

// probeKey is a key no known_hosts file has: checking it lists the keys
// that are known for a host. (All zero bytes: no host's key, and no
// scalar multiplication at start-up.)
var probeKey = func() gossh.PublicKey {
	k, err := gossh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))
	if err != nil {
		panic(err)
	}
	return k
}()

// knownKeys lists the keys known_hosts has for addr.
func knownKeys(cb gossh.HostKeyCallback, addr string) []knownhosts.KnownKey {
	var ke *knownhosts.KeyError
	if err := cb(addr, &net.TCPAddr{IP: net.IPv4zero}, probeKey); errors.As(err, &ke) {
		return ke.Want
	}
	return nil
}

// hostKeyAlgorithms restricts the handshake to the key types known_hosts
// has for the host, so that a server with several host keys presents one
// we can check (x/crypto would otherwise prefer ECDSA and report a known
// host whose ed25519 key only is recorded as changed). Certificates are
// asked for only when some known_hosts file has a @cert-authority line.
func hostKeyAlgorithms(knownTypes []string, hasCA bool) []string {
	types := knownTypes
	if len(types) == 0 {
		types = []string{gossh.KeyAlgoED25519, gossh.KeyAlgoECDSA256, gossh.KeyAlgoECDSA384,
			gossh.KeyAlgoECDSA521, gossh.KeyAlgoRSA}
	}
	var algos []string
	if hasCA {
		for _, t := range types {
			algos = append(algos, certAlgorithms[t]...)
		}
	}
	for _, t := range types {
		if t == gossh.KeyAlgoRSA {
			algos = append(algos, gossh.KeyAlgoRSASHA512, gossh.KeyAlgoRSASHA256)
		} else {
			algos = append(algos, t)
		}
	}
	supported := supportedHostKeys()
	algos = slices.DeleteFunc(algos, func(a string) bool { return !slices.Contains(supported, a) })
	if len(algos) == 0 {
		return nil
	}
	return algos
}

// supportedHostKeys is x/crypto's host key algorithms, which
// SupportedAlgorithms copies (with all the others) at every call.
var supportedHostKeys = sync.OnceValue(func() []string { return gossh.SupportedAlgorithms().HostKeys })

var certAlgorithms = map[string][]string{
	gossh.KeyAlgoED25519:  {gossh.CertAlgoED25519v01},
	gossh.KeyAlgoECDSA256: {gossh.CertAlgoECDSA256v01},
	gossh.KeyAlgoECDSA384: {gossh.CertAlgoECDSA384v01},
	gossh.KeyAlgoECDSA521: {gossh.CertAlgoECDSA521v01},
	gossh.KeyAlgoRSA:      {gossh.CertAlgoRSASHA512v01, gossh.CertAlgoRSASHA256v01},
}

// check is the gossh.HostKeyCallback.
func (v *verifier) check(hostname string, remote net.Addr, key gossh.PublicKey) error {
	err := v.cb(hostname, remote, key)
	if err != nil {
		err = v.explain(hostname, remote, key, err)
	}
	if err != nil {
		v.err = err
		return err
	}
	v.verified = true
	return nil
}

func (v *verifier) explain(hostname string, remote net.Addr, key gossh.PublicKey, err error) error {
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &re):
		return fmt.Errorf("%w: %s presented %s, which %s:%d marks @revoked",
			transport.ErrHostKeyChanged, v.addr, describeKey(key), re.Revoked.Filename, re.Revoked.Line)
	case errors.As(err, &ke) && len(ke.Want) > 0:
		return v.changed(key, ke.Want)
	case errors.As(err, &ke):
		if v.cfg.HostKeyPolicy == PolicyAcceptNew {
			return v.acceptNew(hostname, remote, key)
		}
		return v.unknown(key, "")
	default:
		// Certificates: unknown authority, expired, wrong principal.
		return v.unknown(key, err.Error())
	}
}

func (v *verifier) unknown(key gossh.PublicKey, why string) error {
	host, port, _ := net.SplitHostPort(v.addr)
	files := "no known_hosts file"
	first := "~/.ssh/known_hosts"
	if len(v.cfg.KnownHosts) > 0 {
		files = strings.Join(tildePaths(v.cfg.KnownHosts), ", ")
		first = tildePath(v.cfg.KnownHosts[0])
	}
	if why != "" {
		why = " (" + why + ")"
	}
	return fmt.Errorf("%w: %s presented %s%s, which is not in %s\n"+
		"  hint: check that fingerprint with the host's owner, then pin the key: ssh-keyscan -p %s %s >> %s\n"+
		"        (or set host_key_policy = \"accept-new\" to record keys on first contact)",
		transport.ErrHostKeyUnknown, v.addr, describeKey(key), why, files, port, host, first)
}

func (v *verifier) changed(key gossh.PublicKey, want []knownhosts.KnownKey) error {
	host := knownhosts.Normalize(v.addr)
	k := want[0]
	more := ""
	if len(want) > 1 {
		more = fmt.Sprintf(" (and %d more)", len(want)-1)
	}
	return fmt.Errorf("%w: %s presented %s, but %s:%d has %s%s for it: "+
		"the host was reinstalled, or someone is intercepting the connection\n"+
		"  hint: if the change is expected, remove the old key: ssh-keygen -R '%s' -f %s",
		transport.ErrHostKeyChanged, v.addr, describeKey(key), tildePath(k.Filename), k.Line,
		describeKey(k.Key), more, host, tildePath(k.Filename))
}

// acceptNew records key for hostname in the first known_hosts file,
// unless another dial did meanwhile (then the key must match).
func (v *verifier) acceptNew(hostname string, remote net.Addr, key gossh.PublicKey) error {
	if _, ok := key.(*gossh.Certificate); ok {
		return v.unknown(key, "host certificates are not recorded by accept-new")
	}
	added, err := func() (bool, error) {
		knownHostsMu.Lock()
		defer knownHostsMu.Unlock()
		cb, _, err := loadKnownHosts(v.cfg.KnownHosts)
		if err != nil {
			return false, err
		}
		var ke *knownhosts.KeyError
		switch err := cb(hostname, remote, key); {
		case err == nil:
			return false, nil
		case errors.As(err, &ke) && len(ke.Want) > 0:
			return false, v.changed(key, ke.Want)
		case errors.As(err, &ke):
		default:
			return false, fmt.Errorf("%w: %s: %w", transport.ErrHostKeyUnknown, v.addr, err)
		}
		line := knownhosts.Line([]string{hostname}, key)
		if err := appendLine(v.cfg.KnownHosts[0], line); err != nil {
			return false, fmt.Errorf("host key of %s: record in known_hosts: %w", v.addr, err)
		}
		return true, nil
	}()
	if err != nil || !added {
		return err
	}
	host := knownhosts.Normalize(hostname)
	v.cfg.Logger.Debug("host key recorded (accept-new)", "host", v.cfg.Name, "address", host,
		"key", describeKey(key), "file", v.cfg.KnownHosts[0])
	if v.cfg.OnHostKeyAdded != nil {
		v.cfg.OnHostKeyAdded(host, key)
	}
	return nil
}

// appendLine appends line to the file at path with one write, creating
// the file (0600) and its directory (0700) when needed.
func appendLine(path, line string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	text := line + "\n"
	if fi.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, fi.Size()-1); err != nil {
			return err
		}
		if last[0] != '\n' {
			text = "\n" + text
		}
	}
	if _, err := f.WriteString(text); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

func describeKey(k gossh.PublicKey) string {
	return k.Type() + " " + gossh.FingerprintSHA256(k)
}

func tildePaths(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = tildePath(p)
	}
	return out
}

// tildePath shortens a path under the home directory to ~/...
func tildePath(p string) string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" || home == "/" {
		return p
	}
	if rel, ok := strings.CutPrefix(p, home+string(filepath.Separator)); ok {
		return "~/" + rel
	}
	return p
}
