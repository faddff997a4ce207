package runner

import (
	"context"
	"fmt"
	"strings"

	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/runner/plan"
)

// Skip reasons of a handler (docs/documents.md#handlers). Both leave the
// host compliant: what made the handler due is the notifying step's.
const (
	// SkipNotNotified: no step that notifies the handler was Corrected.
	SkipNotNotified = journal.SkipNotNotified
	// SkipWouldRun: check mode, and a step that notifies the handler
	// drifted: an apply would run it.
	SkipWouldRun = journal.SkipWouldRun
)

// handlerState is what a host's run knows of its handlers.
type handlerState struct {
	// only, when set, is the steps the run runs (the handlers due)
	// instead of the steps before the handlers.
	only []*plan.Step
	// pending are the handlers (by index) a step notified before the
	// host rebooted: they are due in the run after the reboot too.
	pending map[int]bool
}

// firstHandler is the index of the first handler of steps (the handlers
// are the last steps of a plan), len(steps) when there is none.
func firstHandler(steps []*plan.Step) int {
	for i, s := range steps {
		if s.Handler {
			return i
		}
	}
	return len(steps)
}

// handlers runs, once the other steps of the run ended without an error
// (err nil), the handlers due: those a step notifying them Corrected, in
// this run or before a reboot. In check mode none runs: a handler that a
// drifted step notifies would run. It sets every handler's result and
// returns the error of the run that ran them. When the host is about to
// reboot, the handlers wait for the run after it.
func (h *hostRun) handlers(ctx context.Context, err error) error {
	first := firstHandler(h.steps)
	if err != nil || first == len(h.steps) {
		return err
	}
	if h.reboot {
		for _, s := range h.steps[first:] {
			if by, _ := h.notifiers(s); len(by) > 0 {
				if h.pending == nil {
					h.pending = map[int]bool{}
				}
				h.pending[s.Idx] = true
			}
		}
		return nil
	}
	stopped := h.stoppedBy(first)
	var due []*plan.Step
	skip := map[int][2]string{} // reason, error
	for _, s := range h.steps[first:] {
		by, drifted := h.notifiers(s)
		switch {
		case h.check && len(drifted) > 0:
			skip[s.Idx] = [2]string{SkipWouldRun, "would run: notified by " + strings.Join(drifted, ", ") + " (Drifted)"}
		case len(by) == 0:
			skip[s.Idx] = [2]string{SkipNotNotified, "not notified: no step that notifies it was corrected"}
		case stopped != "":
			skip[s.Idx] = [2]string{journal.SkipStopped, fmt.Sprintf("notified by %s, but %s", strings.Join(by, ", "), stopped)}
		default:
			due = append(due, s)
		}
	}
	if len(due) > 0 {
		h.prior, h.from, h.only = h.results, first, due
		err = h.run(ctx)
		h.only = nil
	}
	h.pending = nil
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, why := range skip {
		r := &h.results[i]
		r.Status, r.SkipReason, r.Error = journal.StatusSkipped, why[0], why[1]
	}
	return err
}

// notifiers are the names of the steps that notified handler s: those
// Corrected in this run (or, before a reboot, in the run before), and
// those found Drifted (check mode).
func (h *hostRun) notifiers(s *plan.Step) (corrected, drifted []string) {
	for _, i := range s.NotifiedBy {
		switch h.results[i].Status {
		case journal.StatusCorrected:
			corrected = append(corrected, fmt.Sprintf("%q", h.steps[i].Name))
		case journal.StatusDrifted:
			drifted = append(drifted, fmt.Sprintf("%q", h.steps[i].Name))
		default: // the other statuses notify nothing
		}
	}
	if len(corrected) == 0 && h.pending[s.Idx] {
		corrected = append(corrected, "a step corrected before the host rebooted")
	}
	return corrected, drifted
}

// stoppedBy says why the document stopped before its handlers ("" when
// it did not): a step failed or timed out with on_failure = "stop".
func (h *hostRun) stoppedBy(first int) string {
	for _, s := range h.steps[:first] {
		r := h.results[s.Idx]
		if (r.Status == journal.StatusFailed || r.Status == journal.StatusTimedOut) && s.OnFailure == "stop" {
			return fmt.Sprintf("step %q failed and stopped the document", s.Name)
		}
	}
	return ""
}
