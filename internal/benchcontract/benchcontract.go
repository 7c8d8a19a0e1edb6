// Package benchcontract is the benchmark contract of bench/README.md on the library's public
// API, shared by the benchmark servers (bench/servers/go, internal/clusternode):
//
//	echo  (...args, ack)        -> ack(...args)
//	join  (room, ack)           -> socket.Join(room); ack()
//	bcast (room, payload, ack)  -> sio.To(room).Emit("bcast", payload); ack()
package benchcontract

import (
	"encoding/json"

	"github.com/echo-socketio/echo-socketio/socketio"
)

// Handle registers the contract's events on s, a socket of sio.
func Handle(sio *socketio.Server, s *socketio.Socket) {
	s.On("echo", func(args []json.RawMessage, ack socketio.Ack) {
		out := make([]any, len(args))
		for i, a := range args {
			out[i] = a
		}
		_ = ack(out...)
	})
	s.On("join", func(args []json.RawMessage, ack socketio.Ack) {
		s.Join(RoomName(args))
		_ = ack()
	})
	s.On("bcast", func(args []json.RawMessage, ack socketio.Ack) {
		var payload json.RawMessage
		if len(args) > 1 {
			payload = args[1]
		}
		_ = sio.To(RoomName(args)).Emit("bcast", payload)
		_ = ack()
	})
}

// RoomName returns the room named by the first argument: a JSON string, or any other JSON
// value as written, as String(room) does in the Node server.
func RoomName(args []json.RawMessage) string {
	if len(args) == 0 {
		return "undefined"
	}
	var s string
	if err := json.Unmarshal(args[0], &s); err == nil {
		return s
	}
	return string(args[0])
}
