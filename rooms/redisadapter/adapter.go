package redisadapter

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/redis/go-redis/v9"
)

// remoteAckBase is the first acknowledgement ID given to the packets of other servers'
// broadcasts with acknowledgements. The Node adapter does not send the ID it uses, so the
// receiving server chooses one; starting high keeps clear of the IDs the namespace numbers
// from zero.
const remoteAckBase = 1 << 52

// Adapter is the adapter of one namespace in a cluster of servers that share a Redis
// server. It keeps the rooms of the local sockets in a rooms.Memory, and reaches the other
// servers, Go or Node, through Redis pub/sub.
//
// Each Adapter holds one pub/sub connection of its own (one per namespace) and runs two
// goroutines, a reader and a publisher, until Close.
type Adapter struct {
	core
	name   string
	client redis.UniversalClient
	opts   Options
	uid    string

	channel         string // socket.io#<nsp>#, the broadcasts (a room's: <channel><room>#)
	requestChannel  string // socket.io-request#<nsp>#
	responseChannel string // socket.io-response#<nsp>#
	ownResponses    string // socket.io-response#<nsp>#<uid>#

	ps    *redis.PubSub
	pub   *publisher
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
		uid:             randomID(),
		channel:         opts.Key + "#" + name + "#",
		requestChannel:  opts.Key + "-request#" + name + "#",
		responseChannel: opts.Key + "-response#" + name + "#",
		ready:           make(chan struct{}),
	}
	a.init(nsp, opts.RequestsTimeout, opts.OnError, randomID)
	a.serverCount = a.ServerCount
	a.ownResponses = a.responseChannel + a.uid + "#"
	a.pub = newPublisher(a.ctx, client, false, opts.PublishQueueSize, opts.RequestsTimeout, a.report)

	// PSubscribe and Subscribe only send their commands; when Redis is unreachable, the
	// reader reconnects and subscribes again, so their errors need no handling here.
	ctx, cancel := context.WithTimeout(a.ctx, opts.RequestsTimeout)
	a.ps = client.PSubscribe(ctx, a.channel+"*")
	if err := a.ps.Subscribe(ctx, a.requestChannel, a.responseChannel, a.ownResponses); err != nil {
		a.report(fmt.Errorf("redisadapter: subscribe: %w", err))
	}
	cancel()

	a.wg.Add(2)
	go a.read()
	go a.publish()
	return a
}

// randomID returns 12 random characters from [0-9a-zA-Z].
func randomID() string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// UID returns the adapter's server ID, unique in the cluster. Messages carry it so that a
// server can tell its own from the others'.
func (a *Adapter) UID() string { return a.uid }

// Ready waits until the adapter is subscribed to its channels, or ctx ends.
func (a *Adapter) Ready(ctx context.Context) error {
	select {
	case <-a.ready:
		return nil
	case <-a.ctx.Done():
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("redisadapter: not subscribed: %w", ctx.Err())
	}
}

// SetRoomEvents sets the hooks of the local rooms' lives (see rooms.Memory.SetRoomEvents).
func (a *Adapter) SetRoomEvents(ev rooms.RoomEvents) { a.local.SetRoomEvents(ev) }

// AddAll puts the local socket id in rooms.
func (a *Adapter) AddAll(id rooms.SocketID, r ...rooms.Room) { a.local.AddAll(id, r...) }

// Del takes the local socket id out of room.
func (a *Adapter) Del(id rooms.SocketID, room rooms.Room) { a.local.Del(id, room) }

// DelAll takes the local socket id out of every room.
func (a *Adapter) DelAll(id rooms.SocketID) { a.local.DelAll(id) }

// Sockets returns the IDs of the local sockets in any of rooms (all when rooms is empty).
func (a *Adapter) Sockets(r ...rooms.Room) []rooms.SocketID { return a.local.Sockets(r...) }

// SocketRooms returns the rooms of the local socket id.
func (a *Adapter) SocketRooms(id rooms.SocketID) []rooms.Room { return a.local.SocketRooms(id) }

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
		if msg, err = encodeBroadcast(a.uid, a.name, p, &sel); err != nil {
			err = fmt.Errorf("redisadapter: encode broadcast: %w", err)
		} else {
			err = a.publishAsync(a.broadcastChannel(&sel), msg)
		}
	}
	_ = a.local.Broadcast(p, sel)
	return err
}

// Close unsubscribes, stops the adapter's goroutines, ends the requests that wait for
// answers with ErrClosed, and forgets the local rooms. It does not close the Redis client.
func (a *Adapter) Close() error { return a.close(a.ps.Close) }

// read is the reader goroutine: it receives the messages of the subscription until Close.
func (a *Adapter) read() {
	defer a.wg.Done()
	a.receive(a.ps, func(m *redis.Subscription) {
		if (m.Kind == "subscribe" || m.Kind == "psubscribe") && a.subs.Add(1) == 4 {
			close(a.ready)
		}
	}, a.dispatch)
}

// dispatch routes one message by its channel.
func (a *Adapter) dispatch(m *redis.Message) {
	if len(m.Payload) > a.opts.MaxMessageSize {
		a.report(fmt.Errorf("%w: %d bytes on %s, more than MaxMessageSize", errMalformed, len(m.Payload), m.Channel))
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
		a.report(fmt.Errorf("%w (channel %s)", err, m.Channel))
	}
}

// onBroadcast delivers another server's broadcast to the local sockets.
func (a *Adapter) onBroadcast(b []byte) error {
	msg, err := decodeBroadcast(b)
	if err != nil {
		return err
	}
	if msg.uid == a.uid || msg.nsp != a.name {
		return nil
	}
	if !msg.packet.Type.IsEvent() {
		return malformed("broadcast of a %v packet", msg.packet.Type)
	}
	if _, err := parser.EventName(msg.packet.Data); err != nil {
		return malformed("broadcast event: %v", err)
	}
	msg.packet.Namespace = a.name
	sel := msg.opts.selection()
	sel.Flags.Local = true
	return a.local.Broadcast(msg.packet, sel)
}

// localSelection returns sel limited to this server.
func localSelection(sel rooms.Selection) rooms.Selection {
	sel.Flags.Local = true
	return sel
}
