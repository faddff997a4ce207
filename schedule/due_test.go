package schedule

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDue(t *testing.T) {
	now := utc(t, "2026-11-25T10:00")
	rate30 := mustParse(t, "rate(30 minutes)", nil)
	daily9 := mustParse(t, "cron(0 9 * * ? *)", nil)
	once := mustParse(t, "at(2026-11-25T09:30:00)", nil)
	ran := func(start string, hash string) HostState {
		return HostState{Ran: true, LastStart: utc(t, start), LastHash: hash}
	}
	never := HostState{}

	cases := []struct {
		name      string
		sched     Schedule
		cronOnly  bool
		firstSeen string // "" = zero
		host      HostState
		hash      string // current hash; "" = "h1"
		want      Reason
		next      string // NextFire, UTC; "" = zero
	}{
		// Never ran on the host.
		{"never ran, rate", rate30, false, "2026-11-20T00:00", never, "", ReasonNewTarget, "2026-11-20T00:30"},
		{"never ran, cron", daily9, false, "2026-11-25T09:59", never, "", ReasonNewTarget, "2026-11-26T09:00"},
		{"never ran, no schedule", nil, false, "2026-11-25T09:59", never, "", ReasonNewTarget, ""},
		// Changed content.
		{"changed hash", daily9, false, "", ran("2026-11-25T09:30", "h0"), "", ReasonChange, "2026-11-26T09:00"},
		{"changed hash, schedule fired too", daily9, false, "", ran("2026-11-24T09:30", "h0"), "", ReasonChange, "2026-11-25T09:00"},
		{"changed hash, no schedule", nil, false, "", ran("2026-11-01T00:00", "h0"), "", ReasonChange, ""},
		{"same hash, no schedule", nil, false, "", ran("2020-01-01T00:00", "h1"), "", "", ""},
		// rate: N after the start of the last run.
		{"rate elapsed", rate30, false, "", ran("2026-11-25T09:00", "h1"), "", ReasonSchedule, "2026-11-25T09:30"},
		{"rate elapsed exactly", rate30, false, "", ran("2026-11-25T09:30", "h1"), "", ReasonSchedule, "2026-11-25T10:00"},
		{"rate not elapsed", rate30, false, "", ran("2026-11-25T09:31", "h1"), "", "", "2026-11-25T10:01"},
		// cron: a fire time in (LastStart, Now].
		{"cron fired", daily9, false, "", ran("2026-11-24T09:00:05", "h1"), "", ReasonSchedule, "2026-11-25T09:00"},
		{"cron not fired", daily9, false, "", ran("2026-11-25T09:00:05", "h1"), "", "", "2026-11-26T09:00"},
		{"cron fire at the last start", daily9, false, "", ran("2026-11-25T09:00", "h1"), "", "", "2026-11-26T09:00"},
		{"cron fired long ago", daily9, false, "", ran("2026-10-01T12:00", "h1"), "", ReasonSchedule, "2026-10-02T09:00"},
		// apply_only_at_cron_interval: only the schedule, from FirstSeen.
		{"cron only, never ran, fired since first seen", daily9, true, "2026-11-25T08:00", never, "", ReasonSchedule, "2026-11-25T09:00"},
		{"cron only, never ran, not fired since first seen", daily9, true, "2026-11-25T09:30", never, "", "", "2026-11-26T09:00"},
		{"cron only, never ran, fire at first seen", daily9, true, "2026-11-25T09:00", never, "", "", "2026-11-26T09:00"},
		{"cron only, never ran, first seen unknown", daily9, true, "", never, "", "", "2026-11-26T09:00"},
		{"cron only, rate from first seen", rate30, true, "2026-11-25T09:50", never, "", "", "2026-11-25T10:20"},
		{"cron only, rate elapsed since first seen", rate30, true, "2026-11-25T09:20", never, "", ReasonSchedule, "2026-11-25T09:50"},
		{"cron only, changed hash, not fired", daily9, true, "", ran("2026-11-25T09:30", "h0"), "", "", "2026-11-26T09:00"},
		{"cron only, changed hash, fired", daily9, true, "", ran("2026-11-24T09:30", "h0"), "", ReasonSchedule, "2026-11-25T09:00"},
		{"cron only, ran, fired", daily9, true, "", ran("2026-11-24T09:30", "h1"), "", ReasonSchedule, "2026-11-25T09:00"},
		// at(): once.
		{"at, never ran", once, false, "2026-11-01T00:00", never, "", ReasonNewTarget, "2026-11-25T09:30"},
		{"at, ran before its time", once, false, "", ran("2026-11-25T08:00", "h1"), "", ReasonSchedule, "2026-11-25T09:30"},
		{"at, ran after its time", once, false, "", ran("2026-11-25T09:30:10", "h1"), "", "", ""},
		{"at, ran at its time", once, false, "", ran("2026-11-25T09:30", "h1"), "", "", ""},
		{"at, ran after its time, changed since", once, false, "", ran("2026-11-25T09:30:10", "h0"), "", "", ""},
		{"at, ran before its time, changed since", once, false, "", ran("2026-11-25T08:00", "h0"), "", ReasonChange, "2026-11-25T09:30"},
		{"at, cron only, first seen before", once, true, "2026-11-25T09:00", never, "", ReasonSchedule, "2026-11-25T09:30"},
		{"at, cron only, first seen after", once, true, "2026-11-25T09:45", never, "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := Input{Schedule: c.sched, CronOnly: c.cronOnly, Hash: "h1", Now: now}
			if c.hash != "" {
				in.Hash = c.hash
			}
			if c.firstSeen != "" {
				in.FirstSeen = utc(t, c.firstSeen)
			}
			reason, due := Due(in, c.host)
			if reason != c.want || due != (c.want != "") {
				t.Errorf("Due = %q, %v; want %q, %v", reason, due, c.want, c.want != "")
			}
			next := NextFire(in, c.host)
			var want time.Time
			if c.next != "" {
				want = utc(t, c.next)
			}
			if !next.Equal(want) {
				t.Errorf("NextFire = %v, want %v", next, want)
			}
			// Due by schedule exactly when NextFire has come.
			if reason == ReasonSchedule && (next.IsZero() || next.After(now)) {
				t.Errorf("due by schedule but NextFire = %v", next)
			}
		})
	}
}

