package runner

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func encodeFrames(marker string, frames []frame) string {
	var b strings.Builder
	b.WriteString("noise before\n")
	for _, f := range frames {
		step := fmt.Sprint(f.step)
		if f.step < 0 {
			step = "-"
		}
		if len(f.payload) == 0 {
			fmt.Fprintf(&b, "\n%s %s %s 0 %s\n", marker, step, f.kind, strings.Join(f.fields, " "))
			continue
		}
		fmt.Fprintf(&b, "\n%s %s %s %d %d\n%s", marker, step, f.kind, len(f.payload), f.size, f.payload)
	}
	return b.String()
}

func TestFrameWriterChunking(t *testing.T) {
	m := newMarker()
	want := []frame{
		{step: -1, kind: "facts", fields: []string{"Linux", "0"}},
		{step: 0, kind: "check", fields: []string{"1"}},
		// A payload that contains a fake marker and newlines.
		{step: 0, kind: "out", payload: []byte("x\n" + m + " 9 check 0 0\n\ny"), size: 20},
		{step: 1, kind: "stat", fields: []string{"1", "abc", "644", "root", "root", "3"}},
		{step: 1, kind: "cur", payload: []byte("abc"), size: 3},
	}
	want[2].size = int64(len(want[2].payload))
	enc := encodeFrames(m, want)
	for _, chunk := range []int{1, 2, 3, 7, 64, len(enc)} {
		w := newFrameWriter(m)
		for i := 0; i < len(enc); i += chunk {
			w.Write([]byte(enc[i:min(i+chunk, len(enc))]))
		}
		if len(w.frames) != len(want) {
			t.Fatalf("chunk %d: %d frames, want %d", chunk, len(w.frames), len(want))
		}
		for i, f := range w.frames {
			if f.step != want[i].step || f.kind != want[i].kind || string(f.payload) != string(want[i].payload) ||
				strings.Join(f.fields[min(len(f.fields), boolInt(len(want[i].payload) > 0)):], " ") != strings.Join(want[i].fields, " ") {
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
	f.Add(encodeFrames(m, []frame{{step: 0, kind: "out", payload: []byte("hello"), size: 5}}), 3)
	f.Add("\n"+m+" 1 check 0 0\n\n"+m+" x y z\n", 1)
	f.Add("\n"+m+" 2 sout -1 check\nstreamed\nout\n"+m+" 2 check 0 1\n", 2)
	f.Add("\n"+m+" 3 cur -1\nabc\n"+m+" 3 eos 0\n\n"+m+" 4 out -1\ncut short", 5)
	f.Fuzz(func(t *testing.T, s string, chunk int) {
		if chunk <= 0 {
			chunk = 1
		}
		var looseC, looseW bytes.Buffer
		w := newFrameWriter(m)
		w.loose = &limitedBuffer{b: &looseC, n: 1 << 20}
		for i := 0; i < len(s); i += chunk {
			w.Write([]byte(s[i:min(i+chunk, len(s))]))
		}
		w.Close()
		whole := newFrameWriter(m)
		whole.loose = &limitedBuffer{b: &looseW, n: 1 << 20}
		whole.Write([]byte(s))
		whole.Close()
		if len(w.frames) != len(whole.frames) {
			t.Fatalf("chunked %d frames, whole %d", len(w.frames), len(whole.frames))
		}
		for i, fr := range w.frames {
			if int64(len(fr.payload)) > maxLineFile+1 {
				t.Fatal("payload over the cap")
			}
			o := whole.frames[i]
			if fr.step != o.step || fr.kind != o.kind || string(fr.payload) != string(o.payload) || fr.size != o.size {
				t.Fatalf("frame %d: chunked %+v, whole %+v", i, fr, o)
			}
		}
		if looseC.String() != looseW.String() {
			t.Fatalf("loose bytes differ: %q vs %q", looseC.String(), looseW.String())
		}
		merge(w.frames, whole.frames) // must not panic on any input
	})
}

// Streamed payloads end where the next frame begins; the newline before
// the marker is the frame's. Output is capped, its full size counted; a
// stream cut short (the script was killed) is kept by Close.
func TestFrameWriterStreams(t *testing.T) {
	m := newMarker()
	big := strings.Repeat("x", MaxOutput+10)
	in := "noise\n" +
		"\n" + m + " 0 sout -1 check\nline 1\nno newline" +
		"\n" + m + " 0 check 0 1\n" +
		"\n" + m + " 1 out -1\n" + big + "\n" +
		"\n" + m + " 1 eos 0\n" +
		"\n" + m + " 2 cur -1\nabc\n" + "\n" + m + " 2 eos 0\n" +
		"\n" + m + " 3 out -1\ncut"
	for _, chunk := range []int{1, 5, 4096, len(in)} {
		w := newFrameWriter(m)
		for i := 0; i < len(in); i += chunk {
			w.Write([]byte(in[i:min(i+chunk, len(in))]))
		}
		w.Close()
		got := []string{}
		for _, f := range w.frames {
			got = append(got, fmt.Sprintf("%d %s %d %d", f.step, f.kind, len(f.payload), f.size))
		}
		want := []string{"0 sout 17 17", "0 check 0 0", fmt.Sprintf("1 out %d %d", MaxOutput, MaxOutput+11), "1 eos 0 0", "2 cur 4 4", "2 eos 0 0", "3 out 3 3"}
		if strings.Join(got, ", ") != strings.Join(want, ", ") {
			t.Fatalf("chunk %d:\n got %v\nwant %v", chunk, got, want)
		}
		if string(w.frames[0].payload) != "line 1\nno newline" || string(w.frames[4].payload) != "abc\n" {
			t.Errorf("chunk %d: payloads %q %q", chunk, w.frames[0].payload, w.frames[4].payload)
		}
	}
}

// merge puts a check's streamed stdout and its stderr after its result.
func TestMerge(t *testing.T) {
	stdout := []frame{
		{step: -1, kind: "facts"},
		{step: 0, kind: "sout", payload: []byte("o0"), size: 2},
		{step: 0, kind: "check", fields: []string{"1"}},
		{step: 1, kind: "stat"},
		{step: 2, kind: "sout"},
		{step: 2, kind: "check", fields: []string{"0"}},
		{step: 3, kind: "run", fields: []string{"0"}},
		{step: 3, kind: "out", payload: []byte("r"), size: 1},
		{step: 3, kind: "eos"},
	}
	stderr := []frame{
		{step: 0, kind: "err", payload: []byte("e0"), size: 2},
		{step: 0, kind: "eos"},
		{step: 2, kind: "err"},
		{step: 2, kind: "eos"},
	}
	var got []string
	for _, f := range merge(stdout, stderr) {
		got = append(got, fmt.Sprintf("%d:%s:%s", f.step, f.kind, f.payload))
	}
	want := "-1:facts: 0:check: 0:out:o0 0:err:e0 1:stat: 2:check: 3:run: 3:out:r"
	if strings.Join(got, " ") != want {
		t.Errorf("merge:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestEditLine(t *testing.T) {
	cases := []struct {
		cur, line, re string
		absent        bool
		want          string
	}{
		{"a\nb\n", "c", "", false, "a\nb\nc\n"},
		{"a\nb", "c", "", false, "a\nb\nc\n"},
		{"", "c", "", false, "c\n"},
		{"a\nc\nb\n", "c", "", false, "a\nc\nb\n"},
		{"PORT=1\nx\nPORT=2\n", "PORT=9", "^PORT=", false, "PORT=1\nx\nPORT=9\n"},
		{"PORT=9\n", "PORT=9", "^PORT=", false, "PORT=9\n"},
		{"a\nsecret\nb\n", "secret", "", true, "a\nb\n"},
		{"a\nPORT=1\nb\n", "", "^PORT=", true, "a\nb\n"},
		// CRLF files (Windows) are matched without their CRs and keep CRLF.
		{"127.0.0.1 localhost\r\n10.0.0.4 db\r\n", "10.0.0.5 db", `\sdb$`, false, "127.0.0.1 localhost\r\n10.0.0.5 db\r\n"},
		{"127.0.0.1 localhost\r\n10.0.0.5 db\r\n", "10.0.0.5 db", `\sdb$`, false, "127.0.0.1 localhost\r\n10.0.0.5 db\r\n"},
		{"a\r\nb\r\n", "c", "", false, "a\r\nb\r\nc\r\n"},
		{"a\r\nsecret\r\nb", "secret", "", true, "a\r\nb"},
		{"a\r\nb\r\n", "b", "", false, "a\r\nb\r\n"},
	}
	for _, c := range cases {
		got, err := editLine([]byte(c.cur), &step{line: c.line, lineRe: c.re, absent: c.absent})
		if err != nil || string(got) != c.want {
			t.Errorf("editLine(%q, %q, %q, absent=%v) = %q, %v; want %q", c.cur, c.line, c.re, c.absent, got, err, c.want)
		}
	}
}

func TestPrintfBytesRoundTrip(t *testing.T) {
	// The script writes bytes with printf; every byte must survive.
	var all []byte
	for i := range 256 {
		all = append(all, byte(i))
	}
	s := printfBytes(all, "/dev/null")
	if strings.ContainsAny(s[strings.Index(s, "'"):], "\x00\n%") {
		t.Fatalf("unescaped bytes in %q", s)
	}
}
