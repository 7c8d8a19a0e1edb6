package rediscluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
)

// DefaultKey is the prefix of the channel names when Options.Key is empty, that of the Node
// adapter and emitter.
const DefaultKey = "socket.io"

// DefaultRequestsTimeout is how long a request waits for the other servers' answers when
// Options.RequestsTimeout is zero, as in the Node adapter.
const DefaultRequestsTimeout = 5 * time.Second

// DefaultMaxMessageSize is the size of the largest message read from Redis when
// Options.MaxMessageSize is zero.
const DefaultMaxMessageSize = 64 << 20

// DefaultPublishQueueSize is the number of messages waiting to be published when
// Options.PublishQueueSize is zero.
const DefaultPublishQueueSize = 4096

// ErrTimeout is wrapped by the error of a request that some servers did not answer within
// Options.RequestsTimeout.
var ErrTimeout = errors.New("redisadapter: timeout waiting for the other servers")

// ErrClosed is returned by the methods of a closed adapter that need Redis.
var ErrClosed = errors.New("redisadapter: adapter closed")

// WaitReady waits until ready is closed. It returns ErrClosed when the adapter, whose context
// is life, is closed, and ctx's error after notReady when ctx ends first.
func WaitReady(ctx, life context.Context, ready <-chan struct{}, notReady string) error {
	if life.Err() != nil {
		return ErrClosed
	}
	select {
	case <-ready:
		return nil
	case <-life.Done():
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", notReady, ctx.Err())
	}
}

// ErrPublishQueueFull is returned by a broadcast that could not be queued for Redis: it has
// reached the local sockets only.
var ErrPublishQueueFull = errors.New("redisadapter: publish queue full")

// remoteAckBase is the first acknowledgement ID given to the packets of other servers'
// broadcasts with acknowledgements. The Node adapter does not send the ID it uses, so the
// receiving server chooses one; starting high keeps clear of the IDs the namespace numbers
// from zero.
const remoteAckBase = 1 << 52

func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }

// localSelection returns sel limited to this server.
func localSelection(sel rooms.Selection) rooms.Selection {
	sel.Flags.Local = true
	return sel
}

// RandomID returns 12 random characters from [0-9a-zA-Z].
func RandomID() string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// HexID returns 16 random hexadecimal digits, like the IDs of the Node adapter.
func HexID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
