// Package client is a minimal Socket.IO v5 client over Engine.IO v4, made
// for load generation. It connects to the main namespace over either a
// WebSocket-only session or an HTTP long-polling session (it never upgrades),
// answers the server's pings, and hands every other Socket.IO packet to a
// callback on the connection's reader goroutine.
package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/wire"
)

// Transport names, as used in the Engine.IO transport query parameter.
const (
	WebSocket = "websocket"
	Polling   = "polling"
)

// DefaultPath is the default Socket.IO endpoint path.
const DefaultPath = "/socket.io/"

// Errors reported by connections.
var (
	ErrClosed       = errors.New("client: connection closed")
	ErrConnectError = errors.New("client: server refused the namespace connection")
	ErrServerClose  = errors.New("client: server closed the session")
	ErrPingTimeout  = errors.New("client: no ping from the server within pingInterval+pingTimeout")
)

// Config describes how to reach a server. The zero value of every field but
// URL has a usable default.
type Config struct {
	// URL is the server's base URL, such as http://127.0.0.1:3001. The
	// schemes ws and wss are accepted as aliases of http and https.
	URL string
	// Path is the Socket.IO endpoint path; it defaults to DefaultPath.
	Path string
	// Transport is WebSocket (the default) or Polling.
	Transport string
	// Timeout bounds the handshake, the namespace connection and every
	// single write. It defaults to 10 seconds.
	Timeout time.Duration
	// Dialer, when set, makes the WebSocket transport use gorilla/websocket
	// with this dialer instead of the client's own RFC 6455 reader. Secure
	// (wss, https) URLs always use gorilla/websocket, with a default dialer
	// when Dialer is nil.
	Dialer *websocket.Dialer
	// Poller, when set, reads the WebSocket connections that do not use
	// gorilla/websocket on its one goroutine (Linux; elsewhere, and when
	// nil, every connection reads on a goroutine of its own).
	Poller *Poller
	// HTTPClient is used by the polling transport. A nil client means
	// http.DefaultClient; load tests should pass one whose transport keeps
	// at least two idle connections per session.
	HTTPClient *http.Client
	// OnPacket receives every Socket.IO packet that arrives after the
	// namespace connection succeeded, on the connection's reader goroutine,
	// in arrival order. The packet's Data is valid only during the call (it
	// may share memory with a read buffer): a callee that keeps it must copy
	// it. OnPacket must not block for long: it holds up reading, of every
	// connection of a Poller; and it must not Close its own connection. It
	// may Send on its connection (a closed-loop client answers from here
	// without a goroutine switch): a WebSocket send is one non-blocking
	// write. It may be nil.
	OnPacket func(wire.Packet)
}

// defaultDialer keeps per-connection memory low for tests with thousands of
// connections.
var defaultDialer = &websocket.Dialer{
	HandshakeTimeout: 10 * time.Second,
	ReadBufferSize:   1024,
	WriteBufferSize:  1024,
}

// transport is one Engine.IO transport. send transmits one encoded
// Engine.IO packet; start begins reading packets and handing them to
// Conn.handle until the transport ends, when Conn.finish runs; run is the
// reading loop of a transport read by a goroutine of its own; close ends it.
type transport interface {
	send(packet []byte) error
	sendMessage(sio []byte) error
	start(c *Conn)
	run(c *Conn) error
	close()
}

// Conn is one Socket.IO connection to the main namespace. Its methods are
// safe for concurrent use.
type Conn struct {
	cfg       Config
	open      wire.Open
	t         transport
	connected chan error // receives the outcome of the namespace connection
	isConn    bool       // only touched by the reader goroutine

	closeOnce  sync.Once
	finishOnce sync.Once
	closing    chan struct{}
	done       chan struct{}
	err        error // set before done is closed
}

// Dial opens an Engine.IO session with cfg.Transport, connects to the main
// namespace and returns once the server acknowledged the connection. The
// context and cfg.Timeout bound the whole exchange.
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	if cfg.Path == "" {
		cfg.Path = DefaultPath
	}
	if cfg.Transport == "" {
		cfg.Transport = WebSocket
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	c := &Conn{
		cfg:       cfg,
		connected: make(chan error, 1),
		closing:   make(chan struct{}),
		done:      make(chan struct{}),
	}
	var err error
	switch {
	case cfg.Transport == WebSocket && cfg.Dialer == nil && !secureURL(cfg.URL):
		c.t, c.open, err = dialRaw(ctx, cfg)
	case cfg.Transport == WebSocket:
		c.t, c.open, err = dialWebSocket(ctx, cfg)
	case cfg.Transport == Polling:
		c.t, c.open, err = dialPolling(ctx, cfg)
	default:
		return nil, fmt.Errorf("client: unknown transport %q", cfg.Transport)
	}
	if err != nil {
		return nil, err
	}
	c.t.start(c)
	if err := c.t.sendMessage([]byte{wire.SIOConnect}); err != nil {
		c.Close()
		return nil, fmt.Errorf("client: sending CONNECT: %w", err)
	}
	select {
	case err := <-c.connected:
		if err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	case <-c.done:
		select {
		case err := <-c.connected:
			if err == nil {
				// Acknowledged, then ended: the caller sees it in Done and Err.
				return c, nil
			}
		default:
		}
		c.Close()
		return nil, fmt.Errorf("client: connection ended before CONNECT was acknowledged: %w", c.err)
	case <-ctx.Done():
		c.Close()
		return nil, fmt.Errorf("client: waiting for the CONNECT acknowledgement: %w", ctx.Err())
	}
}

