package redisadapter

import (
	"context"
	"fmt"
	"github.com/echo-socketio/echo-socketio/rooms/internal/rediscluster"
	"strings"
	"sync/atomic"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/redis/go-redis/v9"
)

// Adapter is the adapter of one namespace in a cluster of servers that share a Redis
// server. It keeps the rooms of the local sockets in a rooms.Memory, and reaches the other
// servers, Go or Node, through Redis pub/sub.
//
// Each Adapter holds one pub/sub connection of its own (one per namespace) and runs two
// goroutines, a reader and a publisher, until Close.
type Adapter struct {
	core   rediscluster.Core // the local rooms, the adapter's life and its requests
	name   string
	client redis.UniversalClient
	opts   Options
	uid    string

	channel         string // socket.io#<nsp>#, the broadcasts (a room's: <channel><room>#)
	requestChannel  string // socket.io-request#<nsp>#
	responseChannel string // socket.io-response#<nsp>#
	ownResponses    string // socket.io-response#<nsp>#<uid>#

	ps    *redis.PubSub
	pub   *rediscluster.Publisher
	ready chan struct{}
	subs  atomic.Int32 // subscription confirmations seen
}

var _ rooms.Adapter = (*Adapter)(nil)

// New returns the factory of adapters that share client's Redis server. Every namespace
// gets an Adapter with its own pub/sub connection. The client is the application's: the
// adapters never close it.
func New(client redis.UniversalClient, opts Options) rooms.Factory {
	return func(nsp rooms.Namespace) rooms.Adapter { return NewAdapter(client, nsp, opts) }
}

// NewAdapter returns the adapter of namespace nsp, subscribed to its channels. The
// subscription completes in the background; Ready waits for it.
func NewAdapter(client redis.UniversalClient, nsp rooms.Namespace, opts Options) *Adapter {
	opts = opts.withDefaults()
	name := nsp.Name()
	a := &Adapter{
		name:            name,
		client:          client,
		opts:            opts,
		uid:             rediscluster.RandomID(),
		channel:         opts.Key + "#" + name + "#",
		requestChannel:  opts.Key + "-request#" + name + "#",
		responseChannel: opts.Key + "-response#" + name + "#",
		ready:           make(chan struct{}),
	}
	a.core.Init(nsp, opts.RequestsTimeout, opts.OnError, rediscluster.RandomID)
	a.core.CountServers = a.ServerCount
	a.ownResponses = a.responseChannel + a.uid + "#"
	a.pub = rediscluster.NewPublisher(a.core.Ctx, client, false, opts.PublishQueueSize, opts.RequestsTimeout, a.core.Report)

	// PSubscribe and Subscribe only send their commands; when Redis is unreachable, the
	// reader reconnects and subscribes again, so their errors need no handling here.
	ctx, cancel := context.WithTimeout(a.core.Ctx, opts.RequestsTimeout)
	a.ps = client.PSubscribe(ctx, a.channel+"*")
	if err := a.ps.Subscribe(ctx, a.requestChannel, a.responseChannel, a.ownResponses); err != nil {
		a.core.Report(fmt.Errorf("redisadapter: subscribe: %w", err))
	}
	cancel()

	a.core.WG.Add(2)
	go a.read()
	go a.publish()
	return a
}

// UID returns the adapter's server ID, unique in the cluster. Messages carry it so that a
// server can tell its own from the others'.
func (a *Adapter) UID() string { return a.uid }

// Ready waits until the adapter is subscribed to its channels, or ctx ends.
func (a *Adapter) Ready(ctx context.Context) error {
	return rediscluster.WaitReady(ctx, a.core.Ctx, a.ready, "redisadapter: not subscribed")
}

// SetRoomEvents sets the hooks of the local rooms' lives (see rooms.Memory.SetRoomEvents).
func (a *Adapter) SetRoomEvents(ev rooms.RoomEvents) { a.core.Local.SetRoomEvents(ev) }

// AddAll puts the local socket id in rooms.
func (a *Adapter) AddAll(id rooms.SocketID, r ...rooms.Room) { a.core.Local.AddAll(id, r...) }

// Del takes the local socket id out of room.
func (a *Adapter) Del(id rooms.SocketID, room rooms.Room) { a.core.Local.Del(id, room) }

// DelAll takes the local socket id out of every room.
func (a *Adapter) DelAll(id rooms.SocketID) { a.core.Local.DelAll(id) }

