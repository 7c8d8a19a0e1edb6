// Package engineio is an Engine.IO v4 server: the transport layer under Socket.IO.
//
// A Server is an http.Handler. It accepts the official engine.io-client and socket.io-client
// over HTTP long-polling and websocket, upgrades polling sessions to websocket, keeps sessions
// alive with a server-sent heartbeat and closes them with a reason. It can be mounted on its
// own (at /engine.io/, say) or used by package socketio.
//
// Each session is a *Conn. The connection hook registered with OnConnection runs once per
// session before any message of it is delivered; it installs the session's message and close
// handlers.
package engineio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/internal/rawquery"
)

// Server is an Engine.IO server. Create it with NewServer; it is safe for concurrent use.
type Server struct {
	opts     Options
	upgrader websocket.Upgrader

	onConnection atomic.Pointer[func(*Conn)]
	onError      atomic.Pointer[func(error)]
	logger       *slog.Logger

	obsMu     sync.Mutex
	observers atomic.Pointer[[]Observer]

	mu       sync.Mutex
	sessions map[string]*Conn
	closing  bool
	drained  chan struct{} // closed when closing and the last session is gone

	gzipPool sync.Pool
	zlibPool sync.Pool
	queues   queuePool // the send queues of sessions, reused once drained

	fwd *forwarder // nil without Options.Forwarding

	// poll watches idle websocket connections for readability (Linux); nil elsewhere.
	poll *poller

	epoch time.Time // the server's creation, the origin of the sessions' heartbeat times

	// openTailWS and openTailPolling end the data of the open packets (see openTail).
	openTailWS, openTailPolling string

	// linger is how long a reader waits for the next message before the connection is
	// watched by the poller again: readLinger (tests set it otherwise).
	linger time.Duration
}

// NewServer returns a server configured by opts; unset options take their defaults. It panics
// when opts.Forwarding is invalid (a bad node ID or peer address).
func NewServer(opts Options) *Server {
	s := &Server{
		opts:     opts.withDefaults(),
		sessions: make(map[string]*Conn),
		poll:     newPoller(),
		epoch:    time.Now(),
		linger:   readLinger,
	}
	s.logger = s.opts.Logger
	s.openTailWS, s.openTailPolling = openTail(&s.opts, TransportWebsocket), openTail(&s.opts, TransportPolling)
	if s.opts.Forwarding != nil {
		fw, err := newForwarder(s.opts.Forwarding)
		if err != nil {
			panic(err)
		}
		s.fwd = fw
	}
	s.upgrader = websocket.Upgrader{
		// No read buffer of its own: the upgrader reads through the one handed over at the
		// hijack (see upgradeWebsocket).
		ReadBufferSize:    0,
		WriteBufferSize:   4096,
		WriteBufferPool:   &sync.Pool{},
		EnableCompression: s.opts.PerMessageDeflate,
		CheckOrigin:       func(*http.Request) bool { return true }, // checked in verify
		Error: func(w http.ResponseWriter, _ *http.Request, status int, _ error) {
			writeError(w, &Error{Code: 3, Message: "Bad request", Status: status})
		},
	}
	return s
}

// Options returns the options in force, with defaults filled in.
func (s *Server) Options() Options { return s.opts }

// OnConnection sets the hook that runs for every new session, before the session delivers any
// message. Set it before the server handles requests.
func (s *Server) OnConnection(fn func(c *Conn)) { s.onConnection.Store(&fn) }

// Count returns the number of open sessions.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Session returns the open session with the given ID, or nil.
func (s *Server) Session(id string) *Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}

// ServeHTTP handles every Engine.IO request: handshakes, polling requests and websocket
// upgrades, and CORS preflight requests.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.fwd != nil && s.fwd.forward(w, r) {
		return // the session's node answered
	}
	if !s.applyCORS(w, r) {
		if rawquery.Get(r.URL.RawQuery, "sid") == "" {
			s.observeRefused(r, ErrForbidden)
		}
		refuse(w, r, ErrForbidden)
		return
	}
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	// The query is scanned for the few parameters read here, not parsed into a map.
	transport := rawquery.Get(r.URL.RawQuery, "transport")
	sid := rawquery.Get(r.URL.RawQuery, "sid")
	if !s.opts.allows(transport) {
		if sid == "" {
			s.observeRefused(r, ErrTransportUnknown)
		}
		refuse(w, r, ErrTransportUnknown)
		return
	}
	if sid != "" {
		c := s.Session(sid)
		if c == nil {
			refuse(w, r, ErrUnknownSID)
			return
		}
		if transport == TransportWebsocket {
			if !websocket.IsWebSocketUpgrade(r) {
				writeError(w, ErrBadRequest)
				return
			}
			c.handleUpgrade(w, r)
			return
		}
		c.handlePolling(w, r)
		return
	}
	if err := s.verifyHandshake(r, transport); err != nil {
		s.observeRefused(r, err)
		refuse(w, r, err)
		return
	}
	s.handshake(w, r, transport)
}

