package journal

import "testing"

// Failed is the one answer to "is this a failure?": what max_errors
// counts and what stops a document with on_failure = "stop".
func TestStatusFailed(t *testing.T) {
	for s, want := range map[Status]bool{
		StatusFailed: true, StatusTimedOut: true, StatusUnreachable: true,
		StatusSuccess: false, StatusCancelled: false, StatusInterrupted: false, StatusInProgress: false,
		StatusSkipped: false, StatusCompliant: false, StatusCorrected: false, StatusDrifted: false,
	} {
		if got := s.Failed(); got != want {
			t.Errorf("%s.Failed() = %v, want %v", s, got, want)
		}
	}
}
