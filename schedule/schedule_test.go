package schedule

import (
	"strings"
	"testing"
	"time"
)

// utc parses "2006-01-02T15:04" (or with seconds) as UTC.
func utc(t *testing.T, s string) time.Time {
	t.Helper()
	layout := "2006-01-02T15:04"
	if len(s) > len(layout) {
		layout = "2006-01-02T15:04:05"
	}
	v, err := time.Parse(layout, s)
	if err != nil {
		t.Fatalf("bad test time %q: %v", s, err)
	}
	return v
}

func berlin(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("load Europe/Berlin: %v", err)
	}
	return loc
}

func mustParse(t *testing.T, expr string, tz *time.Location) Schedule {
	t.Helper()
	s, err := Parse(expr, tz)
	if err != nil {
		t.Fatalf("Parse(%q): %v", expr, err)
	}
	return s
}

// fires returns the next n fire times after from, formatted in UTC as
// "2006-01-02T15:04" ("never" for the zero time, and nothing after it).
func fires(s Schedule, from time.Time, n int) []string {
	var out []string
	for range n {
		from = s.Next(from)
		if from.IsZero() {
			return append(out, "never")
		}
		if from.Location() != time.UTC {
			return append(out, "not UTC: "+from.String())
		}
		out = append(out, from.Format("2006-01-02T15:04"))
	}
	return out
}

type nextCase struct {
	expr string
	from string // UTC
	want []string
}

func runNext(t *testing.T, tz *time.Location, cases []nextCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.expr+"@"+c.from, func(t *testing.T) {
			s := mustParse(t, c.expr, tz)
			got := fires(s, utc(t, c.from), len(c.want))
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("Next from %s:\n got %v\nwant %v", c.from, got, c.want)
			}
		})
	}
}

