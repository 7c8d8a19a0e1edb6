// Package mount holds what the Echo adapters (sioecho for Echo v5, sioecho4 for Echo v4) share
// and what does not depend on an Echo version: the check of the endpoint's path, the matching
// of request paths, the unwrapping of response writers, and the snapshot of the handshake
// request that sockets read.
package mount

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/echo-socketio/echo-socketio/internal/rawquery"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// Errors are the sentinel errors of one adapter, so that each reports with its own prefix.
type Errors struct {
	// NoServer is returned when no server is configured.
	NoServer error
	// BadPath is returned when the configured path does not start with "/".
	BadPath error
	// PathMismatch is returned when the configured path differs from the server's path.
	PathMismatch error
}

// Endpoint is a Socket.IO server mounted at a path, with the keys of the Echo context values
// that the handshakes copy.
type Endpoint struct {
	server *socketio.Server
	match  func(string) bool
	keys   []string
}

// New checks an adapter's configuration and returns its endpoint.
func New(server *socketio.Server, path string, keys []string, errs Errors) (*Endpoint, error) {
	if server == nil {
		return nil, errs.NoServer
	}
	path, err := Path(server, path, errs)
	if err != nil {
		return nil, err
	}
	return &Endpoint{server: server, match: Matcher(path), keys: append([]string(nil), keys...)}, nil
}

// Match reports whether a request path is the endpoint's.
func (e *Endpoint) Match(path string) bool { return e.match(path) }

// Serve serves r with w. When r is a handshake, its context gets the snapshot of the Echo
// context: the real IP, the request ID of the response header h, and the values get returns
// for the endpoint's keys.
func (e *Endpoint) Serve(w http.ResponseWriter, r *http.Request, realIP func() string, h http.Header, get func(string) any) {
	if IsHandshake(r) {
		// The request the connection keeps: give it what the sockets may want to know of the
		// Echo context, which Echo recycles after the request.
		r = WithSnapshot(r, NewSnapshot(realIP(), h, e.keys, get))
	}
	e.server.ServeHTTP(w, r)
}

// Path returns the path the endpoint answers under: configured, or the server's path when
// configured is empty. It must start with "/" and equal the server's path, which holds the
// full path of the endpoint.
func Path(server *socketio.Server, configured string, errs Errors) (string, error) {
	serverPath := server.Path()
	path := configured
	if path == "" {
		path = serverPath
	}
	if !strings.HasPrefix(path, "/") {
		return "", fmt.Errorf("%w: %q", errs.BadPath, path)
	}
	if !strings.HasSuffix(path, "/") {
		path += "/"
	}
	if path != serverPath {
		return "", fmt.Errorf("%w: %q, server %q (set socketio.Options.Path to the full path)", errs.PathMismatch, path, serverPath)
	}
	return path, nil
}

// Matcher returns a function that reports whether a request path is under path (which ends
// with "/"). The path without its final slash matches too, so that Echo's RemoveTrailingSlash
// in front does no harm.
func Matcher(path string) func(string) bool {
	bare := strings.TrimSuffix(path, "/")
	return func(p string) bool {
		return strings.HasPrefix(p, path) || (p == bare && bare != "")
	}
}

// IsHandshake reports whether r opens an Engine.IO connection (it names no session yet). The
// request of the handshake is the one a connection keeps.
func IsHandshake(r *http.Request) bool {
	_, named := rawquery.Lookup(r.URL.RawQuery, "sid")
	return !named
}

// Unwrap returns the writer under the wrappers that middlewares put around a connection's own
// writer, following their Unwrap methods (the convention of http.ResponseController). The
// Socket.IO server compresses its polling responses itself and serves the client bundle
// precompressed, so a compressing wrapper such as Echo's Gzip would compress them twice, and a
// websocket needs the raw connection.
func Unwrap(w http.ResponseWriter) http.ResponseWriter {
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

// Snapshot is what an adapter kept of the Echo context of the request that opened a
// connection (the Engine.IO handshake). Echo recycles its contexts once a request ends, so
// sockets, which live longer, get this copy instead.
type Snapshot struct {
	// RealIP is the client's address as Echo's IP extractor sees it (c.RealIP()), behind
	// trusted proxies.
	RealIP string
	// RequestID is the X-Request-Id response header, as set by Echo's RequestID middleware.
	RequestID string
	// Values holds the Echo context values named by the adapter's Config.ContextKeys that
	// were set.
	Values map[string]any
}

// Get returns the Echo context value with the given key, if it was copied and set.
func (s *Snapshot) Get(key string) (any, bool) {
	if s == nil {
		return nil, false
	}
	v, ok := s.Values[key]
	return v, ok
}

// NewSnapshot returns the snapshot of a request: its real IP, the request ID of the response
// header h, and the values get returns for keys that are set.
func NewSnapshot(realIP string, h http.Header, keys []string, get func(string) any) *Snapshot {
	s := &Snapshot{RealIP: realIP, RequestID: h.Get("X-Request-Id")}
	for _, k := range keys {
		if v := get(k); v != nil {
			if s.Values == nil {
				s.Values = make(map[string]any, len(keys))
			}
			s.Values[k] = v
		}
	}
	return s
}

type snapshotKey struct{}

// WithSnapshot returns r with s in its context.
func WithSnapshot(r *http.Request, s *Snapshot) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), snapshotKey{}, s))
}

// FromContext returns the snapshot an adapter put in the handshake request's context.
func FromContext(ctx context.Context) (*Snapshot, bool) {
	s, ok := ctx.Value(snapshotKey{}).(*Snapshot)
	return s, ok
}

// FromSocket returns the snapshot of the request that opened the socket's connection.
func FromSocket(s *socketio.Socket) (*Snapshot, bool) {
	if s == nil {
		return nil, false
	}
	return FromContext(s.RequestContext())
}
