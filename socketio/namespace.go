package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
)

// Middleware runs for every socket that connects to a namespace, before the connection hooks.
// Returning an error refuses the connection: the client's connect_error gets the error's text,
// and the JSON data of a *ConnectError. Middlewares run in order, on the connection's handler
// goroutine; they may block (to look up a database, say).
type Middleware func(s *Socket) error

// Namespace is a communication channel of the server: the sockets connected to it, its rooms,
// middlewares and connection hooks.
type Namespace struct {
	server   *Server
	name     string
	parent   *ParentNamespace
	adapter  rooms.Adapter
	sessions rooms.SessionStore // nil without connection state recovery
	ackID    atomic.Uint64
	// The application's room hooks (OnRoomEvents), given to the adapter with the observers'.
	roomEvents atomic.Pointer[rooms.RoomEvents]

	connecting int // CONNECTs being handled, for a child namespace; guarded by parent.mu

	mu           sync.RWMutex
	sockets      map[rooms.SocketID]*Socket
	middlewares  []Middleware
	onConnection []func(*Socket)
	onServerEmit map[string][]handler
}

func newNamespace(s *Server, name string, parent *ParentNamespace) *Namespace {
	n := &Namespace{server: s, name: name, parent: parent, sockets: make(map[rooms.SocketID]*Socket)}
	n.adapter = s.opts.Adapter(nspLocal{n})
	if s.opts.ConnectionStateRecovery != nil {
		if store, ok := n.adapter.(rooms.SessionStore); ok {
			if c, ok := n.adapter.(rooms.RecoveryReporter); !ok || c.SupportsRecovery() {
				n.sessions = store
			}
		}
	}
	if s.watchesRooms() {
		n.installRoomEvents()
	}
	return n
}

// Name returns the namespace's name, such as "/" or "/admin".
func (n *Namespace) Name() string { return n.name }

// Server returns the server of the namespace.
func (n *Namespace) Server() *Server { return n.server }

// Adapter returns the namespace's adapter.
func (n *Namespace) Adapter() rooms.Adapter { return n.adapter }

// Ready waits until the namespace's adapter is ready (see rooms.ReadyWaiter): a cluster
// adapter is subscribed to its channels and sees the other servers' broadcasts. It returns at
// once for an adapter that is always ready, such as the in-memory one.
func (n *Namespace) Ready(ctx context.Context) error {
	if r, ok := n.adapter.(rooms.ReadyWaiter); ok {
		if err := r.Ready(ctx); err != nil {
			return fmt.Errorf("socketio: namespace %s: adapter not ready: %w", n.name, err)
		}
	}
	return nil
}

// Use adds a middleware. Add middlewares before clients connect.
func (n *Namespace) Use(mw Middleware) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.middlewares = append(n.middlewares, mw)
}

// OnConnection adds a hook that runs for every socket that connected, after the middlewares
// accepted it. The hook registers the socket's event handlers; events the client sends are
// handled after the hooks return, so none is missed.
func (n *Namespace) OnConnection(fn func(*Socket)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.onConnection = append(n.onConnection, fn)
}

// OnServerSideEmit adds a handler of the events other servers of a cluster send with
// ServerSideEmit or ServerSideEmitWithAck. fn takes the forms Socket.On takes: typed
// parameters decoded from the event's arguments, optionally followed by an Ack, returning
// nothing or an error (reported to OnError); or the raw forms such as func(Args, Ack), whose
// Args keep the binary values the adapter carries (see the adapter's documentation).
// OnServerSideEvent registers a typed handler without reflection.
//
// As in Node, every handler of an event runs, in the order they were added, and all of them
// get the same Ack: the first call answers the sender, later calls return ErrAlreadyAcked, and
// only the first argument of the answer reaches the sender (the cluster protocol carries
// one). The Ack does nothing when the sender asked for no answer. A sender that asked for
// answers gets none from a server where no handler calls the Ack, and waits until its
// timeout.
//
// The form func(Args, func(...any) error) of earlier versions is still accepted, and is
// deprecated: write func(Args, Ack). OnServerSideEmit panics when fn has another shape.
func (n *Namespace) OnServerSideEmit(event string, fn any) {
	if err := checkServerSideEvent(event); err != nil {
		panic(fmt.Sprintf("socketio: OnServerSideEmit: %v", err))
	}
	h, err := newServerSideHandler(fn)
	if err != nil {
		panic(fmt.Sprintf("socketio: OnServerSideEmit(%q): %v", event, err))
	}
	n.addServerSideHandler(event, h)
}