// The examples of AWS's documentation for State Manager and EventBridge
// cron expressions. 2026-11-25 is a Wednesday.
func TestNextAWSExamples(t *testing.T) {
	runNext(t, nil, []nextCase{
		// Every 30 minutes.
		{"cron(0/30 * * * ? *)", "2026-11-25T10:07", []string{"2026-11-25T10:30", "2026-11-25T11:00", "2026-11-25T11:30"}},
		{"cron(0/30 * * * ? *)", "2026-12-31T23:45", []string{"2027-01-01T00:00", "2027-01-01T00:30"}},
		// 10:15 AM UTC every day.
		{"cron(15 10 * * ? *)", "2026-11-25T10:07", []string{"2026-11-25T10:15", "2026-11-26T10:15", "2026-11-27T10:15"}},
		{"cron(15 10 * * ? *)", "2026-11-25T10:15", []string{"2026-11-26T10:15"}},
		// 6 PM Monday to Friday: Friday's run is followed by Monday's.
		{"cron(0 18 ? * MON-FRI *)", "2026-11-27T18:00", []string{"2026-11-30T18:00", "2026-12-01T18:00"}},
		{"cron(0 18 ? * 2-6 *)", "2026-11-27T18:00", []string{"2026-11-30T18:00", "2026-12-01T18:00"}},
		// 8 AM on the first day of the month.
		{"cron(0 8 1 * ? *)", "2026-11-25T10:07", []string{"2026-12-01T08:00", "2027-01-01T08:00", "2027-02-01T08:00"}},
		// Every 10 minutes on weekdays: none over the weekend.
		{"cron(0/10 * ? * MON-FRI *)", "2026-11-27T23:45", []string{"2026-11-27T23:50", "2026-11-30T00:00", "2026-11-30T00:10"}},
		// 9 AM on the third Tuesday; 3 is Tuesday in AWS numbering.
		{"cron(0 9 ? * TUE#3 *)", "2026-11-25T10:07", []string{"2026-12-15T09:00", "2027-01-19T09:00", "2027-02-16T09:00"}},
		{"cron(0 9 ? * 3#3 *)", "2026-11-25T10:07", []string{"2026-12-15T09:00", "2027-01-19T09:00", "2027-02-16T09:00"}},
		// The association example: the second Thursday.
		{"cron(0 0 ? * THU#2 *)", "2026-11-25T10:07", []string{"2026-12-10T00:00", "2027-01-14T00:00"}},
		// A fifth Monday exists only in some months.
		{"cron(0 0 ? * MON#5 *)", "2026-11-25T10:07", []string{"2026-11-30T00:00", "2027-03-29T00:00", "2027-05-31T00:00"}},
		// Last day of the month, leap years included.
		{"cron(0 0 L * ? *)", "2026-11-25T10:07", []string{"2026-11-30T00:00", "2026-12-31T00:00", "2027-01-31T00:00", "2027-02-28T00:00"}},
		{"cron(0 0 L 2 ? *)", "2027-03-01T00:00", []string{"2028-02-29T00:00", "2029-02-28T00:00"}},
		// The last Friday (6 is Friday in AWS numbering).
		{"cron(0 0 ? * 6L *)", "2026-11-25T10:07", []string{"2026-11-27T00:00", "2026-12-25T00:00", "2027-01-29T00:00"}},
		{"cron(0 0 ? * FRIL *)", "2026-11-25T10:07", []string{"2026-11-27T00:00"}},
		// L alone in day-of-week is its last day, Saturday.
		{"cron(0 0 ? * L *)", "2026-11-25T10:07", []string{"2026-11-28T00:00", "2026-12-05T00:00"}},
		// The weekday nearest the 15th: 2027-05-15 is a Saturday, so
		// Friday the 14th; 2027-08-15 a Sunday, so Monday the 16th.
		{"cron(0 0 15W * ? *)", "2027-04-20T00:00", []string{"2027-05-14T00:00", "2027-06-15T00:00", "2027-07-15T00:00", "2027-08-16T00:00"}},
		// 1W when the 1st is a Saturday: Monday the 3rd, not the 31st
		// of the month before.
		{"cron(0 0 1W * ? *)", "2027-04-20T00:00", []string{"2027-05-03T00:00", "2027-06-01T00:00"}},
		// 31W when the 31st is a Sunday: Friday the 29th.
		{"cron(0 0 31W 1 ? *)", "2027-01-01T00:00", []string{"2027-01-29T00:00"}},
		// LW, the last weekday: 2027-01-31 is a Sunday.
		{"cron(0 0 LW * ? *)", "2026-12-31T12:00", []string{"2027-01-29T00:00", "2027-02-26T00:00", "2027-03-31T00:00"}},
		// Weekly on Sunday, by name and by AWS number 1.
		{"cron(0 0 ? * SUN *)", "2026-11-25T10:07", []string{"2026-11-29T00:00", "2026-12-06T00:00"}},
		{"cron(0 0 ? * 1 *)", "2026-11-25T10:07", []string{"2026-11-29T00:00", "2026-12-06T00:00"}},
		{"cron(0 0 ? * 7 *)", "2026-11-25T10:07", []string{"2026-11-28T00:00"}},
		// A weekend that wraps round the end of the AWS week.
		{"cron(0 12 ? * FRI-SUN *)", "2026-11-25T10:07", []string{"2026-11-27T12:00", "2026-11-28T12:00", "2026-11-29T12:00", "2026-12-04T12:00"}},
		{"cron(0 12 ? * 7-1 *)", "2026-11-25T10:07", []string{"2026-11-28T12:00", "2026-11-29T12:00", "2026-12-05T12:00"}},
		// Year field: once in 2027, then never.
		{"cron(0 0 1 1 ? 2027)", "2026-11-25T10:07", []string{"2027-01-01T00:00", "never"}},
		{"cron(0 0 1 1 ? 2027)", "2027-01-01T00:00", []string{"never"}},
		{"cron(0 0 1 1 ? 2030-2031,2035)", "2026-11-25T10:07", []string{"2030-01-01T00:00", "2031-01-01T00:00", "2035-01-01T00:00", "never"}},
		{"cron(0 0 1 1 ? 2026/4)", "2026-11-25T10:07", []string{"2030-01-01T00:00", "2034-01-01T00:00"}},
		{"cron(0 0 1 1 ? *)", "2199-01-01T00:00", []string{"never"}},
		{"cron(0 0 29 2 ? *)", "2097-03-01T00:00", []string{"2104-02-29T00:00"}},
		// Other examples from the SSM reference.
		{"cron(0 10 * * ? *)", "2026-11-25T10:07", []string{"2026-11-26T10:00"}},
		{"cron(0 12 ? * SUN-SAT *)", "2026-11-25T10:07", []string{"2026-11-25T12:00", "2026-11-26T12:00"}},
		{"cron(30 23 ? * TUE#3 *)", "2026-11-25T10:07", []string{"2026-12-15T23:30"}},
		{"cron(0 2 ? * SUN#1 *)", "2026-11-25T10:07", []string{"2026-12-06T02:00", "2027-01-03T02:00"}},
		{"cron(0 20 * * ? *)", "2026-11-25T20:00", []string{"2026-11-26T20:00"}},
		{"cron(15 12 * * ? *)", "2026-11-25T10:07", []string{"2026-11-25T12:15"}},
		{"cron(0 9 ? * 2-6 *)", "2026-11-28T10:07", []string{"2026-11-30T09:00"}},
		{"cron(0 8 ? * MON,WED,FRI *)", "2026-11-25T10:07", []string{"2026-11-27T08:00", "2026-11-30T08:00", "2026-12-02T08:00"}},
		{"cron(0-5 13 * * ? *)", "2026-11-25T13:03", []string{"2026-11-25T13:04", "2026-11-25T13:05", "2026-11-26T13:00"}},
		{"cron(0 0 1 JAN-MAR,DEC ? *)", "2027-03-02T00:00", []string{"2027-12-01T00:00", "2028-01-01T00:00"}},
		{"cron(0 23 ? NOV-FEB MON *)", "2027-02-24T00:00", []string{"2027-11-01T23:00"}},
		// Lower case is accepted.
		{"cron(0 9 ? * tue#3 *)", "2026-11-25T10:07", []string{"2026-12-15T09:00"}},
	})
}

