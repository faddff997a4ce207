package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/driftless-dev/driftless/documents"
)

// ErrSourceChanged is wrapped by the error of a Stream whose file no
// longer has the size or SHA-256 it had when the step was planned.
var ErrSourceChanged = errors.New("changed since it was planned")

// Stream is content that is not held in memory: the regular file Name
// under Dir (opened confined to Dir, as documents.OpenSource does), of
// Size bytes and SHA-256 SHA when it was planned. Each host that writes
// it reads it again, in chunks; a file that no longer has that size and
// hash fails the write.
type Stream struct {
	Dir, Name string
	Size      int64
	SHA       string
}

// Open opens the stream's file for one host's write: the reader gives
// its bytes, and an error wrapping ErrSourceChanged, in place of the end
// of the file, when they are not Size bytes of SHA-256 SHA.
func (s *Stream) Open() (io.ReadCloser, error) {
	f, _, err := documents.OpenSource(s.Dir, s.Name)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", s.Name, err)
	}
	return &verifier{f: f, s: s, h: sha256.New()}, nil
}

// verifier reads a Stream's file and checks its size and hash as it goes.
type verifier struct {
	f   *os.File
	s   *Stream
	h   hash.Hash
	n   int64
	err error
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if v.n >= v.s.Size {
		var one [1]byte
		if k, _ := io.ReadFull(v.f, one[:]); k > 0 {
			v.err = v.changed("it is larger than the %d bytes it had", v.s.Size)
		} else if got := hex.EncodeToString(v.h.Sum(nil)); got != v.s.SHA {
			v.err = v.changed("sha256 %s, it had %s", got, v.s.SHA)
		} else {
			v.err = io.EOF
		}
		return 0, v.err
	}
	if rest := v.s.Size - v.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	k, err := v.f.Read(p)
	v.h.Write(p[:k])
	v.n += int64(k)
	if err == io.EOF && v.n < v.s.Size {
		v.err = v.changed("it is %d bytes, it had %d", v.n, v.s.Size)
		return k, v.err
	}
	if err != nil && err != io.EOF {
		v.err = fmt.Errorf("source %s: %w", v.s.Name, err)
		return k, v.err
	}
	return k, nil
}

func (v *verifier) changed(format string, args ...any) error {
	return fmt.Errorf("source %s %w (%s); nothing was written", v.s.Name, ErrSourceChanged, fmt.Sprintf(format, args...))
}

func (v *verifier) Close() error { return v.f.Close() }

// hashSource is the Stream of the open source f (st its stat), Name
// under dir: hashed once for all hosts while the file keeps its size and
// modification time (sources are planned for each host).
func hashSource(f *os.File, st os.FileInfo, dir, name string) (*Stream, error) {
	key := sourceKey{path: filepath.Join(dir, name), size: st.Size(), mtime: st.ModTime().UnixNano()}
	sourceHashes.Lock()
	sum, ok := sourceHashes.m[key]
	sourceHashes.Unlock()
	if !ok {
		h := sha256.New()
		n, err := io.Copy(h, f)
		if err != nil {
			return nil, err
		}
		if n != st.Size() {
			return nil, fmt.Errorf("%s changed while it was read (%d bytes, then %d)", name, st.Size(), n)
		}
		sum = hex.EncodeToString(h.Sum(nil))
		sourceHashes.Lock()
		if sourceHashes.m == nil || len(sourceHashes.m) >= 256 {
			sourceHashes.m = map[sourceKey]string{}
		}
		sourceHashes.m[key] = sum
		sourceHashes.Unlock()
	}
	return &Stream{Dir: dir, Name: name, Size: st.Size(), SHA: sum}, nil
}

type sourceKey struct {
	path        string
	size, mtime int64
}

var sourceHashes struct {
	sync.Mutex
	m map[sourceKey]string
}

// WantSHA is the SHA-256 of the content a file step wants.
func (s *Step) WantSHA() string {
	if s.Stream != nil {
		return s.Stream.SHA
	}
	return SHA256Hex(s.Content)
}

// WantSize is the size of the content a file step wants.
func (s *Step) WantSize() int64 {
	if s.Stream != nil {
		return s.Stream.Size
	}
	return int64(len(s.Content))
}

// OpenContent opens the content a file step wants, for one host.
func (s *Step) OpenContent() (io.ReadCloser, error) {
	if s.Stream != nil {
		return s.Stream.Open()
	}
	return io.NopCloser(bytes.NewReader(s.Content)), nil
}

// Streamed says whether a writes a file whose content is not in the
// script's text but streamed after it, from OpenContent: a Stream, or
// content larger than MaxInlineContent.
func (a ApplyStep) Streamed() bool {
	s := a.Step
	return s.Action == documents.ActionFile && !s.Absent && (s.Stream != nil || len(a.Write) > MaxInlineContent)
}

// WriteSHA is the SHA-256 of what a writes.
func (a ApplyStep) WriteSHA() string {
	if a.Step.Action == documents.ActionFile && a.Step.Stream != nil {
		return a.Step.Stream.SHA
	}
	return SHA256Hex(a.Write)
}

// streamedPrefix starts what PendingWrite records of streamed content.
const streamedPrefix = "\x00driftless streamed content sha256 "

// PendingWrite is what the runner records of the content a queued
// write leaves at its path, for the steps after it (eval.Host.Pending):
// the content, or for a Stream a stand-in no content equals, which
// IsStreamed recognises.
func PendingWrite(a ApplyStep) []byte {
	if a.Step.Action == documents.ActionFile && a.Step.Stream != nil {
		return []byte(streamedPrefix + a.Step.Stream.SHA)
	}
	return a.Write
}

// IsStreamed says whether a pending write is a Stream's stand-in.
func IsStreamed(w []byte) bool { return bytes.HasPrefix(w, []byte(streamedPrefix)) }
