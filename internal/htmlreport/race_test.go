//go:build race

package htmlreport_test

// The race detector slows the report down several times.
const raceSlowdown = 5
