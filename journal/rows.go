package journal

// What the writer remembers between batches, so that a host's records
// after the first cost fewer statements (docs/journal.md, "How it is written").
//
// A host of a large run is written two or three times: StartHost when it
// starts, perhaps a progress record (RecordProgress) while it runs, and its
// result. The first write makes the host_results row; the writer keeps its
// id, start and whether step rows were written, and the run's association
// and mode, so that the later ones update the row by its id, delete step
// rows only when there are some, and name the latest row without reading
// anything back. What a transaction changes is staged and kept only if the
// transaction commits: a rolled-back batch leaves the memory as the
// database is. The memory holds the hosts in flight: a host's entry goes
// with its result, and a run's leftovers with FinishRun.

// hostKey names a host execution: run × host.
type hostKey struct {
	run  int64
	host string
}

// hostRow is what the writer knows of a host execution's row.
type hostRow struct {
	id          int64
	startedNano int64
	steps       bool // step rows exist (a progress record wrote some)
}

// runInfo is what host_results copies from runs.
type runInfo struct {
	assoc string
	mode  Mode
}

// takesLatest reports whether h, written in a run of r, may become the
// latest of its association × host × mode: a result (a progress record
// never is) of a run that is not exec.
func (r runInfo) takesLatest(h *HostResult) bool {
	return h.Status != StatusInProgress && r.mode != ModeExec
}

// rowChange is one staged change: row nil forgets the host.
type rowChange struct {
	key hostKey
	row *hostRow
	run runInfo
}

// rowMemory belongs to the writer goroutine.
type rowMemory struct {
	hosts map[hostKey]hostRow
	runs  map[int64]runInfo
	stage []rowChange
}

// lookup returns the row of k and its run's association and mode, if
// they are known.
func (m *rowMemory) lookup(k hostKey) (hostRow, runInfo, bool) {
	row, ok := m.hosts[k]
	if !ok {
		return hostRow{}, runInfo{}, false
	}
	run, ok := m.runs[k.run]
	return row, run, ok
}

// keep stages row as k's (nil: forget k) for the open transaction.
func (m *rowMemory) keep(k hostKey, row *hostRow, run runInfo) {
	m.stage = append(m.stage, rowChange{key: k, row: row, run: run})
}

// recorded stages what the writer remembers of k once h is written over
// row: a progress record (never the latest) keeps the row, with whether
// it now has step rows; a result forgets it.
func (m *rowMemory) recorded(k hostKey, row hostRow, run runInfo, h *HostResult) {
	if h.Status != StatusInProgress {
		m.keep(k, nil, run)
		return
	}
	kept := row // on the heap for a progress record alone
	kept.steps = len(h.Steps) > 0
	m.keep(k, &kept, run)
}

// commit applies what the transaction that just committed staged.
func (m *rowMemory) commit() {
	if m.hosts == nil {
		m.hosts, m.runs = map[hostKey]hostRow{}, map[int64]runInfo{}
	}
	for _, c := range m.stage {
		if c.row == nil {
			delete(m.hosts, c.key)
			continue
		}
		m.hosts[c.key] = *c.row
		m.runs[c.key.run] = c.run
	}
	m.rollback()
}

// rollback drops what the transaction that failed staged.
func (m *rowMemory) rollback() {
	clear(m.stage)
	m.stage = m.stage[:0]
}

// forgetRun drops what is left of run id (hosts that never got a result).
func (m *rowMemory) forgetRun(id int64) {
	for k := range m.hosts {
		if k.run == id {
			delete(m.hosts, k)
		}
	}
	delete(m.runs, id)
}

// superseded reports, for each op of batch, whether a later RecordHost of
// the same host execution in the batch replaces what it would write: a
// StartHost or a progress record followed by the host's next record.
// The batch commits as one transaction, so nothing could see the earlier
// record anyway. A record that replaces another and gives no start time
// takes the other's, as it would have from the row (RecordHost keeps the
// start a row has). twice reports a host execution with two records left
// (a record followed by a StartHost), which the bulk path does not write.
func superseded(batch []op) (skip []bool, twice bool) {
	if len(batch) < 2 {
		return nil, false
	}
	open := make(map[hostKey]int, len(batch))
	for i, o := range batch {
		if o.kind != opStartHost && o.kind != opRecordHost {
			continue
		}
		k := hostKey{o.host.RunID, o.host.Host}
		if p, ok := open[k]; ok && o.kind == opRecordHost {
			if skip == nil {
				skip = make([]bool, len(batch))
			}
			skip[p] = true
			if o.host.StartedAt.IsZero() {
				o.host.StartedAt = batch[p].host.StartedAt
			}
		} else if ok {
			twice = true
		}
		open[k] = i
	}
	return skip, twice
}
