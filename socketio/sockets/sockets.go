// Package sockets holds the types that describe a Socket.IO socket to every part of the
// server: its ID, the names of its rooms, its handshake, what FetchSockets reports of it, and
// the session that connection state recovery keeps of it.
//
// Package socketio and the adapters (package rooms and the Redis adapters) share them, and
// this package imports nothing else of the module, so that neither side depends on the other
// for them. Applications rarely import it: package socketio names the types they meet through
// aliases (socketio.Handshake), and package rooms names the ones of the adapter interface
// (rooms.SocketID, rooms.Room).
package sockets

import (
	"encoding/json"
	"net/http"
	"net/url"
)

// ID is the ID of a socket: random, unique, and the name of the socket's own room.
type ID string

// Room is the name of a room.
type Room string

// Handshake is the handshake of a socket as the application sees it. Its JSON form is that of
// the official server's socket.handshake.
type Handshake struct {
	// Headers are the headers of the request that opened the connection.
	Headers http.Header `json:"headers"`
	// Time is when the socket connected, in the form of JavaScript's Date.toString.
	Time string `json:"time"`
	// Address is the client's IP address.
	Address string `json:"address"`
	// XDomain reports whether the request was cross-origin (it had an Origin header).
	XDomain bool `json:"xdomain"`
	// Secure reports whether the connection used TLS.
	Secure bool `json:"secure"`
	// Issued is Time in milliseconds since the Unix epoch.
	Issued int64 `json:"issued"`
	// URL is the request URI of the handshake request.
	URL string `json:"url"`
	// Query holds the query parameters of the handshake request.
	Query url.Values `json:"query"`
	// Auth is the JSON auth payload of the namespace CONNECT, "{}" when the client sent none.
	Auth json.RawMessage `json:"auth,omitempty"`
}

// Info describes a socket of this server or of another one, as FetchSockets reports it. Its
// JSON form is that of the official cluster adapters.
type Info struct {
	// ID is the socket's ID.
	ID ID `json:"id"`
	// Handshake is the socket's handshake.
	Handshake *Handshake `json:"handshake"`
	// Rooms are the rooms the socket is in, its own room included.
	Rooms []Room `json:"rooms"`
	// Data is the JSON of the socket's data, empty when it has none.
	Data json.RawMessage `json:"data,omitempty"`
}

// Session is the state of a disconnected socket that connection state recovery keeps.
type Session struct {
	// SID is the socket's ID, given back to the recovered socket.
	SID ID
	// PID is the private session ID the client presents to recover.
	PID string
	// Rooms are the rooms the socket was in.
	Rooms []Room
	// Data is the application's data of the socket.
	Data map[string]any
}
