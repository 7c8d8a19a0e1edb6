// Package middleware mounts a Socket.IO server into an Echo application.
//
// One line is the whole mount:
//
//	io := socketio.NewServer(socketio.Options{})
//	e := echo.New()
//	e.Use(middleware.SocketIO(io))
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
package middleware

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

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
	// before this one, such as "user" of echo-jwt) that are copied for the sockets of a
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
	ErrNoServer = errors.New("middleware: Config.Server is nil")
	// ErrPathMismatch is returned when Config.Path differs from the server's path.
	ErrPathMismatch = errors.New("middleware: Config.Path differs from the Socket.IO server's path")
	// ErrBadPath is returned when Config.Path does not start with "/".
	ErrBadPath = errors.New("middleware: Config.Path must start with \"/\"")
)

// SocketIO returns a middleware that serves the requests under io's path with io and lets the
// others through.
func SocketIO(io *socketio.Server) echo.MiddlewareFunc {
	c := DefaultConfig
	c.Server = io
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
	if config.Server == nil {
		return nil, ErrNoServer
	}
	if config.Skipper == nil {
		config.Skipper = DefaultConfig.Skipper
	}
	serverPath := config.Server.Path()
	path := config.Path
	if path == "" {
		path = serverPath
	}
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("%w: %q", ErrBadPath, path)
	}
	if !strings.HasSuffix(path, "/") {
		path += "/"
	}
	if path != serverPath {
		return nil, fmt.Errorf("%w: %q, server %q (set socketio.Options.Path to the full path)", ErrPathMismatch, path, serverPath)
	}
	match := matcher(path)
	keys := append([]string(nil), config.ContextKeys...)
	server := config.Server

	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if !match(r.URL.Path) || config.Skipper(c) {
				return next(c)
			}
			if !r.URL.Query().Has("sid") {
				// A handshake: the request the connection keeps. Give it what the socket may want
				// to know of the echo.Context, which Echo recycles after the request.
				r = r.WithContext(context.WithValue(r.Context(), snapshotKey{}, snapshot(c, keys)))
			}
			res := c.Response()
			wrapped := res.Writer
			res.Writer = unwrap(wrapped)
			defer func() { res.Writer = wrapped }()
			server.ServeHTTP(res, r)
			return nil
		}
	}, nil
}

// SkipSocketIO returns a Skipper for Echo's own middlewares that skips the requests under io's
// path. Give it to the middlewares that must not touch Socket.IO requests when they are
// registered before SocketIO:
//
//	e.Use(echomw.ContextTimeoutWithConfig(echomw.ContextTimeoutConfig{
//		Skipper: middleware.SkipSocketIO(io),
//		Timeout: 10 * time.Second,
//	}))
func SkipSocketIO(io *socketio.Server) echomw.Skipper {
	match := matcher(io.Path())
	return func(c echo.Context) bool { return match(c.Request().URL.Path) }
}

// matcher reports whether a request path is under path (which ends with "/"). The path without
// its final slash matches too, so that Echo's RemoveTrailingSlash in front does no harm.
func matcher(path string) func(string) bool {
	bare := strings.TrimSuffix(path, "/")
	return func(p string) bool {
		return strings.HasPrefix(p, path) || (p == bare && bare != "")
	}
}

// unwrap returns the writer under the wrappers that earlier middlewares put around the
// connection's own writer, following their Unwrap methods (the convention of
// http.ResponseController). The Socket.IO server answers through the echo.Response, so Echo's
// logger still sees the status and size, but not through the wrappers: Engine.IO compresses
// its polling responses itself and serves the client bundle precompressed, so a compressing
// wrapper such as Echo's Gzip would compress them twice, and a websocket needs the raw
// connection.
func unwrap(w http.ResponseWriter) http.ResponseWriter {
	for range 32 { // a bound, in case a wrapper unwraps to itself
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		next := u.Unwrap()
		if next == nil || next == w {
			return w
		}
		w = next
	}
	return w
}
