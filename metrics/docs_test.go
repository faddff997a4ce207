package metrics

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/driftless-dev/driftless/journal"
)

// seriesNames is every series name the daemon serves: the families, and
// a histogram's _bucket, _sum and _count.
func seriesNames(t *testing.T) map[string]bool {
	t.Helper()
	d := NewDaemon(func(context.Context) ([]journal.ComplianceRow, error) {
		return []journal.ComplianceRow{{Association: "a", Host: "h", Severity: journal.SeverityLow, Compliance: journal.Compliant}}, nil
	})
	d.Associations([]string{"a"})
	d.ObserveRun(journal.Run{Association: "a", StartedAt: time.Unix(0, 0), EndedAt: time.Unix(1, 0)}, nil)
	fams, err := d.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range fams {
		names[f.GetName()] = true
		if f.GetType() == dto.MetricType_HISTOGRAM || f.GetType() == dto.MetricType_SUMMARY {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[f.GetName()+s] = true
			}
		}
	}
	return names
}

// metricRef is a metric name in a query or in the docs: a word of the
// families driftless, Go and process metrics use.
var metricRef = regexp.MustCompile(`\b(?:driftless|go|process)_[a-z0-9_]+\b`)

// The Grafana dashboard in docs/ is valid JSON, and every metric it
// queries is one the daemon serves.
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile("../docs/grafana-driftless.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&dash); err != nil {
		t.Fatalf("docs/grafana-driftless.json: %v", err)
	}
	names := seriesNames(t)
	var vars []string
	for _, v := range dash.Templating.List {
		vars = append(vars, v.Name)
	}
	var exprs []string
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(map[string]any); ok {
			exprs = append(exprs, q["query"].(string))
		}
	}
	if len(dash.Panels) == 0 {
		t.Fatal("no panels")
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	used := map[string]bool{}
	for _, e := range exprs {
		refs := metricRef.FindAllString(e, -1)
		if len(refs) == 0 {
			t.Errorf("query %q names no metric", e)
		}
		for _, m := range refs {
			used[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_sum"), "_count")] = true
			if !names[m] {
				t.Errorf("query %q: the daemon serves no %s", e, m)
			}
		}
		for _, v := range regexp.MustCompile(`\$(\w+)`).FindAllStringSubmatch(e, -1) {
			if !strings.HasPrefix(v[1], "__") && !slices.Contains(vars, v[1]) {
				t.Errorf("query %q: no variable $%s in the dashboard", e, v[1])
			}
		}
		if strings.Count(e, "(") != strings.Count(e, ")") || strings.Count(e, "{") != strings.Count(e, "}") || strings.Count(e, "[") != strings.Count(e, "]") {
			t.Errorf("query %q: unbalanced brackets", e)
		}
	}
	for _, m := range []string{NameCompliance, NameHostResults, NameDriftEvents, NameRunDuration, NameLastTick} {
		if !used[m] {
			t.Errorf("the dashboard does not use %s", m)
		}
	}
}

// docs/metrics.md describes every driftless metric, and only those.
func TestMetricsDoc(t *testing.T) {
	b, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	names := seriesNames(t)
	doc := string(b)
	for name := range names {
		if strings.HasPrefix(name, "driftless_") && !strings.Contains(doc, "`"+name) &&
			!strings.HasSuffix(name, "_bucket") && !strings.HasSuffix(name, "_sum") && !strings.HasSuffix(name, "_count") {
			t.Errorf("docs/metrics.md does not describe %s", name)
		}
	}
	for _, m := range metricRef.FindAllString(doc, -1) {
		if strings.HasPrefix(m, "driftless_") && !names[m] {
			t.Errorf("docs/metrics.md names %s, which the daemon does not serve", m)
		}
	}
}
