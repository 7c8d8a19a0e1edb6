package admin

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/echo-socketio/echo-socketio/socketio"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
)

// socketJSON is a socket as the UI shows it (SerializedSocket of @socket.io/admin-ui).
type socketJSON struct {
	ID        string          `json:"id"`
	ClientID  string          `json:"clientId"`
	Transport string          `json:"transport"`
	Nsp       string          `json:"nsp"`
	Data      json.RawMessage `json:"data"`
	Handshake handshakeJSON   `json:"handshake"`
	Rooms     []string        `json:"rooms"`
}

// handshakeJSON is the handshake the UI shows: that of the official server, without the auth
// payload.
type handshakeJSON struct {
	Address string            `json:"address"`
	Headers map[string]string `json:"headers"`
	Query   map[string]string `json:"query"`
	Issued  int64             `json:"issued"`
	Secure  bool              `json:"secure"`
	Time    string            `json:"time"`
	URL     string            `json:"url"`
	XDomain bool              `json:"xdomain"`
}

func serializeHandshake(h *sockets.Handshake) handshakeJSON {
	if h == nil {
		return handshakeJSON{Headers: map[string]string{}, Query: map[string]string{}}
	}
	out := handshakeJSON{
		Address: h.Address, Issued: h.Issued, Secure: h.Secure, Time: h.Time, URL: h.URL, XDomain: h.XDomain,
		Headers: make(map[string]string, len(h.Headers)), Query: make(map[string]string, len(h.Query)),
	}
	for k, v := range h.Headers {
		out.Headers[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	for k, v := range h.Query {
		if len(v) > 0 {
			out.Query[k] = v[0]
		}
	}
	if fwd := out.Headers["cf-connecting-ip"]; fwd != "" {
		out.Address = fwd
	} else if fwd := out.Headers["x-forwarded-for"]; fwd != "" {
		out.Address = fwd
	}
	return out
}

// serializeLocal describes a socket of this server that just connected.
func serializeLocal(s *socketio.Socket, data json.RawMessage) socketJSON {
	id := s.Conn().ID()
	if len(id) > 12 {
		id = id[:12]
	}
	rs := s.Rooms()
	if rs == nil {
		rs = []string{}
	}
	return socketJSON{
		ID: s.ID(), ClientID: id, Transport: s.Transport(), Nsp: s.Namespace().Name(),
		Data: data, Handshake: serializeHandshake(s.Handshake()), Rooms: rs,
	}
}

// uiData splits a socket's data as FetchSockets and Observer.DataChanged report it into what
// the UI shows (the application's keys, "{}" when there are none) and what the
// instrumentation keeps under "_admin".
func uiData(raw json.RawMessage) (json.RawMessage, adminData) {
	var ad adminData
	var data map[string]json.RawMessage
	if json.Unmarshal(raw, &data) != nil || data == nil {
		return json.RawMessage("{}"), ad
	}
	_ = json.Unmarshal(data["_admin"], &ad) // absent on a socket of an uninstrumented server
	delete(data, "_admin")
	delete(data, authKey)
	b, err := json.Marshal(data)
	if err != nil {
		return json.RawMessage("{}"), ad
	}
	return b, ad
}

// serializeRemote describes a socket found by FetchSockets, on any server: its session and
// transport are in the data the instrumentation stored under "_admin".
func serializeRemote(r *socketio.RemoteSocket, nsp string) socketJSON {
	data, ad := uiData(r.Data())
	out := socketJSON{
		ID: r.ID(), ClientID: ad.ClientID, Transport: ad.Transport, Nsp: nsp, Data: data,
		Handshake: serializeHandshake(r.Handshake()), Rooms: r.Rooms(),
	}
	if out.Rooms == nil {
		out.Rooms = []string{}
	}
	return out
}

// allSockets describes the sockets of every namespace, on every server of a cluster.
func (a *Admin) allSockets(ctx context.Context) []socketJSON {
	out := []socketJSON{}
	for _, n := range a.io.Namespaces() {
		socks, err := n.FetchSockets(ctx)
		if err != nil {
			continue // the server logged the adapter's error
		}
		for _, r := range socks {
			out = append(out, serializeRemote(r, n.Name()))
		}
	}
	return out
}
