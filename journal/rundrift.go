package journal

import (
	"context"
	"encoding/json"
	"slices"
)

// RunDrift is what the host executions of one run found out of state.
type RunDrift struct {
	// Drifted is how many hosts had a step found out of state (whatever
	// happened next); Corrected, how many of them had a step put back.
	Drifted, Corrected int
}

// RunDrifts returns, for each of the runs ids that has a host execution,
// its RunDrift (history's DRIFTED column).
func (j *Journal) RunDrifts(ctx context.Context, ids []int64) (map[int64]RunDrift, error) {
	out := map[int64]RunDrift{}
	if len(ids) == 0 {
		return out, nil
	}
	if err := j.beforeQuery(ctx); err != nil {
		return nil, wrap("run drift", err)
	}
	for chunk := range slices.Chunk(ids, 500) {
		if err := j.runDrifts(ctx, chunk, out); err != nil {
			return nil, wrap("run drift", err)
		}
	}
	return out, nil
}

func (j *Journal) runDrifts(ctx context.Context, ids []int64, out map[int64]RunDrift) error {
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	rows, err := j.r.QueryContext(ctx, `SELECT run_id, count(CASE WHEN drifted > 0 THEN 1 END), count(CASE WHEN corrected > 0 THEN 1 END) FROM host_results
		WHERE run_id IN (SELECT CAST(value AS BIGINT) FROM json_each(?)) GROUP BY run_id`, string(list))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var d RunDrift
		if err := rows.Scan(&id, &d.Drifted, &d.Corrected); err != nil {
			return err
		}
		out[id] = d
	}
	return rows.Err()
}
