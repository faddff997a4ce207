package runner

import (
	"math"
	"testing"

	"github.com/driftless-dev/driftless/runner/frame"
)

// openStep: the first step whose frames so far do not show it ended.
func TestOpenStep(t *testing.T) {
	fr := func(step int, kind frame.Kind) frame.Frame { return frame.Frame{Step: step, Kind: kind} }
	facts := fr(-1, frame.Facts)
	for _, c := range []struct {
		name     string
		frames   []frame.Frame
		complete bool
		want     int
	}{
		{"nothing yet", []frame.Frame{facts}, false, 0},
		{"nothing at all", nil, false, 0},
		{"script over", []frame.Frame{facts, fr(0, frame.Check), fr(1, frame.Check)}, true, math.MaxInt},
		{"the last step reporting runs", []frame.Frame{facts, fr(0, frame.Check), fr(0, frame.Run), fr(1, frame.Start)}, false, 1},
		{"a batch of stats: no step ended", []frame.Frame{facts, fr(0, frame.Stat), fr(1, frame.Stat), fr(2, frame.Stat)}, false, 0},
		{"after the batch, step 0 runs", []frame.Frame{facts, fr(0, frame.Stat), fr(1, frame.Stat), fr(0, frame.Applied)}, false, 0},
		{"an after frame ends its step", []frame.Frame{facts, fr(0, frame.Applied), fr(1, frame.Applied), fr(0, frame.After), fr(1, frame.After)}, false, 2},
		{"written, not yet reported after", []frame.Frame{facts, fr(0, frame.Applied), fr(1, frame.Applied), fr(2, frame.Start)}, false, 0},
		{"written, not reported, script over", []frame.Frame{facts, fr(0, frame.Applied), fr(1, frame.Run)}, true, 0},
	} {
		if got := openStep(c.frames, c.complete); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}
