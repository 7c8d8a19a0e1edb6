package redisadapter

import (
	"context"
	"fmt"
	"github.com/echo-socketio/echo-socketio/rooms/internal/rediscluster"
	"sync"
	"sync/atomic"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/redis/go-redis/v9"
)

// SubscriptionMode chooses the channels a sharded adapter listens on, as the Node adapter's
// subscriptionMode option. Every server of a cluster must use the same mode.
type SubscriptionMode string

const (
	// SubscriptionStatic: every server listens on the namespace's channel only, and every
	// broadcast goes there.
	SubscriptionStatic SubscriptionMode = "static"
	// SubscriptionDynamic: a server also listens on the channel of each public room it has
	// sockets in (socket.io#<nsp>#<room>#), and a broadcast to a single public room goes to
	// that room's channel: only the servers with sockets in the room read it. The Node
	// adapter's default, and the default here.
	SubscriptionDynamic SubscriptionMode = "dynamic"
	// SubscriptionDynamicPrivate: like SubscriptionDynamic, for the private rooms (the
	// sockets' own rooms) as well: one channel per socket.
	SubscriptionDynamicPrivate SubscriptionMode = "dynamic-private"
)

// ShardedOptions configures a sharded adapter. The zero value is the configuration of the
// Node adapter's defaults.
type ShardedOptions struct {
	// Key is the prefix of the channel names, "socket.io" when empty: the Node adapter's
	// channelPrefix. Every server of a cluster must use the same key.
	Key string

	// SubscriptionMode chooses the channels the adapter listens on; empty means
	// SubscriptionDynamic.
	SubscriptionMode SubscriptionMode

	// RequestsTimeout bounds the wait for the answers of the other servers to a request
	// (FetchSockets, ServerSideEmit with acknowledgements, the client counts of
	// BroadcastWithAck). Zero means DefaultRequestsTimeout.
	RequestsTimeout time.Duration

	// OnError, when not nil, is told of the errors that no caller can see: a lost Redis
	// connection, a failed publication or subscription, a malformed message read from
	// Redis. It runs on the adapter's goroutines and must not block.
	OnError func(error)

	// MaxMessageSize bounds the size of the messages read from Redis; larger ones are
	// dropped and reported. Zero means DefaultMaxMessageSize.
	MaxMessageSize int

	// PublishQueueSize is the number of messages waiting to be published to Redis. A
	// broadcast finding the queue full is delivered to the local sockets only, and Broadcast
	// returns ErrPublishQueueFull. Zero means DefaultPublishQueueSize.
	PublishQueueSize int
}

