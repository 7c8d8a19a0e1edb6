package socketio

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
)

// Socket is a client's connection to one namespace. Its methods are safe for concurrent use.
//
// A server keeps thousands of sockets, most of them idle, so a socket keeps little: what the
// handshake record is built from (the record itself is built when it is first asked for), its
// handlers in a short list, and the state of the rarer features (listeners of every event,
// packet middlewares, hooks, acknowledgements waited for, the recovery session) in a side
// record made at their first use.
type Socket struct {
	id     rooms.SocketID
	nsp    *Namespace
	client *client

	// What the handshake record is built from, with the Engine.IO session's handshake request.
	auth      string // the CONNECT auth payload, "" when the client sent none
	issued    int64  // when the socket was made, in milliseconds since the Unix epoch
	handshake atomic.Pointer[sockets.Handshake]

	mu        sync.Mutex
	connected bool
	closed    bool        // it was connected, and disconnected
	recovered bool        // set before the socket is shared
	listed    atomic.Bool // nsp.sockets[id] is this socket (see nspLocal.sendMembers)
	handlers  handlerSet
	data      map[string]any
	rare      *socketRare // made at the first use of a rarer feature
}

// socketRare is the state of a socket's rarer features. Most sockets use none of them and
// have none.
type socketRare struct {
	pid             string        // private session ID, with connection state recovery
	restoredRooms   []rooms.Room  // the rooms of a recovered session, until the socket joins them
	done            chan struct{} // made by the first Done, closed when the socket disconnects
	onAny           []func(event string, args Args)
	onAnyOut        []func(event string, args []any)
	packetMWs       []func(event string, args Args) error
	onDisconnecting []func(DisconnectReason)
	onDisconnect    []func(DisconnectReason)
	onError         []func(error)
	acks            map[uint64]func(Args)
}

// rareLocked returns the socket's rarer state, made at the first call. s.mu is held, or the
// socket is not shared yet.
func (s *Socket) rareLocked() *socketRare {
	if s.rare == nil {
		s.rare = &socketRare{}
	}
	return s.rare
}

func newSocket(nsp *Namespace, c *client, auth json.RawMessage) *Socket {
	id := rooms.SocketID(newID())
	if c.isV3() {
		id = v3SocketID(nsp.name, c.conn.ID())
	}
	s := &Socket{id: id, nsp: nsp, client: c, issued: time.Now().UnixMilli()}
	if len(auth) > 0 {
		s.auth = string(auth)
	}
	return s
}

// connectPayload returns the payload of the v4 CONNECT answer: {"sid":sid}, with "pid" when
// pid is not empty. The IDs this package makes are base64url text, which JSON takes as it is;
// any other text goes through encoding/json.
func connectPayload(sid, pid string) json.RawMessage {
	if !plainID(sid) || !plainID(pid) {
		data, _ := json.Marshal(struct {
			SID string `json:"sid"`
			PID string `json:"pid,omitempty"`
		}{sid, pid})
		return data
	}
	b := make([]byte, 0, len(`{"sid":"","pid":""}`)+len(sid)+len(pid))
	b = append(append(append(b, `{"sid":"`...), sid...), '"')
	if pid != "" {
		b = append(append(append(b, `,"pid":"`...), pid...), '"')
	}
	return append(b, '}')
}

