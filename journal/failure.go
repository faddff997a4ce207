package journal

import (
	"errors"
	"sync"
)

// ErrWriteFailed is wrapped by Failure's error: a record this process
// queued could not be written (disk full, read-only file, a lock held
// past every retry). The run that lost it must not be reported a success
// (docs/safety.md#the-journal-tells-what-happened).
var ErrWriteFailed = errors.New("the journal cannot be written")

// writeFailure remembers the first write of this process that failed for
// good, and tells whoever waits on it.
type writeFailure struct {
	once sync.Once
	ch   chan struct{}
	mu   sync.Mutex
	err  error
}

func (f *writeFailure) init() { f.once.Do(func() { f.ch = make(chan struct{}) }) }

// Failed returns a channel closed once a queued write has failed for
// good; a runner stops starting hosts when it is.
func (j *Journal) Failed() <-chan struct{} {
	j.failure.init()
	return j.failure.ch
}

// Failure returns the first write that failed for good, wrapping
// ErrWriteFailed, or nil.
func (j *Journal) Failure() error {
	j.failure.mu.Lock()
	defer j.failure.mu.Unlock()
	return j.failure.err
}

func (j *Journal) fail(err error) {
	j.failure.init()
	j.failure.mu.Lock()
	defer j.failure.mu.Unlock()
	if j.failure.err == nil {
		j.failure.err = errors.Join(ErrWriteFailed, err)
		close(j.failure.ch)
	}
}
