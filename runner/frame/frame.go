// Package frame is the protocol by which a script on a host reports to
// the runner: framed records on the script's stdout (and stderr), so that
// nothing a step prints can be mistaken for a report, and the host needs
// no program to measure what it sends.
//
// A frame is a header line, then a payload:
//
//	\n<marker> <step> <kind> <length> [fields...]\n<payload>
//
// marker is random per script (NewMarker); step is the step's index, or
// "-" for facts about the host; kind says what the frame reports (Kind);
// length is the payload's size in bytes, or -1 for a payload streamed
// until the next frame (a command's output, whose size the shell does not
// know in advance). Writer parses frames from a stream as they arrive,
// with bounded memory; Merge puts the frames of stdout and stderr in the
// order the runner reads them.
package frame

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Frame is one report of a script.
type Frame struct {
	Step    int // -1 for host facts
	Kind    Kind
	Fields  []string
	Payload []byte
	Size    int64     // full size of the payload on the host
	At      time.Time // when the frame arrived
}

// Limits of what a script sends back.
const (
	// MaxOutput is the most of a step's stdout, and of its stderr, that
	// is kept (1 MiB each; see docs/journal.md).
	MaxOutput = 1 << 20
	// MaxFile is the largest file the line action edits: the most of a
	// file's content (a Cur frame) that is kept, plus one byte.
	MaxFile = 8 << 20
)

// NewMarker returns a random marker for one script's frames.
func NewMarker() string {
	var b [8]byte
	rand.Read(b[:])
	return "@@DL-" + hex.EncodeToString(b[:])
}

// Writer parses frames from one of a script's output streams as
// they arrive. Bytes outside frames are ignored, or kept (up to a limit)
// in loose when it is set: on stderr they are the script's own errors.
// Memory is bounded: fixed payloads by the script's caps, streamed ones
// (n = -1) by payloadCap, beyond which bytes are counted, not kept.
type Writer struct {
	marker []byte
	buf    bytes.Buffer
	Frames []Frame
	// cur is the frame whose payload is being read, when inCur.
	cur    Frame
	inCur  bool
	need   int64 // fixed payload bytes still expected for cur
	stream bool  // cur is streamed: it ends at the next marker
	head   Frame // the header OnFrame is given
	// OnFrame, when set, is called with each frame header as soon as it
	// is read (a streamed frame's payload is still to come). f is valid
	// only during the call: a callee that keeps it keeps a copy.
	OnFrame func(f *Frame)
	Loose   io.Writer
	// fields holds the fields of the frames read so far, a few frames'
	// worth at a time (header).
	fields []string
}

func NewWriter(marker string) *Writer {
	m := make([]byte, 0, len(marker)+2)
	return &Writer{marker: append(append(append(m, '\n'), marker...), ' ')}
}

// payloadCap is the most of a streamed payload kept: a file's content
// for the line action (one byte more than it edits, to tell a larger
// file), else a command's output.
func payloadCap(kind Kind) int64 {
	if kind == Cur {
		return MaxFile + 1
	}
	return MaxOutput
}

func (w *Writer) keep(b []byte) {
	switch {
	case w.inCur:
		w.cur.Size += int64(len(b))
		if room := payloadCap(w.cur.Kind) - int64(len(w.cur.Payload)); room > 0 {
			w.cur.Payload = append(w.cur.Payload, b[:min(int64(len(b)), room)]...)
		}
	case w.Loose != nil:
		w.Loose.Write(b)
	}
}

func (w *Writer) Write(p []byte) (int, error) {
	w.buf.Write(p)
	for {
		if w.inCur && !w.stream {
			n := min(int64(w.buf.Len()), w.need)
			w.cur.Payload = append(w.cur.Payload, w.buf.Next(int(n))...)
			w.need -= n
			if w.need > 0 {
				return len(p), nil
			}
			w.finish()
		}
		data := w.buf.Bytes()
		i := bytes.Index(data, w.marker)
		if i < 0 {
			// Keep a tail that may be the start of a marker.
			if keep := len(w.marker); w.buf.Len() > keep {
				w.keep(w.buf.Next(w.buf.Len() - keep))
			}
			return len(p), nil
		}
		end := bytes.IndexByte(data[i+1:], '\n')
		if end < 0 {
			w.keep(w.buf.Next(i))
			return len(p), nil
		}
		w.keep(data[:i])
		f, n, ok := w.header(data[i+len(w.marker) : i+1+end])
		w.buf.Next(i + 1 + end + 1)
		if w.inCur { // a streamed payload ends here
			w.finish()
		}
		if !ok {
			continue
		}
		if w.OnFrame != nil {
			// The header is w's: a frame passed by its own address would
			// be allocated for every frame.
			w.head = f
			w.OnFrame(&w.head)
		}
		switch {
		case n < 0:
			f.Size = 0
			w.cur, w.inCur, w.stream = f, true, true
		case n == 0:
			f.At = time.Now()
			w.add(f)
		default:
			w.cur, w.inCur, w.need, w.stream = f, true, n, false
		}
	}
}

