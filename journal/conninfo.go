package journal

import (
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Where a PostgreSQL journal is (docs/journal.md#postgresql): --journal
// takes the two forms libpq and pgx take, a URL
// (postgres://driftless@db/driftless?sslmode=verify-full) or a
// keyword/value string (host=/run/postgresql dbname=driftless). A
// password in either is never shown: Redact masks it wherever the target
// is printed, logged or recorded.

// libpqKeywords are libpq's connection keywords (PostgreSQL 17's, with
// pgx's database and servicefile). A --journal value whose first
// keyword is one of them is a keyword/value string.
var libpqKeywords = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "database": true, "user": true,
	"password": true, "passfile": true, "require_auth": true, "channel_binding": true,
	"connect_timeout": true, "client_encoding": true, "options": true, "application_name": true,
	"fallback_application_name": true, "keepalives": true, "keepalives_idle": true,
	"keepalives_interval": true, "keepalives_count": true, "tcp_user_timeout": true,
	"replication": true, "gssencmode": true, "sslmode": true, "requiressl": true,
	"sslnegotiation": true, "sslcompression": true, "sslcert": true, "sslkey": true,
	"sslpassword": true, "sslcertmode": true, "sslrootcert": true, "sslcrl": true, "sslcrldir": true,
	"sslsni": true, "requirepeer": true, "ssl_min_protocol_version": true,
	"ssl_max_protocol_version": true, "krbsrvname": true, "gsslib": true, "gssdelegation": true,
	"service": true, "servicefile": true, "target_session_attrs": true, "load_balance_hosts": true,
}

// pgSpace is the white space libpq skips between keyword/value pairs.
const pgSpace = " \t\n\r\v\f"

// redacted replaces a password.
const redacted = "xxxxx"

// IsPostgres reports whether a --journal value names a PostgreSQL
// database rather than a SQLite file: it is a postgres:// or
// postgresql:// URL, or a keyword/value string whose first keyword is
// libpq's (host=..., dbname=..., service=...). A file whose name starts
// that way is named with a directory: ./host=a.db.
func IsPostgres(target string) bool {
	if isPostgresURL(target) {
		return true
	}
	key, _, ok := strings.Cut(strings.TrimLeft(target, pgSpace), "=")
	return ok && libpqKeywords[strings.TrimRight(key, pgSpace)]
}

func isPostgresURL(target string) bool {
	return strings.HasPrefix(target, "postgres://") || strings.HasPrefix(target, "postgresql://")
}

// Redact is target as it may be shown or recorded: the password of a
// URL (of any scheme: user:PASSWORD@, ?password=, ?sslpassword=) or of a
// keyword/value string (password=, sslpassword=, quoted or not) replaced
// by xxxxx. What cannot be read the way pgx reads it is cut where it
// stops making sense ("…"), since a password may hide there. Any other
// target (a file) is returned as it is.
func Redact(target string) string {
	return redact(target).shown
}

// redaction is what Redact made of a target.
type redaction struct {
	shown   string
	cut     bool     // shown stops where the target could not be read
	secrets []string // the values masked, as written
	b       strings.Builder
}

func redact(target string) *redaction {
	r := &redaction{}
	if scheme, rest, ok := strings.Cut(target, "://"); ok && isScheme(scheme) {
		r.url(scheme, rest)
	} else if IsPostgres(target) || secretKeyword.MatchString(target) {
		r.keywords(target)
	} else {
		r.b.WriteString(target)
	}
	r.shown = r.b.String()
	return r
}

// mask writes xxxxx for the secret value v.
func (r *redaction) mask(v string) {
	r.b.WriteString(redacted)
	r.secrets = append(r.secrets, v)
}

// stop ends what is shown where the target stops making sense.
func (r *redaction) stop() {
	r.b.WriteString("…")
	r.cut = true
}

// isScheme: s is a URL scheme (RFC 3986: a letter, then letters, digits,
// + - .).
func isScheme(s string) bool {
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return s != ""
}

// secretKey: a keyword that names a password (password, sslpassword, in
// any case).
func secretKey(key string) bool {
	return strings.Contains(strings.ToLower(key), "password")
}

// secretKeyword finds a password keyword in a string that is not
// recognised as a keyword/value one ("hots=db password=x": a typo).
var secretKeyword = regexp.MustCompile(`(?i)(^|[\s])[a-z_]*password\s*=`)

// url redacts a URL as libpq and pgx split it: the user
// information is what comes before the first @ that comes before any /;
// its password follows the first colon. After it, an @ or a port that is
// not a number means a password may have landed there (an unescaped /
// or @ in it): the rest is cut.
func (r *redaction) url(scheme, rest string) {
	r.b.WriteString(scheme + "://")
	if i := strings.IndexAny(rest, "@/"); i >= 0 && rest[i] == '@' {
		user, password, hasPassword := strings.Cut(rest[:i], ":")
		r.b.WriteString(user)
		if hasPassword {
			r.b.WriteByte(':')
			r.mask(password)
		}
		r.b.WriteByte('@')
		rest = rest[i+1:]
	}
	base, query, hasQuery := strings.Cut(rest, "?")
	if strings.Contains(rest, "@") || !portsAreNumbers(base) {
		r.stop()
		return
	}
	r.b.WriteString(base)
	if !hasQuery {
		return
	}
	r.b.WriteByte('?')
	if query == "" {
		return
	}
	pairs := strings.Split(query, "&")
	for _, p := range pairs {
		if strings.Count(p, "=") != 1 { // pgx refuses it; a password with & or = in it?
			r.stop()
			return
		}
	}
	for i, p := range pairs {
		if i > 0 {
			r.b.WriteByte('&')
		}
		key, value, _ := strings.Cut(p, "=")
		r.b.WriteString(key + "=")
		if secretKey(percentDecode(key)) || secretKey(percentDecode(value)) {
			r.mask(value)
		} else {
			r.b.WriteString(value)
		}
	}
}

// portsAreNumbers: each host of the host list of base (host:port,
// [v6]:port, separated by commas, up to the path) has a port of digits
// or none.
func portsAreNumbers(base string) bool {
	netloc, _, _ := strings.Cut(base, "/")
	for _, h := range strings.Split(netloc, ",") {
		if strings.HasPrefix(h, "[") {
			end := strings.IndexByte(h, ']')
			if end < 0 {
				return false
			}
			h = h[end+1:]
			if h != "" && h[0] != ':' {
				return false
			}
		}
		if _, port, ok := strings.Cut(h, ":"); ok && strings.Trim(port, "0123456789") != "" {
			return false
		}
	}
	return true
}

// percentDecode decodes %XX escapes, leaving a bad one as it is.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if c, err := hex.DecodeString(s[i+1 : i+3]); err == nil {
				b.Write(c)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// keywords redacts a keyword/value string, read as pgx reads it:
// KEY = VALUE pairs separated by white space, a VALUE quoted with ' or
// not, \ escaping the character after it. The value of a password
// keyword, and a value that itself holds one (host= password=x: pgx reads
// password=x as the host), is masked; where the string stops parsing it
// is cut.
func (r *redaction) keywords(s string) {
	for {
		rest := strings.TrimLeft(s, pgSpace)
		r.b.WriteString(s[:len(s)-len(rest)])
		if rest == "" {
			return
		}
		eq := strings.IndexByte(rest, '=')
		key := ""
		if eq >= 0 {
			key = strings.TrimRight(rest[:eq], pgSpace)
		}
		if key == "" || strings.ContainsAny(key, pgSpace) {
			r.stop()
			return
		}
		r.b.WriteString(rest[:eq+1])
		s = rest[eq+1:]
		rest = strings.TrimLeft(s, pgSpace)
		r.b.WriteString(s[:len(s)-len(rest)])
		n := valueLen(rest)
		if n < 0 {
			r.stop()
			return
		}
		if value := rest[:n]; secretKey(key) || secretKey(value) {
			r.mask(value)
		} else {
			r.b.WriteString(value)
		}
		s = rest[n:]
	}
}

// valueLen is the length of the value s starts with, its quotes
// included, or -1 when a quote is not closed.
func valueLen(s string) int {
	if !strings.HasPrefix(s, "'") {
		i := 0
		for ; i < len(s) && !strings.ContainsRune(pgSpace, rune(s[i])); i++ {
			if s[i] == '\\' {
				i++
			}
		}
		return min(i, len(s))
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '\'':
			return i + 1
		}
	}
	return -1
}