func TestNextUnixCron(t *testing.T) {
	runNext(t, nil, []nextCase{
		{"*/30 * * * *", "2026-11-25T10:07", []string{"2026-11-25T10:30", "2026-11-25T11:00"}},
		{"*/30 * * * *", "2026-11-25T10:30", []string{"2026-11-25T11:00"}},
		{"*/30 * * * *", "2026-11-25T10:29:59.9", []string{"2026-11-25T10:30"}},
		// Monday to Friday in Unix numbering (1-5), Sunday as 0 and 7.
		{"0 9 * * 1-5", "2026-11-27T10:00", []string{"2026-11-30T09:00"}},
		{"0 0 * * 0", "2026-11-25T10:07", []string{"2026-11-29T00:00"}},
		{"0 0 * * 7", "2026-11-25T10:07", []string{"2026-11-29T00:00"}},
		{"0 0 * * 5-7", "2026-11-25T10:07", []string{"2026-11-27T00:00", "2026-11-28T00:00", "2026-11-29T00:00", "2026-12-04T00:00"}},
		{"0 0 * * SAT-MON", "2026-11-25T10:07", []string{"2026-11-28T00:00", "2026-11-29T00:00", "2026-11-30T00:00", "2026-12-05T00:00"}},
		// Both day fields restricted: either matches, as in Vixie cron.
		{"0 0 13 * FRI", "2026-11-12T00:00", []string{"2026-11-13T00:00", "2026-11-20T00:00", "2026-11-27T00:00", "2026-12-04T00:00", "2026-12-11T00:00", "2026-12-13T00:00"}},
		// One restricted: that one alone. */10 is 1,11,21,31.
		{"0 0 */10 * *", "2026-11-25T10:07", []string{"2026-12-01T00:00", "2026-12-11T00:00", "2026-12-21T00:00", "2026-12-31T00:00", "2027-01-01T00:00"}},
		// Hours that wrap round midnight.
		{"0 22-1 * * *", "2026-11-25T10:07", []string{"2026-11-25T22:00", "2026-11-25T23:00", "2026-11-26T00:00", "2026-11-26T01:00", "2026-11-26T22:00"}},
		{"@hourly", "2026-11-25T10:07", []string{"2026-11-25T11:00", "2026-11-25T12:00"}},
		{"@daily", "2026-11-25T10:07", []string{"2026-11-26T00:00", "2026-11-27T00:00"}},
		{"@midnight", "2026-11-25T10:07", []string{"2026-11-26T00:00"}},
		{"@weekly", "2026-11-25T10:07", []string{"2026-11-29T00:00", "2026-12-06T00:00"}},
		{"@monthly", "2026-11-25T10:07", []string{"2026-12-01T00:00", "2027-01-01T00:00"}},
		{"@yearly", "2026-11-25T10:07", []string{"2027-01-01T00:00", "2028-01-01T00:00"}},
		{"@annually", "2026-11-25T10:07", []string{"2027-01-01T00:00"}},
		// 29 February in a five-field line, over a century year.
		{"0 0 29 2 *", "2097-01-01T00:00", []string{"2104-02-29T00:00"}},
	})
}