// OnServerSideEvent adds a handler of the server-side events of n (see
// Namespace.OnServerSideEmit), with the event's first argument decoded into a T without
// reflection, as OnEvent does for the events of a socket.
func OnServerSideEvent[T any](n *Namespace, event string, fn func(v T, ack Ack) error) {
	if fn == nil {
		panic(fmt.Sprintf("socketio: OnServerSideEvent(%q): nil handler", event))
	}
	if err := checkServerSideEvent(event); err != nil {
		panic(fmt.Sprintf("socketio: OnServerSideEvent: %v", err))
	}
	n.addServerSideHandler(event, typedHandler(event, fn))
}

// checkServerSideEvent refuses the names a namespace reserves for itself ("connect",
// "connection", "new_namespace"), as Node's serverSideEmit does: they cannot travel between
// servers.
func checkServerSideEvent(event string) error {
	switch event {
	case "connect", "connection", "new_namespace":
		return fmt.Errorf("%w: %q is a namespace's own event", ErrReservedEvent, event)
	}
	return nil
}

// newServerSideHandler is newHandler, with the deprecated raw form of OnServerSideEmit.
func newServerSideHandler(fn any) (handler, error) {
	if f, ok := fn.(func(Args, func(...any) error)); ok {
		return func(_ string, args Args, ack Ack, _ []json.RawMessage) error { f(args, ack); return nil }, nil
	}
	return newHandler(fn)
}

func (n *Namespace) addServerSideHandler(event string, h handler) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.onServerEmit == nil {
		n.onServerEmit = map[string][]handler{}
	}
	n.onServerEmit[event] = append(n.onServerEmit[event], h)
}

// OnRoomEvents sets the hooks of the lives of the namespace's rooms (created, joined, left,
// deleted), replacing those of an earlier call; nil hooks are not called. The in-memory and
// Redis adapters report these events (they are rooms.RoomEventsSetter). With an adapter that
// does not, OnRoomEvents does nothing and reports an error wrapping errors.ErrUnsupported to
// OnError (or the server's logger).
func (n *Namespace) OnRoomEvents(ev rooms.RoomEvents) {
	if _, ok := n.adapter.(rooms.RoomEventsSetter); !ok {
		n.server.reportError(fmt.Errorf("socketio: namespace %s: OnRoomEvents: adapter %T reports no room events: %w",
			n.name, n.adapter, errors.ErrUnsupported))
		return
	}
	ev = n.protectRoomEvents(ev)
	n.roomEvents.Store(&ev)
	n.installRoomEvents()
}

// protectRoomEvents wraps the hooks of ev so that their panics are recovered and reported.
func (n *Namespace) protectRoomEvents(ev rooms.RoomEvents) rooms.RoomEvents {
	srv := n.server
	room := func(where string, fn func(rooms.Room)) func(rooms.Room) {
		if fn == nil {
			return nil
		}
		return func(r rooms.Room) { srv.protect(where, func() { fn(r) }) }
	}
	member := func(where string, fn func(rooms.Room, rooms.SocketID)) func(rooms.Room, rooms.SocketID) {
		if fn == nil {
			return nil
		}
		return func(r rooms.Room, id rooms.SocketID) { srv.protect(where, func() { fn(r, id) }) }
	}
	return rooms.RoomEvents{
		Create: room("create-room hook", ev.Create),
		Join:   member("join-room hook", ev.Join),
		Leave:  member("leave-room hook", ev.Leave),
		Delete: room("delete-room hook", ev.Delete),
	}
}

