//go:build race

package metrics

// raceDetector: the race detector slows the pure-Go SQLite down about
// 25 times; timings are logged, not checked.
const raceDetector = true
