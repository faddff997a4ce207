package splice

import (
	"io"
	"strconv"
	"strings"
	"testing"
)

func TestReader(t *testing.T) {
	script := "a" + Mark(2) + "b" + Mark(10) + "c"
	if !Has(script) || Has("abc") {
		t.Fatal("Has")
	}
	got, err := io.ReadAll(Reader(script, func(step int) io.Reader { return strings.NewReader("<" + strconv.Itoa(step) + ">") }))
	if err != nil || string(got) != "a<2>b<10>c" {
		t.Errorf("got %q, %v", got, err)
	}
	if got, _ := io.ReadAll(Reader("plain", nil)); string(got) != "plain" {
		t.Errorf("a script without stand-ins: %q", got)
	}
}