// Sockets returns the sockets connected to the namespace on this server.
func (n *Namespace) Sockets() []*Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]*Socket, 0, len(n.sockets))
	for _, s := range n.sockets {
		out = append(out, s)
	}
	return out
}

// Socket returns the local socket with the given ID, or nil.
func (n *Namespace) Socket(id string) *Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.sockets[rooms.SocketID(id)]
}

func (n *Namespace) chain() ([]Middleware, []func(*Socket)) {
	n.mu.RLock()
	mws, hooks := n.middlewares, n.onConnection
	n.mu.RUnlock()
	if n.parent != nil {
		pm, ph := n.parent.chain()
		mws = append(append([]Middleware(nil), pm...), mws...)
		hooks = append(append(([]func(*Socket))(nil), ph...), hooks...)
	}
	return mws, hooks
}

func (n *Namespace) nextAckID() uint64 { return n.ackID.Add(1) - 1 }

func (n *Namespace) add(s *Socket) {
	n.mu.Lock()
	if old := n.sockets[s.id]; old != nil {
		old.listed.Store(false) // a recovered session's socket, replaced by its successor
	}
	n.sockets[s.id] = s
	s.listed.Store(true)
	n.mu.Unlock()
}

func (n *Namespace) remove(s *Socket) {
	n.mu.Lock()
	if n.sockets[s.id] == s {
		delete(n.sockets, s.id)
		s.listed.Store(false)
	}
	n.mu.Unlock()
	n.cleanup()
}

// connectDone ends the handling of a CONNECT to the namespace, accepted or not.
func (n *Namespace) connectDone() {
	if n.parent == nil {
		return
	}
	n.parent.mu.Lock()
	n.connecting--
	n.parent.mu.Unlock()
	n.cleanup()
}

// cleanup removes a child namespace that has no socket and no CONNECT being handled, when
// Options.CleanupEmptyChildNamespaces is set.
func (n *Namespace) cleanup() {
	p := n.parent
	if p == nil || !n.server.opts.CleanupEmptyChildNamespaces {
		return
	}
	p.mu.Lock()
	n.mu.RLock()
	empty := len(n.sockets) == 0 && n.connecting == 0 && p.children[n.name] == n
	n.mu.RUnlock()
	if empty {
		delete(p.children, n.name)
	}
	p.mu.Unlock()
	if empty {
		_ = n.adapter.Close()
	}
}

// To selects the sockets in rooms for a broadcast.
func (n *Namespace) To(rooms ...string) *BroadcastOperator { return newOperator(n).To(rooms...) }

// In is the same as To.
func (n *Namespace) In(rooms ...string) *BroadcastOperator { return n.To(rooms...) }

// Except selects the sockets not in rooms.
func (n *Namespace) Except(rooms ...string) *BroadcastOperator {
	return newOperator(n).Except(rooms...)
}

// Volatile marks a broadcast's packets as droppable when a receiver cannot take them now.
func (n *Namespace) Volatile() *BroadcastOperator { return newOperator(n).Volatile() }

// Local limits a broadcast to this server.
func (n *Namespace) Local() *BroadcastOperator { return newOperator(n).Local() }

// Timeout sets how long a broadcast with acknowledgements waits for them.
func (n *Namespace) Timeout(d time.Duration) *BroadcastOperator { return newOperator(n).Timeout(d) }

// Emit sends an event to every socket of the namespace.
func (n *Namespace) Emit(event string, args ...any) error { return newOperator(n).Emit(event, args...) }

// EmitWithAck sends an event to every socket of the namespace and gathers their answers.
func (n *Namespace) EmitWithAck(ctx context.Context, event string, args ...any) ([]Reply, error) {
	return newOperator(n).EmitWithAck(ctx, event, args...)
}

// FetchSockets describes the sockets of the namespace, on every server of a cluster.
func (n *Namespace) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return newOperator(n).FetchSockets(ctx)
}