// plainID reports whether id holds only base64url characters.
func plainID(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// buildHandshake returns the handshake record of a socket made at issued (milliseconds since
// the Unix epoch) with the auth payload auth, on the session c: the rest is read from the
// session's record of its handshake request.
func buildHandshake(c *engineio.Conn, issued int64, auth string) *sockets.Handshake {
	addr := c.RemoteAddr()
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	if auth == "" {
		auth = "{}"
	}
	return &sockets.Handshake{
		Headers: c.Headers(), // a copy of the handshake's headers, the record's own
		Time:    time.UnixMilli(issued).Format("Mon Jan 02 2006 15:04:05 GMT-0700 (MST)"),
		Address: addr,
		XDomain: c.Header("Origin") != "",
		Secure:  c.TLS() != nil,
		Issued:  issued,
		URL:     c.RequestURI(),
		Query:   c.Query(),
		Auth:    json.RawMessage(auth),
	}
}

// ID returns the socket's ID: random, unique, and the name of the socket's own room. It is not
// the Engine.IO session ID.
func (s *Socket) ID() string { return string(s.id) }

// Namespace returns the namespace the socket is connected to.
func (s *Socket) Namespace() *Namespace { return s.nsp }

// Handshake is the handshake of a socket: headers, query, auth payload, remote address, time
// and URL. It is declared in package sockets, which the adapters share; applications name it
// socketio.Handshake.
type Handshake = sockets.Handshake

// Handshake returns the details of the handshake: headers, query, auth payload, remote
// address, time and URL. The record is built at the first call, from the Engine.IO session's
// record of its handshake request, and the same one is returned afterwards; the caller must
// not modify it.
func (s *Socket) Handshake() *Handshake {
	if h := s.handshake.Load(); h != nil {
		return h
	}
	h := buildHandshake(s.client.conn, s.issued, s.auth)
	if !s.handshake.CompareAndSwap(nil, h) {
		return s.handshake.Load() // a concurrent call built it first
	}
	return h
}

// Request returns the HTTP request that opened the connection. Its context carries the values
// set by the middlewares that ran before the endpoint. The session keeps a record of the
// request, not the request: each call builds a new one. To read a header or a context value,
// Handshake and RequestContext are cheaper.
func (s *Socket) Request() *http.Request { return s.client.conn.Request() }

// RequestContext returns the context of the HTTP request that opened the connection, with the
// values set by the middlewares that ran before the endpoint, without building the request. It
// is never canceled.
func (s *Socket) RequestContext() context.Context { return s.client.conn.Context() }

// Auth decodes the CONNECT auth payload into v.
func (s *Socket) Auth(v any) error {
	if s.auth == "" {
		return json.Unmarshal([]byte("{}"), v)
	}
	return json.Unmarshal([]byte(s.auth), v)
}

// EngineConn is the Engine.IO session under a socket, as the application may use it. The
// session's message and close handlers, and its raw sends, belong to the Socket.IO client
// that owns the session, so the setters OnMessage and OnClose and the methods Send and
// SendPrepared of *engineio.Conn are not part of it.
type EngineConn interface {
	// ID returns the Engine.IO session ID (not the socket's ID).
	ID() string
	// Protocol returns the Engine.IO protocol version of the session: 4, or 3.
	Protocol() int
	// Request returns the handshake request.
	Request() *http.Request
	// Transport returns "polling" or "websocket".
	Transport() string
	// Done returns a channel closed when the session is closed.
	Done() <-chan struct{}
	// Flush waits until what is queued is on its way to the client.
	Flush()
	// Abort closes the session at once, dropping what is queued ("transport error").
	Abort()
	// Close flushes the queue, then closes the session ("forced close").
	Close()
}

var _ EngineConn = (*engineio.Conn)(nil)

// Conn returns the Engine.IO session under the socket, shared by the client's sockets of
// every namespace.
func (s *Socket) Conn() EngineConn { return s.client.conn }

// Transport returns the name of the transport in use: "polling" or "websocket".
func (s *Socket) Transport() string { return s.client.conn.Transport() }

// Recovered reports whether the socket was recovered after a temporary disconnection: it has
// the ID, rooms and data of the lost socket, and the broadcasts it missed were sent to it.
// Always false without Options.ConnectionStateRecovery.
func (s *Socket) Recovered() bool { return s.recovered }

// Connected reports whether the socket is still connected.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected
}

// Done returns a channel closed when the socket disconnects.
func (s *Socket) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rareLocked() // made at the first call: most sockets are never asked
	if r.done == nil {
		r.done = make(chan struct{})
		if s.closed {
			close(r.done)
		}
	}
	return r.done
}

// Set stores a value of the application's in the socket. Values that encode to JSON are
// also reported by FetchSockets as the socket's data, and to the observers of the server
// (Observer.DataChanged).
func (s *Socket) Set(key string, v any) {
	s.mu.Lock()
	if s.data == nil {
		s.data = make(map[string]any)
	}
	s.data[key] = v
	s.mu.Unlock()
	s.nsp.server.dataChanged(s, key)
}

// Get returns a value stored with Set.
func (s *Socket) Get(key string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.data[key]
	return v, ok
}

// Data returns the values stored with Set, encoded to JSON as FetchSockets reports them: nil
// when there are none or when they do not encode.
func (s *Socket) Data() json.RawMessage { return s.dataJSON() }

func (s *Socket) dataJSON() json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.data) == 0 {
		return nil
	}
	b, err := json.Marshal(s.data)
	if err != nil {
		return nil
	}
	return b
}