// verifyHandshake checks a request without a session ID, in the official server's order.
func (s *Server) verifyHandshake(r *http.Request, transport string) *Error {
	if r.Method != http.MethodGet {
		return ErrBadHandshakeMethod
	}
	if transport == TransportWebsocket && !websocket.IsWebSocketUpgrade(r) {
		return ErrBadRequest
	}
	if eio := rawquery.Get(r.URL.RawQuery, "EIO"); eio != "4" && (eio != "3" || !s.opts.AllowEIO3) {
		return ErrUnsupportedProtocol
	}
	if s.opts.AllowRequest != nil {
		var err error
		if !s.protect("AllowRequest", func() { err = s.opts.AllowRequest(r) }) {
			return ErrForbidden
		}
		if err != nil {
			return &Error{Code: ErrForbidden.Code, Message: err.Error(), Status: http.StatusForbidden}
		}
	}
	return nil
}

// handshake opens a session on the given transport.
func (s *Server) handshake(w http.ResponseWriter, r *http.Request, transport string) {
	sid := newSessionID()
	if s.fwd != nil {
		sid = s.fwd.sessionID()
	}
	var ws *websocket.Conn
	if transport == TransportWebsocket {
		var err error
		ws, err = s.upgradeWebsocket(w, r, s.cookieHeader(sid), true)
		if err != nil {
			return // the upgrader has answered
		}
	}
	c := newConn(s, r, sid, transport)
	if !s.register(c) {
		if ws != nil {
			_ = ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"),
				time.Now().Add(time.Second))
			_ = ws.Close()
		} else {
			writeError(w, errServerShuttingDown)
		}
		s.observeRefused(r, errServerShuttingDown)
		return
	}
	for _, o := range s.observed() {
		if o.SessionOpened != nil {
			o.SessionOpened(c)
		}
	}
	c.sendOpen(transport)
	if fn := s.onConnection.Load(); fn != nil {
		if !s.protect("OnConnection", func() { (*fn)(c) }) {
			c.closeNow(ReasonTransportError)
		}
	}
	c.startHeartbeat()
	if ws != nil {
		c.attachWebsocket(ws)
		return
	}
	if s.opts.Cookie != nil {
		http.SetCookie(w, s.cookie(c.id))
	}
	c.handlePolling(w, r)
}

func (s *Server) register(c *Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.sessions[c.id] = c
	return true
}

func (s *Server) unregister(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[c.id] == c {
		delete(s.sessions, c.id)
	}
	if s.closing && len(s.sessions) == 0 && s.drained != nil {
		close(s.drained)
		s.drained = nil
	}
}

// Shutdown stops accepting sessions, closes every open session with the reason
// "server shutting down" after flushing what was queued for it, and waits until all are gone
// or ctx is done. When ctx ends first, the remaining sessions are closed at once and ctx's
// error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	var drained chan struct{}
	if len(s.sessions) > 0 {
		if s.drained == nil {
			s.drained = make(chan struct{})
		}
		drained = s.drained
	}
	conns := make([]*Conn, 0, len(s.sessions))
	for _, c := range s.sessions {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.closeGracefully(ReasonServerShuttingDown)
	}
	if drained == nil {
		return nil
	}
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
		for _, c := range conns {
			c.closeNow(ReasonServerShuttingDown)
		}
		return ctx.Err()
	}
}

// upgradeWebsocket completes a websocket handshake. The connection gorilla/websocket gets is a
// wsNetConn, with the read buffer the session inspects. With cork its response waits for the
// first frame (see hijacker.cork).
func (s *Server) upgradeWebsocket(w http.ResponseWriter, r *http.Request, h http.Header, cork bool) (*websocket.Conn, error) {
	plain := !s.upgrader.EnableCompression || !offersDeflate(r.Header)
	return s.upgrader.Upgrade(hijacker{ResponseWriter: w, poll: s.poll, plain: plain, cork: cork}, r, h)
}

// newSessionID returns a random, URL-safe session ID of 20 characters.
func newSessionID() string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *Server) cookie(sid string) *http.Cookie {
	o := s.opts.Cookie
	return &http.Cookie{
		Name: o.Name, Value: sid, Path: o.Path, Domain: o.Domain, MaxAge: o.MaxAge,
		Secure: o.Secure, HttpOnly: !o.AllowScripts, SameSite: o.SameSite,
	}
}

// cookieHeader returns the response header of a websocket handshake: the session cookie when
// cookies are on and sid is known, nil otherwise.
func (s *Server) cookieHeader(sid string) http.Header {
	if s.opts.Cookie == nil {
		return nil
	}
	h := http.Header{}
	if sid != "" {
		h.Add("Set-Cookie", s.cookie(sid).String())
	}
	return h
}

func msString(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
