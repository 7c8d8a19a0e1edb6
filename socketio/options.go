package socketio

import (
	"log/slog"
	"os"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/rooms"
)

// Options configures a Server. The zero value gives the defaults of the official Node server.
type Options struct {
	// Engine configures the Engine.IO transport: heartbeat, size limits, CORS, cookies.
	Engine engineio.Options
	// Path is the path the endpoint is mounted at (path). Default "/socket.io/". The server
	// uses it to tell the client bundle's files apart from Engine.IO requests.
	Path string
	// ConnectTimeout closes a connection that joins no namespace in time (connectTimeout).
	// Default 45 s.
	ConnectTimeout time.Duration
	// Parser is the packet encoding of the server and its clients (parser): ParserJSON, the
	// default, or ParserMsgpack.
	Parser Parser
	// MaxAttachments bounds the binary attachments of one packet (under ParserMsgpack, the
	// binary values of one packet). Default 10.
	MaxAttachments int
	// DisableServeClient stops serving the client bundle at Path + "socket.io.js" and its
	// siblings (serveClient: false).
	DisableServeClient bool
	// Adapter creates the adapter of each namespace. Default rooms.MemoryFactory, or the
	// in-memory adapter with recovery when ConnectionStateRecovery is set.
	Adapter rooms.Factory
	// MaxInboxPackets bounds the packets of one connection that wait for the application:
	// events and CONNECTs not yet handled. When the inbox is full the connection is not read
	// until there is room (backpressure), for at most InboxTimeout. Default 256.
	MaxInboxPackets int
	// MaxInboxBytes bounds the bytes of the packets waiting in one connection's inbox, binary
	// attachments included. A single packet larger than the bound is accepted when the inbox
	// is empty. Default 4 MiB.
	MaxInboxBytes int64
	// InboxTimeout is how long a connection whose inbox is full may wait for room. Past it,
	// the connection is closed with the reason ReasonInboxTimeout. Default 30 s.
	InboxTimeout time.Duration
	// CleanupEmptyChildNamespaces removes a dynamic namespace (see Server.OfFunc) when its
	// last socket leaves, and closes its adapter (cleanupEmptyChildNamespaces). Off by default,
	// as in Node.
	CleanupEmptyChildNamespaces bool
	// MaxChildNamespaces bounds the dynamic namespaces of one parent. A CONNECT that would
	// create one more is refused with a connect_error. Default 10,000.
	MaxChildNamespaces int
	// ConnectionStateRecovery, when set, lets a client that lost its connection come back
	// within MaxDisconnectionDuration with its socket ID, rooms and data, and get the
	// broadcasts it missed (connectionStateRecovery). Off by default, as in Node. It needs an
	// adapter that implements rooms.SessionStore, as the default one does.
	ConnectionStateRecovery *Recovery
	// Logger receives the server's own events, with stable attribute names: refused
	// handshakes (Info, from the Engine.IO server, which gets this logger unless
	// Engine.Logger is set), slow consumers (Warn when disconnected, Debug for a dropped
	// volatile packet), adapter errors (Error) and recovered panics when no error hook is set
	// (Error). Default: errors only, as text on standard error.
	Logger *slog.Logger
}

// Recovery configures connection state recovery. The zero value gives the official defaults.
type Recovery struct {
	// MaxDisconnectionDuration is how long a disconnected session can be recovered
	// (maxDisconnectionDuration). Default 2 minutes.
	MaxDisconnectionDuration time.Duration
	// RunMiddlewares runs the namespace middlewares for recovered sockets too
	// (skipMiddlewares: false). By default they are skipped, as in Node.
	RunMiddlewares bool
	// Budget bounds the memory the default adapter uses for recovery: sessions kept,
	// broadcast log size, broadcasts replayed per session.
	Budget rooms.RecoveryOptions
}

func (o Options) withDefaults() Options {
	if o.Path == "" {
		o.Path = "/socket.io/"
	}
	if o.Path[len(o.Path)-1] != '/' {
		o.Path += "/"
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 45 * time.Second
	}
	if o.MaxAttachments <= 0 {
		o.MaxAttachments = 10
	}
	if o.MaxInboxPackets <= 0 {
		o.MaxInboxPackets = 256
	}
	if o.MaxInboxBytes <= 0 {
		o.MaxInboxBytes = 4 << 20
	}
	if o.InboxTimeout <= 0 {
		o.InboxTimeout = 30 * time.Second
	}
	if o.MaxChildNamespaces <= 0 {
		o.MaxChildNamespaces = 10000
	}
	if r := o.ConnectionStateRecovery; r != nil {
		c := *r
		if c.MaxDisconnectionDuration <= 0 {
			c.MaxDisconnectionDuration = 2 * time.Minute
		}
		c.Budget.MaxDisconnectionDuration = c.MaxDisconnectionDuration
		o.ConnectionStateRecovery = &c
		if o.Adapter == nil {
			o.Adapter = rooms.MemoryWithRecoveryFactory(c.Budget)
		}
	}
	if o.Adapter == nil {
		o.Adapter = rooms.MemoryFactory
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	if o.Engine.Logger == nil {
		o.Engine.Logger = o.Logger
	}
	return o
}
