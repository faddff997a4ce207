package journal

import (
	"fmt"
	"time"
)

// Status is the outcome of a run, a host execution or a step. One set of
// names serves the three levels; which of them each level accepts is
// listed with Run, HostResult and StepResult (see docs/statuses.md).
type Status string

// Statuses.
const (
	// Run, host and step.
	StatusSuccess   Status = "Success"
	StatusFailed    Status = "Failed"
	StatusTimedOut  Status = "TimedOut"
	StatusCancelled Status = "Cancelled"

	// Run and host: the process recording it died (see RecoverInterrupted).
	StatusInterrupted Status = "Interrupted"
	// Run and host: still running, or never finished.
	StatusInProgress Status = "InProgress"

	// Host and step.
	StatusSkipped Status = "Skipped"
	// Host only.
	StatusUnreachable Status = "Unreachable"

	// Step only.
	StatusCompliant Status = "Compliant"
	StatusCorrected Status = "Corrected"
	StatusDrifted   Status = "Drifted"
)

// Failed reports whether s is a failure: the host or step did not reach
// its declared state because something went wrong (Failed, TimedOut) or
// the host could not be tried at all (Unreachable). Rate control counts
// these against max_errors, and a step with on_failure = "stop" stops its
// document on them. Skipped, Cancelled and Interrupted are not failures of
// their own; a caller that counts one (the exit code counts a Skipped
// host) says so.
func (s Status) Failed() bool {
	switch s {
	case StatusFailed, StatusTimedOut, StatusUnreachable:
		return true
	case StatusSuccess, StatusCancelled, StatusInterrupted, StatusInProgress,
		StatusSkipped, StatusCompliant, StatusCorrected, StatusDrifted:
		return false
	}
	return false
}

// Compliance of an association on a host (docs/statuses.md#compliance).
const (
	Compliant    = "COMPLIANT"
	NonCompliant = "NON_COMPLIANT"
)

// Trigger is why a run started.
type Trigger string

// Run triggers.
const (
	TriggerManual    Trigger = "manual"
	TriggerSchedule  Trigger = "schedule"
	TriggerChange    Trigger = "change"
	TriggerNewTarget Trigger = "new-target"
	TriggerExec      Trigger = "exec"
)

// Mode is what a run does on its hosts.
type Mode string

// Run modes.
const (
	ModeApply Mode = "apply" // check every step, correct what drifted
	ModeCheck Mode = "check" // check every step, change nothing
	ModeExec  Mode = "exec"  // an ad-hoc command (driftless exec)
)

// Compliance severities (associations.toml compliance_severity).
const (
	SeverityCritical    = "CRITICAL"
	SeverityHigh        = "HIGH"
	SeverityMedium      = "MEDIUM"
	SeverityLow         = "LOW"
	SeverityUnspecified = "UNSPECIFIED"
)

// Why a step was Skipped. A Skipped step must carry a reason.
// SkipPrecondition, SkipExited, SkipNoCheck, SkipNotNotified and
// SkipWouldRun leave the host compliant; SkipStopped, or any reason of the
// caller's own, does not.
const (
	// SkipPrecondition: the step's precondition was false on this host.
	SkipPrecondition = "precondition"
	// SkipExited: the document ended early by design (SSM onSuccess: exit,
	// onFailure: successAndExit).
	SkipExited = "exited"
	// SkipNoCheck: in check mode, a step without a check (it only runs in
	// apply mode and is never drifted).
	SkipNoCheck = "no-check"
	// SkipStopped: an earlier step failed and stopped the document
	// (on_failure = "stop"), or the run was stopped.
	SkipStopped = "stopped"
	// SkipCancelled: the run was cancelled (SIGINT, SIGTERM, a journal
	// that cannot be written) or the association's timeout expired
	// before the step started.
	SkipCancelled = "cancelled"
	// SkipNotNotified: a handler that no step notifying it Corrected.
	SkipNotNotified = "not-notified"
	// SkipWouldRun: in check mode, a handler that a step found Drifted
	// notifies (an apply would run it).
	SkipWouldRun = "would-run"
)

// Outcomes of a drift event: what was done about a step found out of state.
const (
	OutcomeCorrected = "corrected" // applied, and the check now passes
	OutcomeDetected  = "detected"  // only detected (check mode)
	OutcomeFailed    = "failed"    // applying failed, timed out or was cancelled
)

