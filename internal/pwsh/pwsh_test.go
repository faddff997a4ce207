package pwsh

import (
	"bytes"
	"encoding/base64"
	"testing"
	"unicode/utf16"
)

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "''",
		"plain":            "'plain'",
		"it's":             "'it''s'",
		"‘a’ ‚b‛":          "'‘‘a’’ ‚‚b‛‛'",
		"$env:PATH":        "'$env:PATH'",
		"`n":               "'`n'",
		"$x `n \"y\"":      "'$x `n \"y\"'",
		"line\r\nline2":    "'line\r\nline2'",
		"$(rm -r C:\\) `n": "'$(rm -r C:\\) `n'",
		"two\nlines":       "'two\nlines'",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	for _, s := range []string{"", "Get-Date", "é 😀 ‘x’\n"} {
		b, err := base64.StdEncoding.DecodeString(Encode(s))
		if err != nil || len(b)%2 != 0 {
			t.Fatalf("%q: %v", s, err)
		}
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
		}
		if got := string(utf16.Decode(u)); got != s {
			t.Errorf("round trip of %q gave %q", s, got)
		}
	}
}

func TestEncodeIsUTF16LEBase64(t *testing.T) {
	b, _ := base64.StdEncoding.DecodeString(Encode("A€😀"))
	want := []byte{'A', 0, 0xac, 0x20, 0x3d, 0xd8, 0x00, 0xde}
	if !bytes.Equal(b, want) {
		t.Fatalf("% x, want % x", b, want)
	}
}
