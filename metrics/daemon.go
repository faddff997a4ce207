package metrics

import (
	"log"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/driftless-dev/driftless/journal"
)

// ScrapeTimeout bounds what one scrape may take, the journal read
// included.
const ScrapeTimeout = 10 * time.Second

// runBuckets are the run durations the histogram tells apart: from a
// quick check of a few hosts to a long rollout.
var runBuckets = []float64{1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}

// hostStatuses are the statuses a host execution is recorded with; the
// host results counter starts at 0 for each, per association.
var hostStatuses = []journal.Status{
	journal.StatusSuccess, journal.StatusFailed, journal.StatusTimedOut,
	journal.StatusUnreachable, journal.StatusSkipped, journal.StatusCancelled,
}

// Daemon holds the metrics of one `driftless daemon` process. Its
// counters and histogram count what this process ran since it started
// (process-lifetime, reset by a restart, which Prometheus's rate and
// increase handle); the compliance gauges are read from the journal and
// survive restarts. Its methods are safe for concurrent use.
type Daemon struct {
	reg         *prometheus.Registry
	hostResults *prometheus.CounterVec
	driftEvents prometheus.Counter
	runDuration prometheus.Histogram
	lastTick    prometheus.Gauge
}

// NewDaemon returns the daemon's metrics, with the compliance gauges of
// rows and the Go runtime and process metrics.
func NewDaemon(rows RowsFunc) *Daemon {
	d := &Daemon{
		reg: prometheus.NewRegistry(),
		hostResults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: NameHostResults,
			Help: "Host executions this daemon ran since it started, by association and host status.",
		}, []string{"association", "status"}),
		driftEvents: prometheus.NewCounter(prometheus.CounterOpts{
			Name: NameDriftEvents,
			Help: "Steps this daemon found out of state since it started (corrected, detected or failed to correct).",
		}),
		runDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    NameRunDuration,
			Help:    "How long the runs of associations this daemon started took, from start to end, in seconds.",
			Buckets: runBuckets,
		}),
		lastTick: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: NameLastTick,
			Help: "Unix time at which the daemon's latest tick ended without error; 0 before the first.",
		}),
	}
	d.reg.MustRegister(NewCompliance(rows, ScrapeTimeout), d.hostResults, d.driftEvents, d.runDuration, d.lastTick,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return d
}

// Registry is where the daemon's metrics are registered.
func (d *Daemon) Registry() *prometheus.Registry { return d.reg }

// Associations makes the host results counter of every status of each
// association exist at 0, so that the first result of a kind is an
// increase Prometheus sees.
func (d *Daemon) Associations(names []string) {
	for _, n := range names {
		for _, s := range hostStatuses {
			d.hostResults.WithLabelValues(n, string(s))
		}
	}
}

// ObserveRun counts a finished run: each of its host executions by
// status, the steps found out of state (what `driftless drift` lists for
// it), and its duration.
func (d *Daemon) ObserveRun(run journal.Run, hosts []journal.HostResult) {
	for _, h := range hosts {
		d.hostResults.WithLabelValues(run.Association, string(h.Status)).Inc()
		for _, s := range h.Steps {
			if s.Drifted {
				d.driftEvents.Inc()
			}
		}
	}
	if !run.EndedAt.IsZero() && !run.StartedAt.IsZero() {
		d.runDuration.Observe(run.EndedAt.Sub(run.StartedAt).Seconds())
	}
}

// TickDone records that a tick ended without error at t.
func (d *Daemon) TickDone(t time.Time) {
	d.lastTick.Set(float64(t.UnixNano()) / 1e9)
}

// Handler serves the metrics in any format Prometheus asks for. At most
// two scrapes run at once; one whose journal read fails still serves the
// other metrics and logs the error to errLog.
func (d *Daemon) Handler(errLog *log.Logger) http.Handler {
	return promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{
		ErrorLog:            errLog,
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 2,
		Timeout:             ScrapeTimeout + 5*time.Second,
	})
}