// SocketsJoin makes every socket of the namespace join rooms.
func (n *Namespace) SocketsJoin(ctx context.Context, rooms ...string) error {
	return newOperator(n).SocketsJoin(ctx, rooms...)
}

// SocketsLeave makes every socket of the namespace leave rooms.
func (n *Namespace) SocketsLeave(ctx context.Context, rooms ...string) error {
	return newOperator(n).SocketsLeave(ctx, rooms...)
}

// DisconnectSockets disconnects every socket of the namespace; closeConn closes their
// connections too.
func (n *Namespace) DisconnectSockets(ctx context.Context, closeConn bool) error {
	return newOperator(n).DisconnectSockets(ctx, closeConn)
}

// ServerSideEmit sends an event to the other servers of a cluster. On a single server it
// returns rooms.ErrNoCluster.
func (n *Namespace) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	if err := checkServerSideEvent(event); err != nil {
		return err
	}
	raw, err := toArgs(args)
	if err != nil {
		return err
	}
	start := n.adapterStart()
	_, err = n.adapter.ServerSideEmit(ctx, event, raw, false)
	n.adapterDone("serverSideEmit", start, ignoreNoCluster(err))
	return err
}

// ServerSideEmitWithAck sends an event to the other servers of a cluster and returns their
// answers, gathered until ctx ends.
func (n *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]Reply, error) {
	if err := checkServerSideEvent(event); err != nil {
		return nil, err
	}
	raw, err := toArgs(args)
	if err != nil {
		return nil, err
	}
	start := n.adapterStart()
	answers, err := n.adapter.ServerSideEmit(ctx, event, raw, true)
	n.adapterDone("serverSideEmit", start, ignoreNoCluster(err))
	return answers, err
}

// toArgs marshals args as an emit would, []byte values and Args as binary.
func toArgs(args []any) (Args, error) {
	data, atts, err := parser.MarshalArgs(args...)
	if err != nil {
		return nil, fmt.Errorf("socketio: %w", err)
	}
	return parser.SplitArgs(data, atts)
}

// nspLocal is the side of a Namespace its adapter sees (rooms.Namespace). It registers its
// sockets with the adapter as Receivers (rooms.ReceiverNamespace), so that the in-memory
// adapter hands a broadcast's receivers to DeliverTo as pointers, with no lookup by ID.
type nspLocal struct{ n *Namespace }

var _ rooms.ReceiverNamespace = nspLocal{}

func (l nspLocal) Name() string { return l.n.name }

// receiver is a Socket as the adapter keeps it (rooms.Receiver), without adding the method
// to Socket's API.
type receiver Socket

// ReceiverID returns the socket's ID.
func (r *receiver) ReceiverID() rooms.SocketID { return r.id }

// Receiver returns the Receiver of the local socket id, or nil.
func (l nspLocal) Receiver(id rooms.SocketID) rooms.Receiver {
	l.n.mu.RLock()
	s := l.n.sockets[id]
	l.n.mu.RUnlock()
	if s == nil {
		return nil
	}
	return (*receiver)(s)
}

// encodeFrames encodes p once into the frames every receiver gets.
func (l nspLocal) encodeFrames(p *parser.Packet) ([]*engineio.Prepared, error) {
	l.n.server.broadcastEncodes.Add(1)
	return l.n.server.encodeFrames(p)
}

// preparedFrames returns the Engine.IO messages of an encoded packet: its text frame, then one
// binary frame per attachment.
func preparedFrames(text []byte, atts [][]byte) []*engineio.Prepared {
	frames := make([]*engineio.Prepared, 0, 1+len(atts))
	frames = append(frames, engineio.NewPrepared(text, false))
	for _, a := range atts {
		frames = append(frames, engineio.NewPrepared(a, true))
	}
	return frames
}

