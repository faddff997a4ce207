package pgtest

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// StartServer starts a server outside a test, for a program such as the
// fleet benchmark: Start without a testing.TB. Settings are "name=value"
// (postgres -c). The caller must Close it. A missing or too old
// PostgreSQL is an error wrapping ErrUnavailable, naming the package to
// install.
//
// As with Start, postgres dies with the calling process (parent-death
// signal), and a directory it leaves behind is removed by the next
// server any program or test binary starts.
func StartServer(settings ...string) (*Server, error) {
	s, err := prepare(settings)
	if err != nil {
		return nil, err
	}
	if err = s.init(); err == nil {
		err = s.Start()
	}
	if err != nil {
		return nil, errors.Join(err, s.destroy())
	}
	return s, nil
}

// Close shuts down a server that StartServer started (a fast shutdown,
// killed if it will not stop) and removes its directory. The shared
// server cannot be closed: StopShared does that.
func (s *Server) Close() error {
	if s.shared {
		return errors.New("pgtest: Close: not the shared server (StopShared stops it)")
	}
	return s.destroy()
}

// CreateDB creates an empty database named name and returns its URL
// (postgres://postgres@/NAME?host=SOCKETDIR&port=PORT&sslmode=disable):
// NewDB without a test, for StartServer's servers. Nothing drops it but
// DropDB or the server's Close.
func (s *Server) CreateDB(name string) (string, error) {
	if err := s.exec("CREATE DATABASE " + pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return s.URL(name), nil
}

// DropDB drops database name, closing its connections first; a database
// that does not exist is no error.
func (s *Server) DropDB(name string) error {
	if err := s.exec("DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)"); err != nil {
		return fmt.Errorf("pgtest: drop database %s: %w", name, err)
	}
	return nil
}
