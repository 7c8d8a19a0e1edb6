// Package socketio is a Socket.IO v4 server (protocol v5) for the official socket.io-client in
// browsers, Node and mobile apps.
//
// A Server is an http.Handler; package sioecho mounts it into an Echo v5 app with one line
// (sioecho4 into Echo v4).
// Clients connect to namespaces ("/" by default); each connection to a namespace is a *Socket
// with a random ID, its own room, event handlers with typed arguments, acknowledgements both
// ways and binary data anywhere in the arguments. Rooms and broadcasts go through the
// namespace's rooms.Adapter: in memory by default, Redis for a cluster.
//
//	sio := socketio.NewServer(socketio.Options{})
//	sio.OnConnection(func(s *socketio.Socket) {
//		s.On("chat", func(msg ChatMessage, ack socketio.Ack) {
//			s.To(msg.Room).Emit("chat", msg)
//			_ = ack("delivered")
//		})
//	})
//	http.Handle("/socket.io/", sio)
//
// Event handlers of one connection run one at a time, in the order the client sent the events,
// on a goroutine of their own: a handler may block, for example on EmitWithAck, without holding
// up the connection's heartbeat or the acknowledgements it waits for.
package socketio

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/socketio/clientbundle"
)

// Server is a Socket.IO server. Create it with NewServer; it is safe for concurrent use.
type Server struct {
	opts   Options
	eio    *engineio.Server
	bundle *clientbundle.Handler
	main   *Namespace

	mu      sync.RWMutex
	nsps    map[string]*Namespace
	parents []*ParentNamespace

	broadcastEncodes atomic.Int64 // packets encoded for broadcasts, for tests

	onError atomic.Pointer[func(error)]
	logger  *slog.Logger

	obsMu     sync.Mutex
	observers atomic.Pointer[[]Observer]

	// runners holds the goroutines that ran an inbox and wait runnerLinger for another (see
	// client.queue).
	runners runnerPool

	// The clients whose disconnect hooks have not all run yet; Shutdown waits for them.
	clientsMu   sync.Mutex
	clients     int
	clientsIdle chan struct{} // closed when clients drops to zero, while Shutdown waits
}

// NewServer returns a server configured by opts, with its main namespace "/".
func NewServer(opts Options) *Server {
	s := &Server{opts: opts.withDefaults(), nsps: make(map[string]*Namespace)}
	s.logger = s.opts.Logger
	s.eio = engineio.NewServer(s.opts.Engine)
	s.eio.OnConnection(s.onEngineConnection)
	s.eio.OnError(s.reportError)
	if !s.opts.DisableServeClient {
		// New fails only when the embedded files are missing, which the package's tests rule out.
		s.bundle, _ = clientbundle.New()
	}
	s.main = s.Of("/")
	return s
}

// EngineServer is the Engine.IO server under a Server, as the application may use it: to
// count and observe its sessions, read its options and find a session. Its connection and
// error hooks belong to the Server, so the setters OnConnection and OnError of
// *engineio.Server are not part of it, nor are ServeHTTP and Shutdown, which the Server
// calls itself.
type EngineServer interface {
	// Count returns the number of open sessions.
	Count() int
	// Observe adds an observer of the sessions (see engineio.Server.Observe).
	Observe(o engineio.Observer)
	// Options returns the options in force, with defaults filled in.
	Options() engineio.Options
	// Session returns the open session with the given ID, or nil.
	Session(id string) EngineConn
}

// engineView is the EngineServer of a Server.
type engineView struct{ eio *engineio.Server }

func (v engineView) Count() int                  { return v.eio.Count() }
func (v engineView) Observe(o engineio.Observer) { v.eio.Observe(o) }
func (v engineView) Options() engineio.Options   { return v.eio.Options() }

func (v engineView) Session(id string) EngineConn {
	if c := v.eio.Session(id); c != nil {
		return c
	}
	return nil
}

// Engine returns the Engine.IO server under this server.
func (s *Server) Engine() EngineServer { return engineView{s.eio} }

