package redisstreams

import (
	"context"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/rooms/internal/rediscluster"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
)

// DefaultKey is the prefix of the channel names when Options.Key is empty, that of the Node
// adapter.
const DefaultKey = rediscluster.DefaultKey

// DefaultRequestsTimeout is how long a request waits for the other servers' answers when
// Options.RequestsTimeout is zero, as in the Node adapter.
const DefaultRequestsTimeout = rediscluster.DefaultRequestsTimeout

// DefaultMaxMessageSize is the size of the largest message or stream entry read from Redis
// when Options.MaxMessageSize is zero.
const DefaultMaxMessageSize = rediscluster.DefaultMaxMessageSize

// DefaultPublishQueueSize is the number of messages waiting to be sent to Redis when
// Options.PublishQueueSize is zero.
const DefaultPublishQueueSize = rediscluster.DefaultPublishQueueSize

// ErrTimeout is wrapped by the error of a request that some servers did not answer within
// Options.RequestsTimeout. It is redisadapter.ErrTimeout.
var ErrTimeout = rediscluster.ErrTimeout

// ErrClosed is returned by the methods of a closed adapter that need Redis. It is
// redisadapter.ErrClosed.
var ErrClosed = rediscluster.ErrClosed

// ErrPublishQueueFull is returned by a broadcast that could not be queued for Redis: it has
// reached the local sockets only. It is redisadapter.ErrPublishQueueFull.
var ErrPublishQueueFull = rediscluster.ErrPublishQueueFull

// FetchSockets describes the selected sockets of every server, unless sel.Flags.Local. It
// fails, returning no sockets, when a server does not answer within
// Options.RequestsTimeout: the error wraps ErrTimeout.
func (a *Adapter) FetchSockets(ctx context.Context, sel rooms.Selection) ([]sockets.Info, error) {
	return a.node.FetchSockets(ctx, sel)
}

// AddSockets makes the selected sockets of every server join rooms, without waiting for
// the other servers to do it.
func (a *Adapter) AddSockets(ctx context.Context, sel rooms.Selection, r ...rooms.Room) error {
	return a.node.AddSockets(ctx, sel, r...)
}

// DelSockets makes the selected sockets of every server leave rooms, without waiting for the
// other servers to do it.
func (a *Adapter) DelSockets(ctx context.Context, sel rooms.Selection, r ...rooms.Room) error {
	return a.node.DelSockets(ctx, sel, r...)
}

// DisconnectSockets disconnects the selected sockets of every server, without waiting for
// the other servers to do it.
func (a *Adapter) DisconnectSockets(ctx context.Context, sel rooms.Selection, closeConn bool) error {
	return a.node.DisconnectSockets(ctx, sel, closeConn)
}
