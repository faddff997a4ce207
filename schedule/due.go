package schedule

import "time"

// Reason says why an association is due on a host. The values are the
// journal's run triggers.
type Reason string

// Reasons. The empty Reason means not due.
const (
	ReasonNewTarget Reason = "new-target"
	ReasonChange    Reason = "change"
	ReasonSchedule  Reason = "schedule"
)

// HostState is what the journal knows of an association on one host.
type HostState struct {
	Ran       bool      // it has run there before
	LastStart time.Time // when its last run there started
	LastHash  string    // the content hash of that run
}

// Input describes an association at the moment of deciding.
type Input struct {
	Schedule  Schedule  // nil when the association has none
	CronOnly  bool      // apply_only_at_cron_interval
	Hash      string    // the content hash now: definition, document, resolved parameters
	FirstSeen time.Time // when driftless first saw the association; zero is taken as Now
	Now       time.Time
}

// Due decides whether an association must run on a host now (docs/schedules.md):
//
//   - it never ran there: ReasonNewTarget;
//   - its content hash changed since the last run there: ReasonChange;
//   - its schedule fired since the start of the last run there:
//     ReasonSchedule. Fire times missed while nothing ran are not
//     back-filled: one run covers them all.
//
// With CronOnly only the schedule makes it due, and on a host where it
// never ran fire times count from FirstSeen. Without a schedule only the
// first two apply. An at() schedule that has run at or after its time is
// never due again, whatever changes.
func Due(in Input, h HostState) (Reason, bool) {
	if in.Schedule != nil && in.Schedule.Kind() == KindAt && h.Ran && in.Schedule.Next(h.LastStart).IsZero() {
		return "", false
	}
	if !in.CronOnly {
		if !h.Ran {
			return ReasonNewTarget, true
		}
		if h.LastHash != in.Hash {
			return ReasonChange, true
		}
	}
	if fire := NextFire(in, h); !fire.IsZero() && !fire.After(in.Now) {
		return ReasonSchedule, true
	}
	return "", false
}

// NextFire returns the first fire time of the schedule after the start of
// the last run on the host (after FirstSeen when it never ran there), for
// `driftless schedule`. A time at or before in.Now means the schedule has
// already made the association due; the zero time means the schedule will
// not make it due again (no schedule, a spent at() or year field).
func NextFire(in Input, h HostState) time.Time {
	if in.Schedule == nil {
		return time.Time{}
	}
	from := h.LastStart
	if !h.Ran {
		from = in.FirstSeen
		if from.IsZero() {
			from = in.Now
		}
	}
	return in.Schedule.Next(from)
}
