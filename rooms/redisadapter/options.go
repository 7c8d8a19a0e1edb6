package redisadapter

import (
	"github.com/echo-socketio/echo-socketio/rooms/internal/rediscluster"
	"time"
)

// Options configures the adapter. The zero value is the configuration of the Node adapter's
// defaults.
type Options struct {
	// Key is the prefix of the channel names, "socket.io" when empty. Every server of a
	// cluster, Node or Go, and every emitter must use the same key.
	Key string

	// RequestsTimeout bounds the wait for the answers of the other servers to a request
	// (FetchSockets, ServerSideEmit with acknowledgements, ServerCount, the client counts of
	// BroadcastWithAck). Zero means DefaultRequestsTimeout.
	RequestsTimeout time.Duration

	// PublishOnSpecificResponseChannel publishes the answers to another server's request on
	// the channel of that server only (socket.io-response#<nsp>#<uid>#) instead of the shared
	// response channel. Every server listens on both, so servers with different settings
	// work together; the option saves the others from reading answers meant for one.
	PublishOnSpecificResponseChannel bool

	// OnError, when not nil, is told of the errors that no caller can see: a lost Redis
	// connection, a failed publication, a malformed message read from Redis. It runs on the
	// adapter's goroutines and must not block.
	OnError func(error)

	// MaxMessageSize bounds the size of the messages read from Redis; larger ones are
	// dropped and reported. Zero means DefaultMaxMessageSize.
	MaxMessageSize int

	// PublishQueueSize is the number of messages waiting to be published to Redis. A
	// broadcast finding the queue full (Redis is slow or unreachable) is delivered to the
	// local sockets only, and Broadcast returns ErrPublishQueueFull. Zero means
	// DefaultPublishQueueSize.
	PublishQueueSize int
}

func (o Options) withDefaults() Options {
	if o.Key == "" {
		o.Key = rediscluster.DefaultKey
	}
	if o.RequestsTimeout <= 0 {
		o.RequestsTimeout = rediscluster.DefaultRequestsTimeout
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = rediscluster.DefaultMaxMessageSize
	}
	if o.PublishQueueSize <= 0 {
		o.PublishQueueSize = rediscluster.DefaultPublishQueueSize
	}
	return o
}

// DefaultKey is the prefix of the channel names when Options.Key is empty, that of the Node
// adapter and emitter.
const DefaultKey = rediscluster.DefaultKey

// DefaultRequestsTimeout is how long a request waits for the other servers' answers when
// Options.RequestsTimeout is zero, as in the Node adapter.
const DefaultRequestsTimeout = rediscluster.DefaultRequestsTimeout

// DefaultMaxMessageSize is the size of the largest message read from Redis when
// Options.MaxMessageSize is zero.
const DefaultMaxMessageSize = rediscluster.DefaultMaxMessageSize

// DefaultPublishQueueSize is the number of messages waiting to be published when
// Options.PublishQueueSize is zero.
const DefaultPublishQueueSize = rediscluster.DefaultPublishQueueSize

// ErrTimeout is wrapped by the error of a request that some servers did not answer within
// Options.RequestsTimeout.
var ErrTimeout = rediscluster.ErrTimeout

// ErrClosed is returned by the methods of a closed adapter that need Redis.
var ErrClosed = rediscluster.ErrClosed

// ErrPublishQueueFull is returned by a broadcast that could not be queued for Redis: it has
// reached the local sockets only.
var ErrPublishQueueFull = rediscluster.ErrPublishQueueFull
