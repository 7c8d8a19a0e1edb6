// Package socketiotest provides an in-process Socket.IO client for testing the handlers of a
// *socketio.Server, in the spirit of net/http/httptest: no network socket, no browser and no
// Node.
//
// Dial opens an Engine.IO session to the server over an in-memory pipe (the websocket transport,
// so the server runs exactly the code a browser reaches), and Client.Connect joins a namespace,
// as io() and manager.socket() do in socket.io-client. Connect does both for the common case.
// A Socket emits events, with or without acknowledgement, and receives the events the server
// sends, in order, with Receive; binary values arrive as binary (Arg.IsBinary).
//
//	srv := socketio.NewServer(socketio.Options{})
//	srv.OnConnection(func(s *socketio.Socket) { ... })
//	c, err := socketiotest.Connect(ctx, srv, "/", nil)
//	if err != nil { t.Fatal(err) }
//	defer c.Close()
//	reply, err := c.EmitWithAck(ctx, "ping")
//
// The client speaks the default parser (socketio.ParserJSON) only.
package socketiotest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/engineio/parser"
	"github.com/echo-socketio/echo-socketio/socketio"
	sioparser "github.com/echo-socketio/echo-socketio/socketio/parser"
)

// Errors returned by the client.
var (
	// ErrClosed is returned by the methods of a Client or Socket that is closed or
	// disconnected, and by Receive once the socket disconnected and every event before the
	// disconnection was received.
	ErrClosed = errors.New("socketiotest: connection closed")
	// ErrUnexpectedEvent is returned by Expect when the next event has another name.
	ErrUnexpectedEvent = errors.New("socketiotest: unexpected event")
)

// Options configure the handshake request of Dial. The zero value works.
type Options struct {
	// Header holds the headers of the handshake request (the extraHeaders of socket.io-client).
	Header http.Header
	// Query holds the query parameters added to the handshake URL (the query option).
	Query url.Values
	// RemoteAddr is the client address the server sees. Default "192.0.2.1:1234", as
	// httptest.NewRequest uses.
	RemoteAddr string
	// Handler serves the handshake request instead of the server itself: an application
	// that mounts the server (an Echo app with sioecho.SocketIO, say), so that a test goes
	// through the application's HTTP middlewares too. The request's path is the server's
	// Path.
	Handler http.Handler
}

// ConnectError is the refusal of a namespace connection: a middleware returned an error, or
// the namespace does not exist.
type ConnectError struct {
	// Message is the error's text, as err.message in socket.io-client.
	Message string
	// Data is the JSON data of a *socketio.ConnectError, or nil.
	Data json.RawMessage
}

// Error returns the message, prefixed with the package name.
func (e *ConnectError) Error() string { return "socketiotest: connect_error: " + e.Message }

// Client is one Engine.IO session to a server, shared by the sockets of the namespaces it
// connects to (a Manager in socket.io-client). Its methods are safe for concurrent use.
type Client struct {
	ws       *websocket.Conn
	srv      *http.Server
	listener *pipeListener
	done     chan struct{}

	writeMu sync.Mutex

	mu      sync.Mutex
	sockets map[string]*Socket // by namespace
	closed  bool
	err     error // why the session ended, when the server ended it
}

// Dial opens an Engine.IO session to srv in process, over the websocket transport, and waits
// for the server's open packet or the end of ctx. opts may be nil.
func Dial(ctx context.Context, srv *socketio.Server, opts *Options) (*Client, error) {
	if opts == nil {
		opts = &Options{}
	}
	remote := opts.RemoteAddr
	if remote == "" {
		remote = "192.0.2.1:1234"
	}
	l := newPipeListener(remote)
	var handler http.Handler = srv
	if opts.Handler != nil {
		handler = opts.Handler
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(l) }()

	q := url.Values{}
	for k, v := range opts.Query {
		q[k] = v
	}
	q.Set("EIO", "4")
	q.Set("transport", "websocket")
	u := "ws://socketio.test" + srv.Path() + "?" + q.Encode()
	d := websocket.Dialer{
		NetDialContext:   func(ctx context.Context, _, _ string) (net.Conn, error) { return l.dial(ctx) },
		HandshakeTimeout: 10 * time.Second,
	}
	ws, resp, err := d.DialContext(ctx, u, opts.Header)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		_ = hs.Close()
		if resp != nil {
			return nil, fmt.Errorf("socketiotest: dial: HTTP %s: %w", resp.Status, err)
		}
		return nil, fmt.Errorf("socketiotest: dial: %w", err)
	}
	c := &Client{ws: ws, srv: hs, listener: l, done: make(chan struct{}), sockets: map[string]*Socket{}}
	opened := make(chan error, 1)
	go c.readLoop(opened)
	select {
	case err := <-opened:
		if err != nil {
			c.Close()
			return nil, err
		}
	case <-ctx.Done():
		c.Close()
		return nil, fmt.Errorf("socketiotest: waiting for the open packet: %w", ctx.Err())
	}
	return c, nil
}