// Path returns the path the endpoint is mounted at, such as "/socket.io/".
func (s *Server) Path() string { return s.opts.Path }

// ServeHTTP serves the client bundle and every Engine.IO request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.bundle != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		if name, ok := strings.CutPrefix(r.URL.Path, s.opts.Path); ok && name != "" && s.bundle.ServeFile(w, r, name) {
			return
		}
	}
	s.eio.ServeHTTP(w, r)
}

// Of returns the namespace with the given name, creating it if needed. Names start with "/".
func (s *Server) Of(name string) *Namespace {
	if name == "" || name[0] != '/' {
		name = "/" + name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.nsps[name]; n != nil {
		return n
	}
	n := newNamespace(s, name, nil)
	s.nsps[name] = n
	return n
}

// OfFunc declares dynamic namespaces: a client connecting to a name no static namespace has is
// accepted when match returns true for the name and the CONNECT auth payload. The namespace is
// then created as a child of the returned parent, with its middlewares and connection hooks.
func (s *Server) OfFunc(match func(name string, auth json.RawMessage) bool) *ParentNamespace {
	p := &ParentNamespace{server: s, match: match, children: map[string]*Namespace{}}
	s.mu.Lock()
	s.parents = append(s.parents, p)
	s.mu.Unlock()
	return p
}

// OfRegexp declares the dynamic namespaces whose names match re. See OfFunc.
func (s *Server) OfRegexp(re *regexp.Regexp) *ParentNamespace {
	return s.OfFunc(func(name string, _ json.RawMessage) bool { return re.MatchString(name) })
}

// lookup returns the namespace a client may connect to under name, creating a dynamic one,
// or the error the CONNECT is refused with. The caller calls connectDone on the namespace
// when the CONNECT is handled.
func (s *Server) lookup(name string, auth json.RawMessage) (*Namespace, error) {
	s.mu.RLock()
	n := s.nsps[name]
	parents := s.parents
	s.mu.RUnlock()
	if n != nil {
		return n, nil
	}
	for _, p := range parents {
		var ok bool
		if s.protect("namespace matcher", func() { ok = p.match(name, auth) }) != nil {
			continue
		}
		if ok {
			if c := p.child(name); c != nil {
				return c, nil
			}
			return nil, &ConnectError{Message: "Too many namespaces"}
		}
	}
	return nil, &ConnectError{Message: "Invalid namespace"}
}

// Namespaces returns the static namespaces and the dynamic ones created so far.
func (s *Server) Namespaces() []*Namespace {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Namespace, 0, len(s.nsps))
	for _, n := range s.nsps {
		out = append(out, n)
	}
	for _, p := range s.parents {
		out = append(out, p.Children()...)
	}
	return out
}

// Use adds a middleware to the main namespace. See Namespace.Use.
func (s *Server) Use(mw Middleware) { s.main.Use(mw) }

// OnConnection adds a connection hook to the main namespace. See Namespace.OnConnection.
func (s *Server) OnConnection(fn func(*Socket)) { s.main.OnConnection(fn) }

// Sockets returns the sockets connected to the main namespace on this server.
func (s *Server) Sockets() []*Socket { return s.main.Sockets() }

// To selects the sockets of the main namespace in rooms, for a broadcast. See BroadcastOperator.
func (s *Server) To(rooms ...string) *BroadcastOperator { return s.main.To(rooms...) }

// In is the same as To.
func (s *Server) In(rooms ...string) *BroadcastOperator { return s.main.To(rooms...) }

// Except selects the sockets of the main namespace not in rooms.
func (s *Server) Except(rooms ...string) *BroadcastOperator { return s.main.Except(rooms...) }

// Volatile marks a broadcast to the main namespace as droppable for busy receivers.
func (s *Server) Volatile() *BroadcastOperator { return s.main.Volatile() }

// Local limits a broadcast to the main namespace to this server.
func (s *Server) Local() *BroadcastOperator { return s.main.Local() }