// Run is one invocation of one association (or one `driftless exec`) on its
// targets.
type Run struct {
	ID int64
	// Association is the association's name; for `exec` it is whatever
	// label the caller gives (it may be empty).
	Association string
	Document    string
	DocHash     string  // content hash of the document
	ParamsHash  string  // hash of the resolved parameters
	Trigger     Trigger // manual | schedule | change | new-target | exec
	Mode        Mode    // apply | check | exec
	Severity    string  // CRITICAL … UNSPECIFIED; "" is stored as UNSPECIFIED
	Command     string  // the ad-hoc command of an exec run
	StartedAt   time.Time
	EndedAt     time.Time // zero while the run is InProgress
	// Status is InProgress while the run is going, then Success, Failed,
	// TimedOut, Cancelled or Interrupted.
	Status Status
	// Counts holds the number of hosts per host status. While a run is
	// InProgress (or when FinishRun was given nil) it is counted from the
	// host executions recorded so far.
	Counts map[Status]int
	// PID and Hostname identify the process that recorded the run; StartRun
	// fills in the current process when they are zero.
	PID      int
	Hostname string
	// Node is the driftless process's node name (--node; the hostname by
	// default); StartRun fills in the journal's.
	Node string
}

// HostResult is one host execution: one association (or exec command) run
// on one host within a run.
type HostResult struct {
	RunID int64
	Host  string
	// Status is Success, Failed, TimedOut, Unreachable, Skipped or
	// Cancelled. The journal itself writes InProgress (StartHost) and
	// Interrupted (RecoverInterrupted).
	Status Status
	Error  string
	// Detail is a note for the user, e.g. "accepted new host key
	// SHA256:…" or why the host was skipped.
	Detail string
	// DefHash is the content hash of the association definition, document
	// and resolved parameters this execution ran with (docs/associations.md); LastRuns
	// gives it back to the scheduler.
	DefHash   string
	StartedAt time.Time
	EndedAt   time.Time
	Steps     []StepResult
}

// StepResult is one step of a document on one host.
type StepResult struct {
	Index  int // position of the step in the document, from 0
	Name   string
	Action string
	// Status is Compliant, Corrected, Drifted, Success, Failed, TimedOut,
	// Skipped or Cancelled.
	Status Status
	// SkipReason says why a Skipped step was skipped (SkipPrecondition,
	// SkipExited, SkipNoCheck, SkipStopped, SkipCancelled, or another word of the
	// caller's, which counts as not compliant); it is required for Skipped
	// and must be empty otherwise.
	SkipReason string
	// Drifted is true when the step's check found the host out of state,
	// whatever happened next (Corrected, Drifted, or a failed apply).
	Drifted bool
	// Differ says what differed: a unified diff, "mode 0644 -> 0600", …
	Differ   string
	ExitCode *int // nil when no process exit code applies
	// Stdout and Stderr are kept up to MaxOutput bytes each; see
	// TruncateOutput. The Truncated flags are set by the journal.
	Stdout          string
	Stderr          string
	StdoutTruncated bool
	StderrTruncated bool
	Duration        time.Duration
	Error           string
	// StartedAt is when the step began; zero means "at the start of its
	// host execution". Drift events are dated with it.
	StartedAt time.Time
}

// Holder identifies who holds a lease: a process (PID on Hostname) and the
// run it is doing. Two holders are the same only if all three match.
type Holder struct {
	PID      int
	Hostname string
	RunID    int64
	// Node is the holder's node name (Options.Node), which other nodes
	// see; the journal's when empty.
	Node string
}

func (h Holder) String() string {
	if h.Node != "" && h.Node != h.Hostname {
		return fmt.Sprintf("pid %d on %s, node %s (run %d)", h.PID, h.Hostname, h.Node, h.RunID)
	}
	return fmt.Sprintf("pid %d on %s (run %d)", h.PID, h.Hostname, h.RunID)
}

// same reports whether h and o are one holder (the node is only a name).
func (h Holder) same(o Holder) bool {
	return h.PID == o.PID && h.Hostname == o.Hostname && h.RunID == o.RunID
}

// LastRun is the latest execution of an association on one host, for the
// scheduler.
type LastRun struct {
	RunID     int64
	Mode      Mode
	StartedAt time.Time
	Status    Status // host execution status
	// DefHash is what the execution ran with; it is empty for an execution
	// that never completed (Interrupted), so that comparing hashes makes
	// the association due again.
	DefHash string
}

// StatusFilter narrows Status; empty fields match everything.
type StatusFilter struct {
	Association string
	Host        string
	Severity    string
}

// ComplianceRow is the compliance of one association on one host, from its
// latest execution there (of any mode other than exec).
type ComplianceRow struct {
	Association string
	Host        string
	Compliance  string // Compliant or NonCompliant
	Severity    string
	RunID       int64
	Mode        Mode
	HostStatus  Status
	Error       string
	At          time.Time // start of that execution
	// Steps, DriftedSteps (found out of state, corrected or not),
	// CorrectedSteps and FailedSteps (Failed or TimedOut) count the steps
	// of that execution.
	Steps          int
	DriftedSteps   int
	CorrectedSteps int
	FailedSteps    int
}