// finish ends the current payload frame.
func (w *Writer) finish() {
	w.cur.At = time.Now()
	w.add(w.cur)
	w.cur, w.inCur, w.stream = Frame{}, false, false
}

// add appends f to the frames read, room for a script's first few
// made at once.
func (w *Writer) add(f Frame) {
	if w.Frames == nil {
		w.Frames = make([]Frame, 0, 8)
	}
	w.Frames = append(w.Frames, f)
}

// Close ends a streamed payload cut short (the script was killed): what
// is held back is part of it.
func (w *Writer) Close() error {
	if w.inCur && w.stream {
		w.keep(w.buf.Next(w.buf.Len()))
		w.finish()
	}
	return nil
}

// ParseHeader parses a frame's header line after the marker: "<step>
// <kind> <length> [fields...]", words separated by one space (the fields
// by any white space). It returns the frame, its payload's length and
// whether the header is one.
func ParseHeader(h string) (Frame, int64, bool) {
	step, rest, ok := strings.Cut(h, " ")
	kind, rest, ok2 := strings.Cut(rest, " ")
	if !ok || !ok2 {
		return Frame{}, 0, false
	}
	length, fields, hasFields := strings.Cut(rest, " ")
	f := Frame{Kind: Kind(kind), Step: -1}
	if step != "-" {
		n, err := strconv.Atoi(step)
		if err != nil {
			return Frame{}, 0, false
		}
		f.Step = n
	}
	n, err := strconv.ParseInt(length, 10, 64)
	if err != nil || n < -1 || n > MaxFile {
		return Frame{}, 0, false
	}
	if hasFields {
		f.Fields = strings.Fields(fields)
	}
	f.setSize(n)
	return f, n, true
}

// setSize sets f.Size from the length n of its payload: a payload that
// is part of a file (n > 0) gives the file's full size as its first
// field.
func (f *Frame) setSize(n int64) {
	f.Size = n
	if n > 0 && len(f.Fields) > 0 {
		if full, err := strconv.ParseInt(f.Fields[0], 10, 64); err == nil {
			f.Size = full
		}
	}
}

// header is ParseHeader of the header line h, as read: h is not made a
// string, a kind is one of the constants, and the fields are one string
// (with a slice shared with the frames before: w.fields), so that a
// header's only allocation is its fields' text. A header it does not
// read as every script writes it (a sign, a kind of its own, a byte
// beyond ASCII in its fields) is ParseHeader's.
func (w *Writer) header(h []byte) (Frame, int64, bool) {
	step, rest, ok := bytes.Cut(h, []byte{' '})
	kind, rest, ok2 := bytes.Cut(rest, []byte{' '})
	if !ok || !ok2 {
		return Frame{}, 0, false
	}
	length, fields, hasFields := bytes.Cut(rest, []byte{' '})
	k, known := kinds[string(kind)]
	idx, sok := int64(-1), len(step) == 1 && step[0] == '-'
	if !sok {
		idx, sok = digits(step)
	}
	n, nok := int64(-1), string(length) == "-1"
	if !nok {
		n, nok = digits(length)
	}
	if !known || !sok || !nok || !asciiOnly(fields) {
		return ParseHeader(string(h))
	}
	if n > MaxFile {
		return Frame{}, 0, false
	}
	f := Frame{Step: int(idx), Kind: k}
	if hasFields {
		f.Fields = w.splitFields(fields)
	}
	f.setSize(n)
	return f, n, true
}

// splitFields is strings.Fields of ASCII text, in w.fields.
func (w *Writer) splitFields(b []byte) []string {
	count := 0
	for i := range b {
		if !asciiSpace(b[i]) && (i == 0 || asciiSpace(b[i-1])) {
			count++
		}
	}
	if cap(w.fields)-len(w.fields) < count || w.fields == nil {
		w.fields = make([]string, 0, max(count, 16))
	}
	start := len(w.fields)
	if count > 0 {
		text, from := string(b), -1 // from: where the field being read starts
		for i := 0; i <= len(text); i++ {
			switch {
			case i < len(text) && !asciiSpace(text[i]):
				if from < 0 {
					from = i
				}
			case from >= 0:
				w.fields, from = append(w.fields, text[from:i]), -1
			}
		}
	}
	return w.fields[start:len(w.fields):len(w.fields)]
}

