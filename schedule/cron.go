package schedule

import (
	"fmt"
	"strings"
	"time"
)

// cron is a parsed cron expression, AWS six-field or standard five-field,
// reduced to bit sets over the values of each field. Days of the week are
// held 0-6 from Sunday whatever the dialect numbered them.
type cron struct {
	text string
	loc  *time.Location

	minute, hour, month uint64 // bit v set: value v matches
	dom, dow            uint64
	years               *yearSet // nil: every year (five-field form)

	domStar, dowStar bool // the field is * or ?, so does not restrict days

	lastDay     bool     // L in day-of-month
	lastWeekday bool     // LW in day-of-month
	nearest     uint64   // bit n: nW in day-of-month
	nth         [7]uint8 // nth[d] bit k-1: d#k in day-of-week
	lastDow     uint8    // bit d: dL in day-of-week
}

func (c *cron) String() string { return c.text }
func (c *cron) Kind() Kind     { return KindCron }

// yearSet holds the years of the AWS year field, 1970-2199, as bits.
type yearSet [4]uint64

const (
	minYear = 1970
	maxYear = 2199
)

func (s *yearSet) add(y int)      { s[(y-minYear)/64] |= 1 << ((y - minYear) % 64) }
func (s *yearSet) has(y int) bool { return s[(y-minYear)/64]&(1<<((y-minYear)%64)) != 0 }

// next returns the first year in s at or after y, or -1.
func (s *yearSet) next(y int) int {
	for y = max(y, minYear); y <= maxYear; y++ {
		if s.has(y) {
			return y
		}
	}
	return -1
}

type dialect int

const (
	aws  dialect = iota // cron(min hour dom month dow year), dow 1-7 = SUN-SAT
	unix                // min hour dom month dow, dow 0-7 with 0 and 7 = SUN
)

// Field indexes, in the order fields are written.
const (
	fMinute = iota
	fHour
	fDom
	fMonth
	fDow
	fYear
)

var fieldNames = [...]string{"minute", "hour", "day-of-month", "month", "day-of-week", "year"}

var (
	monthNames = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
	dayNames   = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}
)

// spec describes the values a field accepts in a dialect.
type spec struct {
	min, max int // accepted numbers
	// cycle bounds: what * covers, what a/n runs up to and what a
	// backwards range wraps around. Equal to min/max except for the Unix
	// day of week, where 7 is only another name for Sunday.
	cmin, cmax int
	names      []string // names[i] stands for cmin+i
	wrap       bool     // a range may run backwards, round the cycle
}

func specOf(d dialect, f int) spec {
	switch f {
	case fMinute:
		return spec{min: 0, max: 59, cmin: 0, cmax: 59, wrap: true}
	case fHour:
		return spec{min: 0, max: 23, cmin: 0, cmax: 23, wrap: true}
	case fDom:
		return spec{min: 1, max: 31, cmin: 1, cmax: 31}
	case fMonth:
		return spec{min: 1, max: 12, cmin: 1, cmax: 12, names: monthNames, wrap: true}
	case fDow:
		if d == aws {
			return spec{min: 1, max: 7, cmin: 1, cmax: 7, names: dayNames, wrap: true}
		}
		return spec{min: 0, max: 7, cmin: 0, cmax: 6, names: dayNames, wrap: true}
	}
	return spec{min: minYear, max: maxYear, cmin: minYear, cmax: maxYear}
}

// parseAWSCron parses the inside of cron(...).
func parseAWSCron(text, args string, off int, tz *time.Location) (Schedule, error) {
	fs, offs := fields(args, off)
	if len(fs) != 6 {
		e := &Error{Offset: off + len(args),
			Msg: fmt.Sprintf("AWS cron needs six fields (minute hour day-of-month month day-of-week year), got %d", len(fs))}
		switch {
		case len(fs) == 5:
			e.Hint = "add the year field: cron(" + strings.Join(fs, " ") + " *)"
		case len(fs) == 7:
			e.Offset = offs[0]
			e.Hint = "driftless schedules to the minute: drop the seconds field"
		case len(fs) > 7:
			e.Offset = offs[6]
		}
		return nil, e
	}
	c, err := parseFields(aws, fs, offs, tz)
	if err != nil {
		return nil, err
	}
	domQ, dowQ := fs[fDom] == "?", fs[fDow] == "?"
	switch {
	case domQ && dowQ:
		return nil, &Error{Offset: offs[fDow], Msg: "AWS cron takes ? in only one of day-of-month and day-of-week",
			Hint: "cron(" + with(fs, fDow, "*") + ") runs every day"}
	case !domQ && !dowQ:
		e := &Error{Offset: offs[fDom], Msg: "AWS cron needs ? in day-of-month or day-of-week"}
		switch {
		case fs[fDow] == "*":
			e.Offset = offs[fDow]
			e.Hint = "cron(" + with(fs, fDow, "?") + ")"
		case fs[fDom] == "*":
			e.Hint = "cron(" + with(fs, fDom, "?") + ") runs on the days of the week given"
		default:
			e.Hint = "AWS cron can't restrict both: cron(" + with(fs, fDom, "?") + ") uses the days of the week, cron(" +
				with(fs, fDow, "?") + ") the days of the month"
		}
		return nil, e
	}
	if err := c.satisfiable(fs, offs); err != nil {
		return nil, err
	}
	c.text = text
	return c, nil
}

