package schedule

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// rate is rate(N unit): it fires N units after the start of the minute in
// which the last run started. Schedules are kept to the minute, as cron
// and the daemon's ticks are: a run that started at 22:05:00.4 (a tick at
// 22:05 and the time to reach the host) makes rate(1 minute) fire at
// 22:06:00, the next tick, not 0.4 s after it, which only the tick of
// 22:07 would see. Units are fixed durations, a day being 24 hours
// whatever the time zone does, as in EventBridge Scheduler.
type rate struct {
	text  string
	every time.Duration
}

func (r *rate) Next(after time.Time) time.Time {
	return after.Truncate(time.Minute).Add(r.every).UTC()
}
func (r *rate) String() string { return r.text }
func (r *rate) Kind() Kind     { return KindRate }

var rateUnits = map[string]time.Duration{
	"minute": time.Minute, "minutes": time.Minute,
	"hour": time.Hour, "hours": time.Hour,
	"day": 24 * time.Hour, "days": 24 * time.Hour,
}

// rateAliases maps units people write by habit to the unit rate() wants.
var rateAliases = map[string]string{
	"m": "minute", "min": "minute", "mins": "minute",
	"h": "hour", "hr": "hour", "hrs": "hour",
	"d": "day",
}

func parseRate(text, args string, off int) (Schedule, error) {
	fs, offs := fields(args, off)
	example := "for example rate(30 minutes), rate(1 hour) or rate(7 days)"
	if len(fs) == 0 {
		return nil, &Error{Offset: off, Msg: "rate() needs a number and a unit", Hint: example}
	}
	num, numOff := fs[0], offs[0]
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || !isDigit(num[0]) {
		msg := "rate() needs a whole number first, not " + quote(num)
		if len(num) > 0 && isDigit(num[0]) && err != nil && strings.Trim(num, "0123456789") == "" {
			msg = "rate value " + num + " is too large"
		}
		return nil, &Error{Offset: numOff, Msg: msg, Hint: example}
	}
	if n < 1 {
		return nil, &Error{Offset: numOff, Msg: "rate value must be at least 1", Hint: example}
	}
	if len(fs) == 1 {
		return nil, &Error{Offset: offs[0] + len(num), Msg: "rate() needs a unit after " + num + ": minutes, hours or days",
			Hint: "rate(" + num + " " + unitFor("minute", n) + ")"}
	}
	if len(fs) > 2 {
		return nil, &Error{Offset: offs[2], Msg: "unexpected " + quote(fs[2]) + " in rate()", Hint: example}
	}
	unit, unitOff := strings.ToLower(fs[1]), offs[1]
	d, ok := rateUnits[unit]
	if !ok {
		base := strings.TrimSuffix(unit, "s")
		switch {
		case rateAliases[unit] != "":
			base = rateAliases[unit]
		case base == "second" || base == "sec":
			return nil, &Error{Offset: unitOff, Msg: "rate() can't be shorter than a minute",
				Hint: "the shortest is rate(1 minute)"}
		case base == "week" && n <= math.MaxInt64/7:
			return nil, &Error{Offset: unitOff, Msg: "rate() has no weeks",
				Hint: fmt.Sprintf("use rate(%d days)", 7*n)}
		}
		msg := "unknown rate unit " + quote(fs[1]) + " (expected minute(s), hour(s) or day(s))"
		if _, ok := rateUnits[base]; ok {
			return nil, &Error{Offset: unitOff, Msg: msg, Hint: "use rate(" + num + " " + unitFor(base, n) + ")"}
		}
		return nil, &Error{Offset: unitOff, Msg: msg, Hint: example}
	}
	if want := unitFor(strings.TrimSuffix(unit, "s"), n); unit != want {
		msg := "rate(" + num + " " + fs[1] + ") needs the plural"
		if n == 1 {
			msg = "rate(1 " + fs[1] + ") needs the singular"
		}
		return nil, &Error{Offset: unitOff, Msg: msg, Hint: "use rate(" + num + " " + want + ")"}
	}
	if n > math.MaxInt64/int64(d) {
		return nil, &Error{Offset: numOff, Msg: "rate(" + num + " " + fs[1] + ") is too long"}
	}
	return &rate{text: text, every: time.Duration(n) * d}, nil
}

// unitFor returns the singular unit for 1 and the plural for more, as AWS
// wants.
func unitFor(singular string, n int64) string {
	if n == 1 {
		return singular
	}
	return singular + "s"
}
