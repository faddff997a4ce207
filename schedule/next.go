package schedule

import (
	"math/bits"
	"time"
)

// wall is a wall-clock minute in the schedule's time zone. Fields may
// overflow (minute 60, day 32); nextWall carries them.
type wall struct{ y, mo, d, h, mi int }

// maxSkips bounds how many matching wall-clock minutes Next may pass over
// because they don't exist (a daylight saving gap, at most a day long in
// any zone's history) or come before after (the repeated hour when clocks
// go back).
const maxSkips = 4 * 24 * 60

// Next returns the first fire time after after. Fields are matched against
// the wall clock in c.loc, as EventBridge Scheduler does: a time the clocks
// skip when they go forward does not fire, and a time that occurs twice
// when they go back fires once, at its first occurrence.
func (c *cron) Next(after time.Time) time.Time {
	a := after.In(c.loc)
	// Every wall minute before a's own fires (at its first occurrence) at
	// or before after, so the search starts there.
	w := wall{a.Year(), int(a.Month()), a.Day(), a.Hour(), a.Minute()}
	for range maxSkips {
		var ok bool
		if w, ok = c.nextWall(w); !ok {
			return time.Time{}
		}
		if t, ok := resolve(w.y, time.Month(w.mo), w.d, w.h, w.mi, 0, c.loc); ok && t.After(after) {
			return t.UTC()
		}
		w.mi++
	}
	return time.Time{}
}

// nextWall returns the first wall minute at or after w that matches every
// field.
func (c *cron) nextWall(w wall) (wall, bool) {
	y, mo, d, h, mi := w.y, w.mo, w.d, w.h, w.mi
	// The calendar repeats every 400 years and parsing rejected what never
	// matches in one cycle, so a five-field line matches within 401 years.
	limit := y + 401
	for {
		if c.years != nil {
			ny := c.years.next(y)
			if ny < 0 {
				return wall{}, false
			}
			if ny != y {
				y, mo, d, h, mi = ny, 1, 1, 0, 0
			}
		} else if y > limit {
			return wall{}, false
		}
		nmo := nextBit(c.month, mo)
		if nmo < 0 {
			y, mo, d, h, mi = y+1, 1, 1, 0, 0
			continue
		}
		if nmo != mo {
			mo, d, h, mi = nmo, 1, 0, 0
		}
		nd := nextBit(c.days(y, mo), d)
		if nd < 0 {
			mo, d, h, mi = mo+1, 1, 0, 0
			continue
		}
		if nd != d {
			d, h, mi = nd, 0, 0
		}
		nh := nextBit(c.hour, h)
		if nh < 0 {
			d, h, mi = d+1, 0, 0
			continue
		}
		if nh != h {
			h, mi = nh, 0
		}
		nmi := nextBit(c.minute, mi)
		if nmi < 0 {
			h, mi = h+1, 0
			continue
		}
		return wall{y, mo, d, h, nmi}, true
	}
}

// nextBit returns the lowest set bit of set at or above from, or -1.
func nextBit(set uint64, from int) int {
	if from > 63 {
		return -1
	}
	set &^= 1<<from - 1
	if set == 0 {
		return -1
	}
	return bits.TrailingZeros64(set)
}

// days returns the days of month mo of year y that match, as bits 1-31.
//
// In the AWS form one of day-of-month and day-of-week is ?, so the other
// decides. In the five-field form, as in Vixie cron, a day matches either
// field when both are restricted, and the restricted one when one is *.
func (c *cron) days(y, mo int) uint64 {
	n := daysIn(y, time.Month(mo))
	all := uint64(1)<<(n+1) - 2
	if c.domStar && c.dowStar {
		return all
	}
	var dom, dow uint64
	if !c.domStar {
		dom = c.dom & all
		if c.lastDay {
			dom |= 1 << n
		}
		if c.lastWeekday {
			dom |= 1 << nearestWeekday(y, mo, n, n)
		}
		for w := c.nearest & all; w != 0; w &= w - 1 {
			dom |= 1 << nearestWeekday(y, mo, bits.TrailingZeros64(w), n)
		}
	}
	if !c.dowStar {
		first := weekday(y, mo, 1)
		for wd := range 7 {
			f := 1 + (wd-first+7)%7 // the first such weekday of the month
			if c.dow&(1<<wd) != 0 {
				for x := f; x <= n; x += 7 {
					dow |= 1 << x
				}
			}
			for k := range 5 {
				if x := f + 7*k; c.nth[wd]&(1<<k) != 0 && x <= n {
					dow |= 1 << x
				}
			}
			if c.lastDow&(1<<wd) != 0 {
				dow |= 1 << (f + 7*((n-f)/7))
			}
		}
	}
	switch {
	case c.domStar:
		return dow
	case c.dowStar:
		return dom
	}
	return dom | dow
}

// nearestWeekday is the Monday-Friday day nearest to day d of a month of n
// days, not leaving the month (Quartz's nW): a Saturday moves to Friday, or
// to Monday the 3rd when it is the 1st; a Sunday moves to Monday, or to
// Friday when it is the last day.
func nearestWeekday(y, mo, d, n int) int {
	switch weekday(y, mo, d) {
	case 6:
		if d == 1 {
			return 3
		}
		return d - 1
	case 0:
		if d == n {
			return d - 2
		}
		return d + 1
	}
	return d
}

// weekday returns the day of the week of a date, 0-6 from Sunday.
func weekday(y, mo, d int) int {
	return int(time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC).Weekday())
}

func daysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	default: // the other values need nothing here
	}
	return 31
}

// resolve returns the first instant at which the wall clock in loc reads
// the given time, and false when it never does (the clocks skip it).
func resolve(y int, mo time.Month, d, h, mi, s int, loc *time.Location) (time.Time, bool) {
	t := time.Date(y, mo, d, h, mi, s, 0, loc)
	if !sameWall(t, y, mo, d, h, mi, s) {
		return time.Time{}, false
	}
	if loc == time.UTC {
		return t, true
	}
	// When the clocks went back shortly before t, the same wall time also
	// occurred in the previous zone period, earlier.
	start, _ := t.ZoneBounds()
	if start.IsZero() {
		return t, true
	}
	_, off := t.Zone()
	_, prev := start.Add(-time.Nanosecond).Zone()
	if prev > off {
		if e := t.Add(time.Duration(off-prev) * time.Second); e.Before(start) && sameWall(e, y, mo, d, h, mi, s) {
			return e, true
		}
	}
	return t, true
}

func sameWall(t time.Time, y int, mo time.Month, d, h, mi, s int) bool {
	ty, tmo, td := t.Date()
	th, tmi, ts := t.Clock()
	return ty == y && tmo == mo && td == d && th == h && tmi == mi && ts == s
}