// HistoryFilter narrows History. Host selects runs that touched that host.
// Limit <= 0 means no limit.
type HistoryFilter struct {
	Association string
	Host        string
	Limit       int
}

// DriftFilter narrows Drift. A zero Since means from the beginning.
type DriftFilter struct {
	Since       time.Time
	Association string
	Host        string
}

// DriftEvent is one step found out of state on one host.
type DriftEvent struct {
	RunID       int64
	Association string
	Mode        Mode
	Host        string
	StepIndex   int
	Step        string
	Action      string
	At          time.Time
	Differ      string
	Status      Status // the step status: Corrected, Drifted, Failed, …
	Outcome     string // OutcomeCorrected, OutcomeDetected or OutcomeFailed
	Error       string
}

var (
	runTriggers = set(TriggerManual, TriggerSchedule, TriggerChange, TriggerNewTarget, TriggerExec)
	runModes    = set(ModeApply, ModeCheck, ModeExec)
	severities  = set(SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityUnspecified)
	// Statuses FinishRun accepts.
	runFinalStatuses = set(StatusSuccess, StatusFailed, StatusTimedOut, StatusCancelled, StatusInterrupted)
	// Statuses RecordHost accepts.
	hostStatuses = set(StatusSuccess, StatusFailed, StatusTimedOut, StatusUnreachable, StatusSkipped, StatusCancelled)
	stepStatuses = set(StatusCompliant, StatusCorrected, StatusDrifted, StatusSuccess,
		StatusFailed, StatusTimedOut, StatusSkipped, StatusCancelled)
	// Skip reasons that leave the host compliant.
	compliantSkips = set(SkipPrecondition, SkipExited, SkipNoCheck, SkipNotNotified, SkipWouldRun)
)

func set[T ~string](vs ...T) map[T]bool {
	m := make(map[T]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

// stepCompliant reports whether a step leaves its host compliant.
func stepCompliant(s *StepResult) bool {
	switch s.Status {
	case StatusCompliant, StatusCorrected, StatusSuccess:
		return true
	case StatusSkipped:
		return compliantSkips[s.SkipReason]
	default: // the other values need nothing here
	}
	return false
}

// driftOutcome says what was done about a drifted step.
func driftOutcome(status Status) string {
	switch status {
	case StatusCorrected:
		return OutcomeCorrected
	case StatusDrifted:
		return OutcomeDetected
	default: // the other values need nothing here
	}
	return OutcomeFailed
}

func validateRun(r *Run) error {
	if !runTriggers[r.Trigger] {
		return fmt.Errorf("%w: run trigger %q", ErrInvalid, r.Trigger)
	}
	if !runModes[r.Mode] {
		return fmt.Errorf("%w: run mode %q", ErrInvalid, r.Mode)
	}
	if r.Severity != "" && !severities[r.Severity] {
		return fmt.Errorf("%w: severity %q", ErrInvalid, r.Severity)
	}
	if r.Mode != ModeExec && r.Association == "" {
		return fmt.Errorf("%w: run without an association", ErrInvalid)
	}
	if r.StartedAt.IsZero() {
		return fmt.Errorf("%w: run without a start time", ErrInvalid)
	}
	return nil
}

func validateHost(h *HostResult) error {
	if h.RunID <= 0 {
		return fmt.Errorf("%w: host result without a run id", ErrInvalid)
	}
	if h.Host == "" {
		return fmt.Errorf("%w: host result without a host", ErrInvalid)
	}
	if !hostStatuses[h.Status] {
		return fmt.Errorf("%w: host %s: status %q", ErrInvalid, h.Host, h.Status)
	}
	seen := make(map[int]bool, len(h.Steps))
	for i := range h.Steps {
		s := &h.Steps[i]
		if seen[s.Index] {
			return fmt.Errorf("%w: host %s: step index %d twice", ErrInvalid, h.Host, s.Index)
		}
		seen[s.Index] = true
		if !stepStatuses[s.Status] {
			return fmt.Errorf("%w: host %s: step %q: status %q", ErrInvalid, h.Host, s.Name, s.Status)
		}
		switch {
		case s.Status == StatusSkipped && s.SkipReason == "":
			return fmt.Errorf("%w: host %s: step %q: skipped without a reason (%s, %s, %s, %s…)",
				ErrInvalid, h.Host, s.Name, SkipPrecondition, SkipExited, SkipNoCheck, SkipStopped)
		case s.Status != StatusSkipped && s.SkipReason != "":
			return fmt.Errorf("%w: host %s: step %q: skip reason on a %s step", ErrInvalid, h.Host, s.Name, s.Status)
		}
	}
	return nil
}
