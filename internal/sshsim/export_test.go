package sshsim

import "time"

// DelayReplies makes the fleets started after it wait d before answering
// each session request of type reqType, and returns what undoes it (to
// call once those fleets are closed).
func DelayReplies(reqType string, d time.Duration) (undo func()) {
	testHookBeforeReply = func(t string) {
		if t == reqType {
			time.Sleep(d)
		}
	}
	return func() { testHookBeforeReply = nil }
}