// Connect dials srv and connects to the namespace nsp with the auth payload auth (nil for
// none), as io(url + nsp, {auth}) does. Closing the socket closes its client.
func Connect(ctx context.Context, srv *socketio.Server, nsp string, auth any) (*Socket, error) {
	c, err := Dial(ctx, srv, nil)
	if err != nil {
		return nil, err
	}
	s, err := c.Connect(ctx, nsp, auth)
	if err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

// Connect connects the client to the namespace nsp with the auth payload auth, which is
// marshalled to JSON (nil sends none), and waits for the server's answer: the connected
// socket, a *ConnectError when the server refused it, or ctx's error.
func (c *Client) Connect(ctx context.Context, nsp string, auth any) (*Socket, error) {
	if nsp == "" || nsp[0] != '/' {
		nsp = "/" + nsp
	}
	var data json.RawMessage
	if auth != nil {
		b, err := json.Marshal(auth)
		if err != nil {
			return nil, fmt.Errorf("socketiotest: connect %s: auth: %w", nsp, err)
		}
		data = b
	}
	s := &Socket{
		client:    c,
		nsp:       nsp,
		connected: make(chan error, 1),
		done:      make(chan struct{}),
		notify:    make(chan struct{}, 1),
		acks:      map[uint64]chan socketio.Args{},
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if c.sockets[nsp] != nil {
		c.mu.Unlock()
		return nil, fmt.Errorf("socketiotest: already connected to %s", nsp)
	}
	c.sockets[nsp] = s
	c.mu.Unlock()
	if err := c.writePacket(&sioparser.Packet{Type: sioparser.Connect, Namespace: nsp, Data: data}); err != nil {
		c.removeSocket(s)
		return nil, err
	}
	select {
	case err := <-s.connected:
		if err != nil {
			c.removeSocket(s)
			return nil, err
		}
		return s, nil
	case <-c.done:
		c.removeSocket(s)
		return nil, c.closeErr()
	case <-ctx.Done():
		c.removeSocket(s)
		return nil, fmt.Errorf("socketiotest: connect %s: %w", nsp, ctx.Err())
	}
}

// Close closes the session, which disconnects every socket of the client with the reason
// "transport close" on the server.
func (c *Client) Close() {
	c.mu.Lock()
	already := c.closed
	c.closed = true
	c.mu.Unlock()
	if !already {
		c.writeMu.Lock()
		_ = c.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		c.writeMu.Unlock()
		_ = c.ws.Close()
	}
	<-c.done
	_ = c.srv.Close()
	c.listener.Close()
}

// Done returns a channel closed when the session has ended.
func (c *Client) Done() <-chan struct{} { return c.done }

func (c *Client) closeErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return fmt.Errorf("%w: %w", ErrClosed, c.err)
	}
	return ErrClosed
}

func (c *Client) removeSocket(s *Socket) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sockets[s.nsp] == s {
		delete(c.sockets, s.nsp)
	}
}

func (c *Client) socket(nsp string) *Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sockets[nsp]
}