// Timeout sets how long a broadcast with acknowledgements to the main namespace waits.
func (s *Server) Timeout(d time.Duration) *BroadcastOperator { return s.main.Timeout(d) }

// Emit sends an event to every socket of the main namespace.
func (s *Server) Emit(event string, args ...any) error { return s.main.Emit(event, args...) }

// FetchSockets describes the sockets of the main namespace, on every server of a cluster.
func (s *Server) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return s.main.FetchSockets(ctx)
}

// EmitWithAck sends an event to every socket of the main namespace and gathers their answers.
// See Namespace.EmitWithAck.
func (s *Server) EmitWithAck(ctx context.Context, event string, args ...any) ([]Reply, error) {
	return s.main.EmitWithAck(ctx, event, args...)
}

// SocketsJoin makes every socket of the main namespace join rooms, on every server of a
// cluster.
func (s *Server) SocketsJoin(ctx context.Context, rooms ...string) error {
	return s.main.SocketsJoin(ctx, rooms...)
}

// SocketsLeave makes every socket of the main namespace leave rooms, on every server of a
// cluster.
func (s *Server) SocketsLeave(ctx context.Context, rooms ...string) error {
	return s.main.SocketsLeave(ctx, rooms...)
}

// DisconnectSockets disconnects every socket of the main namespace, on every server of a
// cluster; closeConn closes their connections too.
func (s *Server) DisconnectSockets(ctx context.Context, closeConn bool) error {
	return s.main.DisconnectSockets(ctx, closeConn)
}

// ServerSideEmit sends an event to the other servers of a cluster, on the main namespace. See
// Namespace.ServerSideEmit.
func (s *Server) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	return s.main.ServerSideEmit(ctx, event, args...)
}

// ServerSideEmitWithAck sends an event to the other servers of a cluster, on the main
// namespace, and returns their answers. See Namespace.ServerSideEmitWithAck.
func (s *Server) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]Reply, error) {
	return s.main.ServerSideEmitWithAck(ctx, event, args...)
}

// OnServerSideEmit adds a handler of the server-side events of the main namespace. See
// Namespace.OnServerSideEmit.
func (s *Server) OnServerSideEmit(event string, fn any) { s.main.OnServerSideEmit(event, fn) }

// Ready waits until the adapters of the static namespaces and of the dynamic ones created so
// far are ready (see Namespace.Ready): with a cluster adapter, a server is part of the cluster
// once Ready returns. It returns the first error, such as ctx's.
func (s *Server) Ready(ctx context.Context) error {
	for _, n := range s.Namespaces() {
		if err := n.Ready(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Shutdown disconnects every client with the reason "server shutting down", waits until the
// connections are closed and every disconnect hook has run, then closes the adapters. It
// returns ctx's error when ctx ends first.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.eio.Shutdown(ctx)
	if err == nil {
		err = s.waitClients(ctx)
	}
	for _, n := range s.Namespaces() {
		_ = n.adapter.Close()
	}
	return err
}

func (s *Server) clientStarted() {
	s.clientsMu.Lock()
	s.clients++
	s.clientsMu.Unlock()
}

func (s *Server) clientFinished() {
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	s.clients--
	if s.clients == 0 && s.clientsIdle != nil {
		close(s.clientsIdle)
		s.clientsIdle = nil
	}
}

// waitClients waits until every client has run its disconnect hooks, or ctx ends.
func (s *Server) waitClients(ctx context.Context) error {
	s.clientsMu.Lock()
	if s.clients == 0 {
		s.clientsMu.Unlock()
		return nil
	}
	if s.clientsIdle == nil {
		s.clientsIdle = make(chan struct{})
	}
	idle := s.clientsIdle
	s.clientsMu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("socketio: shutdown: waiting for disconnect hooks: %w", ctx.Err())
	}
}

func (s *Server) onEngineConnection(c *engineio.Conn) {
	newClient(s, c)
}
