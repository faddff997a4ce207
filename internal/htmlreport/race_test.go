//go:build race

package htmlreport_test

// raceEnabled: the race detector slows the journal (SQLite in Go) down
// some 30 times, so measurements skip under it.
const raceEnabled = true
