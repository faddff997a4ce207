package plan

import (
	"testing"

	"github.com/driftless-dev/driftless/documents"
)

// A secret added after a redaction is redacted from then on, the longer
// of two overlapping secrets whole; short values are not secrets.
func TestRedactorAddAfterRedact(t *testing.T) {
	var r Redactor
	if got := r.Redact("hunter2 and hunter22"); got != "hunter2 and hunter22" {
		t.Errorf("no secrets: %q", got)
	}
	r.Add("hunter2", "ab")
	if got, want := r.Redact("hunter2 ab"), documents.Redacted+" ab"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	r.Add("hunter22")
	if got, want := r.Redact("hunter22 hunter2"), documents.Redacted+" "+documents.Redacted; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !r.Contains("xhunter2x") || r.Contains("hunter") {
		t.Error("Contains")
	}
	var none *Redactor
	if none.Redact("hunter2") != "hunter2" {
		t.Error("nil redactor")
	}
}
