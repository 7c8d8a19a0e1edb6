package redisstreams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/echo-socketio/echo-socketio/rooms/internal/rediscluster"
	"strconv"
	"sync"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
	"github.com/redis/go-redis/v9"
)

// The defaults of Options, those of the Node package @socket.io/redis-streams-adapter.
const (
	// DefaultStreamName is the name of the stream when Options.StreamName is empty.
	DefaultStreamName = "socket.io"
	// DefaultStreamMaxLen is the approximate length the stream is trimmed to (XADD MAXLEN ~)
	// when Options.MaxLen is zero.
	DefaultStreamMaxLen = 10000
	// DefaultStreamReadCount is the number of entries one XREAD returns at most when
	// Options.ReadCount is zero.
	DefaultStreamReadCount = 100
	// DefaultStreamBlockTime is how long one XREAD waits for new entries when
	// Options.BlockTime is zero.
	DefaultStreamBlockTime = 5 * time.Second
	// DefaultSessionKeyPrefix is the prefix of the keys of the recovery sessions when
	// Options.SessionKeyPrefix is empty.
	DefaultSessionKeyPrefix = "sio:session:"
	// DefaultMaxDisconnectionDuration is how long a recovery session is kept when
	// Options.MaxDisconnectionDuration is zero: that of socketio.Recovery.
	DefaultMaxDisconnectionDuration = 2 * time.Minute
	// DefaultMaxMissedPackets bounds the broadcasts replayed to one recovering socket when
	// Options.MaxMissedPackets is zero.
	DefaultMaxMissedPackets = 1000
)

// Options configures a streams adapter. The zero value is the configuration of the
// Node adapter's defaults, without connection state recovery.
type Options struct {
	// Key is the prefix of the pub/sub channel names, "socket.io" when empty: the Node
	// adapter's channelPrefix.
	Key string
	// StreamName is the Redis stream the broadcasts and the other cluster operations go
	// through, DefaultStreamName when empty. Every server of a cluster must use the same.
	StreamName string
	// MaxLen is the approximate length the stream is trimmed to on each addition (XADD
	// MAXLEN ~). Zero means DefaultStreamMaxLen. A client can recover the broadcasts it
	// missed only while the stream still holds the last one it got.
	MaxLen int64
	// ReadCount is the number of entries one read of the stream returns at most, both for
	// the live reader and for the reads of a recovery. Zero means DefaultStreamReadCount.
	ReadCount int64
	// BlockTime is how long one read of the stream waits for new entries. Zero means
	// DefaultStreamBlockTime. With a *redis.Client the reads have a connection of their own,
	// which Close closes; with another client (a cluster, a ring), Close waits for the
	// current read, at most BlockTime.
	BlockTime time.Duration

	// Recovery turns on connection state recovery through Redis: set it together with
	// socketio.Options.ConnectionStateRecovery. Broadcasts then carry the ID of their stream
	// entry as their offset, the sessions of disconnected sockets are kept in Redis, and a
	// client can recover on any server of the cluster, Node or Go.
	Recovery bool
	// SessionKeyPrefix is the prefix of the Redis keys of the sessions, DefaultSessionKeyPrefix
	// when empty.
	SessionKeyPrefix string
	// MaxDisconnectionDuration is how long a session is kept (the keys expire after it).
	// Zero means DefaultMaxDisconnectionDuration. Set it to the server's
	// Recovery.MaxDisconnectionDuration.
	MaxDisconnectionDuration time.Duration
	// MaxMissedPackets bounds the broadcasts replayed to one recovering socket; one that
	// missed more starts afresh. Zero means DefaultMaxMissedPackets.
	MaxMissedPackets int

	// RequestsTimeout bounds the wait for the answers of the other servers to a request, and
	// for Redis on each command. Zero means DefaultRequestsTimeout.
	RequestsTimeout time.Duration
	// OnError, when not nil, is told of the errors that no caller can see. It runs on the
	// adapter's goroutines and must not block.
	OnError func(error)
	// MaxMessageSize bounds the size of the messages and entries read from Redis; larger
	// ones are dropped and reported. Zero means DefaultMaxMessageSize.
	MaxMessageSize int
	// PublishQueueSize is the number of messages waiting to be sent to Redis. Zero means
	// DefaultPublishQueueSize.
	PublishQueueSize int
}

