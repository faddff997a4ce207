package journal

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"
)

// TestRetentionSimulation is the measurement of docs/journal.md#retention:
// 100 daily runs of one association on 2,000 hosts of five steps, each
// followed by a prune of what ended more than 30 days before. The journal
// should stop growing once the first runs are pruned. It takes a minute
// or two, so it runs only with DRIFTLESS_RETENTION_SIM=1:
//
//	DRIFTLESS_RETENTION_SIM=1 go test -run RetentionSimulation -v ./journal
func TestRetentionSimulation(t *testing.T) {
	if os.Getenv("DRIFTLESS_RETENTION_SIM") == "" {
		t.Skip("a measurement: set DRIFTLESS_RETENTION_SIM=1")
	}
	const (
		days      = 100
		hosts     = 2000
		retention = 30 * 24 * time.Hour
	)
	ctx := context.Background()
	path := tempPath(t)
	j := openT(t, path)
	t0 := base
	type row struct {
		day                   int
		runs, hostRows, steps int64
		db, file, wal, freeB  int64
		deleted               int64
		write, prune          time.Duration
		transactions          int
	}
	var table []row
	for d := 1; d <= days; d++ {
		at := t0.Add(time.Duration(d) * 24 * time.Hour)
		began := time.Now()
		id := startRunT(t, j, "baseline", ModeApply, at)
		for h := range hosts {
			if err := j.RecordHost(ctx, fiveSteps(id, fmt.Sprintf("host-%04d", h), at)); err != nil {
				t.Fatal(err)
			}
		}
		finishT(t, j, id, StatusSuccess, at.Add(10*time.Minute))
		write := time.Since(began)
		began = time.Now()
		res, err := j.Prune(ctx, PruneOptions{Before: at.Add(time.Hour).Add(-retention)})
		if err != nil {
			t.Fatal(err)
		}
		r := row{day: d, write: write, prune: time.Since(began), transactions: res.Transactions, deleted: res.Hosts,
			db: res.Space.Bytes(), freeB: res.Space.FreeBytes()}
		r.runs, r.hostRows, r.steps = countRows(t, j, "runs"), countRows(t, j, "host_results"), countRows(t, j, "step_results")
		if fi, err := os.Stat(path); err == nil {
			r.file = fi.Size()
		}
		if fi, err := os.Stat(path + "-wal"); err == nil {
			r.wal = fi.Size()
		}
		table = append(table, r)
	}
	mib := func(n int64) string { return fmt.Sprintf("%.1f", float64(n)/(1<<20)) }
	t.Logf("| day | runs | host rows | step rows | database MiB | file MiB | WAL MiB | free | hosts deleted | write | prune (transactions) |")
	t.Logf("|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range table {
		if !slices.Contains([]int{1, 10, 20, 29, 30, 31, 32, 40, 50, 60, 70, 80, 90, 100}, r.day) {
			continue
		}
		t.Logf("| %d | %d | %d | %d | %s | %s | %s | %s | %d | %v | %v (%d) |", r.day, r.runs, r.hostRows, r.steps,
			mib(r.db), mib(r.file), mib(r.wal), mib(r.freeB), r.deleted, r.write.Round(time.Millisecond), r.prune.Round(time.Millisecond), r.transactions)
	}
	d30, d31, d100 := table[29], table[30], table[99]
	t.Logf("bytes per host execution at day 30: %d", d30.db/d30.hostRows)
	if d31.runs != 30 || d100.runs != 30 || d100.hostRows != 30*hosts {
		t.Errorf("day 31: %d runs, day 100: %d runs, %d host rows; want 30 runs of %d hosts", d31.runs, d100.runs, d100.hostRows, hosts)
	}
	if d100.db > d31.db*21/20 || d100.file > d31.file*21/20 {
		t.Errorf("the journal grew: %d bytes (file %d) at day 31, %d (file %d) at day 100", d31.db, d31.file, d100.db, d100.file)
	}
}