// Deliver sends p to the local sockets ids.
func (l nspLocal) Deliver(p *parser.Packet, ids []rooms.SocketID, flags rooms.Flags) {
	frames, err := l.encodeFrames(p)
	if err != nil {
		return
	}
	f := fanout{frames: frames, volatile: flags.Volatile}
	l.sendIDs(&f, ids)
	l.finish(&f)
}

// DeliverTo sends p to the local sockets members.
func (l nspLocal) DeliverTo(p *parser.Packet, members []rooms.Member, flags rooms.Flags) {
	frames, err := l.encodeFrames(p)
	if err != nil {
		return
	}
	f := fanout{frames: frames, volatile: flags.Volatile}
	l.sendMembers(&f, members)
	l.finish(&f)
}

// DeliverWithAck sends p to the local sockets ids and runs ack for each answer.
func (l nspLocal) DeliverWithAck(p *parser.Packet, ids []rooms.SocketID, flags rooms.Flags, ack rooms.AckFunc) int {
	return l.deliverWithAck(p, flags, ack, func(f *fanout) { l.sendIDs(f, ids) })
}

// DeliverToWithAck sends p to the local sockets members and runs ack for each answer.
func (l nspLocal) DeliverToWithAck(p *parser.Packet, members []rooms.Member, flags rooms.Flags, ack rooms.AckFunc) int {
	return l.deliverWithAck(p, flags, ack, func(f *fanout) { l.sendMembers(f, members) })
}

// deliverWithAck gives p an ack ID, has send send it with f, and registers ack on each socket
// it goes to, until flags.Timeout.
func (l nspLocal) deliverWithAck(p *parser.Packet, flags rooms.Flags, ack rooms.AckFunc, send func(f *fanout)) int {
	id := l.n.nextAckID()
	q := *p
	q.ID, q.HasID = id, true
	frames, err := l.encodeFrames(&q)
	if err != nil {
		return 0
	}
	var registered []*Socket
	f := fanout{frames: frames, volatile: flags.Volatile, register: func(s *Socket) {
		sid := s.id
		s.addAck(id, func(args Args) { ack(sid, args) })
		registered = append(registered, s)
	}}
	send(&f)
	n := l.finish(&f)
	if flags.Timeout > 0 {
		time.AfterFunc(flags.Timeout, func() {
			for _, s := range registered {
				s.removeAck(id)
			}
		})
	}
	return n
}

// fanout is the state of one broadcast's delivery: the frames every receiver gets, and what
// became of the sends.
type fanout struct {
	frames   []*engineio.Prepared
	volatile bool
	register func(*Socket) // when not nil, runs for each socket before its send

	sent          int
	slow, skipped []*engineio.Conn
}

// send queues the frames for s. A receiver whose queue is full is noted, to be dealt with
// once the loop is over.
func (f *fanout) send(s *Socket) {
	if f.register != nil {
		f.register(s)
	}
	c := s.client.conn
	err := c.SendPrepared(f.frames...)
	switch {
	case err == nil:
		f.sent++
	case !errors.Is(err, engineio.ErrQueueFull):
	case f.volatile:
		f.skipped = append(f.skipped, c)
	default:
		f.slow = append(f.slow, c)
	}
}

// sendIDs sends with f to the local sockets ids, looked up by ID.
func (l nspLocal) sendIDs(f *fanout, ids []rooms.SocketID) {
	l.n.mu.RLock()
	defer l.n.mu.RUnlock()
	for _, id := range ids {
		if s := l.n.sockets[id]; s != nil {
			f.send(s)
		}
	}
}

// sendMembers sends with f to members: to a member's Receiver when it is the namespace's
// socket of that ID, as it nearly always is, else to the socket found by its ID, if any.
func (l nspLocal) sendMembers(f *fanout, members []rooms.Member) {
	for i := range members {
		mb := &members[i]
		if r, ok := mb.Receiver.(*receiver); ok {
			if s := (*Socket)(r); s.listed.Load() {
				f.send(s)
				continue
			}
		}
		if s := l.n.Socket(string(mb.ID)); s != nil {
			f.send(s)
		}
	}
}