func (o ShardedOptions) withDefaults() (ShardedOptions, error) {
	if o.Key == "" {
		o.Key = rediscluster.DefaultKey
	}
	switch o.SubscriptionMode {
	case "":
		o.SubscriptionMode = SubscriptionDynamic
	case SubscriptionStatic, SubscriptionDynamic, SubscriptionDynamicPrivate:
	default:
		return o, fmt.Errorf("redisadapter: unknown subscription mode %q", o.SubscriptionMode)
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
	return o, nil
}

// nodeSocketIDLen is the length of a socket ID of the Node server (and of this module's):
// the Node adapter sends a broadcast to a single room of that length on the namespace's
// channel, taking it for a socket's private room.
const nodeSocketIDLen = 20

// ShardedAdapter is the adapter of one namespace in a cluster of servers that share a Redis
// server (7.0 or later) through sharded pub/sub (SSUBSCRIBE, SPUBLISH), the protocol of the
// Node adapter's createShardedAdapter. It keeps the rooms of the local sockets in a
// rooms.Memory.
//
// Each ShardedAdapter holds one pub/sub connection of its own (one per hash slot in use with
// a redis.ClusterClient), and runs a publisher, a subscription manager and one reader per
// pub/sub connection until Close.
type ShardedAdapter struct {
	node   rediscluster.Node // the cluster protocol, over this adapter's transport
	client redis.UniversalClient
	opts   ShardedOptions

	channel         string // socket.io#<nsp>#: requests and broadcasts; a room's: <channel><room>#
	responseChannel string // socket.io#<nsp>#<uid>#: the answers to this server's requests

	pub  *rediscluster.Publisher
	subs *subscriptions

	ready              chan struct{}
	readyOnce          sync.Once
	mainOK, responseOK atomic.Bool
}

var _ rooms.Adapter = (*ShardedAdapter)(nil)

// NewSharded returns the factory of sharded adapters that share client's Redis server (or
// Redis cluster). Every namespace gets a ShardedAdapter with its own pub/sub connection. The
// client is the application's: the adapters never close it. It panics when
// opts.SubscriptionMode is not one of the modes.
func NewSharded(client redis.UniversalClient, opts ShardedOptions) rooms.Factory {
	if _, err := opts.withDefaults(); err != nil {
		panic(err)
	}
	return func(nsp rooms.Namespace) rooms.Adapter { return NewShardedAdapter(client, nsp, opts) }
}

// NewShardedAdapter returns the sharded adapter of namespace nsp, subscribed to its
// channels. The subscription completes in the background; Ready waits for it. It panics
// when opts.SubscriptionMode is not one of the modes.
func NewShardedAdapter(client redis.UniversalClient, nsp rooms.Namespace, opts ShardedOptions) *ShardedAdapter {
	opts, err := opts.withDefaults()
	if err != nil {
		panic(err)
	}
	name := nsp.Name()
	a := &ShardedAdapter{
		client:  client,
		opts:    opts,
		channel: opts.Key + "#" + name + "#",
		ready:   make(chan struct{}),
	}
	a.node.UID, a.node.Name = rediscluster.HexID(), name
	a.node.Init(nsp, opts.RequestsTimeout, opts.OnError, rediscluster.HexID)
	a.node.CountServers = a.ServerCount
	a.node.SendRequest, a.node.SendResponse, a.node.SendResponseArg = a.request, a.respond, a.respondArg
	a.responseChannel = a.channel + a.node.UID + "#"
	a.pub = rediscluster.NewPublisher(a.node.Ctx, client, true, opts.PublishQueueSize, opts.RequestsTimeout, a.node.Report)
	a.subs = newSubscriptions(a)
	if opts.SubscriptionMode != SubscriptionStatic {
		a.node.Local.SetRoomEvents(a.roomHooks(nil))
	}

	a.subs.subscribeFixed(a.channel, a.responseChannel)
	a.node.WG.Add(2)
	go func() {
		defer a.node.WG.Done()
		a.pub.Run()
	}()
	go a.subs.manage()
	return a
}

// UID returns the adapter's server ID, unique in the cluster. Messages carry it so that a
// server can tell its own from the others', and the answers to its requests come on
// socket.io#<nsp>#<uid>#.
func (a *ShardedAdapter) UID() string { return a.node.UID }

// Ready waits until the adapter is subscribed to the namespace's channel and its response
// channel, or ctx ends.
func (a *ShardedAdapter) Ready(ctx context.Context) error {
	return rediscluster.WaitReady(ctx, a.node.Ctx, a.ready, "redisadapter: not subscribed")
}

// subscribed notes the confirmation of a subscription.
func (a *ShardedAdapter) subscribed(channel string) {
	switch channel {
	case a.channel:
		a.mainOK.Store(true)
	case a.responseChannel:
		a.responseOK.Store(true)
	default:
		return
	}
	if a.mainOK.Load() && a.responseOK.Load() {
		a.readyOnce.Do(func() { close(a.ready) })
	}
}

// roomHooks returns the hooks of the local rooms: the adapter's, which follow the rooms in
// the dynamic modes, then user's.
func (a *ShardedAdapter) roomHooks(user *rooms.RoomEvents) rooms.RoomEvents {
	if user == nil {
		user = &rooms.RoomEvents{}
	}
	u := *user
	return rooms.RoomEvents{
		Create: func(r rooms.Room) {
			a.subs.roomChanged(r)
			if u.Create != nil {
				u.Create(r)
			}
		},
		Delete: func(r rooms.Room) {
			a.subs.roomChanged(r)
			if u.Delete != nil {
				u.Delete(r)
			}
		},
		Join:  u.Join,
		Leave: u.Leave,
	}
}

// SetRoomEvents sets the hooks of the local rooms' lives (see rooms.Memory.SetRoomEvents).
func (a *ShardedAdapter) SetRoomEvents(ev rooms.RoomEvents) {
	if a.opts.SubscriptionMode == SubscriptionStatic {
		a.node.Local.SetRoomEvents(ev)
		return
	}
	a.node.Local.SetRoomEvents(a.roomHooks(&ev))
}

// AddAll puts the local socket id in rooms.
func (a *ShardedAdapter) AddAll(id rooms.SocketID, r ...rooms.Room) { a.node.Local.AddAll(id, r...) }

// Del takes the local socket id out of room.
func (a *ShardedAdapter) Del(id rooms.SocketID, room rooms.Room) { a.node.Local.Del(id, room) }

// DelAll takes the local socket id out of every room.
func (a *ShardedAdapter) DelAll(id rooms.SocketID) { a.node.Local.DelAll(id) }

// Sockets returns the IDs of the local sockets in any of rooms (all when rooms is empty).
func (a *ShardedAdapter) Sockets(r ...rooms.Room) []rooms.SocketID { return a.node.Local.Sockets(r...) }

// SocketRooms returns the rooms of the local socket id.
func (a *ShardedAdapter) SocketRooms(id rooms.SocketID) []rooms.Room {
	return a.node.Local.SocketRooms(id)
}

// roomChannel returns the channel of room r.
func (a *ShardedAdapter) roomChannel(r rooms.Room) string { return a.channel + string(r) + "#" }

// publishesOnRoomChannel reports whether a broadcast to the single room r goes to r's
// channel, as the Node adapter decides: in the dynamic mode when r does not look like a
// socket ID, in the dynamic-private mode always.
func (a *ShardedAdapter) publishesOnRoomChannel(r rooms.Room) bool {
	switch a.opts.SubscriptionMode {
	case SubscriptionDynamic:
		return len(r) != nodeSocketIDLen
	case SubscriptionDynamicPrivate:
		return true
	}
	return false
}

// listensOnRoomChannel reports whether the server listens on the channel of its local room
// r: in the dynamic mode for the public rooms (those that are not the ID of a local socket)
// and for any room whose broadcasts a server would send there; in the dynamic-private mode
// always.
func (a *ShardedAdapter) listensOnRoomChannel(r rooms.Room) bool {
	switch a.opts.SubscriptionMode {
	case SubscriptionDynamic:
		return len(r) != nodeSocketIDLen || a.node.Local.SocketRooms(rooms.SocketID(r)) == nil
	case SubscriptionDynamicPrivate:
		return true
	}
	return false
}

// broadcastChannel returns the channel of a broadcast without acknowledgements to sel.
func (a *ShardedAdapter) broadcastChannel(sel *rooms.Selection) string {
	if len(sel.Rooms) == 1 && a.publishesOnRoomChannel(sel.Rooms[0]) {
		return a.roomChannel(sel.Rooms[0])
	}
	return a.channel
}

// Broadcast sends p to the selected sockets of this server and, unless sel.Flags.Local, of
// every other server. It does not wait for Redis: the message is queued, and a failed
// publication is reported to ShardedOptions.OnError. The local sockets get p in any case.
func (a *ShardedAdapter) Broadcast(p *parser.Packet, sel rooms.Selection) error {
	var err error
	if !sel.Flags.Local {
		var msg []byte
		if msg, err = rediscluster.EncodeClusterBroadcast(a.node.UID, a.node.Name, "", p, &sel); err != nil {
			err = fmt.Errorf("redisadapter: encode broadcast: %w", err)
		} else {
			err = a.pub.Async(a.broadcastChannel(&sel), msg)
		}
	}
	_ = a.node.Local.Broadcast(p, sel)
	return err
}

// Close unsubscribes (closing the pub/sub connections), stops the adapter's goroutines, ends
// the requests that wait for answers with ErrClosed, and forgets the local rooms. It does
// not close the Redis client. The other servers count one server less at once.
func (a *ShardedAdapter) Close() error { return a.node.Shutdown(a.subs.close) }