// writePacket writes a Socket.IO packet: its text message, then its attachments.
func (c *Client) writePacket(p *sioparser.Packet) error {
	text, atts, err := sioparser.Encode(p)
	if err != nil {
		return fmt.Errorf("socketiotest: encode: %w", err)
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.writeFrame(parser.Packet{Type: parser.Message, Data: text}); err != nil {
		return err
	}
	for _, a := range atts {
		if err := c.writeFrame(parser.Packet{Type: parser.Message, Data: a, Binary: true}); err != nil {
			return err
		}
	}
	return nil
}

// writeFrame writes one Engine.IO packet; the caller holds writeMu.
func (c *Client) writeFrame(p parser.Packet) error {
	frame, binary := parser.WebsocketFrame(nil, p)
	mt := websocket.TextMessage
	if binary {
		mt = websocket.BinaryMessage
	}
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := c.ws.WriteMessage(mt, frame); err != nil {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return nil
}

// readLoop reads the session's frames until it ends, answers pings and hands Socket.IO packets
// to their sockets. opened receives the outcome of the open packet.
func (c *Client) readLoop(opened chan<- error) {
	var dec sioparser.Decoder
	var endErr error
	defer func() {
		c.mu.Lock()
		c.closed = true
		if c.err == nil {
			c.err = endErr
		}
		sockets := c.sockets
		c.sockets = map[string]*Socket{}
		c.mu.Unlock()
		for _, s := range sockets {
			s.end("transport close")
		}
		close(c.done)
		select {
		case opened <- fmt.Errorf("socketiotest: session ended before the open packet: %w", endErr):
		default:
		}
	}()
	for {
		mt, data, err := c.ws.ReadMessage()
		if err != nil {
			endErr = err
			return
		}
		var p parser.Packet
		if mt == websocket.BinaryMessage {
			p = parser.DecodeBinaryFrame(data)
		} else if p, err = parser.DecodePacket(data); err != nil {
			endErr = fmt.Errorf("socketiotest: bad Engine.IO packet %q: %w", data, err)
			return
		}
		switch p.Type {
		case parser.Open:
			opened <- nil
		case parser.Ping:
			c.writeMu.Lock()
			err = c.writeFrame(parser.Packet{Type: parser.Pong, Data: p.Data})
			c.writeMu.Unlock()
			if err != nil {
				endErr = err
				return
			}
		case parser.Close:
			endErr = errors.New("socketiotest: the server closed the session")
			return
		case parser.Message:
			var sp *sioparser.Packet
			var complete bool
			if p.Binary {
				sp, complete, err = dec.DecodeBinary(p.Data)
			} else {
				sp, complete, err = dec.DecodeText(p.Data)
			}
			if err != nil {
				endErr = fmt.Errorf("socketiotest: bad Socket.IO packet: %w", err)
				return
			}
			if complete {
				c.onPacket(sp)
			}
		}
	}
}

func (c *Client) onPacket(p *sioparser.Packet) {
	s := c.socket(p.Namespace)
	if s == nil {
		return
	}
	switch p.Type {
	case sioparser.Connect:
		var v struct {
			SID string `json:"sid"`
		}
		_ = json.Unmarshal(p.Data, &v)
		s.mu.Lock()
		s.id = v.SID
		s.mu.Unlock()
		s.connected <- nil
	case sioparser.ConnectError:
		ce := &ConnectError{}
		var v struct {
			Message string          `json:"message"`
			Data    json.RawMessage `json:"data"`
		}
		if json.Unmarshal(p.Data, &v) == nil {
			ce.Message, ce.Data = v.Message, v.Data
		} else {
			_ = json.Unmarshal(p.Data, &ce.Message)
		}
		s.connected <- ce
	case sioparser.Disconnect:
		c.removeSocket(s)
		s.end("io server disconnect")
	case sioparser.Event, sioparser.BinaryEvent:
		s.onEvent(p)
	case sioparser.Ack, sioparser.BinaryAck:
		s.onAck(p)
	}
}

// pipeListener is a net.Listener whose connections are in-memory pipes made by dial.
type pipeListener struct {
	remote string
	conns  chan net.Conn
	done   chan struct{}
	once   sync.Once
}

func newPipeListener(remote string) *pipeListener {
	return &pipeListener{remote: remote, conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) dial(ctx context.Context) (net.Conn, error) {
	server, client := net.Pipe()
	select {
	case l.conns <- &pipeConn{Conn: server, local: pipeAddr("socketio.test:80"), remote: pipeAddr(l.remote)}:
		return &pipeConn{Conn: client, local: pipeAddr(l.remote), remote: pipeAddr("socketio.test:80")}, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr("socketio.test:80") }

// pipeConn is one end of a net.Pipe with the addresses of a TCP connection.
type pipeConn struct {
	net.Conn
	local, remote net.Addr
}

func (c *pipeConn) LocalAddr() net.Addr  { return c.local }
func (c *pipeConn) RemoteAddr() net.Addr { return c.remote }

type pipeAddr string

func (pipeAddr) Network() string  { return "tcp" }
func (a pipeAddr) String() string { return string(a) }
