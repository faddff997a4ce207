package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/driftless-dev/driftless/config"
	"github.com/driftless-dev/driftless/journal"
	"github.com/driftless-dev/driftless/metrics"
	"github.com/driftless-dev/driftless/runner"
)

// daemonMetrics is what `daemon --metrics-listen` serves
// (docs/metrics.md). A nil *daemonMetrics (no --metrics-listen) observes
// nothing.
type daemonMetrics struct {
	m    *metrics.Daemon
	srv  *http.Server
	done chan struct{} // closed when the server has stopped serving
}

// metricsShutdown is how long scrapes in flight may finish when the
// daemon stops.
const metricsShutdown = 5 * time.Second

// startMetrics listens on --metrics-listen, before the first tick, so
// that an address in use or a bad address is an error at startup (exit
// 1), and serves /metrics in its own goroutine: a scrape reads the
// journal, never waits for a tick nor makes one wait. It returns nil
// without --metrics-listen. Call stop when the daemon ends.
func startMetrics(c *cli.Context, u *ui, j *journal.Journal) (*daemonMetrics, error) {
	addr := c.String("metrics-listen")
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, usageError("--metrics-listen: %w", err)
	}
	errLog := log.New(u.err, "driftless daemon: metrics: ", 0)
	d := &daemonMetrics{
		m: metrics.NewDaemon(func(ctx context.Context) ([]journal.ComplianceRow, error) {
			return j.Status(ctx, journal.StatusFilter{})
		}),
		done: make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", d.m.Handler(errLog))
	d.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      metrics.ScrapeTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          errLog,
	}
	go func() {
		defer close(d.done)
		if err := d.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errLog.Printf("serving stopped: %v", err)
		}
	}()
	u.notef("driftless daemon: serving metrics on http://%s/metrics", ln.Addr())
	return d, nil
}

// stop shuts the server down: no new scrape, those in flight get
// metricsShutdown to finish.
func (d *daemonMetrics) stop() {
	if d == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), metricsShutdown)
	defer cancel()
	if err := d.srv.Shutdown(ctx); err != nil {
		d.srv.Close()
	}
	<-d.done
}

// observeTick counts what a tick of the daemon ran with cfg: its runs,
// and, when it ended without error, its end as the last tick.
func (d *daemonMetrics) observeTick(cfg *config.Config, res *runner.TickResult, err error) {
	if d == nil {
		return
	}
	d.m.Associations(cfg.AssociationNames())
	if res != nil {
		for _, r := range res.Runs {
			d.m.ObserveRun(r.Run, r.Hosts)
		}
	}
	if err == nil {
		d.m.TickDone(time.Now())
	}
}

// printPrometheus is `status --output prometheus`: the compliance gauges
// of rows on stdout, or in --output-file, replaced at once (a temporary
// file in its directory, renamed over it), so that node_exporter's
// textfile collector never reads half of it.
func printPrometheus(c *cli.Context, u *ui, rows []journal.ComplianceRow) error {
	path := c.String("output-file")
	if path == "" {
		return metrics.WriteText(u.out, rows)
	}
	if err := writeFileAtomic(path, 0o644, func(w io.Writer) error { return metrics.WriteText(w, rows) }); err != nil {
		return fmt.Errorf("--output-file: %w", err)
	}
	return nil
}

// writeFileAtomic writes path with what write writes, through a
// temporary file in the same directory that is synced, given mode and
// renamed over path: a reader sees the old file or the new one, whole.
// The temporary file's name starts with a dot and does not end in .prom,
// so that the textfile collector skips it.
func writeFileAtomic(path string, mode os.FileMode, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
