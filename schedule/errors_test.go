package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseErrors(t *testing.T) {
	cases := []struct {
		expr   string
		tz     string // "" = UTC
		offset int
		msg    string // substring of Msg
		hint   string // substring of Hint ("" = no check)
	}{
		// rate: AWS's singular and plural rules.
		{"rate(1 hours)", "", 7, "rate(1 hours) needs the singular", "use rate(1 hour)"},
		{"rate(1 minutes)", "", 7, "needs the singular", "use rate(1 minute)"},
		{"rate(1 days)", "", 7, "needs the singular", "use rate(1 day)"},
		{"rate(5 minute)", "", 7, "rate(5 minute) needs the plural", "use rate(5 minutes)"},
		{"rate(2 day)", "", 7, "needs the plural", "use rate(2 days)"},
		{"  rate(1 hours)", "", 9, "needs the singular", "use rate(1 hour)"},
		{"rate(0 minutes)", "", 5, "at least 1", ""},
		{"rate(five minutes)", "", 5, "whole number", "rate(30 minutes)"},
		{"rate(-5 minutes)", "", 5, "whole number", ""},
		{"rate(99999999999999999999 days)", "", 5, "too large", ""},
		{"rate(9999999999 days)", "", 5, "too long", ""},
		{"rate(5 mins)", "", 7, `unknown rate unit "mins"`, "use rate(5 minutes)"},
		{"rate(1 h)", "", 7, "unknown rate unit", "use rate(1 hour)"},
		{"rate(2 weeks)", "", 7, "no weeks", "rate(14 days)"},
		{"rate(30 seconds)", "", 8, "shorter than a minute", "rate(1 minute)"},
		{"rate(5 fortnights)", "", 7, "unknown rate unit", "rate(30 minutes)"},
		{"rate(5)", "", 6, "needs a unit", "rate(5 minutes)"},
		{"rate()", "", 5, "needs a number and a unit", ""},
		{"rate(5 minutes now)", "", 15, `unexpected "now"`, ""},
		{"rate(5 minutes", "", 14, `missing ")"`, ""},
		{"rate(5 (minutes))", "", 7, `unexpected "("`, ""},
		{"rate(5 minutes)x", "", 15, `unexpected "x" after rate(...)`, ""},

		// AWS cron: the ? rule.
		{"cron(0 10 * * MON *)", "", 10, "AWS cron needs ? in day-of-month or day-of-week", "cron(0 10 ? * MON *)"},
		{"cron(0 10 * * * *)", "", 14, "needs ? in day-of-month or day-of-week", "cron(0 10 * * ? *)"},
		{"cron(0 10 1 * MON *)", "", 10, "needs ? in day-of-month or day-of-week", "cron(0 10 1 * ? *)"},
		{"cron(0 10 ? * ? *)", "", 14, "? in only one", "cron(0 10 ? * * *)"},
		{"cron(0 ? * * ? *)", "", 7, "? is only allowed in day-of-month and day-of-week", "use * for every hour"},
		{"cron(0 0 1,? * ? *)", "", 11, "? must stand alone", ""},
		// Field counts.
		{"cron(0 10 * * ?)", "", 15, "six fields", "cron(0 10 * * ? *)"},
		{"cron(0 0 10 * * ? *)", "", 5, "six fields", "drop the seconds"},
		{"cron(0 0 10 * * ? * *)", "", 18, "got 8", ""},
		{"cron()", "", 5, "got 0", ""},
		{"0 0 * * ? *", "", 10, "five fields", "cron(0 0 * * ? *)"},
		{"0 0 * *", "", 7, "five fields", ""},
		// Names.
		{"cron(0 0 1 FOO ? *)", "", 11, `unknown month name "FOO"`, "JAN FEB MAR"},
		{"cron(0 0 1 JANN ? *)", "", 11, "JAN, not JANN", "use JAN"},
		{"cron(0 0 1 JAN-FOO ? *)", "", 15, `unknown month name "FOO"`, ""},
		{"cron(0 0 ? * FUN *)", "", 13, `unknown day-of-week name "FUN"`, "SUN MON TUE"},
		{"cron(0 0 ? * MONDAY *)", "", 13, "MON, not MONDAY", "use MON"},
		{"cron(0 MON ? * * *)", "", 7, `hour takes numbers, not "MON"`, ""},
		// Ranges; day of week 0 in the AWS form.
		{"cron(0 0 ? * 0 *)", "", 13, "day-of-week 0 is out of range 1-7", "1 = SUN"},
		{"cron(0 0 ? * 0-4 *)", "", 13, "day-of-week 0 is out of range 1-7", "1 = SUN"},
		{"cron(0 0 ? * 1-8 *)", "", 15, "day-of-week 8 is out of range 1-7", ""},
		{"cron(0 0 ? * 0#2 *)", "", 13, "day-of-week 0 is out of range", ""},
		{"0 0 * * 8", "", 8, "day-of-week 8 is out of range 0-7", "0 and 7 are both Sunday"},
		{"cron(0 0 1 1 ? 2200)", "", 15, "year 2200 is out of range 1970-2199", "1970 to 2199"},
		{"cron(0 0 1 1 ? 1969)", "", 15, "year 1969 is out of range 1970-2199", ""},
		{"cron(0 0 1 1 ? 2027-20000)", "", 20, "year 20000 is out of range", ""},
		{"cron(60 0 * * ? *)", "", 5, "minute 60 is out of range 0-59", ""},
		{"cron(0 24 * * ? *)", "", 7, "hour 24 is out of range 0-23", ""},
		{"cron(0 0 32 * ? *)", "", 9, "day-of-month 32 is out of range 1-31", ""},
		{"cron(0 0 0 * ? *)", "", 9, "day-of-month 0 is out of range 1-31", ""},
		{"cron(0 0 * 13 ? *)", "", 11, "month 13 is out of range 1-12", ""},
		{"cron(0 0 5-1 * ? *)", "", 9, "range 5-1 runs backwards", "write 5-31,1"},
		{"cron(0 0 1 1 ? 2030-2027)", "", 15, "range 2030-2027 runs backwards", ""},
		// Steps.
		{"cron(*/90 * * * ? *)", "", 7, "step 90 is larger than the minute range", "rate(90 minutes)"},
		{"cron(0 */36 * * ? *)", "", 9, "step 36", "rate(36 hours)"},
		{"cron(*/0 * * * ? *)", "", 7, "at least 1", ""},
		{"cron(0/ * * * ? *)", "", 7, "expected a number after /", ""},
		// L, W, #.
		{"cron(0 0 ? * TUE#6 *)", "", 17, "week number must be 1-5", "TUE#2 is the second Tuesday"},
		{"cron(0 0 ? * TUE#0 *)", "", 17, "week number must be 1-5", ""},
		{"cron(0 0 ? * TUE# *)", "", 17, "expected a week number", ""},
		{"cron(0 0 ? * 2W *)", "", 14, "W (nearest weekday) is only allowed in day-of-month", ""},
		{"cron(0 0 1-5W * ? *)", "", 12, "W follows a single value", ""},
		{"cron(0 0 L-3 * ? *)", "", 9, "L stands alone", ""},
		{"cron(0 0 5L * ? *)", "", 10, "5L is not allowed in day-of-month", "L alone"},
		{"cron(0 0 1#2 * ? *)", "", 10, "# (nth weekday of the month) is only allowed in day-of-week", ""},
		{"cron(L 0 * * ? *)", "", 5, "L is only allowed in day-of-month and day-of-week", ""},
		{"cron(0 0 ? * 5L-6 *)", "", 15, `unexpected "-6"`, ""},
		// Other syntax.
		{"cron(0 0 1,,2 * ? *)", "", 11, "empty item", ""},
		{"cron(1.5 * * * ? *)", "", 6, `unexpected ".5"`, ""},
		{"cron(0 0 1 1 ? *", "", 16, `missing ")"`, ""},
		// Never fires.
		{"cron(0 0 30 2 ? *)", "", 9, "never fires", ""},
		{"cron(0 0 31 4,6,9,11 ? *)", "", 9, "never fires", ""},
		{"cron(0 0 29 2 ? 2027)", "", 16, "never fires", ""},
		{"0 0 30 2 *", "", 4, "never fires", ""},
		// Other forms.
		{"", "", 0, "empty schedule", "rate(30 minutes)"},
		{"   ", "", 0, "empty schedule", ""},
		{"@reboot", "", 0, `unknown schedule "@reboot"`, "@daily"},
		{"@every 5m", "", 0, "unknown schedule", "rate("},
		{"every(5 minutes)", "", 0, `unknown schedule "every(...)"`, "rate(...)"},
		{"0 0 (1) * *", "", 4, `unexpected "("`, ""},
		// at().
		{"at()", "", 3, "needs a date and time", "at(2026-12-01T03:00:00)"},
		{"at(2026-13-01T03:00:00)", "", 8, "month 13 is out of range 1-12", ""},
		{"at(2026-02-30T03:00:00)", "", 11, "FEB 2026 has 28 days", ""},
		{"at(2026-12-01 03:00:00)", "", 13, `expected 'T' after the date`, ""},
		{"at(2026-12-01T25:00:00)", "", 14, "hour 25 is out of range", ""},
		{"at(2026-12-01T03:00:61)", "", 20, "second 61 is out of range", ""},
		{"at(26-12-01T03:00:00)", "", 5, "expected the year as 4 digits", ""},
		{"at(2026-12-01T03:00:00X)", "", 22, `unexpected "X"`, ""},
		{"at(2026-12-01T03:00:00+1:00)", "", 24, "offset hours as 2 digits", ""},
		{"at(2026-03-29T02:30:00)", "Europe/Berlin", 14, "does not exist in Europe/Berlin", "outside the skipped hour"},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			var tz *time.Location
			if c.tz != "" {
				tz = berlin(t)
			}
			s, err := Parse(c.expr, tz)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want an error", c.expr, s)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error %T %v, want *Error", c.expr, err, err)
			}
			if e.Offset != c.offset || !strings.Contains(e.Msg, c.msg) || !strings.Contains(e.Hint, c.hint) {
				t.Errorf("Parse(%q):\n got offset %d, %q, hint %q\nwant offset %d, %q, hint containing %q",
					c.expr, e.Offset, e.Msg, e.Hint, c.offset, c.msg, c.hint)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	_, err := Parse("rate(1 hours)", nil)
	if got, want := err.Error(), "rate(1 hours) needs the singular\n\thint: use rate(1 hour)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	_, err = Parse("rate(0 minutes)", nil)
	if got := err.Error(); strings.Contains(got, "hint") == (err.(*Error).Hint == "") {
		t.Errorf("Error() = %q, hint %q", got, err.(*Error).Hint)
	}
	if got, want := (&Error{Msg: "bad"}).Error(), "bad"; got != want {
		t.Errorf("Error() without a hint = %q, want %q", got, want)
	}
}

