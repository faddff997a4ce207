package journal

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/driftless-dev/driftless/internal/pgtest"
	"github.com/jackc/pgx/v5/pgconn"
)

// Which --journal values are PostgreSQL databases: URLs of both schemes
// and keyword/value strings that start with a libpq keyword; every other
// value is a file, even with = in its name.
func TestIsPostgres(t *testing.T) {
	for target, want := range map[string]bool{
		"postgres://db/driftless":                     true,
		"postgresql://u@/d?host=/run/postgresql":      true,
		"host=/tmp/x dbname=d user=u password=secret": true,
		"  dbname = driftless":                        true,
		"service=prod":                                true,
		"sslmode=verify-full host=db.example.com":     true,
		"host=db 'unterminated":                       true, // pgx says what is wrong with it
		"journal.db":                                  false,
		"/var/lib/driftless/journal.db":               false,
		"./host=a.db":                                 false,
		"/tmp/a=b.db":                                 false,
		"journal=1.db":                                false,
		"my host=x":                                   false,
		"POSTGRES://db/x":                             false,
		"mysql://root:pw@db/x":                        false,
		"":                                            false,
		"hostname=x":                                  false,
		"C:\\journals\\host=1.db":                     false,
	} {
		if got := IsPostgres(target); got != want {
			t.Errorf("IsPostgres(%q) = %v, want %v", target, got, want)
		}
	}
}

// Redact masks every password, of a URL or a keyword/value string, quoted
// or escaped, keeps the rest as written, and cuts what cannot be read
// the way pgx reads it.
func TestRedact(t *testing.T) {
	for target, want := range map[string]string{
		// Files are shown as they are.
		"/var/lib/driftless/journal.db": "/var/lib/driftless/journal.db",
		"/srv/password=1/journal.db":    "/srv/password=1/journal.db",
		// URLs.
		"postgres://u:s3cret@db:5432/d?sslmode=require":          "postgres://u:xxxxx@db:5432/d?sslmode=require",
		"postgresql://u@/d?host=/run/postgresql&password=s3cret": "postgresql://u@/d?host=/run/postgresql&password=xxxxx",
		"postgres://u@db/d?pass%77ord=s3cret&sslpassword=k3y":    "postgres://u@db/d?pass%77ord=xxxxx&sslpassword=xxxxx",
		"postgres://u:s3cret@h1:5432,h2:5433,[::1]:5434/d":       "postgres://u:xxxxx@h1:5432,h2:5433,[::1]:5434/d",
		"postgres://u:s3:cr@et@db/d":                             "postgres://u:xxxxx@…",
		"postgres://u:s3/cret@db/d":                              "postgres://…",
		"postgres://u:123/cret@db/d":                             "postgres://…",
		"postgres://db/d?password=s3&cret":                       "postgres://db/d?…",
		"postgres://db/d?password=s3=cret":                       "postgres://db/d?…",
		"postgres://db/d?application_name=password:s3cret":       "postgres://db/d?application_name=xxxxx",
		"postgres://db/d":                                        "postgres://db/d",
		"mysql://root:s3cret@db/x":                               "mysql://root:xxxxx@db/x",
		// Keyword/value strings.
		"host=/tmp/x dbname=d user=u password=s3cret":       "host=/tmp/x dbname=d user=u password=xxxxx",
		"host=/tmp/x password='s3 cret' dbname=d":           "host=/tmp/x password=xxxxx dbname=d",
		`host=/tmp/x password='s3\' cr\\et' dbname=d`:       "host=/tmp/x password=xxxxx dbname=d",
		`host=/tmp/x password=s3\ cret dbname=d`:            "host=/tmp/x password=xxxxx dbname=d",
		"host=/tmp/x  password = s3cret\tsslpassword='k3y'": "host=/tmp/x  password = xxxxx\tsslpassword=xxxxx",
		"host='/tmp/x'dbname=d password=s3cret":             "host='/tmp/x'dbname=d password=xxxxx",
		"host= password=s3cret":                             "host= xxxxx", // pgx reads password=s3cret as the host
		"host=x password='s3cret":                           "host=x password=…",
		"host=x oops password=s3cret":                       "host=x …",
		"host=x pass word=s3cret":                           "host=x …",
		"hots=/tmp/x password=s3cret":                       "hots=/tmp/x password=xxxxx",
		"dbname=d PASSWORD=s3cret":                          "dbname=d PASSWORD=xxxxx",
	} {
		got := Redact(target)
		if got != want {
			t.Errorf("Redact(%q) = %q, want %q", target, got, want)
		}
		for _, secret := range []string{"s3", "cret", "k3y"} {
			if strings.Contains(got, secret) {
				t.Errorf("Redact(%q) = %q shows %q", target, got, secret)
			}
		}
	}
}

// A connection string pgx cannot parse is refused before anything is
// contacted, with its password masked: pgx's own message may quote it.
func TestPostgresBadConnString(t *testing.T) {
	for target, want := range map[string]string{
		"host=/tmp/x password = 's3cret":            "journal: open host=/tmp/x password = …: invalid argument: not a keyword/value string (KEY=VALUE separated by spaces; a value with a space in 'quotes')",
		"host=/tmp/x password=s3cret oops":          "journal: open host=/tmp/x password=xxxxx …: invalid argument: not a keyword/value string (KEY=VALUE separated by spaces; a value with a space in 'quotes')",
		"host=/tmp/x port=notaport password=s3cret": "journal: open host=/tmp/x port=notaport password=xxxxx: invalid argument: invalid port",
		"service=nosuch password=s3cret":            "journal: open service=nosuch password=xxxxx: invalid argument: failed to read service",
		"postgres://u:s3cret@db:notaport/d":         "journal: open postgres://u:xxxxx@…: invalid argument: not a postgres:// URL (a password with / @ : ? & or = in it %-escaped)",
		"postgres://u:s3/cret@db/d":                 "journal: open postgres://…: invalid argument: not a postgres:// URL (a password with / @ : ? & or = in it %-escaped)",
	} {
		j, err := Open(target)
		if err == nil {
			j.Close()
			t.Errorf("Open(%q): no error", target)
			continue
		}
		if !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Open(%q):\n got %v\nwant %s", target, err, want)
		}
		if strings.Contains(err.Error(), "s3") {
			t.Errorf("Open(%q) shows the password: %v", target, err)
		}
	}
}

