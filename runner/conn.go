package runner

import "errors"

// ErrUnsupportedAction is a step whose action this build of driftless
// cannot execute on hosts.
var ErrUnsupportedAction = errors.New("action not available in this version of driftless")