// A scheduler that ticks every minute, with a two-day outage: the fire
// times missed meanwhile make one run, not three.
func TestDueNoBackfill(t *testing.T) {
	s := mustParse(t, "cron(0 9 * * ? *)", nil)
	h := HostState{Ran: true, LastStart: utc(t, "2026-11-01T09:00:30"), LastHash: "h"}
	outageFrom, outageTo := utc(t, "2026-11-02T08:00"), utc(t, "2026-11-04T12:00")
	var runs []string
	for now := utc(t, "2026-11-01T09:01"); now.Before(utc(t, "2026-11-07T00:00")); now = now.Add(time.Minute) {
		if !now.Before(outageFrom) && now.Before(outageTo) {
			continue
		}
		reason, due := Due(Input{Schedule: s, Hash: "h", Now: now}, h)
		if !due {
			continue
		}
		if reason != ReasonSchedule {
			t.Fatalf("%v: reason %q, want schedule", now, reason)
		}
		runs = append(runs, now.Format("2006-01-02T15:04"))
		h.LastStart = now
	}
	want := []string{"2026-11-04T12:00", "2026-11-05T09:00", "2026-11-06T09:00"}
	if !slices.Equal(runs, want) {
		t.Errorf("runs %v, want %v", runs, want)
	}
}

// rate() counts from the start of the last run, so a slow tick shifts
// later runs rather than making them pile up.
func TestDueRateFromLastStart(t *testing.T) {
	s := mustParse(t, "rate(1 hour)", nil)
	h := HostState{Ran: true, LastStart: utc(t, "2026-11-25T10:00"), LastHash: "h"}
	var runs []string
	for _, tick := range []string{"2026-11-25T10:30", "2026-11-25T11:00", "2026-11-25T11:05", "2026-11-25T12:00", "2026-11-25T12:05", "2026-11-25T15:00", "2026-11-25T15:30"} {
		now := utc(t, tick)
		if _, due := Due(Input{Schedule: s, Hash: "h", Now: now}, h); due {
			runs = append(runs, tick)
			h.LastStart = now
		}
	}
	want := "2026-11-25T11:00 2026-11-25T12:00 2026-11-25T15:00"
	if got := strings.Join(runs, " "); got != want {
		t.Errorf("runs %s, want %s", got, want)
	}
}