// keywordTarget is the keyword/value string of the database at url (a
// pgtest URL), with a password (which the test server, trusting local
// connections, does not check).
func keywordTarget(t *testing.T, url, password string) string {
	t.Helper()
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("host=%s port=%d dbname=%s user=%s password=%s sslmode=disable", cfg.Host, cfg.Port, cfg.Database, cfg.User, password)
}

// A keyword/value string opens the PostgreSQL journal (no file is made of
// it); the journal names it without its password, and records what runs
// in that database.
func TestPostgresKeywordValue(t *testing.T) {
	url := pgtest.NewDB(t)
	target := keywordTarget(t, url, `'S3cr3t pw\'d'`)
	dir := t.TempDir()
	t.Chdir(dir)
	j, err := Open(target)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx := context.Background()
	id, err := j.StartRun(ctx, &Run{Association: "web", Document: "baseline", Trigger: TriggerManual, Mode: ModeApply, StartedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(target, `'S3cr3t pw\'d'`, "xxxxx", 1); j.Path() != want {
		t.Errorf("Path() = %q, want %q", j.Path(), want)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 0 {
		t.Errorf("a file was made of the connection string: %v", files)
	}
	// The same database through its URL holds the run.
	j, err = OpenReadOnly(url)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	runs, err := j.History(ctx, HistoryFilter{})
	if err != nil || len(runs) != 1 || runs[0].ID != id {
		t.Errorf("runs through the URL: %+v, %v; want run %d", runs, err, id)
	}
}

// FuzzRedact: Redact never panics, and a password pgx finds in the
// target (with nothing from the environment) is not in what Redact
// shows, unless the target holds it elsewhere too (user=ab password=ab).
// The target is the fuzzer's, or one it builds around a password:
// form 0 is the target itself, 1 a keyword/value string with the
// password quoted and escaped as libpq wants it, 2 the same unquoted
// (backslashes before spaces), 3 a URL with the password %-escaped in
// its user information, 4 in its query.
func FuzzRedact(f *testing.F) {
	for _, seed := range []string{
		"postgres://u:s3cret@db:5432/d?sslmode=require",
		"postgresql://u@/d?host=/run/postgresql&password=s3cret",
		"postgres://u@db/d?pass%77ord=s3cret&sslpassword=k3y",
		"postgres://u:s3:cr@et@db/d",
		"postgres://u:s3/cret@db/d",
		"postgres://u:s3cr%65t@[::1]:5432,h2/d",
		"host=/tmp/x dbname=d user=u password=s3cret",
		`host=/tmp/x password='s3\' cr\\et' dbname=d`,
		`host=/tmp/x password=s3\ cret dbname=d`,
		"host= password=s3cret",
		"host=x password='s3cret",
		"password = s3cret",
		"dbname=d\tpassword=s3cret\\",
		"/var/lib/driftless/journal.db",
	} {
		f.Add(seed, "", "", uint8(0))
	}
	f.Add("host=/tmp/x dbname=d", "it's a s3cret\\", "user=u", uint8(1))
	f.Add("host=/tmp/x", "s3 cret", "", uint8(2))
	f.Add("db:5432/d", "s3:c@r/e?t", "sslmode=disable", uint8(3))
	f.Add("db/d", "s3&c=r t", "sslmode=disable", uint8(4))
	for _, env := range []string{"PGPASSWORD", "PGSERVICE", "PGSERVICEFILE", "PGHOST", "PGUSER", "PGDATABASE", "PGPORT"} {
		f.Setenv(env, "")
	}
	f.Setenv("PGPASSFILE", filepath.Join(f.TempDir(), "none"))
	build := func(before, password, after string, form uint8) string {
		switch form % 5 {
		case 1:
			return before + " password='" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(password) + "' " + after
		case 2:
			return before + " password=" + regexp.MustCompile(`([\s\\'])`).ReplaceAllString(password, `\$1`) + " " + after
		case 3:
			return "postgres://u:" + url.QueryEscape(password) + "@" + before + "?" + after
		case 4:
			return "postgres://u@" + before + "?" + after + "&password=" + url.QueryEscape(password)
		}
		return before
	}
	f.Fuzz(func(t *testing.T, before, password, after string, form uint8) {
		target := build(before, password, after, form)
		got := Redact(target)
		_ = IsPostgres(target)
		cfg, err := pgconn.ParseConfig(target)
		if err != nil || cfg.Password == "" {
			return
		}
		pw := cfg.Password
		if strings.Contains(redacted+"…", pw) {
			return // what Redact writes itself
		}
		// How often the target holds pw other than as its password.
		elsewhere := strings.Count(build(before, "", after, form), pw)
		if form%5 == 0 {
			if len(pw) < 4 || strings.ContainsAny(pw, "@:/?&=") {
				return // may be the target's own punctuation
			}
			elsewhere = max(0, strings.Count(target, pw)-1)
		}
		if n := strings.Count(got, pw); n > elsewhere {
			t.Errorf("Redact(%q) = %q shows the password %q (%d times, %d elsewhere in the target)", target, got, pw, n, elsewhere)
		}
	})
}