// EngineSID returns the Engine.IO session id.
func (c *Conn) EngineSID() string { return c.open.SID }

// Open returns the content of the Engine.IO open packet.
func (c *Conn) Open() wire.Open { return c.open }

// Send sends one Socket.IO packet, such as the output of wire.AppendEvent,
// wrapped in an Engine.IO message packet.
func (c *Conn) Send(sio []byte) error {
	select {
	case <-c.done:
		return c.doneErr()
	default:
	}
	return c.t.sendMessage(sio)
}

// Done is closed when the connection has ended, after Close or on error.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended: nil while it is open, ErrClosed
// after Close, or the error that ended it.
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

func (c *Conn) doneErr() error {
	if c.err != nil {
		return c.err
	}
	return ErrClosed
}

// Close ends the session and waits for its reader goroutine to return. It
// is safe to call more than once.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closing)
		c.t.close()
	})
	<-c.done
	return nil
}

// readLoop reads on its own goroutine until the transport ends.
func (c *Conn) readLoop() {
	c.finish(c.t.run(c))
}

// finish ends the connection with err (ErrClosed after Close). It runs once.
func (c *Conn) finish(err error) {
	c.finishOnce.Do(func() {
		select {
		case <-c.closing:
			err = ErrClosed
		default:
			if err == nil {
				err = ErrClosed
			}
		}
		c.err = err
		close(c.done)
	})
}

// secureURL reports whether raw names a TLS endpoint.
func secureURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	s := strings.ToLower(u.Scheme)
	return s == "https" || s == "wss"
}

// handle processes one Engine.IO packet from the server. It returns an
// error when the session must end.
func (c *Conn) handle(p []byte) error {
	if len(p) == 0 {
		return fmt.Errorf("client: %w", wire.ErrEmpty)
	}
	switch p[0] {
	case wire.EIOPing:
		return c.t.send([]byte{wire.EIOPong})
	case wire.EIOMessage:
		return c.handleMessage(p[1:])
	case wire.EIOClose:
		return ErrServerClose
	case wire.EIONoop, wire.EIOPong:
		return nil
	default:
		return fmt.Errorf("client: unexpected Engine.IO packet %q", wire.Truncate(p))
	}
}

func (c *Conn) handleMessage(b []byte) error {
	pkt, err := wire.ParsePacket(b)
	if err != nil {
		return fmt.Errorf("client: bad Socket.IO packet %q: %w", wire.Truncate(b), err)
	}
	if !c.isConn {
		if pkt.Namespace != "/" {
			return fmt.Errorf("client: packet for namespace %q before CONNECT", pkt.Namespace)
		}
		switch pkt.Type {
		case wire.SIOConnect:
			c.isConn = true
			c.connected <- nil
			return nil
		case wire.SIOConnectError:
			err := fmt.Errorf("%w: %s", ErrConnectError, wire.Truncate(pkt.Data))
			c.connected <- err
			return err
		default:
			return fmt.Errorf("client: packet %q before CONNECT", wire.Truncate(b))
		}
	}
	if pkt.Type == wire.SIODisconnect && pkt.Namespace == "/" {
		return ErrServerClose
	}
	if c.cfg.OnPacket != nil {
		c.cfg.OnPacket(pkt)
	}
	return nil
}

// endpoint builds the Engine.IO URL for the transport, with sid when not
// empty. scheme is "ws" or "http" style depending on the transport.
func endpoint(cfg Config, sid string) (string, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return "", fmt.Errorf("client: bad URL: %w", err)
	}
	secure := false
	switch strings.ToLower(u.Scheme) {
	case "http", "ws":
	case "https", "wss":
		secure = true
	default:
		return "", fmt.Errorf("client: unsupported URL scheme %q", u.Scheme)
	}
	switch {
	case cfg.Transport == WebSocket && secure:
		u.Scheme = "wss"
	case cfg.Transport == WebSocket:
		u.Scheme = "ws"
	case secure:
		u.Scheme = "https"
	default:
		u.Scheme = "http"
	}
	u.Path = cfg.Path
	q := url.Values{}
	q.Set("EIO", "4")
	q.Set("transport", cfg.Transport)
	if sid != "" {
		q.Set("sid", sid)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// heartbeat returns how long the client waits for the next ping before it
// gives the session up.
func heartbeat(o wire.Open) time.Duration {
	d := time.Duration(o.PingInterval+o.PingTimeout) * time.Millisecond
	if d <= 0 {
		d = 45 * time.Second
	}
	return d + time.Second
}
