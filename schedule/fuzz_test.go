package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var fuzzSeeds = []string{
	"rate(1 minute)", "rate(30 minutes)", "rate(1 hour)", "rate(7 days)", "rate(1 hours)", "rate(5 minute)",
	"rate(0 minutes)", "rate(9223372036854775807 days)", "rate(5", "rate()",
	"cron(0/30 * * * ? *)", "cron(15 10 * * ? *)", "cron(0 18 ? * MON-FRI *)", "cron(0 8 1 * ? *)",
	"cron(0/10 * ? * MON-FRI *)", "cron(0 9 ? * TUE#3 *)", "cron(0 9 ? * 3#3 *)", "cron(0 0 L * ? *)",
	"cron(0 0 ? * 6L *)", "cron(0 0 15W * ? *)", "cron(0 0 LW * ? *)", "cron(0 0 ? * SUN *)", "cron(0 0 ? * 1 *)",
	"cron(0 0 1 1 ? 2027)", "cron(0 0 29 2 ? *)", "cron(0 12 ? * FRI-SUN *)", "cron(0 0 ? * L *)",
	"cron(0 10 * * MON *)", "cron(0 0 ? * 0 *)", "cron(0 0 1 1 ? 2200)", "cron(0 0 1 JANN ? *)", "cron(0 0 30 2 ? *)",
	"cron(*/90 * * * ? *)", "cron(0 0 ? * TUE#6 *)", "cron(50-10/7 22-2 1W,L ? * 2026/3)",
	"*/30 * * * *", "0 9 * * 1-5", "0 0 13 * FRI", "0 0 * * 7-2", "0 22-1 * * *", "0 0 29 2 *", "0 0 * * 8",
	"@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@reboot",
	"at(2026-12-01T03:00:00)", "at(2026-03-29T02:30:00)", "at(2026-10-25T02:30:00)", "at(2026-12-01T03:00:00+05:30)",
	"at(2026-02-30T03:00:00)", "", " ", "(", ")", "cron(", "at(", "@", "\xff\xfe", "cron(ſ * * * ? *)",
}

// FuzzParse checks that Parse never panics, that errors point inside the
// expression, and that a parsed schedule's Next moves forward, in UTC and
// in a zone with daylight saving time.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		f.Fatalf("load Europe/Berlin: %v", err)
	}
	froms := []time.Time{
		time.Date(2026, 11, 25, 10, 7, 13, 5, time.UTC),
		time.Date(2026, 3, 29, 0, 59, 0, 0, time.UTC),  // just before the Berlin spring gap
		time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), // inside the first Berlin 02:xx
		time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), // inside the repeated one
		time.Date(2028, 2, 28, 23, 59, 59, 0, time.UTC),
		time.Date(2199, 12, 31, 23, 0, 0, 0, time.UTC),
		{},
	}
	f.Fuzz(func(t *testing.T, expr string) {
		for _, tz := range []*time.Location{time.UTC, loc} {
			s, err := Parse(expr, tz)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("Parse(%q): error %T, want *Error", expr, err)
				}
				if e.Offset < 0 || e.Offset > len(expr) || e.Msg == "" {
					t.Fatalf("Parse(%q): offset %d of %d, msg %q", expr, e.Offset, len(expr), e.Msg)
				}
				continue
			}
			if s.String() != strings.Trim(expr, space) {
				t.Fatalf("Parse(%q).String() = %q", expr, s.String())
			}
			if k := s.Kind(); k != KindRate && k != KindCron && k != KindAt {
				t.Fatalf("Parse(%q).Kind() = %q", expr, k)
			}
			for _, from := range froms {
				checkNext(t, s, from)
			}
		}
	})
}

// checkNext checks that Next(from) is after from (or zero), in UTC, and
// that the fire after it is later still. For cron it also checks, minute
// by minute over up to a day, that no matching minute was skipped.
func checkNext(t *testing.T, s Schedule, from time.Time) {
	t.Helper()
	n := s.Next(from)
	if n.IsZero() {
		return
	}
	if !n.After(from) || n.Location() != time.UTC {
		t.Fatalf("%s: Next(%v) = %v, not after it (or not UTC)", s, from, n)
	}
	if n2 := s.Next(n); !n2.IsZero() && !n2.After(n) {
		t.Fatalf("%s: Next(%v) = %v, not after it", s, n, n2)
	}
	if s.Kind() == KindRate && (n.Second() != 0 || n.Nanosecond() != 0) {
		t.Fatalf("%s: Next(%v) = %v, not on a minute", s, from, n)
	}
	c, ok := s.(*cron)
	if !ok {
		return
	}
	// On a minute of the zone's clock (old local mean times are not whole
	// minutes off UTC).
	if w := n.In(c.loc); w.Second() != 0 || w.Nanosecond() != 0 {
		t.Fatalf("%s: Next(%v) = %v, not on a minute", s, from, n)
	}
	if !c.matches(n) || !c.firstOccurrence(n) {
		t.Fatalf("%s: Next(%v) = %v, which does not match", s, from, n)
	}
	for m := n.Add(-time.Minute); m.After(from) && n.Sub(m) <= 24*time.Hour; m = m.Add(-time.Minute) {
		if c.matches(m) && c.firstOccurrence(m) {
			t.Fatalf("%s: Next(%v) = %v, but %v matches before it", s, from, n, m)
		}
	}
}

// matches reports whether the wall clock at t, in c's zone, matches every
// field. It reads the fields directly, without the search in Next.
func (c *cron) matches(t time.Time) bool {
	w := t.In(c.loc)
	y, mo, d := w.Date()
	if c.years != nil && (y < minYear || y > maxYear || !c.years.has(y)) {
		return false
	}
	return c.minute&(1<<w.Minute()) != 0 && c.hour&(1<<w.Hour()) != 0 &&
		c.month&(1<<int(mo)) != 0 && c.days(y, int(mo))&(1<<d) != 0
}

// firstOccurrence reports whether t is the first instant with its wall
// clock: not in the second pass of a repeated hour.
func (c *cron) firstOccurrence(t time.Time) bool {
	w := t.In(c.loc)
	for back := time.Minute; back <= 3*time.Hour; back += time.Minute {
		e := t.Add(-back).In(c.loc)
		if e.Year() == w.Year() && e.YearDay() == w.YearDay() && e.Hour() == w.Hour() && e.Minute() == w.Minute() {
			return false
		}
	}
	return true
}
