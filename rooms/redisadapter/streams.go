package redisadapter

import (
	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/rooms/redisstreams"
	"github.com/redis/go-redis/v9"
)

// The streams adapter lives in package redisstreams. The names below forward to it for one
// minor version.

// StreamsOptions configures a streams adapter.
//
// Deprecated: use redisstreams.Options; StreamsOptions is an alias of it.
type StreamsOptions = redisstreams.Options

// StreamsAdapter is the adapter of one namespace on a Redis stream.
//
// Deprecated: use redisstreams.Adapter; StreamsAdapter is an alias of it.
type StreamsAdapter = redisstreams.Adapter

// NewStreams returns the factory of streams adapters that share client's Redis server.
//
// Deprecated: use redisstreams.New, which it calls.
func NewStreams(client redis.UniversalClient, opts StreamsOptions) rooms.Factory {
	return redisstreams.New(client, opts)
}

// NewStreamsAdapter returns the streams adapter of namespace nsp.
//
// Deprecated: use redisstreams.NewAdapter, which it calls.
func NewStreamsAdapter(client redis.UniversalClient, nsp rooms.Namespace, opts StreamsOptions) *StreamsAdapter {
	return redisstreams.NewAdapter(client, nsp, opts)
}

// The defaults of StreamsOptions.
//
// Deprecated: use the constants of package redisstreams, which these are.
const (
	DefaultStreamName               = redisstreams.DefaultStreamName
	DefaultStreamMaxLen             = redisstreams.DefaultStreamMaxLen
	DefaultStreamReadCount          = redisstreams.DefaultStreamReadCount
	DefaultStreamBlockTime          = redisstreams.DefaultStreamBlockTime
	DefaultSessionKeyPrefix         = redisstreams.DefaultSessionKeyPrefix
	DefaultMaxDisconnectionDuration = redisstreams.DefaultMaxDisconnectionDuration
	DefaultMaxMissedPackets         = redisstreams.DefaultMaxMissedPackets
)
