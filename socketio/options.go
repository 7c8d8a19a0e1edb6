package socketio

import (
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
	// MaxAttachments bounds the binary attachments of one packet. Default 10.
	MaxAttachments int
	// DisableServeClient stops serving the client bundle at Path + "socket.io.js" and its
	// siblings (serveClient: false).
	DisableServeClient bool
	// Adapter creates the adapter of each namespace. Default rooms.MemoryFactory.
	Adapter rooms.Factory
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
	if o.Adapter == nil {
		o.Adapter = rooms.MemoryFactory
	}
	return o
}
