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

// frameWriter parses frames from a script's stdout as they arrive.
// Anything between frames is ignored. Memory is bounded by the caps the
// script applies to payloads.
type frameWriter struct {
	marker []byte
	buf    bytes.Buffer
	frames []frame
	cur    *frame
	need   int64 // payload bytes still expected for cur
}

func newFrameWriter(marker string) *frameWriter {
	return &frameWriter{marker: []byte("\n" + marker + " ")}
}

func (w *frameWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	for {
		if w.cur != nil {
			n := min(int64(w.buf.Len()), w.need)
			w.cur.payload = append(w.cur.payload, w.buf.Next(int(n))...)
			w.need -= n
			if w.need > 0 {
				return len(p), nil
			}
			w.cur.at = time.Now()
			w.frames = append(w.frames, *w.cur)
			w.cur = nil
		}
		data := w.buf.Bytes()
		i := bytes.Index(data, w.marker)
		if i < 0 {
			// Keep a tail that may be the start of a marker.
			if keep := len(w.marker); w.buf.Len() > keep {
				w.buf.Next(w.buf.Len() - keep)
			}
			return len(p), nil
		}
		end := bytes.IndexByte(data[i+1:], '\n')
		if end < 0 {
			w.buf.Next(i)
			return len(p), nil
		}
		header := string(data[i+len(w.marker) : i+1+end])
		w.buf.Next(i + 1 + end + 1)
		f, capped, ok := parseHeader(header)
		if !ok {
			continue
		}
		if capped == 0 {
			f.at = time.Now()
			w.frames = append(w.frames, f)
			continue
		}
		w.cur, w.need = &f, capped
	}
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
	if err != nil || n < 0 || n > maxLineFile {
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
