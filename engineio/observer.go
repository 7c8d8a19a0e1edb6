package engineio

import (
	"log/slog"
	"net/http"

	"github.com/echo-socketio/echo-socketio/engineio/parser"
)

// Observer receives the events of a server's sessions, for metrics and monitoring tools. Every
// field is optional. The functions run synchronously, on the goroutine where the event
// happened and with no lock of the server held: they must be quick and must not block.
type Observer struct {
	// SessionOpened runs when a handshake opened session c, before the connection hook.
	SessionOpened func(c *Conn)
	// SessionClosed runs once when session c closed, with the reason.
	SessionClosed func(c *Conn, reason CloseReason)
	// Upgraded runs when session c moved from polling to websocket.
	Upgraded func(c *Conn)
	// HandshakeRefused runs when a request that opens no session and names none was refused,
	// with the error the client got.
	HandshakeRefused func(r *http.Request, err *Error)
	// MessageReceived runs for every message the client sent, with its size in bytes.
	MessageReceived func(c *Conn, size int)
	// MessageSent runs for every message written to the client, with its size in bytes.
	MessageSent func(c *Conn, size int)
}

// Observe adds an observer of the server's sessions. Observers cost nothing until one is added.
// Add them before the server handles requests; every observer added gets every event.
func (s *Server) Observe(o Observer) {
	s.obsMu.Lock()
	defer s.obsMu.Unlock()
	var all []Observer
	if cur := s.observers.Load(); cur != nil {
		all = append(all, *cur...)
	}
	all = append(all, o)
	s.observers.Store(&all)
}

// observed returns the observers, or nil when there are none.
func (s *Server) observed() []Observer {
	if p := s.observers.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *Server) observeRefused(r *http.Request, err *Error) {
	s.logger.LogAttrs(r.Context(), slog.LevelInfo, "handshake refused",
		slog.String("reason", err.Message), slog.Int("code", err.Code),
		slog.String("remote_addr", r.RemoteAddr), slog.String("transport", r.URL.Query().Get("transport")))
	for _, o := range s.observed() {
		if o.HandshakeRefused != nil {
			o.HandshakeRefused(r, err)
		}
	}
}

func (c *Conn) observeSent(batch []outPacket) {
	obs := c.srv.observed()
	if obs == nil {
		return
	}
	for _, o := range obs {
		if o.MessageSent == nil {
			continue
		}
		for i := range batch {
			if batch[i].pkt.Type == parser.Message {
				o.MessageSent(c, len(batch[i].pkt.Data))
			}
		}
	}
}
