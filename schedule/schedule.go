package schedule

import (
	"strings"
	"time"
)

// Kind is the family a schedule expression belongs to.
type Kind string

// The kinds of schedule. Five-field cron lines and the @daily family are
// KindCron.
const (
	KindRate Kind = "rate"
	KindCron Kind = "cron"
	KindAt   Kind = "at"
)

// Schedule is a parsed schedule expression. Implementations are immutable
// and safe for concurrent use.
type Schedule interface {
	// Next returns the first fire time strictly after after, in UTC, or
	// the zero time when the schedule never fires again (a past at(), a
	// cron whose year field has run out). For a rate it is the start of
	// after's minute plus the interval: the caller passes the start of the
	// last run, and schedules are kept to the minute.
	Next(after time.Time) time.Time
	// String returns the expression as written, without surrounding space.
	String() string
	// Kind tells rate, cron and at apart.
	Kind() Kind
}

// Error is a syntax or range error in a schedule expression. Offset is the
// byte offset in the expression of the part at fault, so that a caller that
// knows where the expression sits in a file can point at the exact column.
type Error struct {
	Offset int
	Msg    string
	Hint   string // what to write instead; may be empty
}

func (e *Error) Error() string {
	if e.Hint == "" {
		return e.Msg
	}
	return e.Msg + "\n\thint: " + e.Hint
}

// Parse parses a schedule expression (docs/schedules.md#expressions):
//
//	rate(30 minutes)             every N minutes, hours or days
//	cron(0 18 ? * MON-FRI *)     AWS six-field cron: min hour dom month dow year
//	*/30 * * * *                 standard five-field cron
//	@hourly @daily @weekly @monthly @yearly
//	at(2026-12-01T03:00:00)      once
//
// Cron fields and at() times are read in tz; nil means UTC. Errors are
// *Error.
func Parse(expr string, tz *time.Location) (Schedule, error) {
	if tz == nil {
		tz = time.UTC
	}
	start := len(expr) - len(strings.TrimLeft(expr, space))
	text := strings.TrimRight(expr[start:], space)
	if text == "" {
		return nil, &Error{Offset: 0, Msg: "empty schedule",
			Hint: `for example "rate(30 minutes)", "cron(0 2 ? * SUN *)" or "@daily"`}
	}
	if strings.HasPrefix(text, "@") {
		return parseMacro(text, start, tz)
	}
	name, args, argsOff, err := splitCall(text, start)
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(name) {
	case "":
		return parseUnixCron(text, start, tz)
	case "rate":
		return parseRate(text, args, argsOff)
	case "cron":
		return parseAWSCron(text, args, argsOff, tz)
	case "at":
		return parseAt(text, args, argsOff, tz)
	}
	return nil, &Error{Offset: start, Msg: "unknown schedule " + quote(name+"(...)"),
		Hint: "use rate(...), cron(...), at(...), a five-field cron line or @daily"}
}

// splitCall splits "name(args)" into its name and arguments, with the byte
// offset of args in the whole expression. A text that is not a call (a
// five-field cron line) gives an empty name.
func splitCall(text string, start int) (name, args string, argsOff int, err error) {
	i := 0
	for i < len(text) && isLetter(text[i]) {
		i++
	}
	j := i
	for j < len(text) && text[j] == ' ' {
		j++
	}
	if i == 0 || j == len(text) || text[j] != '(' {
		if k := strings.IndexByte(text, '('); k >= 0 {
			return "", "", 0, &Error{Offset: start + k, Msg: `unexpected "("`,
				Hint: "use rate(...), cron(...), at(...), a five-field cron line or @daily"}
		}
		return "", "", 0, nil
	}
	name = text[:i]
	if k := strings.LastIndexByte(text, ')'); k >= 0 && k < len(text)-1 {
		return "", "", 0, &Error{Offset: start + k + 1, Msg: "unexpected " + quote(text[k+1:]) + " after " + name + "(...)"}
	}
	if !strings.HasSuffix(text, ")") {
		return "", "", 0, &Error{Offset: start + len(text), Msg: "missing \")\" at the end of " + name + "(...)"}
	}
	args = text[j+1 : len(text)-1]
	if k := strings.IndexAny(args, "()"); k >= 0 {
		return "", "", 0, &Error{Offset: start + j + 1 + k, Msg: "unexpected " + quote(args[k:k+1])}
	}
	return name, args, start + j + 1, nil
}

// space is what may surround an expression and separate cron fields.
const space = " \t\r\n"

func isSpace(c byte) bool  { return strings.IndexByte(space, c) >= 0 }
func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

func quote(s string) string { return `"` + s + `"` }

// fields splits s on white space, returning each field with its byte
// offset (base is the offset of s in the expression).
func fields(s string, base int) (fs []string, offs []int) {
	i := 0
	for i < len(s) {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		j := i
		for j < len(s) && !isSpace(s[j]) {
			j++
		}
		if j > i {
			fs = append(fs, s[i:j])
			offs = append(offs, base+i)
		}
		i = j
	}
	return fs, offs
}
