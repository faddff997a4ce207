//go:build !race

package htmlreport_test

const raceSlowdown = 1
