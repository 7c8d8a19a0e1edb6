// Package middleware is the former name of package sioecho4, which mounts a Socket.IO server
// into an Echo v4 application. It forwards to sioecho4 and will be removed in the next minor
// version.
//
// Deprecated: import github.com/echo-socketio/echo-socketio/middleware/sioecho for Echo v5,
// or github.com/echo-socketio/echo-socketio/middleware/sioecho4 for Echo v4. Both can be
// imported without an alias next to Echo's own middleware package. See docs/echo.md.
package middleware

import (
	"context"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/echo-socketio/echo-socketio/middleware/sioecho4"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// Config configures the middleware.
//
// Deprecated: use sioecho4.Config.
type Config = sioecho4.Config

// Snapshot is what the middleware kept of the echo.Context of the request that opened a
// connection.
//
// Deprecated: use sioecho4.Snapshot.
type Snapshot = sioecho4.Snapshot

// DefaultConfig is the default configuration: no skipping, the server's path.
//
// Deprecated: use sioecho4.DefaultConfig.
var DefaultConfig = sioecho4.DefaultConfig

// Errors returned by Config.ToMiddleware; they are those of sioecho4.
//
// Deprecated: use the errors of sioecho4.
var (
	ErrNoServer     = sioecho4.ErrNoServer
	ErrPathMismatch = sioecho4.ErrPathMismatch
	ErrBadPath      = sioecho4.ErrBadPath
)

// SocketIO returns a middleware that serves the requests under server's path with server.
//
// Deprecated: use sioecho4.SocketIO.
func SocketIO(server *socketio.Server) echo.MiddlewareFunc { return sioecho4.SocketIO(server) }

// SocketIOWithConfig returns the middleware configured by config, and panics when it is
// invalid.
//
// Deprecated: use sioecho4.SocketIOWithConfig.
func SocketIOWithConfig(config Config) echo.MiddlewareFunc {
	return sioecho4.SocketIOWithConfig(config)
}

// SkipSocketIO returns a Skipper that skips the requests under server's path.
//
// Deprecated: use sioecho4.SkipSocketIO.
func SkipSocketIO(server *socketio.Server) echomw.Skipper { return sioecho4.SkipSocketIO(server) }

// FromContext returns the snapshot the middleware put in the handshake request's context.
//
// Deprecated: use sioecho4.FromContext.
func FromContext(ctx context.Context) (*Snapshot, bool) { return sioecho4.FromContext(ctx) }

// FromSocket returns the snapshot of the echo.Context of the request that opened the socket's
// connection.
//
// Deprecated: use sioecho4.FromSocket.
func FromSocket(s *socketio.Socket) (*Snapshot, bool) { return sioecho4.FromSocket(s) }
