package socketio

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// Clients of Engine.IO v3 (socket.io-client 2.x, let in by Engine.AllowEIO3) speak Socket.IO
// protocol v4, which differs from v5 in the ways handled here, as Node's server handles them:
//
//   - The client is connected to "/" as soon as its Engine.IO session opens; it sends a
//     CONNECT only for other namespaces.
//   - A CONNECT names its namespace with the client's query string ("/admin?token=x"); the
//     query parameters become the auth payload, as an object of strings.
//   - The server answers a CONNECT without a payload, and a socket's ID is the session ID
//     ("/admin#" + session ID outside "/"), which is how the client knows its ID.
//   - A refusal by a middleware carries the error's data, or its message, as a bare value.

// isV3 reports whether the client speaks Engine.IO v3 and Socket.IO protocol v4.
func (c *client) isV3() bool { return c.conn.Protocol() == 3 }

// splitV3Namespace splits the namespace of a v4-protocol CONNECT into the namespace and the
// auth payload its query string gives.
func splitV3Namespace(nsp string) (string, json.RawMessage) {
	name, query, ok := strings.Cut(nsp, "?")
	if name == "" {
		name = parser.MainNamespace
	}
	if !ok {
		return name, nil
	}
	values, err := url.ParseQuery(query)
	if err != nil || len(values) == 0 {
		return name, nil
	}
	auth := make(map[string]string, len(values))
	for k, v := range values {
		auth[k] = v[len(v)-1]
	}
	data, err := json.Marshal(auth)
	if err != nil {
		return name, nil
	}
	return name, data
}

// v3SocketID returns the ID of a v4-protocol client's socket in nsp.
func v3SocketID(nsp, sessionID string) rooms.SocketID {
	if nsp == parser.MainNamespace {
		return rooms.SocketID(sessionID)
	}
	return rooms.SocketID(nsp + "#" + sessionID)
}

// v3ConnectError returns the payload of a refusal by a middleware for a v4-protocol client:
// the error's data when it has some, its message otherwise.
func v3ConnectError(err error, data any) json.RawMessage {
	if data != nil {
		if b, merr := json.Marshal(data); merr == nil {
			return b
		}
	}
	b, _ := json.Marshal(err.Error())
	return b
}