// On registers the handler of an event. fn is a func whose parameters receive the event's
// arguments, decoded into their types (as Arg.Decode does: binary values decode into []byte,
// also into an any), optionally followed by an Ack parameter, and returns nothing or an error
// (reported to OnError). The raw forms func(Args) and func(Args, Ack) receive the arguments
// undecoded, binary values kept, ready to be inspected or relayed with args.Any()...;
// func(Arg) and func(Arg, Ack) receive the first one. The JSON-only forms
// func([]json.RawMessage) and func([]json.RawMessage, Ack) receive binary values as base64
// strings. A later On for the same event replaces the handler. OnEvent registers a typed
// handler without reflection.
//
// The reserved names behave as in Node: On("disconnect", fn) and On("disconnecting", fn) add
// the hooks OnDisconnect and OnDisconnecting add, with fn a func(), a func(DisconnectReason)
// or a func(string) that gets the reason. The other reserved names ("connect",
// "connect_error", "newListener", "removeListener") are no events a client can send.
//
// On panics when fn has another shape or event is one of those other reserved names: that is
// a programming error, found the first time the code runs, and the panic says what to write
// instead.
func (s *Socket) On(event string, fn any) {
	if parser.IsReservedEvent(event) {
		if err := s.onReserved(event, fn); err != nil {
			panic(fmt.Sprintf("socketio: On(%q): %v", event, err))
		}
		return
	}
	h, err := newHandler(fn)
	if err != nil {
		panic(fmt.Sprintf("socketio: On(%q): %v", event, err))
	}
	s.setHandler(event, h)
}

func (s *Socket) setHandler(event string, h handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers.set(event, h)
}

// Off removes the handler of an event. Hooks added with On("disconnect") or
// On("disconnecting") stay.
func (s *Socket) Off(event string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers.del(event)
}

// OnAny adds a listener that runs for every event the client sends, before its handler. args
// keep their binary values.
func (s *Socket) OnAny(fn func(event string, args Args)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rareLocked()
	r.onAny = append(r.onAny, fn)
}

// OnAnyOutgoing adds a listener that runs for every event emitted to the client by this
// socket.
func (s *Socket) OnAnyOutgoing(fn func(event string, args []any)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rareLocked()
	r.onAnyOut = append(r.onAnyOut, fn)
}

// Use adds a packet middleware: it runs for every event the client sends, before OnAny
// listeners and handlers. Returning an error drops the event and reports the error to OnError.
// args keep their binary values.
func (s *Socket) Use(fn func(event string, args Args) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rareLocked()
	r.packetMWs = append(r.packetMWs, fn)
}

// OnDisconnecting adds a hook that runs when the socket is about to disconnect, while its
// rooms are still known.
func (s *Socket) OnDisconnecting(fn func(reason DisconnectReason)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rareLocked()
	r.onDisconnecting = append(r.onDisconnecting, fn)
}

// OnDisconnect adds a hook that runs once the socket disconnected, with the reason.
func (s *Socket) OnDisconnect(fn func(reason DisconnectReason)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rareLocked()
	r.onDisconnect = append(r.onDisconnect, fn)
}

