// Package promtest reads the Prometheus text format in tests, with
// prometheus/common/expfmt, the parser Prometheus itself uses.
package promtest

import (
	"io"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Parse parses r, the text format, into its metric families by name, and
// stops the test, naming what, when r is not that format.
func Parse(t testing.TB, what string, r io.Reader) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("%s: not the Prometheus text format: %v", what, err)
	}
	return fams
}

// Label is the value of m's label name, "" when it has none.
func Label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
