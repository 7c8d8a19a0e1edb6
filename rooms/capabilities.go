package rooms

import "context"

// The optional capabilities of an adapter. Package socketio looks for them on the adapter of
// each namespace; an adapter states the ones it has with compile-time checks such as
// var _ rooms.ReadyWaiter = (*Adapter)(nil).

// ReadyWaiter is an adapter that is not ready at once, such as a cluster adapter that must
// subscribe to its channels before it sees the other servers' messages. Server.Ready and
// Namespace.Ready of package socketio wait for it.
type ReadyWaiter interface {
	// Ready waits until the adapter is ready, or ctx ends.
	Ready(ctx context.Context) error
}

// RoomEventsSetter is an adapter that reports the lives of its rooms (created, joined, left,
// deleted). Namespace.OnRoomEvents of package socketio sets them.
type RoomEventsSetter interface {
	// SetRoomEvents sets the hooks; nil hooks are not called.
	SetRoomEvents(ev RoomEvents)
}

// RecoveryReporter is a SessionStore that may have connection state recovery turned off; a
// SessionStore without this method always supports it.
type RecoveryReporter interface {
	// SupportsRecovery reports whether the adapter keeps the sessions and missed packets that
	// connection state recovery needs.
	SupportsRecovery() bool
}

var (
	_ Adapter          = (*Memory)(nil)
	_ RoomEventsSetter = (*Memory)(nil)
	_ RecoveryReporter = (*Memory)(nil)
)