func TestNextRate(t *testing.T) {
	runNext(t, nil, []nextCase{
		{"rate(1 minute)", "2026-11-25T10:07:30", []string{"2026-11-25T10:08", "2026-11-25T10:09"}},
		{"rate(30 minutes)", "2026-11-25T10:07", []string{"2026-11-25T10:37", "2026-11-25T11:07"}},
		{"rate(1 hour)", "2026-11-25T10:07", []string{"2026-11-25T11:07"}},
		{"rate(12 hours)", "2026-11-25T10:07", []string{"2026-11-25T22:07"}},
		{"rate(1 day)", "2026-11-25T10:07", []string{"2026-11-26T10:07"}},
		{"rate(7 days)", "2026-11-25T10:07", []string{"2026-12-02T10:07"}},
	})
	// A day is 24 hours even when the zone's clocks change.
	s := mustParse(t, "rate(1 day)", berlin(t))
	from := utc(t, "2026-03-28T12:00")
	if got, want := s.Next(from), utc(t, "2026-03-29T12:00"); !got.Equal(want) {
		t.Errorf("rate(1 day) across the spring change: got %v, want %v", got, want)
	}
}

func TestNextAt(t *testing.T) {
	runNext(t, nil, []nextCase{
		{"at(2026-12-01T03:00:00)", "2026-11-25T10:07", []string{"2026-12-01T03:00", "never"}},
		{"at(2026-12-01T03:00:00)", "2026-12-01T03:00", []string{"never"}},
		{"at(2026-12-01T03:00:00)", "2026-12-01T02:59:59", []string{"2026-12-01T03:00"}},
		{"at(2026-12-01T03:00)", "2026-11-25T10:07", []string{"2026-12-01T03:00"}},
		{"at(2026-12-01T03:00:00Z)", "2026-11-25T10:07", []string{"2026-12-01T03:00"}},
		{"at(2026-12-01T03:00:00+05:30)", "2026-11-25T10:07", []string{"2026-11-30T21:30"}},
		{"at(2028-02-29T12:00:00)", "2026-11-25T10:07", []string{"2028-02-29T12:00"}},
	})
	// Seconds are kept.
	s := mustParse(t, "at(2026-12-01T03:00:42)", nil)
	if got, want := s.Next(utc(t, "2026-12-01T03:00:00")), utc(t, "2026-12-01T03:00:42"); !got.Equal(want) {
		t.Errorf("at with seconds: got %v, want %v", got, want)
	}
}

// Europe/Berlin: clocks go forward 2026-03-29 02:00 CET -> 03:00 CEST and
// back 2026-10-25 03:00 CEST -> 02:00 CET.
func TestNextTimezone(t *testing.T) {
	runNext(t, berlin(t), []nextCase{
		// 09:00 local is 08:00 UTC in winter, 07:00 UTC in summer.
		{"cron(0 9 * * ? *)", "2026-03-27T12:00", []string{"2026-03-28T08:00", "2026-03-29T07:00", "2026-03-30T07:00"}},
		{"cron(0 9 * * ? *)", "2026-10-24T12:00", []string{"2026-10-25T08:00", "2026-10-26T08:00"}},
		{"0 9 * * *", "2026-03-27T12:00", []string{"2026-03-28T08:00", "2026-03-29T07:00"}},
		{"@daily", "2026-03-28T12:00", []string{"2026-03-28T23:00", "2026-03-29T22:00"}},
		// Day boundaries are local: Monday in Berlin starts Sunday 23:00 UTC.
		{"cron(0 0 ? * MON *)", "2026-11-25T10:07", []string{"2026-11-29T23:00"}},
		{"cron(0 0 L * ? *)", "2026-11-25T10:07", []string{"2026-11-29T23:00"}},
		// 02:30 does not exist on 2026-03-29: that day is skipped.
		{"cron(30 2 * * ? *)", "2026-03-27T12:00", []string{"2026-03-28T01:30", "2026-03-30T00:30"}},
		// 02:30 happens twice on 2026-10-25: it fires once, the first time.
		{"cron(30 2 * * ? *)", "2026-10-24T12:00", []string{"2026-10-25T00:30", "2026-10-26T01:30"}},
		// Every 30 minutes across the spring gap: 01:30 CET, then 03:00 CEST.
		{"*/30 * * * *", "2026-03-29T00:00", []string{"2026-03-29T00:30", "2026-03-29T01:00", "2026-03-29T01:30"}},
		// And across the repeated hour: 02:00 and 02:30 fire in CEST
		// only, then 03:00 CET.
		{"*/30 * * * *", "2026-10-24T23:50", []string{"2026-10-25T00:00", "2026-10-25T00:30", "2026-10-25T02:00", "2026-10-25T02:30"}},
		// From inside the repeated hour (02:40 CET), the next is 03:00 CET.
		{"*/30 * * * *", "2026-10-25T01:40", []string{"2026-10-25T02:00"}},
		{"0 * * * *", "2026-10-24T23:30", []string{"2026-10-25T00:00", "2026-10-25T02:00", "2026-10-25T03:00"}},
		// at() is read in the zone.
		{"at(2026-12-01T03:00:00)", "2026-11-25T10:07", []string{"2026-12-01T02:00", "never"}},
		{"at(2026-07-01T03:00:00)", "2026-06-25T10:07", []string{"2026-07-01T01:00"}},
		// A repeated time is its first occurrence (CEST).
		{"at(2026-10-25T02:30:00)", "2026-10-24T00:00", []string{"2026-10-25T00:30"}},
		// An explicit offset wins over the zone.
		{"at(2026-12-01T03:00:00Z)", "2026-11-25T10:07", []string{"2026-12-01T03:00"}},
	})
}