// OnError adds a hook for the errors of the socket's handlers: arguments that do not decode
// into a handler's types (*ArgumentError), errors a handler or packet middleware returned, and
// handler panics.
func (s *Socket) OnError(fn func(err error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rareLocked()
	r.onError = append(r.onError, fn)
}

func (s *Socket) reportError(err error) {
	s.mu.Lock()
	var hooks []func(error)
	if s.rare != nil {
		hooks = s.rare.onError
	}
	s.mu.Unlock()
	for _, h := range hooks {
		s.nsp.server.protect("OnError hook", func() { h(err) })
	}
}

// Emit sends an event to the client. []byte values and Args anywhere in args travel as binary.
//
// With connection state recovery, the event goes through the namespace's adapter as a
// broadcast to the socket's own room, as on the official server: it gets an offset (appended
// as its last argument, which the client keeps to recover) and is logged, so that a client
// that lost its connection gets it when it recovers. It is logged even when the socket is
// disconnected, and Emit then returns nil.
func (s *Socket) Emit(event string, args ...any) error {
	p, err := s.eventPacket(event, args)
	if err != nil {
		return err
	}
	if s.nsp.sessions != nil {
		return s.nsp.adapter.Broadcast(p, rooms.Selection{Rooms: []rooms.Room{rooms.Room(s.id)}, Flags: rooms.Flags{Local: true}})
	}
	return s.send(p, false)
}

// EmitVolatile sends an event that is dropped if the client cannot take it now.
func (s *Socket) EmitVolatile(event string, args ...any) error {
	p, err := s.eventPacket(event, args)
	if err != nil {
		return err
	}
	return s.send(p, true)
}

func (s *Socket) eventPacket(event string, args []any) (*parser.Packet, error) {
	p, err := eventPacket(s.nsp.name, event, args)
	if err != nil {
		return nil, err
	}
	if obs := s.nsp.server.observed(); obs != nil {
		for _, o := range obs {
			if o.EventSent != nil {
				o.EventSent(s, event, args)
			}
		}
	}
	s.mu.Lock()
	var out []func(string, []any)
	if s.rare != nil {
		out = s.rare.onAnyOut
	}
	s.mu.Unlock()
	for _, fn := range out {
		if !s.protect("OnAnyOutgoing listener", func() { fn(event, args) }) {
			return nil, ErrDisconnected
		}
	}
	return p, nil
}

func (s *Socket) send(p *parser.Packet, volatile bool) error {
	if !s.Connected() {
		return ErrDisconnected
	}
	return s.client.send(p, volatile)
}

// EmitWithAck sends an event to the client and waits for its answer, until ctx ends.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (Reply, error) {
	p, err := s.eventPacket(event, args)
	if err != nil {
		return nil, err
	}
	id := s.nsp.nextAckID()
	p.ID, p.HasID = id, true
	ch := make(chan Reply, 1)
	if !s.addAck(id, func(r Args) { ch <- r }) {
		return nil, ErrDisconnected
	}
	if err := s.send(p, false); err != nil {
		s.removeAck(id)
		return nil, err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		s.removeAck(id)
		s.nsp.server.ackTimedOut(s.nsp.name, 1)
		return nil, fmt.Errorf("%w: %w", ErrAckTimeout, ctx.Err())
	case <-s.Done():
		return nil, ErrDisconnected
	}
}

func (s *Socket) addAck(id uint64, fn func(Args)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.connected {
		return false
	}
	r := s.rareLocked()
	if r.acks == nil {
		r.acks = make(map[uint64]func(Args))
	}
	r.acks[id] = fn
	return true
}

func (s *Socket) removeAck(id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rare != nil {
		delete(s.rare.acks, id)
	}
}

// Join puts the socket in rooms.
func (s *Socket) Join(rs ...string) {
	s.nsp.adapter.AddAll(s.id, toRooms(rs)...)
}

// Leave takes the socket out of rooms.
func (s *Socket) Leave(rs ...string) {
	for _, r := range rs {
		s.nsp.adapter.Del(s.id, rooms.Room(r))
	}
}

