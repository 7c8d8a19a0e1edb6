// Package sioecho4 mounts a Socket.IO server into an Echo v4 application
// (github.com/labstack/echo/v4). Package sioecho does the same for Echo v5, Echo's main line;
// Echo v4 gets security fixes until 2026-12-31.
//
// One line is the whole mount:
//
//	sio := socketio.NewServer(socketio.Options{})
//	e := echo.New()
//	e.Use(sioecho.SocketIO(sio))
//
// Requests under the server's path ("/socket.io/" by default) are served by the Socket.IO
// server: the Engine.IO handshake, long polls, websocket upgrades and the client bundle
// (/socket.io/socket.io.js). They never reach the application's routes. Every other request
// goes on to the application untouched.
//
// The middleware runs where it is registered in the chain. Middlewares registered before it see
// the Socket.IO requests too (a logger, a request ID, an authentication that sets values on the
// echo.Context); those registered after it never do. Middlewares that buffer or time-limit
// responses (Echo's Timeout and ContextTimeout) cut long polls and cannot hand a connection to
// a websocket: register SocketIO before them, with e.Pre, or give them SkipSocketIO as their
// Skipper. See docs/echo.md for each of Echo's middlewares.
package sioecho4

import (
	"context"
	"errors"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/echo-socketio/echo-socketio/middleware/internal/mount"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// Config configures the middleware.
type Config struct {
	// Server is the Socket.IO server the requests under Path go to. Required.
	Server *socketio.Server

	// Skipper, when it returns true, lets a request under Path go on to the application as if
	// the middleware were not there. Default: never skip.
	Skipper echomw.Skipper

	// Path is the full path the endpoint answers under, such as "/socket.io/" or, on a group
	// "/app", "/app/socket.io/". Default: the server's path (socketio.Options.Path), which must
	// then be the full path. When set, it must equal the server's path: the server needs the
	// full path to serve the client bundle, so the two are set together, in
	// socketio.Options.Path, and this field only makes the mount explicit.
	Path string

	// ContextKeys names the values of the echo.Context (set with c.Set by the middlewares
	// before this one, such as "user" of JWT) that are copied for the sockets of a
	// connection. They are read back with FromSocket. The echo.Context itself is recycled by
	// Echo once the request ends, so it is never handed on.
	ContextKeys []string
}

// DefaultConfig is the default configuration: no skipping, the server's path.
var DefaultConfig = Config{
	Skipper: echomw.DefaultSkipper,
}

// Errors returned by Config.ToMiddleware.
var (
	// ErrNoServer is returned when Config.Server is nil.
	ErrNoServer = errors.New("sioecho4: Config.Server is nil")
	// ErrPathMismatch is returned when Config.Path differs from the server's path.
	ErrPathMismatch = errors.New("sioecho4: Config.Path differs from the Socket.IO server's path")
	// ErrBadPath is returned when Config.Path does not start with "/".
	ErrBadPath = errors.New("sioecho4: Config.Path must start with \"/\"")
)

// SocketIO returns a middleware that serves the requests under server's path with server and
// lets the others through.
func SocketIO(server *socketio.Server) echo.MiddlewareFunc {
	c := DefaultConfig
	c.Server = server
	return SocketIOWithConfig(c)
}

// SocketIOWithConfig returns the middleware configured by config. It panics when the
// configuration is invalid; use Config.ToMiddleware to get an error instead.
func SocketIOWithConfig(config Config) echo.MiddlewareFunc {
	mw, err := config.ToMiddleware()
	if err != nil {
		panic(err)
	}
	return mw
}

// ToMiddleware checks the configuration and returns the middleware, or an error that says
// what is wrong.
func (config Config) ToMiddleware() (echo.MiddlewareFunc, error) {
	endpoint, err := mount.New(config.Server, config.Path, config.ContextKeys, mount.Errors{
		NoServer: ErrNoServer, BadPath: ErrBadPath, PathMismatch: ErrPathMismatch})
	if err != nil {
		return nil, err
	}
	skip := config.Skipper
	if skip == nil {
		skip = DefaultConfig.Skipper
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if !endpoint.Match(r.URL.Path) || skip(c) {
				return next(c)
			}
			// Answer through the echo.Response, so that Echo's logger sees the status and the
			// size, but around the wrappers that earlier middlewares (Gzip) put inside it.
			res := c.Response()
			wrapped := res.Writer
			res.Writer = mount.Unwrap(wrapped)
			defer func() { res.Writer = wrapped }()
			endpoint.Serve(res, r, c.RealIP, res.Header(), c.Get)
			return nil
		}
	}, nil
}

// SkipSocketIO returns a Skipper for Echo's own middlewares that skips the requests under
// server's path. Give it to the middlewares that must not touch Socket.IO requests when they
// are registered before SocketIO:
//
//	e.Use(echomw.ContextTimeoutWithConfig(echomw.ContextTimeoutConfig{
//		Skipper: sioecho4.SkipSocketIO(sio),
//		Timeout: 10 * time.Second,
//	}))
func SkipSocketIO(server *socketio.Server) echomw.Skipper {
	match := mount.Matcher(server.Path())
	return func(c echo.Context) bool { return match(c.Request().URL.Path) }
}

// Snapshot is what the middleware kept of the echo.Context of the request that opened a
// connection (the Engine.IO handshake): RealIP (c.RealIP(), behind trusted proxies),
// RequestID (the X-Request-Id response header of Echo's RequestID) and the Values named by
// Config.ContextKeys. Echo recycles its contexts once a request ends, so sockets, which live
// longer, get this copy instead. It is the same type as sioecho.Snapshot.
type Snapshot = mount.Snapshot

// FromContext returns the snapshot the middleware put in the handshake request's context.
func FromContext(ctx context.Context) (*Snapshot, bool) {
	return mount.FromContext(ctx)
}

// FromSocket returns the snapshot of the echo.Context of the request that opened the
// socket's connection. It is false when the connection did not come through the middleware.
//
//	sio.OnConnection(func(s *socketio.Socket) {
//		snap, _ := sioecho4.FromSocket(s)
//		user, _ := snap.Get("user")
//		log.Printf("%s connected from %s (request %s)", user, snap.RealIP, snap.RequestID)
//	})
func FromSocket(s *socketio.Socket) (*Snapshot, bool) {
	return mount.FromSocket(s)
}
