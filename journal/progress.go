package journal

import (
	"context"
	"fmt"
	"time"
)

// RecordProgress queues the steps of a host execution that have ended so
// far, while the host still runs: the host's row stays InProgress, with
// these steps. If the process then dies (kill -9), RecoverInterrupted
// marks the host Interrupted and keeps them; the host's RecordHost
// replaces them when it ends (docs/journal.md#interrupted-runs).
//
// It never waits: when the queue is full the record is dropped (a later
// one, or RecordHost, carries the same steps) and RecordProgress returns
// the reason. h.Status is ignored; the steps are checked as RecordHost's.
// h.DefHash is not recorded: an execution that did not end ran with no
// definition the scheduler may trust.
func (j *Journal) RecordProgress(h HostResult) error {
	h.Status = StatusSuccess // checked as a host that ended
	if err := validateHost(&h); err != nil {
		return fmt.Errorf("journal: record progress: %w", err)
	}
	h.Status, h.DefHash, h.EndedAt = StatusInProgress, "", time.Time{}
	weight := ownSteps(&h)
	if err := j.enqueue(doneCtx, op{kind: opRecordHost, host: &h, weight: weight}); err != nil {
		return fmt.Errorf("journal: record progress of %s: %w", h.Host, err)
	}
	return nil
}

// doneCtx is a context that is already done: enqueue takes a record with
// it only if there is room now.
var doneCtx = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()