// checkConnString parses target as pgx does, and says what is wrong
// without showing a password: pgx's own message may quote any part of a
// string it could not parse. When Redact could not read the target
// either, it says what the form is; else pgx's reason (a bad port, a
// service file missing), unless that holds a value Redact masked.
func checkConnString(target string) error {
	_, err := pgconn.ParseConfig(target)
	if err == nil {
		return nil
	}
	r := redact(target)
	why := parseReason(err)
	switch {
	case r.cut && isPostgresURL(target):
		why = "not a postgres:// URL (a password with / @ : ? & or = in it %-escaped)"
	case r.cut:
		why = "not a keyword/value string (KEY=VALUE separated by spaces; a value with a space in 'quotes')"
	case why == "" || r.leaks(why):
		why = "not a connection string pgx can read"
	}
	return fmt.Errorf("journal: open %s: %w: %s", r.shown, ErrInvalid, why)
}

// parseReason is why pgx could not parse a connection string: its
// message without the string it quotes ("cannot parse `STRING`: WHY"),
// or "" when that cannot be told apart.
func parseReason(err error) string {
	var pe *pgconn.ParseConfigError
	if !errors.As(err, &pe) {
		return ""
	}
	msg, ok := strings.CutPrefix(pe.Error(), "cannot parse `")
	if !ok || strings.Count(msg, "`: ") != 1 {
		return ""
	}
	_, why, _ := strings.Cut(msg, "`: ")
	return why
}

// leaks: msg holds a value that was masked, as written, unquoted or
// decoded.
func (r *redaction) leaks(msg string) bool {
	for _, v := range r.secrets {
		for _, form := range []string{v, strings.Trim(v, "'"), percentDecode(v), unescape(strings.Trim(v, "'"))} {
			if form != "" && strings.Contains(msg, form) {
				return true
			}
		}
	}
	return false
}

// unescape removes the backslashes of a keyword/value string's value.
func unescape(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' {
			i++
			if i == len(v) {
				break
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}