// Rooms returns the rooms the socket is in, its own room included.
func (s *Socket) Rooms() []string {
	rs := s.nsp.adapter.SocketRooms(s.id)
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

// To selects the sockets in rooms for a broadcast that excludes this socket.
func (s *Socket) To(rooms ...string) *BroadcastOperator { return s.Broadcast().To(rooms...) }

// In is the same as To.
func (s *Socket) In(rooms ...string) *BroadcastOperator { return s.To(rooms...) }

// Except selects every socket of the namespace but this one and those in rooms.
func (s *Socket) Except(rooms ...string) *BroadcastOperator { return s.Broadcast().Except(rooms...) }

// Broadcast selects every socket of the namespace but this one.
func (s *Socket) Broadcast() *BroadcastOperator {
	return newOperator(s.nsp).Except(string(s.id))
}

// Disconnect disconnects the socket from its namespace, with the reason
// "server namespace disconnect". With closeConn, the whole connection is closed, and every
// socket on it disconnected.
func (s *Socket) Disconnect(closeConn bool) {
	if closeConn {
		s.client.disconnectAll()
		return
	}
	// The socket leaves its client before the DISCONNECT goes out, so that a packet the client
	// sends for the namespace once it has read the DISCONNECT finds no socket, as in Node.
	if s.onClose(ReasonServerNamespaceDisconnect) {
		_ = s.client.send(&parser.Packet{Type: parser.Disconnect, Namespace: s.nsp.name}, false)
	}
}

// onConnect joins the socket's own room, answers the CONNECT and runs the connection hooks.
// As on the official server, the events a recovered socket missed go first (the official
// client buffers them and hands them to the application just before its connect event), and
// the CONNECT answer is on its way, in a write or polling response of its own, before the
// hooks run and emit.
func (s *Socket) onConnect(hooks []func(*Socket), missed []*parser.Packet) {
	s.mu.Lock()
	s.connected = true
	s.mu.Unlock()
	s.nsp.add(s)
	for _, p := range missed {
		q := *p
		q.Namespace = s.nsp.name
		_ = s.client.send(&q, false)
	}
	// The socket joins its rooms after the missed broadcasts were queued, so that the
	// broadcasts that come meanwhile follow them: a cluster adapter that restored the
	// session delivers what it held back for the socket when the socket joins.
	var restored []rooms.Room
	pid := ""
	s.mu.Lock()
	if r := s.rare; r != nil {
		restored, pid = r.restoredRooms, r.pid
		r.restoredRooms = nil
	}
	s.mu.Unlock()
	if len(restored) == 0 {
		s.nsp.adapter.AddAll(s.id, rooms.Room(s.id))
	} else {
		s.nsp.adapter.AddAll(s.id, append([]rooms.Room{rooms.Room(s.id)}, restored...)...)
	}
	if k, ok := s.nsp.sessions.(rooms.SessionKeeper); ok {
		s.mu.Lock()
		data := maps.Clone(s.data) // the store reads it later, while Set may write it
		s.mu.Unlock()
		k.KeepSession(sockets.Session{SID: s.id, PID: pid, Rooms: s.nsp.adapter.SocketRooms(s.id), Data: data})
	}
	for _, o := range s.nsp.server.observed() {
		if o.SocketConnected != nil {
			o.SocketConnected(s)
		}
	}
	var data json.RawMessage
	if !s.client.isV3() { // the v4 protocol's CONNECT answer has no payload
		data = connectPayload(string(s.id), pid)
	}
	_ = s.client.send(&parser.Packet{Type: parser.Connect, Namespace: s.nsp.name, Data: data}, false)
	s.client.conn.Flush()
	for _, h := range hooks {
		if !s.protect("connection hook", func() { h(s) }) {
			return
		}
	}
}

// onClose disconnects the socket. Waiting acknowledgements fail at once; the disconnecting and
// disconnect hooks run on the connection's handler goroutine, after the events before them.
// It reports whether the socket was connected.
func (s *Socket) onClose(reason DisconnectReason) bool {
	s.mu.Lock()
	if !s.connected {
		s.mu.Unlock()
		return false
	}
	s.connected, s.closed = false, true
	pid := ""
	if s.rare != nil {
		s.rare.acks = nil
		pid = s.rare.pid
	}
	if s.rare != nil && s.rare.done != nil {
		close(s.rare.done)
	}
	data := s.data
	s.mu.Unlock()
	if s.nsp.sessions != nil && recoverable(reason) {
		// Kept before the socket leaves its rooms; broadcasts from now on are in the log.
		s.nsp.sessions.PersistSession(sockets.Session{SID: s.id, PID: pid, Rooms: s.nsp.adapter.SocketRooms(s.id), Data: data})
	}
	s.client.removeSocket(s)
	s.client.dispatch(func() {
		var disconnecting, disconnect []func(DisconnectReason)
		s.mu.Lock()
		if r := s.rare; r != nil {
			disconnecting, disconnect = r.onDisconnecting, r.onDisconnect
		}
		s.mu.Unlock()
		for _, h := range disconnecting {
			s.protect("disconnecting hook", func() { h(reason) })
		}
		s.nsp.adapter.DelAll(s.id)
		s.nsp.remove(s)
		for _, o := range s.nsp.server.observed() {
			if o.SocketDisconnected != nil {
				o.SocketDisconnected(s, reason)
			}
		}
		for _, h := range disconnect {
			s.protect("disconnect hook", func() { h(reason) })
		}
	}, -1)
	return true
}

// recoverable reports whether a socket that disconnected for reason may be recovered: its
// connection was lost, not closed on purpose by either side.
func recoverable(reason DisconnectReason) bool {
	switch reason {
	case ReasonTransportError, ReasonTransportClose, ReasonForcedClose, ReasonPingTimeout, ReasonServerShuttingDown:
		return true
	}
	return false
}

func (s *Socket) onAck(p *parser.Packet) {
	if !p.HasID {
		return
	}
	args, err := packetArgs(p)
	if err != nil {
		return
	}
	var fn func(Args)
	s.mu.Lock()
	if r := s.rare; r != nil {
		fn = r.acks[p.ID]
		delete(r.acks, p.ID)
	}
	s.mu.Unlock()
	if fn != nil {
		for _, o := range s.nsp.server.observed() {
			if o.AckReceived != nil {
				o.AckReceived(s.nsp.name)
			}
		}
		s.protect("acknowledgement callback", func() { fn(args) })
	}
}

// packetArgs returns the arguments of an EVENT or ACK packet, binary values kept.
func packetArgs(p *parser.Packet) (Args, error) {
	return parser.SplitArgs(p.Data, p.Attachments)
}

func (s *Socket) onEvent(t *eventTask) {
	all := t.args
	if len(all) == 0 {
		s.reportError(errors.New("socketio: bad event payload: no event name"))
		return
	}
	event, err := s.eventName(all[0].JSON())
	if err != nil {
		s.reportError(fmt.Errorf("socketio: bad event name: %w", err))
		return
	}
	args := all[1:]
	if obs := s.nsp.server.observed(); obs != nil {
		for _, o := range obs {
			if o.EventReceived != nil {
				o.EventReceived(s, event, args)
			}
		}
	}
	mws, anys, h := s.eventHooks(event)
	for _, mw := range mws {
		var err error
		if !s.protect("packet middleware", func() { err = mw(event, args) }) {
			return
		}
		if err != nil {
			s.reportError(err)
			return
		}
	}
	for _, fn := range anys {
		if !s.protect("OnAny listener", func() { fn(event, args) }) {
			return
		}
	}
	if h == nil {
		return
	}
	ack := noAck
	if t.hasID() {
		ack = t.ack
	}
	var herr error
	if s.protectHandler(event, func() { herr = h.callWith(event, args, ack, t.raw[:]) }) && herr != nil {
		s.reportError(herr)
	}
}

// eventHooks returns what runs for an event: the packet middlewares, the OnAny listeners and
// the event's handler (nil when it has none).
func (s *Socket) eventHooks(event string) ([]func(string, Args) error, []func(string, Args), handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.handlers.get(event)
	if r := s.rare; r != nil {
		return r.packetMWs, r.onAny, h
	}
	return nil, nil, h
}

func noAck(...any) error { return nil }

// eventName returns the event name of an EVENT payload's first element: a JSON string, or a
// number, which the official clients allow and which is kept as written.
func eventName(raw json.RawMessage) (string, error) {
	if in, ok := plainString(raw); ok {
		return string(in), nil
	}
	if len(raw) > 0 && raw[0] == '"' {
		var name string
		err := json.Unmarshal(raw, &name)
		return name, err
	}
	return string(raw), nil
}

// plainString returns the contents of raw, a valid JSON value, when it is a string whose
// contents are its value: without escapes, and valid UTF-8 (json.Unmarshal replaces what is
// not).
func plainString(raw json.RawMessage) ([]byte, bool) {
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' {
		if in := raw[1 : n-1]; bytes.IndexByte(in, '\\') < 0 && utf8.Valid(in) {
			return in, true
		}
	}
	return nil, false
}