// Valid forms that a strict reading might refuse.
func TestParseAccepts(t *testing.T) {
	for _, expr := range []string{
		"rate(1 minute)", "rate(1 hour)", "rate(1 day)", "rate(2 hours)", "RATE(5 MINUTES)", "rate( 5   minutes )",
		"cron(0/30 * * * ? *)", "cron(0 0 ? * SUN-SAT *)", "cron(0 0 ? * 1-7 *)", "cron(0 0 1,15,L * ? *)",
		"cron(0 0 ? * MON#1,FRI#5 *)", "cron(0 0 ? * 2L,6L *)", "cron(0 0 LW * ? *)", "cron(0 0 ? * L *)",
		"cron(0 0 1 1 ? 1970)", "cron(0 0 1 1 ? 2199)", "cron(0 0 1 1 ? 1970-2199/10)",
		"cron(*/60 * * * ? *)", "cron(0 0 ? NOV-FEB * *)",
		"0 0 * * 0-7", "0 0 * * 7-2", "0 0 * * 7", "*/5 9-17 * * MON-FRI", "0 0 ? * 1", "0 0 1 * ?",
		"@daily", "@DAILY", "at(2026-12-01T03:00:00)", "at(2026-12-01T03:00:00-08:00)",
	} {
		if _, err := Parse(expr, nil); err != nil {
			t.Errorf("Parse(%q): %v", expr, err)
		}
	}
}
