// Package sioecho mounts a Socket.IO server into an Echo v5 application
// (github.com/labstack/echo/v5). Package sioecho4 does the same for Echo v4.
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
// the Socket.IO requests too (RequestLogger, RequestID, an authentication that sets values on
// the *echo.Context); those registered after it never do. ContextTimeout cuts long polls:
// register SocketIO before it, with e.Pre, or give it SkipSocketIO as its Skipper. See
// docs/echo.md for each of Echo's middlewares.
//
// JWT protects the application's HTTP routes with the same key and claims type as the
// handshake middleware of package auth.
package sioecho

import (
	"context"
	"errors"

	"github.com/labstack/echo/v5"
	echomw "github.com/labstack/echo/v5/middleware"

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

	// ContextKeys names the values of the *echo.Context (set with c.Set by the middlewares
	// before this one, such as "user" of JWT) that are copied for the sockets of a
	// connection. They are read back with FromSocket. The *echo.Context itself is recycled by
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
	ErrNoServer = errors.New("sioecho: Config.Server is nil")
	// ErrPathMismatch is returned when Config.Path differs from the server's path.
	ErrPathMismatch = errors.New("sioecho: Config.Path differs from the Socket.IO server's path")
	// ErrBadPath is returned when Config.Path does not start with "/".
	ErrBadPath = errors.New("sioecho: Config.Path must start with \"/\"")
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
		return func(c *echo.Context) error {
			r := c.Request()
			if !endpoint.Match(r.URL.Path) || skip(c) {
				return next(c)
			}
			w := c.Response()
			// Answer through the *echo.Response, so that RequestLogger sees the status and the
			// size, but around the wrappers of earlier middlewares (Gzip), on both sides of it.
			if res, err := echo.UnwrapResponse(w); err == nil {
				inner := res.ResponseWriter
				res.ResponseWriter = mount.Unwrap(inner)
				defer func() { res.ResponseWriter = inner }()
				w = res
			} else {
				w = mount.Unwrap(w)
			}
			endpoint.Serve(w, r, c.RealIP, c.Response().Header(), c.Get)
			return nil
		}
	}, nil
}

// SkipSocketIO returns a Skipper for Echo's own middlewares that skips the requests under
// server's path. Give it to the middlewares that must not touch Socket.IO requests when they
// are registered before SocketIO:
//
//	e.Use(echomw.ContextTimeoutWithConfig(echomw.ContextTimeoutConfig{
//		Skipper: sioecho.SkipSocketIO(sio),
//		Timeout: 10 * time.Second,
//	}))
func SkipSocketIO(server *socketio.Server) echomw.Skipper {
	match := mount.Matcher(server.Path())
	return func(c *echo.Context) bool { return match(c.Request().URL.Path) }
}

// Snapshot is what the middleware kept of the *echo.Context of the request that opened a
// connection (the Engine.IO handshake): RealIP (c.RealIP(), behind trusted proxies),
// RequestID (the X-Request-Id response header of Echo's RequestID) and the Values named by
// Config.ContextKeys. Echo recycles its contexts once a request ends, so sockets, which live
// longer, get this copy instead. It is the same type as sioecho4.Snapshot.
type Snapshot = mount.Snapshot

// FromContext returns the snapshot the middleware put in the handshake request's context.
func FromContext(ctx context.Context) (*Snapshot, bool) {
	return mount.FromContext(ctx)
}

// FromSocket returns the snapshot of the *echo.Context of the request that opened the
// socket's connection. It is false when the connection did not come through the middleware.
//
//	sio.OnConnection(func(s *socketio.Socket) {
//		snap, _ := sioecho.FromSocket(s)
//		user, _ := snap.Get("user")
//		slog.Info("connected", "user", user, "ip", snap.RealIP, "request", snap.RequestID)
//	})
func FromSocket(s *socketio.Socket) (*Snapshot, bool) {
	return mount.FromSocket(s)
}