// eventName is the package's eventName, which takes the string of a name the socket has a
// handler for from the handler instead of allocating it.
func (s *Socket) eventName(raw json.RawMessage) (string, error) {
	if in, ok := plainString(raw); ok {
		s.mu.Lock()
		name, found := s.handlers.name(in)
		s.mu.Unlock()
		if found {
			return name, nil
		}
		return string(in), nil
	}
	return eventName(raw)
}

// sendAck sends the acknowledgement id with args, marshalled as parser.MarshalArgs does.
func (s *Socket) sendAck(id uint64, args []any) error {
	if s.nsp.server.opts.Parser == ParserMsgpack {
		data, atts, err := parser.MarshalArgs(args...)
		if err != nil {
			return fmt.Errorf("socketio: ack: %w", err)
		}
		return s.send(&parser.Packet{Type: parser.Ack, Namespace: s.nsp.name, ID: id, HasID: true, Data: data, Attachments: atts}, false)
	}
	// The JSON parser's frame is written at once, without the packet in between.
	text, atts, err := parser.EncodeAck(s.nsp.name, id, args...)
	if err != nil {
		return fmt.Errorf("socketio: ack: %w", err)
	}
	if !s.Connected() {
		return ErrDisconnected
	}
	return s.client.sendText(text, atts, s.nsp.name, false)
}

func toRooms(rs []string) []rooms.Room {
	out := make([]rooms.Room, len(rs))
	for i, r := range rs {
		out[i] = rooms.Room(r)
	}
	return out
}
