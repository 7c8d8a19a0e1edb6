// Package admin instruments a Socket.IO server for the official Admin UI
// (@socket.io/admin-ui 0.5): Instrument serves the UI's "/admin" namespace protocol (server
// statistics, sockets, rooms and, in development mode, every event), and UIHandler serves the
// UI's web app itself, vendored from the npm package.
//
//	hash, _ := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
//	a, err := admin.Instrument(sio, admin.Options{Auth: &admin.BasicAuth{Username: "admin", PasswordHash: string(hash)}})
//	defer a.Close()
//	http.Handle("/admin-ui/", admin.UIHandler("/admin-ui/"))
//
// It is a package of its own, so that a server without the Admin UI compiles none of it.
// In a cluster, each server is instrumented; the UI connects to any of them and sees every
// server's statistics and sockets through the adapter.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// Options configures Instrument.
type Options struct {
	// Namespace is the namespace the UI connects to. Default "/admin".
	Namespace string
	// Auth is the basic authentication the UI's login form must pass. It is required unless
	// InsecureNoAuth is set.
	Auth *BasicAuth
	// InsecureNoAuth lets anyone who reaches the server use the UI: see every socket's
	// handshake headers and, unless ReadOnly, disconnect sockets and emit to them.
	InsecureNoAuth bool
	// ReadOnly disables the UI's actions: emit, join, leave and disconnect.
	ReadOnly bool
	// Production selects the production mode: the UI gets the server statistics and the
	// aggregated counts of connections and messages, but no per-socket or per-event details,
	// which cost a message to the UI for every event of every socket. The default is the
	// development mode, which sends them.
	Production bool
	// ServerID names this server in the UI. Default the host name.
	ServerID string
	// StatsInterval is the time between two server_stats messages. Default 2 s, as in Node.
	StatsInterval time.Duration
	// SessionDuration is how long a login stays valid: the UI reconnects with the session ID
	// it got instead of the password. Default 24 hours.
	SessionDuration time.Duration
	// MaxSessions bounds the sessions kept; the oldest is forgotten past it. Default 1,000.
	MaxSessions int
}

// BasicAuth is the user name and the bcrypt hash of the password the UI's login form must
// give, as the auth option of the Node instrumentation takes them.
type BasicAuth struct {
	Username string
	// PasswordHash is a bcrypt hash, such as bcrypt.GenerateFromPassword returns.
	PasswordHash string
}

// The features the UI is told about, as @socket.io/admin-ui names them.
const (
	featureEmit             = "EMIT"
	featureJoin             = "JOIN"
	featureLeave            = "LEAVE"
	featureDisconnect       = "DISCONNECT"
	featureMJoin            = "MJOIN"
	featureMLeave           = "MLEAVE"
	featureMDisconnect      = "MDISCONNECT"
	featureAggregatedEvents = "AGGREGATED_EVENTS"
	featureAllEvents        = "ALL_EVENTS"
)