// with returns the fields joined by spaces, field i replaced by v.
func with(fs []string, i int, v string) string {
	out := append([]string(nil), fs...)
	out[i] = v
	return strings.Join(out, " ")
}

// parseUnixCron parses a standard five-field cron line.
func parseUnixCron(text string, off int, tz *time.Location) (Schedule, error) {
	fs, offs := fields(text, off)
	if len(fs) != 5 {
		e := &Error{Offset: off + len(text),
			Msg: fmt.Sprintf("a cron line needs five fields (minute hour day-of-month month day-of-week), got %d", len(fs))}
		if len(fs) > 5 {
			e.Offset = offs[5]
		}
		if len(fs) == 6 {
			e.Hint = "for the AWS form with a year field, write cron(" + text + ")"
		} else {
			e.Hint = `for example "*/30 * * * *", or rate(30 minutes)`
		}
		return nil, e
	}
	c, err := parseFields(unix, fs, offs, tz)
	if err != nil {
		return nil, err
	}
	if err := c.satisfiable(fs, offs); err != nil {
		return nil, err
	}
	c.text = text
	return c, nil
}

var macros = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

func parseMacro(text string, off int, tz *time.Location) (Schedule, error) {
	line, ok := macros[strings.ToLower(text)]
	if !ok {
		e := &Error{Offset: off, Msg: "unknown schedule " + quote(text),
			Hint: "one of @hourly, @daily, @weekly, @monthly, @yearly"}
		if strings.HasPrefix(strings.ToLower(text), "@every") {
			e.Hint = "use rate(...), e.g. rate(30 minutes)"
		}
		return nil, e
	}
	fs, offs := fields(line, 0)
	c, err := parseFields(unix, fs, offs, tz)
	if err != nil {
		return nil, fmt.Errorf("schedule: macro %s: %w", text, err)
	}
	c.text = text
	return c, nil
}

// parseFields parses the first five (or six, for AWS) fields.
func parseFields(d dialect, fs []string, offs []int, tz *time.Location) (*cron, error) {
	c := &cron{loc: tz}
	if d == aws {
		c.years = new(yearSet)
	}
	for f := range fs {
		p := fieldParser{c: c, d: d, f: f, spec: specOf(d, f)}
		if err := p.parse(fs[f], offs[f]); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// fieldParser parses one field into c.
type fieldParser struct {
	c    *cron
	d    dialect
	f    int
	spec spec
}

func (p *fieldParser) name() string { return fieldNames[p.f] }

func (p *fieldParser) errorf(off int, hint, format string, args ...any) error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...), Hint: hint}
}

func (p *fieldParser) parse(text string, off int) error {
	u := upper(text)
	if u == "?" {
		if p.f != fDom && p.f != fDow {
			return p.errorf(off, "use * for every "+p.name(), "? is only allowed in day-of-month and day-of-week")
		}
		u = "*" // any day: the other field decides
	}
	start := 0
	for i := 0; i <= len(u); i++ {
		if i < len(u) && u[i] != ',' {
			continue
		}
		if i == start {
			return p.errorf(off+i, "", "empty item in the %s list", p.name())
		}
		if err := p.item(u[start:i], off+start); err != nil {
			return err
		}
		start = i + 1
	}
	return nil
}