// A zone whose clocks skipped a whole day: Pacific/Apia went from
// 2011-12-29 23:59:59 -10:00 to 2011-12-31 00:00:00 +14:00.
func TestNextSkippedDay(t *testing.T) {
	apia, err := time.LoadLocation("Pacific/Apia")
	if err != nil {
		t.Skipf("no Pacific/Apia in the time zone database: %v", err)
	}
	s := mustParse(t, "cron(0 12 * * ? *)", apia)
	got := fires(s, utc(t, "2011-12-29T00:00"), 2)
	want := []string{"2011-12-29T22:00", "2011-12-30T22:00"} // 29th 12:00 -10, 31st 12:00 +14
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %v, want %v", got, want)
	}
	// Every minute through the missing day: no fire on the 30th at all.
	s = mustParse(t, "* * * * *", apia)
	if got, want := s.Next(utc(t, "2011-12-30T09:59")), utc(t, "2011-12-30T10:00"); !got.Equal(want) {
		t.Errorf("minutely over the skipped day: got %v, want %v", got, want)
	}
}

func TestKindAndString(t *testing.T) {
	for _, c := range []struct {
		expr string
		kind Kind
		text string
	}{
		{"rate(5 minutes)", KindRate, "rate(5 minutes)"},
		{"  cron(0 0 ? * SUN *)\n", KindCron, "cron(0 0 ? * SUN *)"},
		{"*/30 * * * *", KindCron, "*/30 * * * *"},
		{"@daily", KindCron, "@daily"},
		{"at(2026-12-01T03:00:00)", KindAt, "at(2026-12-01T03:00:00)"},
	} {
		s := mustParse(t, c.expr, nil)
		if s.Kind() != c.kind || s.String() != c.text {
			t.Errorf("Parse(%q): Kind %q String %q, want %q %q", c.expr, s.Kind(), s.String(), c.kind, c.text)
		}
	}
}

// The AWS examples agree with the same schedules written as five-field
// lines: AWS day-of-week n is Unix n-1.
func TestAWSAndUnixAgree(t *testing.T) {
	pairs := [][2]string{
		{"cron(0 9 ? * 3#3 *)", "0 9 * * 2#3"},
		{"cron(0 0 ? * 6L *)", "0 0 * * 5L"},
		{"cron(0 0 ? * 1 *)", "0 0 * * 0"},
		{"cron(0 0 ? * 7 *)", "0 0 * * 6"},
		{"cron(0 18 ? * 2-6 *)", "0 18 * * 1-5"},
		{"cron(0 0 15W * ? *)", "0 0 15W * *"},
		{"cron(0 0 L * ? *)", "0 0 L * *"},
	}
	from := utc(t, "2026-11-25T10:07")
	for _, p := range pairs {
		a := fires(mustParse(t, p[0], nil), from, 30)
		u := fires(mustParse(t, p[1], nil), from, 30)
		if strings.Join(a, " ") != strings.Join(u, " ") {
			t.Errorf("%s and %s differ:\n%v\n%v", p[0], p[1], a, u)
		}
	}
}

func TestConcurrentNext(t *testing.T) {
	s := mustParse(t, "cron(0 9 ? * TUE#3 *)", berlin(t))
	want := s.Next(utc(t, "2026-11-25T10:07"))
	done := make(chan time.Time)
	for range 8 {
		go func() { done <- s.Next(utc(t, "2026-11-25T10:07")) }()
	}
	for range 8 {
		if got := <-done; !got.Equal(want) {
			t.Errorf("concurrent Next: got %v, want %v", got, want)
		}
	}
}