// Admin is the instrumentation of one server. Close stops it.
type Admin struct {
	io       *socketio.Server
	nsp      *socketio.Namespace
	opts     Options
	features []string
	started  time.Time
	hostname string

	sessions *sessionStore
	events   *eventBuffer
	polling  atomic.Int64 // sessions on long-polling

	mu    sync.Mutex
	conns map[string][]*socketio.Socket // by Engine.IO session ID, for the transport updates, in development mode

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// Instrument serves the Admin UI's namespace on sio and starts sending it the server's
// statistics. Call it before sio handles requests, and Close when the server stops.
func Instrument(sio *socketio.Server, opts Options) (*Admin, error) {
	if opts.Auth == nil && !opts.InsecureNoAuth {
		return nil, errors.New("admin: Options.Auth is required (or set InsecureNoAuth)")
	}
	if opts.Auth != nil {
		if _, err := bcrypt.Cost([]byte(opts.Auth.PasswordHash)); err != nil {
			return nil, fmt.Errorf("admin: Auth.PasswordHash is not a bcrypt hash: %w", err)
		}
	}
	if opts.Namespace == "" {
		opts.Namespace = "/admin"
	}
	if !strings.HasPrefix(opts.Namespace, "/") {
		opts.Namespace = "/" + opts.Namespace
	}
	host, _ := os.Hostname()
	if opts.ServerID == "" {
		opts.ServerID = host
	}
	if opts.StatsInterval <= 0 {
		opts.StatsInterval = 2 * time.Second
	}
	if opts.SessionDuration <= 0 {
		opts.SessionDuration = 24 * time.Hour
	}
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = 1000
	}
	a := &Admin{
		io:       sio,
		nsp:      sio.Of(opts.Namespace),
		opts:     opts,
		started:  time.Now(),
		hostname: host,
		sessions: newSessionStore(opts.SessionDuration, opts.MaxSessions),
		events:   newEventBuffer(),
		conns:    map[string][]*socketio.Socket{},
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if !opts.ReadOnly {
		a.features = []string{featureEmit, featureJoin, featureLeave, featureDisconnect, featureMJoin, featureMLeave, featureMDisconnect}
	}
	a.features = append(a.features, featureAggregatedEvents)
	if !opts.Production {
		a.features = append(a.features, featureAllEvents)
	}
	a.nsp.Use(a.authenticate)
	a.nsp.OnConnection(a.onAdminConnection)
	a.observeEngine()
	if !opts.Production {
		a.observeSockets()
	}
	go a.emitStats()
	return a, nil
}

// Close stops sending statistics. The namespace stays, and its sockets stay connected.
func (a *Admin) Close() {
	a.once.Do(func() { close(a.stop) })
	<-a.done
}

// authKey is the key of the session ID a login created, kept on the socket until the
// connection hook sends it.
const authKey = "_adminSession"

func (a *Admin) authenticate(s *socketio.Socket) error {
	if a.opts.Auth == nil {
		return nil
	}
	var cred struct {
		SessionID string `json:"sessionId"`
		Username  string `json:"username"`
		Password  string `json:"password"`
	}
	_ = s.Auth(&cred) // a payload of another shape has no credentials
	if cred.SessionID != "" && a.sessions.valid(cred.SessionID) {
		return nil
	}
	if cred.Username == a.opts.Auth.Username &&
		bcrypt.CompareHashAndPassword([]byte(a.opts.Auth.PasswordHash), []byte(cred.Password)) == nil {
		s.Set(authKey, a.sessions.create())
		return nil
	}
	return errors.New("invalid credentials")
}

func (a *Admin) onAdminConnection(s *socketio.Socket) {
	if v, ok := s.Get(authKey); ok {
		_ = s.Emit("session", v)
		s.Set(authKey, nil)
	}
	if !a.opts.ReadOnly {
		a.registerActions(s)
	}
	_ = s.Emit("config", map[string]any{"supportedFeatures": a.features})
	if !a.opts.Production {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Emit("all_sockets", a.allSockets(ctx))
	}
}

// namespace returns the existing namespace name, or nil: the UI never creates one.
func (a *Admin) namespace(name string) *socketio.Namespace {
	for _, n := range a.io.Namespaces() {
		if n.Name() == name {
			return n
		}
	}
	return nil
}

// target returns the sockets an action of the UI selects: those of namespace nsp, or those of
// its room filter when filter is not empty.
func (a *Admin) target(nsp string, filter socketio.Arg) *socketio.BroadcastOperator {
	n := a.namespace(nsp)
	if n == nil {
		return nil
	}
	var room string
	if filter.Decode(&room) == nil && room != "" {
		return n.In(room)
	}
	return n.Except()
}

// registerActions handles the UI's actions: emit, join, leave and _disconnect.
func (a *Admin) registerActions(s *socketio.Socket) {
	str := func(args socketio.Args, i int) string {
		var v string
		if i < len(args) {
			_ = args[i].Decode(&v)
		}
		return v
	}
	arg := func(args socketio.Args, i int) socketio.Arg {
		if i < len(args) {
			return args[i]
		}
		return socketio.Arg{}
	}
	// The errors of the adapter are logged by the server; the UI expects no answer.
	act := func(string, error) {}
	s.On("emit", func(args socketio.Args) {
		b := a.target(str(args, 0), arg(args, 1))
		if b == nil || len(args) < 3 {
			return
		}
		rest := make([]any, 0, len(args)-3)
		for _, v := range args[3:] {
			rest = append(rest, v)
		}
		act("emit", b.Emit(str(args, 2), rest...))
	})
	s.On("join", func(args socketio.Args) {
		if b := a.target(str(args, 0), arg(args, 2)); b != nil && str(args, 1) != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			act("join", b.SocketsJoin(ctx, str(args, 1)))
		}
	})
	s.On("leave", func(args socketio.Args) {
		if b := a.target(str(args, 0), arg(args, 2)); b != nil && str(args, 1) != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			act("leave", b.SocketsLeave(ctx, str(args, 1)))
		}
	})
	s.On("_disconnect", func(args socketio.Args) {
		var closeConn bool
		if len(args) > 1 {
			_ = args[1].Decode(&closeConn)
		}
		if b := a.target(str(args, 0), arg(args, 2)); b != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			act("_disconnect", b.DisconnectSockets(ctx, closeConn))
		}
	})
}

