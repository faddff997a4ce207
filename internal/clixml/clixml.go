// Package clixml turns the CLIXML that Windows PowerShell writes on a
// redirected stderr ("#< CLIXML" then <Objs> documents, when it runs an
// -EncodedCommand whose output another program reads) back into the
// plain text of its error, warning and information records. The WinRM
// and SSH transports filter a PowerShell process's stderr with it.
package clixml

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf16"
)

// Filter passes stderr through, except when it is PowerShell's
// CLIXML serialization ("#< CLIXML" then <Objs>): that is collected and
// turned into the text of its error and warning records at the end.
type Filter struct {
	w    io.Writer
	head []byte // first bytes, until the form is known
	xml  *bytes.Buffer
	pass bool
}

const mark = "#< CLIXML"

// maxXML bounds what the filter collects.
const maxXML = 4 << 20

// NewFilter returns a Filter writing to w (nil: discard).
func NewFilter(w io.Writer) *Filter {
	if w == nil {
		w = io.Discard
	}
	return &Filter{w: w}
}

// Write implements io.Writer.
func (f *Filter) Write(p []byte) (int, error) {
	switch {
	case f.pass:
		return f.w.Write(p)
	case f.xml != nil:
		if f.xml.Len() < maxXML {
			f.xml.Write(p[:min(len(p), maxXML-f.xml.Len())])
		}
		return len(p), nil
	}
	f.head = append(f.head, p...)
	switch {
	case bytes.HasPrefix(f.head, []byte(mark)):
		f.xml = bytes.NewBuffer(f.head[len(mark):])
		f.head = nil
	case len(f.head) >= len(mark) || !bytes.HasPrefix([]byte(mark), f.head):
		f.pass = true
		head := f.head
		f.head = nil
		if _, err := f.w.Write(head); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes what is still held: a short stderr, or the text of the
// CLIXML records.
func (f *Filter) Flush() {
	switch {
	case len(f.head) > 0:
		f.w.Write(f.head)
		f.head = nil
	case f.xml != nil:
		f.w.Write([]byte(Text(f.xml.Bytes())))
		f.xml = nil
	}
}

// Text extracts the text of the error, warning and information
// records (<S S="Error">...</S>) of CLIXML documents; progress records
// are dropped. PowerShell escapes characters as _xHHHH_.
func Text(doc []byte) string {
	var b strings.Builder
	for _, part := range bytes.Split(doc, []byte(mark)) {
		var objs struct {
			S []struct {
				Stream string `xml:"S,attr"`
				Text   string `xml:",chardata"`
			} `xml:"S"`
		}
		if err := xmlUnmarshalLenient(part, &objs); err != nil {
			b.Write(bytes.TrimSpace(part))
			continue
		}
		for _, s := range objs.S {
			switch strings.ToLower(s.Stream) {
			case "error", "warning", "information", "":
				b.WriteString(unescape(s.Text))
			}
		}
	}
	return b.String()
}

var escapes = regexp.MustCompile(`(?:_x[0-9A-Fa-f]{4}_)+`)

// unescape decodes PowerShell's _xHHHH_ escapes (UTF-16 code
// units, so a run of them may hold surrogate pairs).
func unescape(s string) string {
	return escapes.ReplaceAllStringFunc(s, func(m string) string {
		units := make([]uint16, 0, len(m)/7)
		for i := 0; i+7 <= len(m); i += 7 {
			var u uint16
			fmt.Sscanf(m[i+2:i+6], "%x", &u)
			units = append(units, u)
		}
		return string(utf16.Decode(units))
	})
}

// xmlUnmarshalLenient decodes one CLIXML document (nothing for blank
// input).
func xmlUnmarshalLenient(doc []byte, v any) error {
	doc = bytes.TrimSpace(doc)
	if len(doc) == 0 {
		return nil
	}
	return xml.Unmarshal(doc, v)
}