func (o Options) withDefaults() Options {
	if o.Key == "" {
		o.Key = rediscluster.DefaultKey
	}
	if o.StreamName == "" {
		o.StreamName = DefaultStreamName
	}
	if o.MaxLen <= 0 {
		o.MaxLen = DefaultStreamMaxLen
	}
	if o.ReadCount <= 0 {
		o.ReadCount = DefaultStreamReadCount
	}
	if o.BlockTime <= 0 {
		o.BlockTime = DefaultStreamBlockTime
	}
	if o.SessionKeyPrefix == "" {
		o.SessionKeyPrefix = DefaultSessionKeyPrefix
	}
	if o.MaxDisconnectionDuration <= 0 {
		o.MaxDisconnectionDuration = DefaultMaxDisconnectionDuration
	}
	if o.MaxMissedPackets <= 0 {
		o.MaxMissedPackets = DefaultMaxMissedPackets
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

// Adapter is the adapter of one namespace in a cluster of servers that share a Redis
// stream, the protocol of the Node package @socket.io/redis-streams-adapter 0.3: broadcasts
// and the changes of rooms are entries of the stream, which every server reads; the requests
// that wait for answers (fetching sockets, server-side emits, broadcasts with
// acknowledgements) and the answers go through pub/sub. Because the stream keeps the
// broadcasts, a client that lost its connection to one server can recover on another one
// (Options.Recovery).
//
// Each Adapter holds a pub/sub connection and a connection for the blocking reads of
// the stream, and runs a publisher, a pub/sub reader and a stream reader until Close.
type Adapter struct {
	node   rediscluster.Node // the cluster protocol, over this adapter's transport
	client redis.UniversalClient
	reader redis.UniversalClient // the blocking reads; closed by Close when it is our own
	ownRdr bool
	opts   Options

	channel         string // socket.io#<nsp>#: requests to every server
	responseChannel string // socket.io#<nsp>#<uid>#: the answers to this server's requests

	pub *rediscluster.Publisher
	ps  *redis.PubSub

	// streamMu orders the reader's deliveries of broadcasts with offsets, its position, and
	// the restorations of sessions. Taken before holdsMu.
	streamMu sync.Mutex
	readPos  entryID // the last entry the reader handled
	holdsMu  sync.Mutex
	holds    map[rooms.SocketID]*held // see streams_hold.go; guarded by holdsMu

	keep keeper // the sessions of the connected sockets; see streams_keep.go

	ready       chan struct{}
	readyMu     sync.Mutex
	subscribed  int
	streamReady bool
}

var (
	_ rooms.Adapter      = (*Adapter)(nil)
	_ rooms.SessionStore = (*Adapter)(nil)
)

// New returns the factory of streams adapters that share client's Redis server.
// Every namespace gets a Adapter. The client is the application's: the adapters
// never close it.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	sio := socketio.NewServer(socketio.Options{
//		ConnectionStateRecovery: &socketio.Recovery{},
//		Adapter:                 redisstreams.New(rdb, redisstreams.Options{Recovery: true}),
//	})
func New(client redis.UniversalClient, opts Options) rooms.Factory {
	return func(nsp rooms.Namespace) rooms.Adapter { return NewAdapter(client, nsp, opts) }
}

// NewAdapter returns the streams adapter of namespace nsp. It starts reading the
// stream after its last entry and subscribes to its channels in the background; Ready waits
// for both.
func NewAdapter(client redis.UniversalClient, nsp rooms.Namespace, opts Options) *Adapter {
	opts = opts.withDefaults()
	name := nsp.Name()
	a := &Adapter{
		client:  client,
		reader:  client,
		opts:    opts,
		channel: opts.Key + "#" + name + "#",
		ready:   make(chan struct{}),
		keep: keeper{
			kept:  map[rooms.SocketID]*sockets.Session{},
			dirty: map[rooms.SocketID]struct{}{},
			wake:  make(chan struct{}, 1),
		},
	}
	if c, ok := client.(*redis.Client); ok {
		// A connection of its own, so that Close can end a blocking read at once.
		a.reader, a.ownRdr = redis.NewClient(readerOptions(c.Options())), true
	}
	a.node.UID, a.node.Name = rediscluster.HexID(), name
	a.node.Init(nsp, opts.RequestsTimeout, opts.OnError, rediscluster.HexID)
	a.node.CountServers = a.ServerCount
	a.node.SendRequest, a.node.SendResponse, a.node.SendResponseArg = a.request, a.respond, a.respondArg
	a.node.Deliver = a.deliverRemote
	a.responseChannel = a.channel + a.node.UID + "#"
	a.pub = rediscluster.NewPublisher(a.node.Ctx, client, false, opts.PublishQueueSize, opts.RequestsTimeout, a.node.Report)
	a.ps = client.Subscribe(a.node.Ctx, a.channel, a.responseChannel)
	a.node.WG.Add(3)
	go func() {
		defer a.node.WG.Done()
		a.pub.Run()
	}()
	go a.readPubSub()
	go a.readStream()
	if opts.Recovery {
		a.node.WG.Add(1)
		go func() {
			defer a.node.WG.Done()
			a.runKeeper()
		}()
	}
	return a
}

// readerOptions returns the options of a client with one connection to the server of o.
func readerOptions(o *redis.Options) *redis.Options {
	return &redis.Options{
		Network:                    o.Network,
		Addr:                       o.Addr,
		ClientName:                 o.ClientName,
		Dialer:                     o.Dialer,
		OnConnect:                  o.OnConnect,
		Protocol:                   o.Protocol,
		Username:                   o.Username,
		Password:                   o.Password,
		CredentialsProvider:        o.CredentialsProvider,
		CredentialsProviderContext: o.CredentialsProviderContext,
		DB:                         o.DB,
		MaxRetries:                 o.MaxRetries,
		DialTimeout:                o.DialTimeout,
		ReadTimeout:                o.ReadTimeout,
		WriteTimeout:               o.WriteTimeout,
		TLSConfig:                  o.TLSConfig,
		PoolSize:                   1,
	}
}

// UID returns the adapter's server ID, unique in the cluster.
func (a *Adapter) UID() string { return a.node.UID }

// Ready waits until the adapter reads the stream and is subscribed to its channels, or ctx
// ends.
func (a *Adapter) Ready(ctx context.Context) error {
	return rediscluster.WaitReady(ctx, a.node.Ctx, a.ready, "redisstreams: streams adapter not ready")
}

// readyPart notes that the stream reader started (stream) or a subscription was confirmed.
func (a *Adapter) readyPart(stream bool) {
	a.readyMu.Lock()
	defer a.readyMu.Unlock()
	if stream {
		a.streamReady = true
	} else {
		a.subscribed++
	}
	if a.streamReady && a.subscribed == 2 {
		close(a.ready)
		a.subscribed++ // closed once
	}
}

// SetRoomEvents sets the hooks of the local rooms' lives (see rooms.Memory.SetRoomEvents).
func (a *Adapter) SetRoomEvents(ev rooms.RoomEvents) { a.node.Local.SetRoomEvents(ev) }

// Del takes the local socket id out of room.
func (a *Adapter) Del(id rooms.SocketID, room rooms.Room) {
	a.node.Local.Del(id, room)
	a.touch(id)
}

// Sockets returns the IDs of the local sockets in any of rooms (all when rooms is empty).
func (a *Adapter) Sockets(r ...rooms.Room) []rooms.SocketID { return a.node.Local.Sockets(r...) }

// SocketRooms returns the rooms of the local socket id.
func (a *Adapter) SocketRooms(id rooms.SocketID) []rooms.Room {
	return a.node.Local.SocketRooms(id)
}

// ServerCount returns the number of servers in the cluster, this one included: the
// subscribers of the namespace's channel (PUBSUB NUMSUB), as the Node adapter counts them.
func (a *Adapter) ServerCount(ctx context.Context) (int, error) {
	return rediscluster.CountSubscribers(ctx, a.client, a.opts.RequestsTimeout, a.channel, false)
}

// takesOffset reports whether a broadcast of p to sel carries its offset for recovery, as
// in the official server: events without an acknowledgement ID that are not volatile.
func (a *Adapter) takesOffset(p *parser.Packet, sel *rooms.Selection) bool {
	return a.opts.Recovery && p.Type.IsEvent() && !p.HasID && !sel.Flags.Volatile &&
		len(p.Data) > 1 && p.Data[len(p.Data)-1] == ']'
}

// Broadcast sends p to the selected sockets of this server and, unless sel.Flags.Local, of
// every other server, as an entry of the stream. It does not wait for Redis, except with
// recovery for a broadcast that carries an offset: that one waits until Redis has the entry,
// and reaches the local sockets when the adapter reads it back from the stream, with the ID
// of the entry as its offset, in the order of the stream. Other broadcasts reach the local
// sockets at once, as do all of them when Redis failed (then without an offset).
//
// With recovery, a broadcast with sel.Flags.Local that carries an offset (as Socket.Emit sends
// to the socket's own room) is an entry of the stream too, so that the socket can recover it
// on any server; the other servers do not deliver it.
func (a *Adapter) Broadcast(p *parser.Packet, sel rooms.Selection) error {
	if sel.Flags.Local && !a.takesOffset(p, &sel) {
		return a.node.Local.Broadcast(p, sel)
	}
	data, isMsgpack, err := rediscluster.EncodeBroadcastData(a.node.Name, "", p, &sel)
	if err != nil {
		_ = a.node.Local.Broadcast(p, sel)
		return fmt.Errorf("redisstreams: encode broadcast: %w", err)
	}
	it := rediscluster.PubItem{Channel: a.opts.StreamName, Entry: a.entry(rediscluster.MsgBroadcast, data, isMsgpack)}
	if a.takesOffset(p, &sel) {
		ctx, cancel := context.WithTimeout(a.node.Ctx, a.opts.RequestsTimeout)
		err = a.pub.SyncItem(ctx, it)
		cancel()
		if err == nil {
			return nil // delivered by the reader
		}
	} else {
		err = a.pub.AsyncItem(it)
	}
	_ = a.node.Local.Broadcast(p, sel)
	return err
}

// BroadcastWithAck sends p to the selected sockets of every server, unless sel.Flags.Local,
// and runs ack for each acknowledgement until sel.Flags.Timeout (RequestsTimeout when zero).
// The request goes through pub/sub, not the stream, as in the Node adapter. Acknowledgements
// from the sockets of other servers come with an empty socket ID and one argument.
func (a *Adapter) BroadcastWithAck(p *parser.Packet, sel rooms.Selection, count func(n int), ack rooms.AckFunc) error {
	return a.node.StartBroadcastWithAck(p, sel, count, ack,
		func(id string) ([]byte, error) {
			data, isMsgpack, err := rediscluster.EncodeBroadcastData(a.node.Name, id, p, &sel)
			if err != nil {
				return nil, err
			}
			if !isMsgpack {
				if data, err = jsonDataToMsgpack(data); err != nil {
					return nil, err
				}
			}
			return rediscluster.WrapCluster(a.node.UID, a.node.Name, rediscluster.MsgBroadcast, data, true), nil
		},
		func(msg []byte) error { return a.pub.Async(a.channel, msg) })
}

// Close unsubscribes, stops the adapter's goroutines, ends the requests that wait for answers
// with ErrClosed, and forgets the local rooms. It does not close the Redis client.
func (a *Adapter) Close() error {
	return a.node.Shutdown(func() error {
		err := a.ps.Close()
		if a.ownRdr {
			err = errors.Join(err, a.reader.Close())
		}
		return err
	})
}

// isEphemeral reports whether a message of type typ goes through pub/sub rather than the
// stream, as the Node adapter decides: the requests that wait for answers.
func isEphemeral(typ int) bool {
	return typ == rediscluster.MsgFetchSockets || typ == rediscluster.MsgServerSideEmit
}

// request sends a message to every server, through pub/sub or as an entry of the stream,
// and waits until Redis has it.
func (a *Adapter) request(ctx context.Context, typ int, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("redisstreams: encode request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, a.opts.RequestsTimeout)
	defer cancel()
	if isEphemeral(typ) {
		mp, err := jsonDataToMsgpack(raw)
		if err != nil {
			return fmt.Errorf("redisstreams: encode request: %w", err)
		}
		return a.pub.Sync(ctx, a.channel, rediscluster.WrapCluster(a.node.UID, a.node.Name, typ, mp, true))
	}
	return a.pub.SyncItem(ctx, rediscluster.PubItem{Channel: a.opts.StreamName, Entry: a.entry(typ, raw, false)})
}

// respond queues the answer to a request of server uid, in MessagePack on that server's
// channel.
func (a *Adapter) respond(uid string, typ int, data any) error {
	raw, err := json.Marshal(data)
	if err == nil {
		raw, err = jsonDataToMsgpack(raw)
	}
	if err != nil {
		return fmt.Errorf("redisstreams: encode response: %w", err)
	}
	_ = a.pub.Async(a.channel+uid+"#", rediscluster.WrapCluster(a.node.UID, a.node.Name, typ, raw, true))
	return nil
}

// ServerSideEmit sends an event to the namespace's listeners on the other servers, through
// pub/sub in MessagePack (binary values kept). With withAck, it waits for one answer from
// each of them (the first argument of each server's acknowledgement) until ctx ends or
// RequestsTimeout; when some servers did not answer, it returns the answers it has with an
// error that wraps ErrTimeout.
func (a *Adapter) ServerSideEmit(ctx context.Context, event string, args parser.Args, withAck bool) ([]parser.Args, error) {
	return a.node.EmitToServers(ctx, event, args, withAck, rediscluster.MsgServerSideEmit, func(packet parser.Arg, id string) error {
		b, err := rediscluster.EncodeArgMessage(a.node.UID, a.node.Name, rediscluster.MsgServerSideEmit, id, packet)
		if err != nil {
			return fmt.Errorf("redisstreams: encode request: %w", err)
		}
		ctx, cancel := context.WithTimeout(ctx, a.opts.RequestsTimeout)
		defer cancel()
		return a.pub.Sync(ctx, a.channel, b)
	})
}

// respondArg queues the answer of type typ to request id of server uid, carrying arg, in
// MessagePack on that server's channel.
func (a *Adapter) respondArg(uid string, typ int, id string, arg parser.Arg) error {
	b, err := rediscluster.EncodeArgMessage(a.node.UID, a.node.Name, typ, id, arg)
	if err != nil {
		return fmt.Errorf("redisstreams: encode response: %w", err)
	}
	_ = a.pub.Async(a.channel+uid+"#", b)
	return nil
}

// deliverRemote delivers a broadcast read from the stream (or, with an empty offset, from
// pub/sub) to the local sockets, with the ID of its stream entry as its offset when it takes
// one, and holds it back for the sockets being restored (streams_hold.go).
func (a *Adapter) deliverRemote(p *parser.Packet, sel rooms.Selection, offset string) error {
	if offset == "" || !a.takesOffset(p, &sel) {
		return a.node.Local.Broadcast(p, sel)
	}
	a.streamMu.Lock()
	defer a.streamMu.Unlock()
	if pos, ok := parseEntryID(offset); ok {
		a.readPos = pos
	}
	a.holdLockedFor(p, &sel, offset)
	return a.node.Local.Broadcast(withOffset(p, offset), sel)
}

// readPubSub is the reader of the subscription: requests to every server and the answers to
// this one's.
func (a *Adapter) readPubSub() {
	defer a.node.WG.Done()
	a.node.Receive(a.ps, func(m *redis.Subscription) {
		if m.Kind == "subscribe" {
			a.readyPart(false)
		}
	}, a.dispatch)
}

// dispatch handles one message of the subscription.
func (a *Adapter) dispatch(m *redis.Message) {
	if len(m.Payload) > a.opts.MaxMessageSize {
		a.node.Report(fmt.Errorf("%w: %d bytes on %s, more than MaxMessageSize", rediscluster.ErrMalformed, len(m.Payload), m.Channel))
		return
	}
	msg, err := rediscluster.DecodeCluster([]byte(m.Payload))
	if err == nil {
		err = a.node.OnMessage(msg, "")
	}
	if err != nil {
		a.node.Report(fmt.Errorf("%w (channel %s)", err, m.Channel))
	}
}

// readStream is the reader of the stream: it reads the entries added after the last one at
// its start, in order, in batches of ReadCount, until Close. After an error it waits and
// reads on from the last entry it handled; entries trimmed meanwhile are lost for it.
func (a *Adapter) readStream() {
	defer a.node.WG.Done()
	backoff := rediscluster.BackoffMin
	offset := ""
	for offset == "" {
		ctx, cancel := context.WithTimeout(a.node.Ctx, a.opts.RequestsTimeout)
		last, err := a.client.XRevRangeN(ctx, a.opts.StreamName, "+", "-", 1).Result()
		cancel()
		if a.node.Ctx.Err() != nil {
			return
		}
		if err != nil {
			a.node.Report(fmt.Errorf("redisstreams: read the end of stream %s: %w", a.opts.StreamName, err))
			if !rediscluster.Sleep(a.node.Ctx, backoff) {
				return
			}
			backoff = min(2*backoff, rediscluster.BackoffMax)
			continue
		}
		offset = "0-0"
		if len(last) > 0 {
			offset = last[0].ID
		}
	}
	pos, _ := parseEntryID(offset)
	a.streamMu.Lock()
	a.readPos = pos
	a.streamMu.Unlock()
	a.readyPart(true)
	backoff = rediscluster.BackoffMin
	for {
		ctx, cancel := context.WithTimeout(a.node.Ctx, a.opts.BlockTime+a.opts.RequestsTimeout)
		res, err := a.reader.XRead(ctx, &redis.XReadArgs{
			Streams: []string{a.opts.StreamName, offset},
			Count:   a.opts.ReadCount,
			Block:   a.opts.BlockTime,
		}).Result()
		cancel()
		if a.node.Ctx.Err() != nil {
			return
		}
		if err != nil && !errors.Is(err, redis.Nil) {
			a.node.Report(fmt.Errorf("redisstreams: read stream %s: %w", a.opts.StreamName, err))
			if !rediscluster.Sleep(a.node.Ctx, backoff) {
				return
			}
			backoff = min(2*backoff, rediscluster.BackoffMax)
			continue
		}
		backoff = rediscluster.BackoffMin
		for _, s := range res {
			for _, e := range s.Messages {
				offset = e.ID
				err := a.onEntry(e)
				if pos, ok := parseEntryID(e.ID); ok {
					a.streamMu.Lock()
					a.readPos = pos
					a.streamMu.Unlock()
				}
				if err != nil {
					a.node.Report(fmt.Errorf("%w (stream %s, entry %s)", err, a.opts.StreamName, e.ID))
				}
			}
		}
	}
}

// onEntry handles one entry of the stream. The entries of this server are skipped, except,
// with recovery, its broadcasts that carry an offset: their local deliveries.
func (a *Adapter) onEntry(e redis.XMessage) error {
	if nsp, _ := e.Values["nsp"].(string); nsp != a.node.Name {
		return nil // another namespace's, or not a message
	}
	own := false
	if uid, _ := e.Values["uid"].(string); uid == a.node.UID {
		if typ, _ := e.Values["type"].(string); !a.opts.Recovery || typ != strconv.Itoa(rediscluster.MsgBroadcast) {
			return nil
		}
		own = true
	}
	msg, err := decodeEntry(e.Values, a.opts.MaxMessageSize)
	if err != nil {
		return err
	}
	if !own {
		if msg.Type == rediscluster.MsgBroadcast && msg.Opts != nil && msg.Opts.Flags.Local {
			return nil // for the sending server's sockets only
		}
		return a.node.OnMessage(msg, e.ID)
	}
	p := msg.Packet
	if p == nil || msg.RequestID != nil {
		return nil
	}
	sel := msg.Selection()
	sel.Flags.Local = true
	if !a.takesOffset(p, &sel) {
		return nil // Broadcast delivered it
	}
	p.Namespace = a.node.Name
	return a.deliverRemote(p, sel, e.ID)
}

// entry returns the XADD of a message of type typ with its encoded data.
func (a *Adapter) entry(typ int, data []byte, isMsgpack bool) *redis.XAddArgs {
	return &redis.XAddArgs{
		Stream: a.opts.StreamName,
		MaxLen: a.opts.MaxLen,
		Approx: true,
		ID:     "*",
		Values: entryValues(a.node.UID, a.node.Name, typ, data, isMsgpack),
	}
}

// withOffset returns p with offset appended to its arguments, as the official server gives
// a broadcast its offset.
func withOffset(p *parser.Packet, offset string) *parser.Packet {
	q := *p
	data := make([]byte, 0, len(p.Data)+len(offset)+3)
	data = append(data, p.Data[:len(p.Data)-1]...)
	if len(p.Data) > 2 {
		data = append(data, ',')
	}
	data = rediscluster.AppendJSONString(data, offset)
	q.Data = append(data, ']')
	return &q
}
