package schedule_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/driftless-dev/driftless/schedule"
)

func ExampleParse() {
	s, err := schedule.Parse("cron(0 9 ? * TUE#3 *)", nil) // 09:00 UTC on the third Tuesday
	if err != nil {
		panic(err)
	}
	t := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	for range 3 {
		t = s.Next(t)
		fmt.Println(t.Format(time.RFC3339), t.Weekday())
	}
	// Output:
	// 2026-12-15T09:00:00Z Tuesday
	// 2027-01-19T09:00:00Z Tuesday
	// 2027-02-16T09:00:00Z Tuesday
}

func ExampleParse_error() {
	expr := "cron(0 10 * * MON *)"
	_, err := schedule.Parse(expr, nil)
	var e *schedule.Error
	if errors.As(err, &e) {
		fmt.Println(expr)
		fmt.Printf("%*s^ %s\n", e.Offset, "", e.Msg)
		fmt.Println("hint:", e.Hint)
	}
	// Output:
	// cron(0 10 * * MON *)
	//           ^ AWS cron needs ? in day-of-month or day-of-week
	// hint: cron(0 10 ? * MON *) runs on the days of the week given
}

func ExampleDue() {
	s, _ := schedule.Parse("rate(30 minutes)", nil)
	last := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	host := schedule.HostState{Ran: true, LastStart: last, LastHash: "abc"}
	for _, now := range []time.Time{last.Add(20 * time.Minute), last.Add(30 * time.Minute)} {
		in := schedule.Input{Schedule: s, Hash: "abc", Now: now}
		reason, due := schedule.Due(in, host)
		fmt.Printf("%s due=%v reason=%q next=%s\n", now.Format("15:04"), due, reason, schedule.NextFire(in, host).Format("15:04"))
	}
	// Output:
	// 09:20 due=false reason="" next=09:30
	// 09:30 due=true reason="schedule" next=09:30
}
