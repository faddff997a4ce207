// Package schedule reads the schedule expressions of associations.toml and
// decides when an association is due on a host (docs/schedules.md).
//
// Parse turns an expression into a Schedule whose Next gives fire times:
//
//   - rate(N minute|minutes|hour|hours|day|days): N units after the start
//     of the last run. As in AWS the unit is singular for 1 and plural
//     otherwise; a day is 24 hours.
//   - cron(min hour dom month dow year): the AWS six-field form. One of
//     day-of-month and day-of-week must be ?. Days of the week are 1-7
//     from Sunday (1 = SUN ... 7 = SAT) or SUN-SAT. L (the last day of the
//     month; in day-of-week 6L is the last Friday, L alone Saturday), W
//     (nearest weekday: 15W, LW), # (nth weekday: TUE#3), names, ranges,
//     lists and steps work as in EventBridge; years run 1970-2199.
//     Backwards ranges wrap in the minute, hour, month and day-of-week
//     fields (FRI-SUN).
//   - a standard five-field cron line (*/30 * * * *), days of the week 0-7
//     with 0 and 7 Sunday, and @hourly, @daily (@midnight), @weekly,
//     @monthly, @yearly (@annually). When both day fields are restricted a
//     day matching either fires, as in Vixie cron.
//   - at(2026-12-01T03:00:00): once. A trailing Z or ±hh:mm overrides the
//     time zone.
//
// Cron fields and at() are read on the wall clock of the association's time
// zone (UTC by default); Next always returns UTC. Across daylight saving
// changes this package does what EventBridge Scheduler does: a wall time
// the clocks skip does not fire that day, and a wall time that happens
// twice fires once, the first time. Expressions that can never fire (30
// February) are rejected when parsed. Errors are *Error, whose Offset is
// the byte offset of the fault in the expression, so config validation can
// report file:line:col, and whose Hint says what to write instead.
//
// Due and NextFire are pure: the caller reads the host's last run (start
// time and content hash) and when the association was first seen from the
// journal, and passes them in with the current time. An association is due
// when it never ran on the host, when its content hash changed, or when its
// schedule fired since the last run started; missed fire times are not
// back-filled, one run covers them. apply_only_at_cron_interval (CronOnly)
// leaves only the schedule, counted from FirstSeen on hosts where it never
// ran. An at() schedule that has run at or after its time is spent: nothing
// makes it due on that host again.
package schedule
