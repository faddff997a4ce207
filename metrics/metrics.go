// Package metrics exposes what driftless knows as Prometheus metrics
// (docs/metrics.md): the compliance of every association × host, read
// from the journal at each scrape, and what the daemon observes as it
// ticks (host results, drift events, run durations, the last tick).
//
// `driftless daemon --metrics-listen` serves a Daemon's Handler;
// `driftless status --output prometheus` writes the compliance gauges
// with WriteText, for node_exporter's textfile collector. Both go
// through the same Compliance collector, so names and labels agree.
package metrics

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/driftless-dev/driftless/journal"
)

// Metric names (docs/metrics.md).
const (
	NameCompliance  = "driftless_compliance"
	NameHostResults = "driftless_host_results_total"
	NameDriftEvents = "driftless_drift_events_total"
	NameRunDuration = "driftless_run_duration_seconds"
	NameLastTick    = "driftless_last_tick_timestamp_seconds"
)

// RowsFunc returns the compliance rows to expose: the journal's Status.
type RowsFunc func(ctx context.Context) ([]journal.ComplianceRow, error)

// Compliance is a prometheus.Collector of driftless_compliance: at each
// collection it reads the latest result of every association × host
// (journal.Status), so the gauges are never out of step with the
// journal, whoever wrote it (this daemon, a cron tick, an apply).
type Compliance struct {
	rows    RowsFunc
	timeout time.Duration
	desc    *prometheus.Desc
}

// NewCompliance returns a collector whose every collection calls rows,
// given at most timeout.
func NewCompliance(rows RowsFunc, timeout time.Duration) *Compliance {
	return &Compliance{
		rows:    rows,
		timeout: timeout,
		desc: prometheus.NewDesc(NameCompliance,
			"1 when the association's latest run on the host left it COMPLIANT, 0 when NON_COMPLIANT.",
			[]string{"association", "host", "severity"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Compliance) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector. A journal that cannot be read
// is reported as an invalid metric: the scrape still serves the others.
func (c *Compliance) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	rows, err := c.rows(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, fmt.Errorf("read compliance from the journal: %w", err))
		return
	}
	for _, r := range rows {
		v := 0.0
		if r.Compliance == journal.Compliant {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, r.Association, r.Host, r.Severity)
	}
}

// WriteText writes the compliance gauges of rows to w in the Prometheus
// text exposition format (node_exporter's textfile collector reads it).
func WriteText(w io.Writer, rows []journal.ComplianceRow) error {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCompliance(func(context.Context) ([]journal.ComplianceRow, error) { return rows, nil }, time.Minute))
	families, err := reg.Gather()
	if err != nil {
		return fmt.Errorf("gather metrics: %w", err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return fmt.Errorf("write metrics: %w", err)
		}
	}
	return nil
}