// item parses one comma-separated item of a field.
func (p *fieldParser) item(u string, off int) error {
	switch u {
	case "*":
		// A bare * leaves the days unrestricted (as in Vixie cron): with
		// the other day field restricted, that one decides alone.
		switch p.f {
		case fDom:
			p.c.domStar = true
		case fDow:
			p.c.dowStar = true
		}
		p.span(p.spec.cmin, p.spec.cmax, 1)
		return nil
	case "?":
		return p.errorf(off, "", "? must stand alone in the %s field", p.name())
	case "L":
		switch p.f {
		case fDom:
			p.c.lastDay = true
		case fDow: // the last day of the week: Saturday
			p.c.dow |= 1 << time.Saturday
		default:
			return p.errorf(off, "", "L is only allowed in day-of-month and day-of-week")
		}
		return nil
	case "LW":
		if p.f != fDom {
			return p.errorf(off, "", "LW (the last weekday of the month) is only allowed in day-of-month")
		}
		p.c.lastWeekday = true
		return nil
	}

	var lo, hi int
	i := 0
	single := false
	if u[0] == '*' {
		lo, hi, i = p.spec.cmin, p.spec.cmax, 1
	} else {
		var err error
		if lo, i, err = p.value(u, 0, off); err != nil {
			return err
		}
		if i < len(u) && u[i] == '-' {
			if hi, i, err = p.value(u, i+1, off); err != nil {
				return err
			}
		} else {
			hi, single = lo, true
		}
	}
	if i < len(u) && strings.IndexByte("WL#", u[i]) >= 0 {
		if !single {
			return p.errorf(off+i, "", "%c follows a single value, as in 15W, 6L or 3#2", u[i])
		}
		return p.suffix(u, i, lo, off)
	}
	step := 1
	if i < len(u) && u[i] == '/' {
		j := i + 1
		for j < len(u) && isDigit(u[j]) {
			j++
		}
		if j == i+1 {
			return p.errorf(off+i+1, "", "expected a number after / in %s", p.name())
		}
		span := p.spec.cmax - p.spec.cmin + 1
		if j-i-1 > 4 || atoi(u[i+1:j]) > span {
			return p.errorf(off+i+1, p.stepHint(u[i+1:j]), "step %s is larger than the %s range (%d-%d)",
				u[i+1:j], p.name(), p.spec.cmin, p.spec.cmax)
		}
		if step = atoi(u[i+1 : j]); step == 0 {
			return p.errorf(off+i+1, "", "step must be at least 1")
		}
		if single {
			hi = p.spec.cmax
			single = false
		}
		i = j
	}
	if i < len(u) {
		return p.errorf(off+i, "", "unexpected %q in %s", u[i:], p.name())
	}
	if p.d == unix && p.f == fDow && lo == 7 && hi < 7 {
		lo = 0 // 7-2 and 7/2 start on Sunday, 0 on the cycle
	}
	if lo > hi {
		if !p.spec.wrap {
			hint := ""
			if p.f == fDom {
				hint = fmt.Sprintf("a day-of-month range can't wrap round the month; write %d-31,1-%d", lo, hi)
				if hi == 1 {
					hint = fmt.Sprintf("a day-of-month range can't wrap round the month; write %d-31,1", lo)
				}
			}
			return p.errorf(off, hint, "range %s runs backwards", strings.SplitN(u, "/", 2)[0])
		}
		// Round the cycle: 22-2 in hours is 22,23,0,1,2.
		span := p.spec.cmax - p.spec.cmin + 1
		n := hi + span - lo
		for k := 0; k <= n; k += step {
			p.add(p.spec.cmin + (lo-p.spec.cmin+k)%span)
		}
		return nil
	}
	p.span(lo, hi, step)
	return nil
}

func (p *fieldParser) stepHint(step string) string {
	switch p.f {
	case fMinute:
		return "every " + step + " minutes is rate(" + step + " minutes)"
	case fHour:
		return "every " + step + " hours is rate(" + step + " hours)"
	case fDom:
		return "every " + step + " days is rate(" + step + " days)"
	}
	return ""
}

// suffix handles nW (day-of-month), nL and n#k (day-of-week); u[i] is the
// W, L or #.
func (p *fieldParser) suffix(u string, i, v, off int) error {
	c := u[i]
	end := i + 1
	switch {
	case c == 'W' && p.f == fDom:
		p.c.nearest |= 1 << v
	case c == 'L' && p.f == fDow:
		p.c.lastDow |= 1 << p.weekday(v)
	case c == '#' && p.f == fDow:
		for end < len(u) && isDigit(u[end]) {
			end++
		}
		if end == i+1 {
			return p.errorf(off+i+1, "TUE#2 is the second Tuesday of the month", "expected a week number 1-5 after #")
		}
		k := atoi(u[i+1 : min(end, i+3)])
		if end-i-1 > 2 || k < 1 || k > 5 {
			return p.errorf(off+i+1, "TUE#2 is the second Tuesday of the month",
				"#%s: the week number must be 1-5 (no month has more than five of a weekday)", u[i+1:end])
		}
		p.c.nth[p.weekday(v)] |= 1 << (k - 1)
	case c == 'W':
		return p.errorf(off+i, "", "W (nearest weekday) is only allowed in day-of-month")
	case c == 'L' && p.f == fDom:
		return p.errorf(off+i, "L alone is the last day of the month; LW the last weekday",
			"%sL is not allowed in day-of-month", u[:i])
	case c == 'L':
		return p.errorf(off+i, "", "L is only allowed in day-of-month and day-of-week")
	default:
		return p.errorf(off+i, "", "# (nth weekday of the month) is only allowed in day-of-week")
	}
	if end < len(u) {
		return p.errorf(off+end, "", "unexpected %q in %s", u[end:], p.name())
	}
	return nil
}