// finish deals with the receivers that could not take the frames, tells the observers, and
// returns the number of sockets the frames were queued for.
func (l nspLocal) finish(f *fanout) int {
	for _, c := range f.slow {
		c.Abort() // a receiver that cannot keep up is disconnected, never waited for
		l.n.server.slowConsumer(c, l.n.name, false)
	}
	for _, c := range f.skipped {
		l.n.server.slowConsumer(c, l.n.name, true)
	}
	if obs := l.n.server.observed(); obs != nil {
		for _, o := range obs {
			if o.BroadcastDelivered != nil {
				o.BroadcastDelivered(l.n.name, f.sent)
			}
		}
	}
	return f.sent
}

func (l nspLocal) SocketInfo(id rooms.SocketID) (sockets.Info, bool) {
	l.n.mu.RLock()
	s := l.n.sockets[id]
	l.n.mu.RUnlock()
	if s == nil {
		return sockets.Info{}, false
	}
	return sockets.Info{ID: s.id, Handshake: s.Handshake(), Rooms: l.n.adapter.SocketRooms(id), Data: s.dataJSON()}, true
}

func (l nspLocal) Disconnect(id rooms.SocketID, closeConn bool) {
	if s := l.n.Socket(string(id)); s != nil {
		s.Disconnect(closeConn)
	}
}

func (l nspLocal) ServerSideEmit(event string, args Args, ack func(Args)) {
	l.n.mu.RLock()
	hs := l.n.onServerEmit[event] // append-only: the slice seen here does not change
	l.n.mu.RUnlock()
	if len(hs) == 0 {
		return
	}
	reply := noAck
	if ack != nil {
		var once sync.Once
		reply = func(vals ...any) error {
			err := ErrAlreadyAcked
			once.Do(func() {
				raw, merr := toArgs(vals)
				if err = merr; merr == nil {
					ack(raw)
				}
			})
			return err
		}
	}
	where := "server-side handler of " + strconv.Quote(event)
	for _, h := range hs {
		var herr error
		if l.n.server.protect(where, func() { herr = h.call(event, args, reply) }) == nil && herr != nil {
			l.n.server.reportError(herr)
		}
	}
}

// ParentNamespace is a family of dynamic namespaces (see Server.OfFunc). Its middlewares and
// connection hooks apply to every child.
type ParentNamespace struct {
	server *Server
	match  func(name string, auth json.RawMessage) bool

	mu           sync.RWMutex
	children     map[string]*Namespace
	middlewares  []Middleware
	onConnection []func(*Socket)
}

// Use adds a middleware for every child namespace.
func (p *ParentNamespace) Use(mw Middleware) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.middlewares = append(p.middlewares, mw)
}

// OnConnection adds a connection hook for every child namespace.
func (p *ParentNamespace) OnConnection(fn func(*Socket)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onConnection = append(p.onConnection, fn)
}

// Children returns the child namespaces created so far.
func (p *ParentNamespace) Children() []*Namespace {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]*Namespace, 0, len(p.children))
	for _, c := range p.children {
		out = append(out, c)
	}
	return out
}

// Emit sends an event to every socket of every child namespace.
func (p *ParentNamespace) Emit(event string, args ...any) error {
	var errs []error
	for _, c := range p.Children() {
		errs = append(errs, c.Emit(event, args...))
	}
	return errors.Join(errs...)
}

func (p *ParentNamespace) chain() ([]Middleware, []func(*Socket)) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.middlewares, p.onConnection
}

// child returns the child namespace name for a CONNECT, creating it if needed, or nil when
// the parent already has Options.MaxChildNamespaces children. The caller calls connectDone
// on it when the CONNECT is handled.
func (p *ParentNamespace) child(name string) *Namespace {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.children[name]
	if c == nil {
		if len(p.children) >= p.server.opts.MaxChildNamespaces {
			return nil
		}
		c = newNamespace(p.server, name, p)
		p.children[name] = c
	}
	c.connecting++
	return c
}