// Schedules are kept to the minute: a run that started a little after a
// tick does not push rate(N) past the tick N minutes later.
func TestDueRateMinuteBoundaries(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		sched, last, now string
		due              bool
		next             string
	}{
		{"rate(1 minute)", "2026-12-01T22:05:00.4Z", "2026-12-01T22:06:00Z", true, "2026-12-01T22:06:00Z"},
		{"rate(1 minute)", "2026-12-01T22:05:00.4Z", "2026-12-01T22:05:59.9Z", false, "2026-12-01T22:06:00Z"},
		{"rate(1 minute)", "2026-12-01T22:05:59.9Z", "2026-12-01T22:06:00Z", true, "2026-12-01T22:06:00Z"},
		{"rate(1 minute)", "2026-12-01T22:05:00Z", "2026-12-01T22:06:00Z", true, "2026-12-01T22:06:00Z"},
		{"rate(1 minute)", "2026-12-01T22:06:00Z", "2026-12-01T22:06:00.5Z", false, "2026-12-01T22:07:00Z"},
		{"rate(5 minutes)", "2026-12-01T22:05:00.4Z", "2026-12-01T22:09:59.999Z", false, "2026-12-01T22:10:00Z"},
		{"rate(5 minutes)", "2026-12-01T22:05:00.4Z", "2026-12-01T22:10:00Z", true, "2026-12-01T22:10:00Z"},
		{"rate(1 hour)", "2026-12-01T22:05:31Z", "2026-12-01T23:05:00Z", true, "2026-12-01T23:05:00Z"},
		{"rate(1 day)", "2026-12-01T22:05:31Z", "2026-12-02T22:04:59Z", false, "2026-12-02T22:05:00Z"},
		{"* * * * *", "2026-12-01T22:05:00.4Z", "2026-12-01T22:06:00Z", true, "2026-12-01T22:06:00Z"},
		{"* * * * *", "2026-12-01T22:05:00.4Z", "2026-12-01T22:05:59.9Z", false, "2026-12-01T22:06:00Z"},
		{"*/5 * * * *", "2026-12-01T22:05:00.4Z", "2026-12-01T22:10:00Z", true, "2026-12-01T22:10:00Z"},
	}
	for _, c := range cases {
		s := mustParse(t, c.sched, nil)
		h := HostState{Ran: true, LastStart: at(c.last), LastHash: "h"}
		in := Input{Schedule: s, Hash: "h", Now: at(c.now)}
		if _, due := Due(in, h); due != c.due {
			t.Errorf("%s, last run %s, now %s: due %v, want %v", c.sched, c.last, c.now, due, c.due)
		}
		if next := NextFire(in, h); !next.Equal(at(c.next)) {
			t.Errorf("%s, last run %s: next %v, want %s", c.sched, c.last, next, c.next)
		}
	}
}

// A daemon ticks at the start of every minute and its runs start a moment
// later (some much later, behind a slow association): rate(N) runs at
// every Nth tick, never one late.
func TestDueRateEveryNthTick(t *testing.T) {
	for _, n := range []int{1, 2, 5} {
		unit := "minutes"
		if n == 1 {
			unit = "minute"
		}
		s := mustParse(t, "rate("+strconv.Itoa(n)+" "+unit+")", nil)
		start := utc(t, "2026-12-01T22:05")
		h := HostState{}
		var gaps []time.Duration
		var last time.Time
		for i := range 30 {
			tick := start.Add(time.Duration(i) * time.Minute)
			if _, due := Due(Input{Schedule: s, Hash: "h", Now: tick}, h); !due {
				continue
			}
			if !last.IsZero() {
				gaps = append(gaps, tick.Sub(last))
			}
			last = tick
			// 0.4 s to reach the host; every third run waits behind a
			// slow association until the end of the minute.
			latency := 400 * time.Millisecond
			if i%3 == 2 {
				latency = 59*time.Second + 900*time.Millisecond
			}
			h = HostState{Ran: true, LastStart: tick.Add(latency), LastHash: "h"}
		}
		if len(gaps) == 0 {
			t.Fatalf("rate(%d): ran at most once in 30 ticks", n)
		}
		for _, g := range gaps {
			if g != time.Duration(n)*time.Minute {
				t.Errorf("rate(%d): runs %v apart, want every %d minutes (gaps %v)", n, g, n, gaps)
				break
			}
		}
	}
}