// Sockets returns the IDs of the local sockets in any of rooms (all when rooms is empty).
func (a *Adapter) Sockets(r ...rooms.Room) []rooms.SocketID { return a.core.Local.Sockets(r...) }

// SocketRooms returns the rooms of the local socket id.
func (a *Adapter) SocketRooms(id rooms.SocketID) []rooms.Room { return a.core.Local.SocketRooms(id) }

// broadcastChannel returns the channel of a broadcast to sel: that of its room when it
// names one room, as the Node adapter publishes.
func (a *Adapter) broadcastChannel(sel *rooms.Selection) string {
	if len(sel.Rooms) == 0 {
		return a.channel
	}
	for _, r := range sel.Rooms[1:] {
		if r != sel.Rooms[0] {
			return a.channel
		}
	}
	return a.channel + string(sel.Rooms[0]) + "#"
}

// Broadcast sends p to the selected sockets of this server and, unless sel.Flags.Local, of
// every other server. It does not wait for Redis: the message is queued, and a failed
// publication is reported to Options.OnError. The local sockets get p in any case.
func (a *Adapter) Broadcast(p *parser.Packet, sel rooms.Selection) error {
	var err error
	if !sel.Flags.Local {
		var msg []byte
		if msg, err = rediscluster.EncodeBroadcast(a.uid, a.name, p, &sel); err != nil {
			err = fmt.Errorf("redisadapter: encode broadcast: %w", err)
		} else {
			err = a.publishAsync(a.broadcastChannel(&sel), msg)
		}
	}
	_ = a.core.Local.Broadcast(p, sel)
	return err
}

// Close unsubscribes, stops the adapter's goroutines, ends the requests that wait for
// answers with ErrClosed, and forgets the local rooms. It does not close the Redis client.
func (a *Adapter) Close() error { return a.core.Shutdown(a.ps.Close) }

// read is the reader goroutine: it receives the messages of the subscription until Close.
func (a *Adapter) read() {
	defer a.core.WG.Done()
	a.core.Receive(a.ps, func(m *redis.Subscription) {
		if (m.Kind == "subscribe" || m.Kind == "psubscribe") && a.subs.Add(1) == 4 {
			close(a.ready)
		}
	}, a.dispatch)
}

// dispatch routes one message by its channel.
func (a *Adapter) dispatch(m *redis.Message) {
	if len(m.Payload) > a.opts.MaxMessageSize {
		a.core.Report(fmt.Errorf("%w: %d bytes on %s, more than MaxMessageSize", rediscluster.ErrMalformed, len(m.Payload), m.Channel))
		return
	}
	var err error
	switch {
	case m.Channel == a.requestChannel:
		err = a.onRequest([]byte(m.Payload))
	case m.Channel == a.responseChannel || m.Channel == a.ownResponses:
		err = a.onResponse([]byte(m.Payload))
	case strings.HasPrefix(m.Channel, a.channel) && strings.HasSuffix(m.Channel, "#"):
		err = a.onBroadcast([]byte(m.Payload))
	}
	if err != nil {
		a.core.Report(fmt.Errorf("%w (channel %s)", err, m.Channel))
	}
}

// onBroadcast delivers another server's broadcast to the local sockets.
func (a *Adapter) onBroadcast(b []byte) error {
	msg, err := rediscluster.DecodeBroadcast(b)
	if err != nil {
		return err
	}
	if msg.UID == a.uid || msg.Namespace != a.name {
		return nil
	}
	if !msg.Packet.Type.IsEvent() {
		return rediscluster.Malformed("broadcast of a %v packet", msg.Packet.Type)
	}
	if _, err := parser.EventName(msg.Packet.Data); err != nil {
		return rediscluster.Malformed("broadcast event: %v", err)
	}
	msg.Packet.Namespace = a.name
	sel := msg.Opts.Selection()
	sel.Flags.Local = true
	return a.core.Local.Broadcast(msg.Packet, sel)
}

// publishAsync queues a message without waiting. The outcome of the publication goes to
// Options.OnError when it fails.
func (a *Adapter) publishAsync(channel string, payload []byte) error {
	return a.pub.Async(channel, payload)
}

// publishSync queues a message and waits until Redis has it, or ctx ends.
func (a *Adapter) publishSync(ctx context.Context, channel string, payload []byte) error {
	return a.pub.Sync(ctx, channel, payload)
}

// publish is the publisher goroutine of the adapter.
func (a *Adapter) publish() {
	defer a.core.WG.Done()
	a.pub.Run()
}
