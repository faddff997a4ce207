package sshtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Standalone lets a program that is not a test (the fleet benchmark) use
// this package: it is the testing.TB that StartSSHD and NewClientKey take,
// with temporary directories, cleanups and failures of its own.
//
//	st := sshtest.NewStandalone("bench")
//	defer st.Close()
//	err := st.Do(func(tb testing.TB) { h = sshtest.StartSSHD(tb, sshtest.Options{}) })
//
// Fatal, FailNow and Skip end the function given to Do, which returns
// the message as an error; Error and Log write to Output (default
// os.Stderr). Cleanups run when Close is called, last registered first.
// It is safe for concurrent use: several goroutines may call Do at once.
type Standalone struct {
	testing.TB // never set: it only carries the interface's unexported method

	name string
	out  io.Writer

	// root holds the temporary directories: like a test's, their parent
	// is private to s (StartSSHD changes the parent's mode).
	root string
	seq  int

	mu       sync.Mutex
	cleanups []func()
	failed   bool
	closed   bool
	ctx      context.Context
	cancel   context.CancelFunc
}

var _ testing.TB = (*Standalone)(nil)

// NewStandalone returns a Standalone named name, writing to os.Stderr.
func NewStandalone(name string) *Standalone {
	ctx, cancel := context.WithCancel(context.Background())
	return &Standalone{name: name, out: os.Stderr, ctx: ctx, cancel: cancel}
}

// SetOutput sets where Error and Log write.
func (s *Standalone) SetOutput(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out = w
}

// standaloneStop is the panic value that ends a function run by Do.
type standaloneStop struct{ msg string }

// Do runs f with s as its testing.TB and returns the message of a Fatal,
// FailNow or Skip as an error (nil when f returns normally). Other panics
// go on.
func (s *Standalone) Do(f func(tb testing.TB)) (err error) {
	defer func() {
		if r := recover(); r != nil {
			stop, ok := r.(standaloneStop)
			if !ok {
				panic(r)
			}
			err = errors.New(stop.msg)
		}
	}()
	f(s)
	return nil
}

// Close runs the cleanups, last registered first, and cancels Context.
// Calling it again does nothing.
func (s *Standalone) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.cancel()
	s.mu.Unlock()
	for {
		s.mu.Lock()
		n := len(s.cleanups)
		if n == 0 {
			s.mu.Unlock()
			return
		}
		f := s.cleanups[n-1]
		s.cleanups = s.cleanups[:n-1]
		s.mu.Unlock()
		_ = s.Do(func(testing.TB) { f() })
	}
}

// The remaining methods are testing.TB's, with the differences noted.

func (s *Standalone) Cleanup(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cleanups = append(s.cleanups, f)
}

func (s *Standalone) Error(args ...any) { s.Log(args...); s.Fail() }

func (s *Standalone) Errorf(format string, args ...any) { s.Logf(format, args...); s.Fail() }

func (s *Standalone) Fail() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed = true
}

func (s *Standalone) FailNow() { s.Fail(); panic(standaloneStop{s.name + ": failed"}) }

func (s *Standalone) Failed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

func (s *Standalone) Fatal(args ...any) { s.Fail(); panic(standaloneStop{fmt.Sprint(args...)}) }

func (s *Standalone) Fatalf(format string, args ...any) {
	s.Fail()
	panic(standaloneStop{fmt.Sprintf(format, args...)})
}

func (s *Standalone) Helper() {}

func (s *Standalone) Log(args ...any) { s.write(fmt.Sprintln(args...)) }

func (s *Standalone) Logf(format string, args ...any) { s.write(fmt.Sprintf(format, args...) + "\n") }

func (s *Standalone) write(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.out, "%s: %s", s.name, msg)
}

func (s *Standalone) Name() string { return s.name }

// Setenv sets an environment variable until Close.
func (s *Standalone) Setenv(key, value string) {
	prev, had := os.LookupEnv(key)
	if err := os.Setenv(key, value); err != nil {
		s.Fatalf("setenv %s: %v", key, err)
	}
	s.Cleanup(func() {
		if had {
			os.Setenv(key, prev)
		} else {
			os.Unsetenv(key)
		}
	})
}

// Chdir changes the working directory until Close.
func (s *Standalone) Chdir(dir string) {
	prev, err := os.Getwd()
	if err != nil {
		s.Fatalf("chdir: %v", err)
	}
	if err := os.Chdir(dir); err != nil {
		s.Fatalf("chdir: %v", err)
	}
	s.Cleanup(func() { os.Chdir(prev) })
}

func (s *Standalone) Skip(args ...any) { panic(standaloneStop{"skipped: " + fmt.Sprint(args...)}) }

func (s *Standalone) SkipNow() { panic(standaloneStop{"skipped"}) }

func (s *Standalone) Skipf(format string, args ...any) {
	panic(standaloneStop{"skipped: " + fmt.Sprintf(format, args...)})
}

func (s *Standalone) Skipped() bool { return false }

// TempDir returns a new directory, removed at Close. Like a test's, it
// lies in a directory of its own (StartSSHD changes the mode of a temporary
// directory's parent).
func (s *Standalone) TempDir() string {
	s.mu.Lock()
	if s.root == "" {
		root, err := os.MkdirTemp("", s.name+"-")
		if err != nil {
			s.mu.Unlock()
			s.Fatalf("TempDir: %v", err)
		}
		s.root = root
		s.cleanups = append([]func(){func() { os.RemoveAll(root) }}, s.cleanups...)
	}
	s.seq++
	dir := filepath.Join(s.root, fmt.Sprintf("%03d", s.seq))
	s.mu.Unlock()
	if err := os.Mkdir(dir, 0o700); err != nil {
		s.Fatalf("TempDir: %v", err)
	}
	return dir
}

// ArtifactDir is TempDir: a program has no test artifacts directory.
func (s *Standalone) ArtifactDir() string { return s.TempDir() }

func (s *Standalone) Attr(key, value string) { s.Logf("attr %s=%s", key, value) }

// Context is cancelled by Close.
func (s *Standalone) Context() context.Context { return s.ctx }

func (s *Standalone) Output() io.Writer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out
}
