package rediscluster

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
)

// wireSocket is a socket in a REMOTE_FETCH answer, in the Node adapter's layout.
type wireSocket struct {
	ID        string          `json:"id"`
	Handshake *wireHandshake  `json:"handshake"`
	Rooms     []string        `json:"rooms"`
	Data      json.RawMessage `json:"data,omitempty"`
}

// wireHandshake is socket.handshake as a Node server has it: a header or query parameter
// with one value is a string, one with several an array of strings.
type wireHandshake struct {
	Headers map[string]any  `json:"headers"`
	Time    string          `json:"time"`
	Address string          `json:"address"`
	XDomain bool            `json:"xdomain"`
	Secure  bool            `json:"secure"`
	Issued  int64           `json:"issued"`
	URL     string          `json:"url"`
	Query   map[string]any  `json:"query"`
	Auth    json.RawMessage `json:"auth"`
}

func nodeValues(m map[string][]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if len(v) == 1 {
			out[k] = v[0]
		} else {
			out[k] = v
		}
	}
	return out
}

// nodeHeaders returns headers as a Node server has them: lower-case names.
func nodeHeaders(h http.Header) map[string]any {
	lower := make(map[string][]string, len(h))
	for k, v := range h {
		k = strings.ToLower(k)
		lower[k] = append(lower[k], v...)
	}
	return nodeValues(lower)
}

// goHeaders reads the headers of a remote socket into an http.Header, whose names are
// canonical (a Node server sends them in lower case).
func goHeaders(m map[string]json.RawMessage) http.Header {
	values := goValues(m)
	if values == nil {
		return nil
	}
	h := make(http.Header, len(values))
	for k, v := range values {
		k = http.CanonicalHeaderKey(k)
		h[k] = append(h[k], v...)
	}
	return h
}

func toWireSocket(s *sockets.Info) wireSocket {
	w := wireSocket{ID: string(s.ID), Rooms: FromRooms(s.Rooms), Data: s.Data}
	if w.Data != nil && !json.Valid(w.Data) {
		w.Data = nil
	}
	if h := s.Handshake; h != nil {
		w.Handshake = &wireHandshake{
			Headers: nodeHeaders(h.Headers), Time: h.Time, Address: h.Address,
			XDomain: h.XDomain, Secure: h.Secure, Issued: h.Issued, URL: h.URL,
			Query: nodeValues(h.Query), Auth: h.Auth,
		}
		if w.Handshake.Auth == nil || !json.Valid(w.Handshake.Auth) {
			w.Handshake.Auth = json.RawMessage("{}")
		}
	}
	return w
}

// inSocket is a socket of a REMOTE_FETCH answer as read: lenient about the types a Node
// server may put there.
type inSocket struct {
	ID        string          `json:"id"`
	Handshake *inHandshake    `json:"handshake"`
	Rooms     json.RawMessage `json:"rooms"`
	Data      json.RawMessage `json:"data"`
}

type inHandshake struct {
	Headers map[string]json.RawMessage `json:"headers"`
	Time    string                     `json:"time"`
	Address string                     `json:"address"`
	XDomain bool                       `json:"xdomain"`
	Secure  bool                       `json:"secure"`
	Issued  float64                    `json:"issued"`
	URL     string                     `json:"url"`
	Query   map[string]json.RawMessage `json:"query"`
	Auth    json.RawMessage            `json:"auth"`
}

// goValues reads header or query values: strings, arrays of strings, or other JSON values
// kept as their JSON text.
func goValues(m map[string]json.RawMessage) map[string][]string {
	if m == nil {
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, raw := range m {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out[k] = []string{s}
			continue
		}
		var list []string
		if json.Unmarshal(raw, &list) == nil {
			out[k] = list
			continue
		}
		out[k] = []string{string(raw)}
	}
	return out
}

// FromWireSockets reads the sockets of a REMOTE_FETCH answer.
func FromWireSockets(raw json.RawMessage) ([]sockets.Info, error) {
	var in []inSocket
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, Malformed("sockets: %v", err)
	}
	out := make([]sockets.Info, 0, len(in))
	for _, s := range in {
		if s.ID == "" {
			return nil, Malformed("socket without an id")
		}
		rs, err := RoomList(s.Rooms)
		if err != nil {
			return nil, err
		}
		info := sockets.Info{ID: rooms.SocketID(s.ID), Rooms: ToRooms(rs), Data: s.Data}
		if string(info.Data) == "null" {
			info.Data = nil
		}
		if h := s.Handshake; h != nil {
			issued := int64(0)
			if !math.IsNaN(h.Issued) && math.Abs(h.Issued) < 1<<62 {
				issued = int64(h.Issued)
			}
			info.Handshake = &sockets.Handshake{
				Headers: goHeaders(h.Headers), Time: h.Time, Address: h.Address,
				XDomain: h.XDomain, Secure: h.Secure, Issued: issued, URL: h.URL,
				Query: goValues(h.Query), Auth: h.Auth,
			}
		}
		out = append(out, info)
	}
	return out, nil
}