// emit sends an event to the UI's sockets, on every server of a cluster.
func (a *Admin) emit(event string, args ...any) { _ = a.nsp.Emit(event, args...) }

// observeEngine counts the sessions and messages for the aggregated events and the
// statistics.
func (a *Admin) observeEngine() {
	a.io.Engine().Observe(engineio.Observer{
		SessionOpened: func(c *engineio.Conn) {
			a.events.push("rawConnection", "", 1)
			if c.Transport() == engineio.TransportPolling {
				a.polling.Add(1)
			}
		},
		Upgraded: func(c *engineio.Conn) {
			a.polling.Add(-1)
			a.socketsUpgraded(c)
		},
		SessionClosed: func(c *engineio.Conn, reason engineio.CloseReason) {
			a.events.push("rawDisconnection", string(reason), 1)
			if c.Transport() == engineio.TransportPolling {
				a.polling.Add(-1)
			}
		},
		MessageReceived: func(_ *engineio.Conn, size int) { a.events.received(size) },
		MessageSent:     func(_ *engineio.Conn, size int) { a.events.sent(size) },
	})
}

// adminData is what the UI keeps in socket.data._admin: the session and its transport.
type adminData struct {
	ClientID  string `json:"clientId"`
	Transport string `json:"transport"`
}

func (a *Admin) observeSockets() {
	a.io.Observe(socketio.Observer{
		SocketConnected: func(s *socketio.Socket) {
			a.setAdminData(s, s.Transport())
			a.mu.Lock()
			a.conns[s.Conn().ID()] = append(a.conns[s.Conn().ID()], s)
			a.mu.Unlock()
			data, _ := uiData(s.Data())
			a.emit("socket_connected", serializeLocal(s, data), jsDate(time.Now()))
		},
		DataChanged: func(s *socketio.Socket, key string) {
			// The instrumentation's own keys are not the application's data; a socket's
			// middlewares set data before the UI knows the socket, and socket_connected
			// carries it.
			if key == "_admin" || key == authKey || !s.Connected() {
				return
			}
			data, _ := uiData(s.Data())
			a.emit("socket_updated", socketUpdate{ID: s.ID(), Nsp: s.Namespace().Name(), Data: data})
		},
		SocketDisconnected: func(s *socketio.Socket, reason socketio.DisconnectReason) {
			a.mu.Lock()
			list := a.conns[s.Conn().ID()]
			for i, o := range list {
				if o == s {
					list = append(list[:i], list[i+1:]...)
					break
				}
			}
			if len(list) == 0 {
				delete(a.conns, s.Conn().ID())
			} else {
				a.conns[s.Conn().ID()] = list
			}
			a.mu.Unlock()
			a.emit("socket_disconnected", s.Namespace().Name(), s.ID(), string(reason), jsDate(time.Now()))
		},
		RoomJoined: func(nsp, room, id string) { a.emit("room_joined", nsp, room, id, jsDate(time.Now())) },
		RoomLeft:   func(nsp, room, id string) { a.emit("room_left", nsp, room, id, jsDate(time.Now())) },
		EventReceived: func(s *socketio.Socket, event string, args socketio.Args) {
			if s.Namespace() == a.nsp {
				return
			}
			all := make([]any, 0, 1+len(args))
			all = append(all, event)
			for _, v := range args {
				all = append(all, v)
			}
			a.emit("event_received", s.Namespace().Name(), s.ID(), all, jsDate(time.Now()))
		},
		EventSent: func(s *socketio.Socket, event string, args []any) {
			if s.Namespace() == a.nsp {
				return
			}
			a.emit("event_sent", s.Namespace().Name(), s.ID(), append([]any{event}, args...), jsDate(time.Now()))
		},
	})
}

