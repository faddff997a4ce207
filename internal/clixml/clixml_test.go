package clixml

import (
	"bytes"
	"testing"
)

func TestFilter(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain error\n", "plain error\n"},
		{"#<", "#<"},
		{"", ""},
		{"#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><S S=\"Error\">boom_x000D__x000A_</S><S S=\"verbose\">chatty</S><S S=\"Error\">emoji _xD83D__xDE00_</S></Objs>",
			"boom\r\nemoji 😀"},
		{"#< CLIXML\r\nnot xml", "not xml"},
	} {
		var b bytes.Buffer
		f := NewFilter(&b)
		for i := range len(tc.in) { // byte by byte: the worst cut
			f.Write([]byte{tc.in[i]})
		}
		f.Flush()
		if b.String() != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, b.String(), tc.want)
		}
	}
}