// asciiSpace is unicode.IsSpace for an ASCII byte.
func asciiSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func asciiOnly(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// digits is the number b writes in at most 18 decimal digits, no sign.
func digits(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// Merge puts a script's frames in the order the runner reads them: a
// check command's streamed stdout ("sout", sent before its result frame)
// after that result frame as "out", followed by its stderr (the next
// "err" of the stderr stream, where each command's stderr comes in
// order); "eos" frames, which only end streams, are dropped.
func Merge(stdout, stderr []Frame) []Frame {
	var errs []Frame
	for _, f := range stderr {
		if f.Kind == Err {
			errs = append(errs, f)
		}
	}
	out := make([]Frame, 0, len(stdout)+len(errs))
	var pending *Frame
	flush := func() {
		if pending == nil {
			return
		}
		o := *pending
		o.Kind = Out
		if len(o.Payload) > 0 || o.Size > 0 {
			out = append(out, o)
		}
		if len(errs) > 0 {
			if e := errs[0]; len(e.Payload) > 0 || e.Size > 0 {
				out = append(out, e)
			}
			errs = errs[1:]
		}
		pending = nil
	}
	for i := range stdout {
		f := stdout[i]
		switch {
		case f.Kind == EOS:
			continue
		case f.Kind == SOut:
			flush()
			pending = &stdout[i]
			continue
		}
		out = append(out, f)
		flush()
	}
	flush()
	return out
}

// Durations gives each step the time from the previous step's last
// frame (or start) to its own last frame: how long it took on the host,
// as seen from here.
func Durations(frames []Frame, start time.Time) map[int]time.Duration {
	out := map[int]time.Duration{}
	prev, step := start, -2
	var last time.Time
	for _, f := range frames {
		if f.Step != step {
			if step >= 0 {
				out[step] += last.Sub(prev)
				prev = last
			} else if step == -1 {
				prev = last
			}
			step = f.Step
		}
		last = f.At
	}
	if step >= 0 {
		out[step] += last.Sub(prev)
	}
	return out
}

// ByStep groups frames per step index, in their order: one copy of
// frames, in order of step, cut per step (not a slice grown per step).
func ByStep(frames []Frame) map[int][]Frame {
	sorted := slices.Clone(frames)
	slices.SortStableFunc(sorted, func(a, b Frame) int { return cmp.Compare(a.Step, b.Step) })
	out := map[int][]Frame{}
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && sorted[j].Step == sorted[i].Step {
			j++
		}
		out[sorted[i].Step] = sorted[i:j:j]
		i = j
	}
	return out
}

var _ io.Writer = (*Writer)(nil)

// Kind says what a frame reports.
type Kind string

// The kinds of frames scripts send. Fields and payload depend on the kind.
const (
	Facts   Kind = "facts"   // host facts (step -): the OS
	Tmp     Kind = "tmp"     // host (step -): the script's private file prefix
	End     Kind = "end"     // host (step -): the script reached its end
	Skip    Kind = "skip"    // the step's platform precondition is false here
	Start   Kind = "start"   // a command of the step starts (for timeouts)
	Check   Kind = "check"   // a check command's exit code
	Recheck Kind = "recheck" // a check command's exit code after a correction
	Run     Kind = "run"     // a run command's exit code
	Out     Kind = "out"     // a command's stdout (payload)
	Err     Kind = "err"     // a command's stderr (payload)
	SOut    Kind = "sout"    // a check's stdout, streamed before its result; Merge makes it Out
	EOS     Kind = "eos"     // ends a streamed payload; Merge drops it
	Stat    Kind = "stat"    // what is at a path: kind, hash, mode, owner, group, size
	Has     Kind = "has"     // whether a literal line is in a file
	Cur     Kind = "cur"     // a file's current content (payload), for a diff or a line edit
	After   Kind = "after"   // what is at a path after a correction
	Applied Kind = "applied" // the exit code of a correction the script made
	Verify  Kind = "verify"  // a correction's check afterwards
	State   Kind = "state"   // a service's or package manager's state
	List    Kind = "list"    // package lists (payload)
	Reboot  Kind = "reboot"  // the step asked for a reboot
	Pkg     Kind = "pkg"     // one package's state (PowerShell package managers)
)

// kinds are the kinds scripts send, by name.
var kinds = func() map[string]Kind {
	m := map[string]Kind{}
	for _, k := range []Kind{Facts, Tmp, End, Skip, Start, Check, Recheck, Run, Out, Err, SOut, EOS, Stat, Has, Cur, After, Applied, Verify, State, List, Reboot, Pkg} {
		m[string(k)] = k
	}
	return m
}()

// PwshMissing is the second field of the run frame of an SSM
// aws:runPowerShellScript step on a host without pwsh: the step is
// Failed with exit code 1, as the agent reports a command it cannot
// start.
const PwshMissing = "nopwsh"

// Last is the last frame of kind among fs (nil: none).
func Last(fs []Frame, kind Kind) *Frame {
	for i := len(fs) - 1; i >= 0; i-- {
		if fs[i].Kind == kind {
			return &fs[i]
		}
	}
	return nil
}

// Code is the exit status a frame reports in its first field (-1: none,
// or not a number).
func Code(f *Frame) int {
	if f == nil || len(f.Fields) == 0 {
		return -1
	}
	n, err := strconv.Atoi(f.Fields[0])
	if err != nil {
		return -1
	}
	return n
}
