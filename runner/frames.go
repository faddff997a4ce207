package runner

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"strconv"
	"strings"
	"time"
)

// frame is one report of a script (see script.go).
type frame struct {
	step    int // -1 for host facts
	kind    string
	fields  []string
	payload []byte
	size    int64     // full size of the payload on the host
	at      time.Time // when the frame arrived
}

func newMarker() string {
	var b [8]byte
	rand.Read(b[:])
	return "@@DL-" + hex.EncodeToString(b[:])
}

// frameWriter parses frames from one of a script's output streams as
// they arrive. Bytes outside frames are ignored, or kept (up to a limit)
// in loose when it is set: on stderr they are the script's own errors.
// Memory is bounded: fixed payloads by the script's caps, streamed ones
// (n = -1) by payloadCap, beyond which bytes are counted, not kept.
type frameWriter struct {
	marker []byte
	buf    bytes.Buffer
	frames []frame
	cur    *frame
	need   int64 // fixed payload bytes still expected for cur
	stream bool  // cur is streamed: it ends at the next marker
	// onFrame, when set, is called with each frame header as soon as it
	// is read (a streamed frame's payload is still to come).
	onFrame func(f *frame)
	loose   *limitedBuffer
}

func newFrameWriter(marker string) *frameWriter {
	return &frameWriter{marker: []byte("\n" + marker + " ")}
}

// payloadCap is the most of a streamed payload kept: a file's content
// for the line action (one byte more than it edits, to tell a larger
// file), else a command's output.
func payloadCap(kind string) int64 {
	if kind == "cur" {
		return maxLineFile + 1
	}
	return MaxOutput
}

func (w *frameWriter) keep(b []byte) {
	switch {
	case w.cur != nil:
		w.cur.size += int64(len(b))
		if room := payloadCap(w.cur.kind) - int64(len(w.cur.payload)); room > 0 {
			w.cur.payload = append(w.cur.payload, b[:min(int64(len(b)), room)]...)
		}
	case w.loose != nil:
		w.loose.Write(b)
	}
}

func (w *frameWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	for {
		if w.cur != nil && !w.stream {
			n := min(int64(w.buf.Len()), w.need)
			w.cur.payload = append(w.cur.payload, w.buf.Next(int(n))...)
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
		header := string(data[i+len(w.marker) : i+1+end])
		w.buf.Next(i + 1 + end + 1)
		if w.cur != nil { // a streamed payload ends here
			w.finish()
		}
		f, n, ok := parseHeader(header)
		if !ok {
			continue
		}
		if w.onFrame != nil {
			w.onFrame(&f)
		}
		switch {
		case n < 0:
			f.size = 0
			w.cur, w.stream = &f, true
		case n == 0:
			f.at = time.Now()
			w.frames = append(w.frames, f)
		default:
			w.cur, w.need, w.stream = &f, n, false
		}
	}
}

// finish ends the current payload frame.
func (w *frameWriter) finish() {
	w.cur.at = time.Now()
	w.frames = append(w.frames, *w.cur)
	w.cur, w.stream = nil, false
}

// Close ends a streamed payload cut short (the script was killed): what
// is held back is part of it.
func (w *frameWriter) Close() error {
	if w.cur != nil && w.stream {
		w.keep(w.buf.Next(w.buf.Len()))
		w.finish()
	}
	return nil
}

func parseHeader(h string) (frame, int64, bool) {
	parts := strings.SplitN(h, " ", 4)
	if len(parts) < 3 {
		return frame{}, 0, false
	}
	f := frame{kind: parts[1], step: -1}
	if parts[0] != "-" {
		n, err := strconv.Atoi(parts[0])
		if err != nil {
			return frame{}, 0, false
		}
		f.step = n
	}
	n, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || n < -1 || n > maxLineFile {
		return frame{}, 0, false
	}
	if len(parts) == 4 {
		f.fields = strings.Fields(parts[3])
	}
	f.size = n
	if n > 0 && len(f.fields) > 0 {
		if full, err := strconv.ParseInt(f.fields[0], 10, 64); err == nil {
			f.size = full
		}
	}
	return f, n, true
}

// merge puts a script's frames in the order the runner reads them: a
// check command's streamed stdout ("sout", sent before its result frame)
// after that result frame as "out", followed by its stderr (the next
// "err" of the stderr stream, where each command's stderr comes in
// order); "eos" frames, which only end streams, are dropped.
func merge(stdout, stderr []frame) []frame {
	var errs []frame
	for _, f := range stderr {
		if f.kind == "err" {
			errs = append(errs, f)
		}
	}
	out := make([]frame, 0, len(stdout)+len(errs))
	var pending *frame
	flush := func() {
		if pending == nil {
			return
		}
		o := *pending
		o.kind = "out"
		if len(o.payload) > 0 || o.size > 0 {
			out = append(out, o)
		}
		if len(errs) > 0 {
			if e := errs[0]; len(e.payload) > 0 || e.size > 0 {
				out = append(out, e)
			}
			errs = errs[1:]
		}
		pending = nil
	}
	for i := range stdout {
		f := stdout[i]
		switch {
		case f.kind == "eos":
			continue
		case f.kind == "sout":
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

// durations gives each step the time from the previous step's last
// frame (or start) to its own last frame: how long it took on the host,
// as seen from here.
func durations(frames []frame, start time.Time) map[int]time.Duration {
	out := map[int]time.Duration{}
	prev, step := start, -2
	var last time.Time
	for _, f := range frames {
		if f.step != step {
			if step >= 0 {
				out[step] += last.Sub(prev)
				prev = last
			} else if step == -1 {
				prev = last
			}
			step = f.step
		}
		last = f.at
	}
	if step >= 0 {
		out[step] += last.Sub(prev)
	}
	return out
}

// byStep groups frames per step index.
func byStep(frames []frame) map[int][]frame {
	out := map[int][]frame{}
	for _, f := range frames {
		out[f.step] = append(out[f.step], f)
	}
	return out
}

var _ io.Writer = (*frameWriter)(nil)
