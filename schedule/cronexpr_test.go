package schedule

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/cronexpr"
)

// TestAgainstCronexpr compares AWS cron expressions with the same schedule
// written for hashicorp/cronexpr, an independent implementation of L, W, #
// and the year field. cronexpr numbers the days of the week 0-6 from
// Sunday, so each AWS day n is written n-1 there: this also tests that
// translation. cronexpr knows no time zones' DST rules here (UTC only), no
// backwards ranges and no years after 2099, so the generator avoids them.
func TestAgainstCronexpr(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		aws, unix := randomAWSCron(r)
		compareWithCronexpr(t, r, aws, unix, fmt.Sprintf("%s (cronexpr %q)", aws, unix))
	}
}

// Five-field lines mean the same to both, with either day field matching
// when both are restricted.
func TestUnixAgainstCronexpr(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		_, six := randomAWSCron(r)
		f := strings.Fields(six)[:5]
		if f[2] == "?" {
			f[2] = []string{"*", "1", "13", "L", "15W", "1-7", "*/10"}[r.IntN(7)]
		}
		if f[4] == "?" {
			_, f[4] = randomAWSDay(r)
		}
		line := strings.Join(f, " ")
		compareWithCronexpr(t, r, line, line, fmt.Sprintf("%q", line))
	}
}

// compareWithCronexpr parses expr, and unix (the same schedule in
// cronexpr's syntax) with cronexpr, and checks that both fire at the same
// 12 times from a random start, as far as cronexpr's years go; name is expr
// in the messages. An expression that never fires is passed over.
func compareWithCronexpr(t *testing.T, r *rand.Rand, expr, unix, name string) {
	t.Helper()
	s, err := Parse(expr, nil)
	if err != nil {
		if strings.Contains(err.Error(), "never fires") {
			return
		}
		t.Fatalf("Parse(%q): %v", expr, err)
	}
	ref, err := cronexpr.Parse(unix)
	if err != nil {
		if unix != expr {
			t.Fatalf("cronexpr.Parse(%q) (for %s): %v", unix, expr, err)
		}
		t.Fatalf("cronexpr.Parse(%q): %v", unix, err)
	}
	from := time.Date(2020+r.IntN(60), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), 0, time.UTC)
	a, b := from, from
	for i := range 12 {
		a, b = s.Next(a), ref.Next(b)
		if b.IsZero() || b.Year() > 2099 {
			break // the end of cronexpr's years
		}
		if !a.Equal(b) {
			t.Fatalf("%s from %v, fire %d: got %v, cronexpr %v", name, from, i, a, b)
		}
	}
}

// randomAWSCron returns an AWS cron expression and the same schedule in
// cronexpr's six-field syntax (minute hour dom month dow year).
func randomAWSCron(r *rand.Rand) (aws, unix string) {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	minute := pick("*", "0", "15", "0/15", "5-20/5", "1,31,59", "*/7", "30", "0-5")
	hour := pick("*", "0", "9", "9-17", "*/6", "0,12", "23", "3/5")
	month := pick("*", "*", "1", "FEB", "JAN-MAR", "*/3", "6,12", "NOV", "2-11/4")
	year := pick("*", "*", "*", "2027", "2030-2035", "2026/2", "2021,2028,2044")
	var domA, dowA, dowU string
	if r.IntN(2) == 0 {
		domA = pick("*", "1", "15", "L", "LW", "15W", "1W", "31", "30W", "1-7", "*/5", "10,20", "29", "L,1", "2/9")
		dowA, dowU = "?", "?"
	} else {
		domA = "?"
		n := 1 + r.IntN(r.IntN(3)+1)
		var as, us []string
		for range n {
			a, u := randomAWSDay(r)
			as, us = append(as, a), append(us, u)
		}
		dowA, dowU = strings.Join(as, ","), strings.Join(us, ",")
	}
	aws = fmt.Sprintf("cron(%s %s %s %s %s %s)", minute, hour, domA, month, dowA, year)
	unix = fmt.Sprintf("%s %s %s %s %s %s", minute, hour, domA, month, dowU, year)
	return aws, unix
}

// randomAWSDay returns one day-of-week item in AWS numbering (1-7 from
// Sunday) and the same in cronexpr's (0-6 from Sunday).
func randomAWSDay(r *rand.Rand) (aws, unix string) {
	d := 1 + r.IntN(7)
	// cronexpr reads a range ending on Sunday (0) as ending on Saturday,
	// so SUN-SUN would be every day there.
	e := max(d+r.IntN(8-d), 2)
	switch r.IntN(8) {
	case 0:
		return dayNames[d-1], dayNames[d-1]
	case 1:
		return fmt.Sprintf("%d-%d", d, e), fmt.Sprintf("%d-%d", d-1, e-1)
	case 2:
		return dayNames[d-1] + "-" + dayNames[e-1], dayNames[d-1] + "-" + dayNames[e-1]
	case 3:
		k := 1 + r.IntN(5)
		return fmt.Sprintf("%d#%d", d, k), fmt.Sprintf("%d#%d", d-1, k)
	case 4:
		k := 1 + r.IntN(5)
		return fmt.Sprintf("%s#%d", dayNames[d-1], k), fmt.Sprintf("%d#%d", d-1, k)
	case 5:
		return fmt.Sprintf("%dL", d), fmt.Sprintf("%dL", d-1)
	case 6:
		return "*", "*"
	}
	return fmt.Sprint(d), fmt.Sprint(d - 1)
}
