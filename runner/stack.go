package runner

import (
	"context"
	"log/slog"
)

// debugOn reports whether debug records are logged. The per-host ones are
// made only then: their values would otherwise be boxed (allocated) for
// nothing, several per host.
func debugOn() bool { return slog.Default().Enabled(context.Background(), slog.LevelDebug) }

// hostStack is about the stack a host's goroutine needs: the dial (ssh
// and x/crypto's handshake set-up under the runner's own frames) reaches
// ~16 KiB. A goroutine starts with a few KiB and the runtime doubles its
// stack each time a call does not fit, copying every frame on it: three
// times per host, the last time about 20 frames deep.
const hostStack = 12 << 10

// growStack grows the calling goroutine's stack, at once, to what a
// host's run needs: one copy of the few frames above it instead of
// several copies of deep stacks later. (The runtime doubles the stack
// until the frame fits: 12 KiB of frame on a shallow stack gives 16 KiB.)
//
//go:noinline
func growStack() {
	var frame [hostStack]byte
	keep(frame[:])
}

// keep uses b so that the compiler keeps growStack's frame.
//
//go:noinline
func keep(b []byte) { _ = b[len(b)-1] }