// value reads a number or a name at u[i:]. It returns the raw value (in
// the dialect's numbering) and the index after it.
func (p *fieldParser) value(u string, i, off int) (int, int, error) {
	j := i
	if j < len(u) && isDigit(u[j]) {
		for j < len(u) && isDigit(u[j]) {
			j++
		}
		if j-i > 4 || atoi(u[i:j]) < p.spec.min || atoi(u[i:j]) > p.spec.max {
			return 0, 0, p.errorf(off+i, p.rangeHint(), "%s %s is out of range %d-%d", p.name(), u[i:j], p.spec.min, p.spec.max)
		}
		return atoi(u[i:j]), j, nil
	}
	for j < len(u) && isLetter(u[j]) {
		j++
	}
	if j == i {
		if i == len(u) {
			return 0, 0, p.errorf(off+i, "", "expected a value in %s", p.name())
		}
		return 0, 0, p.errorf(off+i, "", "unexpected %q in %s", u[i:i+1], p.name())
	}
	word := u[i:j]
	if p.f == fDom && (word == "L" || word == "LW") {
		return 0, 0, p.errorf(off+i, "L is the last day of the month, LW its last weekday",
			"%s stands alone in day-of-month (no ranges, steps or offsets with it)", word)
	}
	if p.spec.names == nil {
		return 0, 0, p.errorf(off+i, "", "%s takes numbers, not %q", p.name(), word)
	}
	for k, n := range p.spec.names {
		switch {
		case word == n:
			return p.spec.cmin + k, j, nil
		case p.f == fDow && word == n+"L": // FRIL, the last Friday
			return p.spec.cmin + k, i + 3, nil
		case len(word) > 3 && strings.HasPrefix(word, n):
			return 0, 0, p.errorf(off+i, "use "+n, "%s names are three letters: %s, not %s", p.name(), n, word)
		}
	}
	what := "month"
	if p.f == fDow {
		what = "day-of-week"
	}
	return 0, 0, p.errorf(off+i, what+" names: "+strings.Join(p.spec.names, " "), "unknown %s name %q", what, word)
}

func (p *fieldParser) rangeHint() string {
	switch {
	case p.f == fDow && p.d == aws:
		return "AWS cron numbers the days of the week 1-7 from Sunday (1 = SUN, 2 = MON ... 7 = SAT); names work too"
	case p.f == fDow:
		return "0 and 7 are both Sunday; names work too (SUN-SAT)"
	case p.f == fYear:
		return "AWS cron years run from 1970 to 2199"
	}
	return ""
}

// span adds lo, lo+step, ... up to hi.
func (p *fieldParser) span(lo, hi, step int) {
	for v := lo; v <= hi; v += step {
		p.add(v)
	}
}

// add records the raw value v in the field's set.
func (p *fieldParser) add(v int) {
	c := p.c
	switch p.f {
	case fMinute:
		c.minute |= 1 << v
	case fHour:
		c.hour |= 1 << v
	case fDom:
		c.dom |= 1 << v
	case fMonth:
		c.month |= 1 << v
	case fDow:
		c.dow |= 1 << p.weekday(v)
	case fYear:
		c.years.add(v)
	}
}

// weekday maps a raw day-of-week value to 0-6 from Sunday.
func (p *fieldParser) weekday(v int) int {
	if p.d == aws {
		return v - 1
	}
	return v % 7
}

// satisfiable reports an error when no date ever matches the day, month
// (and year) fields, such as 30 February. The Gregorian calendar repeats
// every 400 years, so 2000-2399 covers every case.
func (c *cron) satisfiable(fs []string, offs []int) error {
	calendar := false
	for y := 2000; y < 2400 && !calendar; y++ {
		calendar = c.someDay(y)
	}
	if !calendar {
		f := fDom
		if c.domStar {
			f = fDow
		}
		return &Error{Offset: offs[f], Msg: fmt.Sprintf("this schedule never fires: no date matches %s %s in month %s",
			fieldNames[f], fs[f], fs[fMonth])}
	}
	if c.years == nil {
		return nil
	}
	for y := c.years.next(minYear); y >= 0; y = c.years.next(y + 1) {
		if c.someDay(y) {
			return nil
		}
	}
	return &Error{Offset: offs[fYear], Msg: fmt.Sprintf("this schedule never fires: no date in year %s matches its day and month fields", fs[fYear])}
}

// someDay reports whether some day of year y matches.
func (c *cron) someDay(y int) bool {
	for m := 1; m <= 12; m++ {
		if c.month&(1<<m) != 0 && c.days(y, m) != 0 {
			return true
		}
	}
	return false
}

// upper upper-cases ASCII letters only, so that byte offsets are kept.
func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// atoi converts a short run of digits, already checked by the caller.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
