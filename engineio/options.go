package engineio

import (
	"log/slog"
	"net/http"
	"time"
)

// Transport names, as they appear in the transport query parameter.
const (
	TransportPolling   = "polling"
	TransportWebsocket = "websocket"
)

// Options configures a Server. The zero value gives the defaults of the official Node server;
// each field names the Node option it matches.
type Options struct {
	// PingInterval is the time between two pings sent by the server (pingInterval).
	// Default 25 s.
	PingInterval time.Duration
	// PingTimeout is how long the server waits for the pong that answers a ping before it
	// closes the session with "ping timeout" (pingTimeout). Default 20 s.
	PingTimeout time.Duration
	// UpgradeTimeout is how long an upgrade from polling to websocket may take before the
	// half-open websocket is closed and the session stays on polling (upgradeTimeout).
	// Default 10 s.
	UpgradeTimeout time.Duration
	// MaxHTTPBufferSize is the largest message, in bytes, a client may send: the size of a
	// polling request body, or of a websocket message after decompression
	// (maxHttpBufferSize). It is also announced to clients as maxPayload. Default 1e6.
	MaxHTTPBufferSize int64
	// Transports lists the transports clients may use (transports). Default polling and
	// websocket.
	Transports []string
	// DisableUpgrades forbids upgrades from polling to websocket (allowUpgrades: false).
	DisableUpgrades bool
	// AllowEIO3 accepts clients of Engine.IO protocol v3 (EIO=3), such as socket.io-client
	// 2.x, beside v4 clients (allowEIO3). Off by default, as in Node: a v3 handshake is then
	// refused with code 5 (Unsupported protocol version).
	AllowEIO3 bool
	// AllowRequest, when set, decides whether a handshake is accepted (allowRequest). A
	// non-nil error refuses it with code 4 (Forbidden) and the error's text as the message.
	AllowRequest func(r *http.Request) error
	// Cookie, when set, makes the handshake response set a cookie holding the session ID
	// (cookie). Off by default, as in Node.
	Cookie *CookieOptions
	// CORS configures cross-origin access (cors). With no origins configured, the server
	// sends no CORS headers and refuses requests whose Origin header names another host.
	CORS CORSOptions
	// InsecureSkipOriginCheck accepts requests, websocket upgrades included, from any Origin.
	// Browsers then let any web site open sessions on behalf of their users.
	InsecureSkipOriginCheck bool
	// DisableHTTPCompression turns off gzip and deflate compression of polling responses
	// (httpCompression: false).
	DisableHTTPCompression bool
	// HTTPCompressionThreshold is the smallest polling response, in bytes, that is compressed
	// (httpCompression.threshold). Default 1024.
	HTTPCompressionThreshold int
	// PerMessageDeflate enables the websocket permessage-deflate extension
	// (perMessageDeflate). Off by default. Decompressed messages are still capped at
	// MaxHTTPBufferSize.
	PerMessageDeflate bool
	// MaxQueuedPackets bounds the packets waiting to be sent to one client. Send returns
	// ErrQueueFull past it. Default 4096.
	MaxQueuedPackets int
	// WriteTimeout bounds one websocket write. A client that does not read for that long is
	// disconnected with "transport error". Default 10 s.
	WriteTimeout time.Duration
	// MaxPayloadPackets bounds the packets in one polling request body. Default 100,000.
	MaxPayloadPackets int
	// Logger receives the server's own events: refused handshakes (Info) and recovered panics
	// when no error hook is set (Error). Default: errors only, as text on standard error.
	Logger *slog.Logger
	// Forwarding, when set, lets any server of a cluster take any request of a session: a
	// request for a session of another node is handed to that node (see Forwarding). Off by
	// default; every server of the cluster must have it.
	Forwarding *Forwarding
}

// CookieOptions describes the session cookie set on the handshake response. The zero value
// gives the official defaults: name "io", path "/", HttpOnly, SameSite Lax.
type CookieOptions struct {
	// Name of the cookie. Default "io".
	Name string
	// Path of the cookie. Default "/".
	Path string
	// Domain of the cookie; empty for the request's host.
	Domain string
	// MaxAge in seconds; 0 makes a session cookie.
	MaxAge int
	// Secure marks the cookie for HTTPS only.
	Secure bool
	// AllowScripts drops the HttpOnly flag so that scripts can read the cookie.
	AllowScripts bool
	// SameSite policy. Default http.SameSiteLaxMode.
	SameSite http.SameSite
}

// CORSOptions configures Cross-Origin Resource Sharing for the polling transport and the origin
// check of all transports.
type CORSOptions struct {
	// Origins lists the origins (scheme://host[:port]) allowed to use the endpoint from a
	// browser. "*" allows every origin.
	Origins []string
	// Credentials lets browsers send cookies and credentials with cross-origin requests.
	Credentials bool
	// AllowedHeaders lists request headers allowed in cross-origin requests; when empty the
	// headers a preflight request asks for are allowed.
	AllowedHeaders []string
	// MaxAge is how long a browser may cache a preflight answer. 0 sends no Max-Age.
	MaxAge time.Duration
}

// withDefaults returns a copy of o with every unset field at its default.
func (o Options) withDefaults() Options {
	if o.PingInterval <= 0 {
		o.PingInterval = 25 * time.Second
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = 20 * time.Second
	}
	if o.UpgradeTimeout <= 0 {
		o.UpgradeTimeout = 10 * time.Second
	}
	if o.MaxHTTPBufferSize <= 0 {
		o.MaxHTTPBufferSize = 1e6
	}
	if len(o.Transports) == 0 {
		o.Transports = []string{TransportPolling, TransportWebsocket}
	} else {
		o.Transports = append([]string(nil), o.Transports...)
	}
	if o.HTTPCompressionThreshold <= 0 {
		o.HTTPCompressionThreshold = 1024
	}
	if o.MaxQueuedPackets <= 0 {
		o.MaxQueuedPackets = 4096
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.MaxPayloadPackets <= 0 {
		o.MaxPayloadPackets = 100000
	}
	if o.Logger == nil {
		o.Logger = defaultLogger()
	}
	if o.Cookie != nil {
		c := *o.Cookie
		if c.Name == "" {
			c.Name = "io"
		}
		if c.Path == "" {
			c.Path = "/"
		}
		if c.SameSite == 0 {
			c.SameSite = http.SameSiteLaxMode
		}
		o.Cookie = &c
	}
	return o
}

func (o *Options) allows(transport string) bool {
	for _, t := range o.Transports {
		if t == transport {
			return true
		}
	}
	return false
}