// socketUpdate is the socket_updated message: the socket's new transport or its new data.
type socketUpdate struct {
	ID        string          `json:"id"`
	Nsp       string          `json:"nsp"`
	Transport string          `json:"transport,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
}

func (a *Admin) setAdminData(s *socketio.Socket, transport string) {
	id := s.Conn().ID()
	if len(id) > 12 {
		id = id[:12]
	}
	s.Set("_admin", adminData{ClientID: id, Transport: transport})
}

// socketsUpgraded tells the UI that the sockets of session c are on websocket now.
func (a *Admin) socketsUpgraded(c *engineio.Conn) {
	a.mu.Lock()
	socks := append([]*socketio.Socket(nil), a.conns[c.ID()]...)
	a.mu.Unlock()
	for _, s := range socks {
		a.setAdminData(s, engineio.TransportWebsocket)
		a.emit("socket_updated", socketUpdate{ID: s.ID(), Nsp: s.Namespace().Name(), Transport: engineio.TransportWebsocket})
	}
}

// serverStats is the server_stats message.
type serverStats struct {
	ServerID            string           `json:"serverId"`
	Hostname            string           `json:"hostname"`
	PID                 int              `json:"pid"`
	Uptime              float64          `json:"uptime"`
	ClientsCount        int              `json:"clientsCount"`
	PollingClientsCount int64            `json:"pollingClientsCount"`
	AggregatedEvents    []aggregated     `json:"aggregatedEvents"`
	Namespaces          []namespaceStats `json:"namespaces"`
}

type namespaceStats struct {
	Name         string `json:"name"`
	SocketsCount int    `json:"socketsCount"`
}

func (a *Admin) emitStats() {
	defer close(a.done)
	t := time.NewTicker(a.opts.StatsInterval)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
		}
		st := serverStats{
			ServerID:            a.opts.ServerID,
			Hostname:            a.hostname,
			PID:                 os.Getpid(),
			Uptime:              time.Since(a.started).Seconds(),
			ClientsCount:        a.io.Engine().Count(),
			PollingClientsCount: max(a.polling.Load(), 0),
			AggregatedEvents:    a.events.takeAll(time.Now()),
		}
		for _, n := range a.io.Namespaces() {
			st.Namespaces = append(st.Namespaces, namespaceStats{Name: n.Name(), SocketsCount: len(n.Sockets())})
		}
		a.emit("server_stats", st)
	}
}

// jsDate is a time as JavaScript's Date serializes to JSON.
type jsDate time.Time

// MarshalJSON writes the time in UTC with milliseconds, as Date.prototype.toJSON does.
func (d jsDate) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(d).UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}
