package schedule

import (
	"fmt"
	"strings"
	"time"
)

// at is at(2026-12-01T03:00:00): one fire time.
type at struct {
	text string
	when time.Time // UTC
}

func (a *at) Next(after time.Time) time.Time {
	if after.Before(a.when) {
		return a.when
	}
	return time.Time{}
}
func (a *at) String() string { return a.text }
func (a *at) Kind() Kind     { return KindAt }

const atHint = "write at(2026-12-01T03:00:00): the date, a T, then hour:minute:second"

// parseAt reads at(YYYY-MM-DDTHH:MM:SS) in tz. The seconds may be left out,
// and a trailing Z or ±hh:mm gives the time in that offset instead of tz.
// A time the clocks skip in tz (a daylight saving gap) is an error; a time
// that occurs twice (when the clocks go back) is its first occurrence.
func parseAt(text, args string, off int, tz *time.Location) (Schedule, error) {
	lead := len(args) - len(strings.TrimLeft(args, space))
	s := strings.TrimRight(args[lead:], space)
	base := off + lead
	if s == "" {
		return nil, &Error{Offset: base, Msg: "at() needs a date and time", Hint: atHint}
	}
	errAt := func(i int, msg string) error {
		return &Error{Offset: base + min(i, len(s)), Msg: msg, Hint: atHint}
	}
	num := func(i, n int, what string, lo, hi int) (int, error) {
		v := 0
		for k := i; k < i+n; k++ {
			if k >= len(s) || !isDigit(s[k]) {
				return 0, errAt(k, fmt.Sprintf("at(): expected the %s as %d digits", what, n))
			}
			v = v*10 + int(s[k]-'0')
		}
		if v < lo || v > hi {
			return 0, errAt(i, fmt.Sprintf("at(): %s %s is out of range %d-%d", what, s[i:i+n], lo, hi))
		}
		return v, nil
	}
	sep := func(i int, c byte, after string) error {
		if i >= len(s) || s[i] != c {
			return errAt(i, fmt.Sprintf("at(): expected %q after the %s", c, after))
		}
		return nil
	}
	var v [6]int
	steps := []struct {
		pos, n  int
		what    string
		lo, hi  int
		sep     byte
		sepName string
	}{
		{0, 4, "year", 0, 9999, '-', "year"},
		{5, 2, "month", 1, 12, '-', "month"},
		{8, 2, "day", 1, 31, 'T', "date"},
		{11, 2, "hour", 0, 23, ':', "hour"},
		{14, 2, "minute", 0, 59, 0, ""},
	}
	for k, st := range steps {
		x, err := num(st.pos, st.n, st.what, st.lo, st.hi)
		if err != nil {
			return nil, err
		}
		v[k] = x
		if st.sep != 0 {
			if err := sep(st.pos+st.n, st.sep, st.sepName); err != nil {
				return nil, err
			}
		}
	}
	i := 16
	if i < len(s) && s[i] == ':' {
		x, err := num(17, 2, "second", 0, 59)
		if err != nil {
			return nil, err
		}
		v[5] = x
		i = 19
	}
	if dim := daysIn(v[0], time.Month(v[1])); v[2] > dim {
		return nil, errAt(8, fmt.Sprintf("at(): %s %04d has %d days", monthNames[v[1]-1], v[0], dim))
	}
	loc := tz
	if i < len(s) {
		switch s[i] {
		case 'Z', 'z':
			loc = time.UTC
			i++
		case '+', '-':
			h, err := num(i+1, 2, "offset hours", 0, 23)
			if err != nil {
				return nil, err
			}
			if err := sep(i+3, ':', "offset hours"); err != nil {
				return nil, err
			}
			m, err := num(i+4, 2, "offset minutes", 0, 59)
			if err != nil {
				return nil, err
			}
			secs := (h*60 + m) * 60
			if s[i] == '-' {
				secs = -secs
			}
			loc = time.FixedZone(s[i:i+6], secs)
			i += 6
		}
		if i < len(s) {
			return nil, errAt(i, "at(): unexpected "+quote(s[i:]))
		}
	}
	t, ok := resolve(v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], loc)
	if !ok {
		return nil, &Error{Offset: base + 11,
			Msg:  fmt.Sprintf("at(): %s does not exist in %s: the clocks skip it for daylight saving time", s[:i], loc),
			Hint: "pick a time outside the skipped hour, or add a UTC offset such as +01:00"}
	}
	return &at{text: text, when: t.UTC()}, nil
}
