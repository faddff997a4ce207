package frame

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func encodeFrames(marker string, frames []Frame) string {
	var b strings.Builder
	b.WriteString("noise before\n")
	for _, f := range frames {
		step := fmt.Sprint(f.Step)
		if f.Step < 0 {
			step = "-"
		}
		if len(f.Payload) == 0 {
			fmt.Fprintf(&b, "\n%s %s %s 0 %s\n", marker, step, f.Kind, strings.Join(f.Fields, " "))
			continue
		}
		fmt.Fprintf(&b, "\n%s %s %s %d %d\n%s", marker, step, f.Kind, len(f.Payload), f.Size, f.Payload)
	}
	return b.String()
}

func TestFrameWriterChunking(t *testing.T) {
	m := NewMarker()
	want := []Frame{
		{Step: -1, Kind: Facts, Fields: []string{"Linux", "0"}},
		{Step: 0, Kind: Check, Fields: []string{"1"}},
		// A payload that contains a fake marker and newlines.
		{Step: 0, Kind: Out, Payload: []byte("x\n" + m + " 9 check 0 0\n\ny"), Size: 20},
		{Step: 1, Kind: Stat, Fields: []string{"1", "abc", "644", "root", "root", "3"}},
		{Step: 1, Kind: Cur, Payload: []byte("abc"), Size: 3},
	}
	want[2].Size = int64(len(want[2].Payload))
	enc := encodeFrames(m, want)
	for _, chunk := range []int{1, 2, 3, 7, 64, len(enc)} {
		w := NewWriter(m)
		for i := 0; i < len(enc); i += chunk {
			w.Write([]byte(enc[i:min(i+chunk, len(enc))]))
		}
		if len(w.Frames) != len(want) {
			t.Fatalf("chunk %d: %d frames, want %d", chunk, len(w.Frames), len(want))
		}
		for i, f := range w.Frames {
			if f.Step != want[i].Step || f.Kind != want[i].Kind || string(f.Payload) != string(want[i].Payload) ||
				strings.Join(f.Fields[min(len(f.Fields), boolInt(len(want[i].Payload) > 0)):], " ") != strings.Join(want[i].Fields, " ") {
				t.Errorf("chunk %d frame %d: %+v, want %+v", chunk, i, f, want[i])
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func FuzzFrameWriter(f *testing.F) {
	m := "@@DL-0011223344556677"
	f.Add(encodeFrames(m, []Frame{{Step: 0, Kind: Out, Payload: []byte("hello"), Size: 5}}), 3)
	f.Add("\n"+m+" 1 check 0 0\n\n"+m+" x y z\n", 1)
	f.Add("\n"+m+" 2 sout -1 check\nstreamed\nout\n"+m+" 2 check 0 1\n", 2)
	f.Add("\n"+m+" 3 cur -1\nabc\n"+m+" 3 eos 0\n\n"+m+" 4 out -1\ncut short", 5)
	f.Fuzz(func(t *testing.T, s string, chunk int) {
		if chunk <= 0 {
			chunk = 1
		}
		var looseC, looseW bytes.Buffer
		w := NewWriter(m)
		w.Loose = &looseC
		for i := 0; i < len(s); i += chunk {
			w.Write([]byte(s[i:min(i+chunk, len(s))]))
		}
		w.Close()
		whole := NewWriter(m)
		whole.Loose = &looseW
		whole.Write([]byte(s))
		whole.Close()
		if len(w.Frames) != len(whole.Frames) {
			t.Fatalf("chunked %d frames, whole %d", len(w.Frames), len(whole.Frames))
		}
		for i, fr := range w.Frames {
			if int64(len(fr.Payload)) > MaxFile+1 {
				t.Fatal("payload over the cap")
			}
			o := whole.Frames[i]
			if fr.Step != o.Step || fr.Kind != o.Kind || string(fr.Payload) != string(o.Payload) || fr.Size != o.Size {
				t.Fatalf("frame %d: chunked %+v, whole %+v", i, fr, o)
			}
		}
		if looseC.String() != looseW.String() {
			t.Fatalf("loose bytes differ: %q vs %q", looseC.String(), looseW.String())
		}
		Merge(w.Frames, whole.Frames) // must not panic on any input
	})
}

// Streamed payloads end where the next frame begins; the newline before
// the marker is the frame's. Output is capped, its full size counted; a
// stream cut short (the script was killed) is kept by Close.
func TestFrameWriterStreams(t *testing.T) {
	m := NewMarker()
	big := strings.Repeat("x", MaxOutput+10)
	in := "noise\n" +
		"\n" + m + " 0 sout -1 check\nline 1\nno newline" +
		"\n" + m + " 0 check 0 1\n" +
		"\n" + m + " 1 out -1\n" + big + "\n" +
		"\n" + m + " 1 eos 0\n" +
		"\n" + m + " 2 cur -1\nabc\n" + "\n" + m + " 2 eos 0\n" +
		"\n" + m + " 3 out -1\ncut"
	for _, chunk := range []int{1, 5, 4096, len(in)} {
		w := NewWriter(m)
		for i := 0; i < len(in); i += chunk {
			w.Write([]byte(in[i:min(i+chunk, len(in))]))
		}
		w.Close()
		got := []string{}
		for _, f := range w.Frames {
			got = append(got, fmt.Sprintf("%d %s %d %d", f.Step, f.Kind, len(f.Payload), f.Size))
		}
		want := []string{"0 sout 17 17", "0 check 0 0", fmt.Sprintf("1 out %d %d", MaxOutput, MaxOutput+11), "1 eos 0 0", "2 cur 4 4", "2 eos 0 0", "3 out 3 3"}
		if strings.Join(got, ", ") != strings.Join(want, ", ") {
			t.Fatalf("chunk %d:\n got %v\nwant %v", chunk, got, want)
		}
		if string(w.Frames[0].Payload) != "line 1\nno newline" || string(w.Frames[4].Payload) != "abc\n" {
			t.Errorf("chunk %d: payloads %q %q", chunk, w.Frames[0].Payload, w.Frames[4].Payload)
		}
	}
}

// merge puts a check's streamed stdout and its stderr after its result.
func TestMerge(t *testing.T) {
	stdout := []Frame{
		{Step: -1, Kind: Facts},
		{Step: 0, Kind: SOut, Payload: []byte("o0"), Size: 2},
		{Step: 0, Kind: Check, Fields: []string{"1"}},
		{Step: 1, Kind: Stat},
		{Step: 2, Kind: SOut},
		{Step: 2, Kind: Check, Fields: []string{"0"}},
		{Step: 3, Kind: Run, Fields: []string{"0"}},
		{Step: 3, Kind: Out, Payload: []byte("r"), Size: 1},
		{Step: 3, Kind: EOS},
	}
	stderr := []Frame{
		{Step: 0, Kind: Err, Payload: []byte("e0"), Size: 2},
		{Step: 0, Kind: EOS},
		{Step: 2, Kind: Err},
		{Step: 2, Kind: EOS},
	}
	var got []string
	for _, f := range Merge(stdout, stderr) {
		got = append(got, fmt.Sprintf("%d:%s:%s", f.Step, f.Kind, f.Payload))
	}
	want := "-1:facts: 0:check: 0:out:o0 0:err:e0 1:stat: 2:check: 3:run: 3:out:r"
	if strings.Join(got, " ") != want {
		t.Errorf("merge:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestLastAndCode(t *testing.T) {
	fs := []Frame{{Kind: Run, Fields: []string{"3"}}, {Kind: Check, Fields: []string{"x"}}, {Kind: Run, Fields: []string{"7"}}}
	if f := Last(fs, Run); f != &fs[2] || Code(f) != 7 {
		t.Errorf("Last(Run) = %+v, code %d", f, Code(f))
	}
	if Last(fs, Cur) != nil || Code(nil) != -1 || Code(Last(fs, Check)) != -1 || Code(&Frame{}) != -1 {
		t.Error("a missing frame or field, or a field that is not a number, must give nil and -1")
	}
}

// parseHeaderSplit is ParseHeader as it was written first, with
// strings.SplitN: the reference the one that parses in place must agree
// with.
func parseHeaderSplit(h string) (Frame, int64, bool) {
	parts := strings.SplitN(h, " ", 4)
	if len(parts) < 3 {
		return Frame{}, 0, false
	}
	f := Frame{Kind: Kind(parts[1]), Step: -1}
	if parts[0] != "-" {
		n, err := strconv.Atoi(parts[0])
		if err != nil {
			return Frame{}, 0, false
		}
		f.Step = n
	}
	n, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || n < -1 || n > MaxFile {
		return Frame{}, 0, false
	}
	if len(parts) == 4 {
		f.Fields = strings.Fields(parts[3])
	}
	f.Size = n
	if n > 0 && len(f.Fields) > 0 {
		if full, err := strconv.ParseInt(f.Fields[0], 10, 64); err == nil {
			f.Size = full
		}
	}
	return f, n, true
}

func FuzzParseHeader(f *testing.F) {
	for _, h := range []string{"1 check 0 0", "- facts 0 Linux -", "2 sout -1 check", "3 cur 12 4096", "0 out 5",
		"x y", "1 check", "1 check 0", "1 check 0 ", "1  check 0", "- end 0 0  7\t8", "9 stat 0 \t", "-1 run 9999999999", ""} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, h string) {
		want, wn, wok := parseHeaderSplit(h)
		got, n, ok := ParseHeader(h)
		if ok != wok || n != wn || !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: %+v %d %v, want %+v %d %v", h, got, n, ok, want, wn, wok)
		}
	})
}

// OnFrame is told each header as it is read, in order, before the
// frame's payload; what it is given is the header, for the call.
func TestOnFrame(t *testing.T) {
	m := NewMarker()
	in := "\n" + m + " - facts 0 Linux -\n" +
		"\n" + m + " 0 sout -1 check\nstreamed" +
		"\n" + m + " 0 check 0 1\n" +
		"\n" + m + " 1 cur 3 3\nabc" +
		"\n" + m + " - end 0 0\n"
	for _, chunk := range []int{1, 3, len(in)} {
		w := NewWriter(m)
		var seen []string
		var payloads []int
		w.OnFrame = func(f *Frame) {
			seen = append(seen, fmt.Sprintln(f.Step, f.Kind, f.Fields))
			payloads = append(payloads, len(f.Payload))
		}
		for i := 0; i < len(in); i += chunk {
			w.Write([]byte(in[i:min(i+chunk, len(in))]))
		}
		w.Close()
		want := fmt.Sprint([]string{"-1 facts [Linux -]\n", "0 sout [check]\n", "0 check [1]\n", "1 cur [3]\n", "-1 end [0]\n"})
		if got := fmt.Sprint(seen); got != want {
			t.Errorf("chunk %d: headers %s, want %s", chunk, got, want)
		}
		if fmt.Sprint(payloads) != "[0 0 0 0 0]" {
			t.Errorf("chunk %d: OnFrame saw payloads %v", chunk, payloads)
		}
		if len(w.Frames) != 5 || string(w.Frames[1].Payload) != "streamed" || string(w.Frames[3].Payload) != "abc" {
			t.Errorf("chunk %d: frames %+v", chunk, w.Frames)
		}
	}
}

// A Writer reads a header as ParseHeader does, whatever it holds.
func FuzzWriterHeader(f *testing.F) {
	for _, h := range []string{"1 check 0 0", "- facts 0 Linux -", "2 sout -1 check", "3 cur 12 4096", "0 out 5",
		"x y", "1 check", "1 check 0", "1 check 0 ", "1  check 0", "- end 0 0  7\t8", "9 stat 0 \t", "-1 run 9999999999", "",
		"007 stat +5 1", "1 mine 0 a", "1 stat 0 a\u00a0b", "1 stat 0 a\u0085b", "1 stat 9999999999999999999 x", "- has 8388609 1",
		"1 cur 3 x", "2 stat 0 1 - 755 - - 4096", "1 err -1", "4 eos 0"} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, h string) {
		w := NewWriter("@@DL-0")
		for range 3 { // the fields of the frames before share a slice
			want, wn, wok := ParseHeader(h)
			got, n, ok := w.header([]byte(h))
			if ok != wok || n != wn || !reflect.DeepEqual(got, want) {
				t.Fatalf("%q: %+v %d %v, want %+v %d %v", h, got, n, ok, want, wn, wok)
			}
		}
	})
}

// A Writer reads the headers every script writes with no allocation but
// their fields' text and, now and then, a slice for the fields.
func TestWriterHeaderAllocs(t *testing.T) {
	w := NewWriter("@@DL-0")
	h := []byte("2 stat 0 1 - 755 - - 4096")
	w.header(h)
	if n := testing.AllocsPerRun(100, func() { w.header(h) }); n > 1.5 {
		t.Errorf("%.1f allocations per header, want at most 1.5", n)
	}
}

func BenchmarkWriterCheck(b *testing.B) {
	m := "@@DL-0123456789abcdef"
	out := strings.ReplaceAll("\n@@DL-MARKER - facts 0 Linux -\n\n@@DL-MARKER 0 stat 0 1 - 755 - - 4096\n\n@@DL-MARKER 1 stat 0 1 7f57f85e2ded13f53ccef1cfa3f337d635f1b1e93d82e6ff40692b41804fcd99 640 - - 69\n"+
		"\n@@DL-MARKER 2 stat 0 1 - - - - 0\n\n@@DL-MARKER 2 has 0 1\n\n@@DL-MARKER 3 sout -1 check\n\n@@DL-MARKER 3 check 0 0\n\n@@DL-MARKER - end 0 0\n", "@@DL-MARKER", m)
	b.ReportAllocs()
	for b.Loop() {
		w := NewWriter(m)
		w.Write([]byte(out))
		w.Close()
	}
}

// ByStep gives each step its frames in the order they came.
func TestByStep(t *testing.T) {
	frames := []Frame{{Step: -1, Kind: Facts}, {Step: 1, Kind: Stat}, {Step: 0, Kind: Stat}, {Step: 1, Kind: Has},
		{Step: 0, Kind: Check}, {Step: 2, Kind: Run}, {Step: 1, Kind: Cur}, {Step: -1, Kind: End}}
	per := ByStep(frames)
	got := fmt.Sprint(len(per), per[-1], per[0], per[1], per[2])
	want := fmt.Sprint(4, []Frame{frames[0], frames[7]}, []Frame{frames[2], frames[4]}, []Frame{frames[1], frames[3], frames[6]}, []Frame{frames[5]})
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	if len(ByStep(nil)) != 0 {
		t.Error("frames from nothing")
	}
	per[0] = append(per[0], Frame{Step: 0, Kind: Out})
	if per[1][0].Kind != Stat {
		t.Error("appending to one step's frames changed another's")
	}
}
