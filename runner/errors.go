package runner

import "github.com/driftless-dev/driftless/runner/plan"

// ErrUnsupportedAction is a step whose action this build of driftless
// cannot execute on hosts.
var ErrUnsupportedAction = plan.ErrUnsupportedAction
