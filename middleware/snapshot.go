package middleware

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/echo-socketio/echo-socketio/socketio"
)

// Snapshot is what the middleware kept of the echo.Context of the request that opened a
// connection (the Engine.IO handshake). Echo recycles its contexts once a request ends, so
// sockets, which live longer, get this copy instead.
type Snapshot struct {
	// RealIP is c.RealIP(): the client's address as Echo's IPExtractor sees it, behind
	// trusted proxies.
	RealIP string
	// RequestID is the X-Request-Id response header, as set by Echo's RequestID middleware.
	RequestID string
	// Values holds the echo.Context values named by Config.ContextKeys that were set.
	Values map[string]any
}

// Get returns the echo.Context value with the given key, if it was copied and set.
func (s *Snapshot) Get(key string) (any, bool) {
	if s == nil {
		return nil, false
	}
	v, ok := s.Values[key]
	return v, ok
}

type snapshotKey struct{}

func snapshot(c echo.Context, keys []string) *Snapshot {
	s := &Snapshot{
		RealIP:    c.RealIP(),
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
	}
	for _, k := range keys {
		if v := c.Get(k); v != nil {
			if s.Values == nil {
				s.Values = make(map[string]any, len(keys))
			}
			s.Values[k] = v
		}
	}
	return s
}

// FromContext returns the snapshot the middleware put in the handshake request's context.
func FromContext(ctx context.Context) (*Snapshot, bool) {
	s, ok := ctx.Value(snapshotKey{}).(*Snapshot)
	return s, ok
}

// FromSocket returns the snapshot of the echo.Context of the request that opened the socket's
// connection. It is false when the connection did not come through the middleware.
//
//	io.OnConnection(func(s *socketio.Socket) {
//		snap, _ := middleware.FromSocket(s)
//		user, _ := snap.Get("user")
//		log.Printf("%s connected from %s (request %s)", user, snap.RealIP, snap.RequestID)
//	})
func FromSocket(s *socketio.Socket) (*Snapshot, bool) {
	if s == nil || s.Request() == nil {
		return nil, false
	}
	return FromContext(s.Request().Context())
}
