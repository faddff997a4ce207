// Package pgtest starts real, throwaway PostgreSQL servers for tests: the
// PostgreSQL journal's conformance suite and the fault tests run against
// them. No mocks.
//
// Three ways in:
//
//   - NewDB(t) gives the test an empty database of its own on the test
//     binary's shared server (started by the first call, about a second;
//     each later database takes some 10-20 ms) and returns its URL. The
//     database is dropped when the test ends. Packages using it stop the
//     shared server after their tests with
//
//     func TestMain(m *testing.M) { pgtest.Main(m) }
//
//     (under testscript.Main, which exits by itself: pgtest.Tests{M: m}).
//
//   - Start(t, settings...) starts a server of the test's own, for tests
//     that stop it (Stop, then Start again on the same data directory and
//     URL), crash it (Kill: SIGKILL, then Start recovers from the WAL) or
//     need other settings ("name=value", as postgres -c). It is shut down
//     when the test ends.
//
//   - StartServer(settings...) does what Start does for a program rather
//     than a test (the fleet benchmark's nodes mode): the caller creates
//     databases by name (CreateDB, DropDB) and calls Close.
//
// Every URL has the form
//
//	postgres://postgres@/DB?host=SOCKETDIR&port=PORT&sslmode=disable
//
// The server listens on no TCP port: only on the unix socket
// SOCKETDIR/.s.PGSQL.PORT, the port number being one no loopback listener
// used when it was picked. The superuser is postgres, with trust
// authentication (no password).
//
// # The server
//
// The programs are Debian's (package postgresql, which ./test.sh
// installs): the newest /usr/lib/postgresql/MAJOR/bin, MAJOR 14 or later.
// When there is none the test is skipped with a message naming the
// package, or fails when Required: in CI (CI set) or with
// DRIFTLESS_REQUIRE_PG=1.
//
// initdb and postgres refuse to run as root, and the tests run as root in
// CI: the harness then runs them as Debian's postgres user, or as
// driftless-pg (created with useradd --system, and kept) where there is
// none. As another user, they run as that user.
//
// Each server has a directory of its own, driftless-pgtest-* under
// /dev/shm when it is a tmpfs with 1 GiB free (several times faster: the
// data is thrown away anyway), else under the temp directory. It holds
// the socket, postgres.log (Server.LogPath: a failed test is shown its
// end, or with NewDB the lines of its own database) and data/, made by initdb with UTF8, the C collation
// (byte order, as SQLite's) and trust authentication. The server runs
// with fsync, full_page_writes and synchronous_commit off; after Kill,
// transactions committed in the last moment before it may be lost unless
// the test starts it with "synchronous_commit=on".
//
// # Nothing left behind
//
// A server is stopped the way pg_ctl -m fast stop does (SIGINT, waiting
// for the exit) and its directory removed, in t.Cleanup registered before
// it starts, or in Main for the shared one. postgres is the harness's own
// child, started with a parent-death signal (SIGQUIT, an immediate
// shutdown), so it also stops when the test binary dies without cleaning
// up: a panic, a -timeout, a kill -9. The directories such a binary
// leaves are removed by the next test binary's first server (they are
// told from live ones by a file lock their owner holds).
package pgtest
