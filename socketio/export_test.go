package socketio

import "github.com/echo-socketio/echo-socketio/rooms"

// BroadcastEncodes returns how many packets the server encoded for broadcasts.
func BroadcastEncodes(s *Server) int64 { return s.broadcastEncodes.Load() }

// RoomID converts a socket ID to the adapter's type, for tests.
func RoomID(id string) rooms.SocketID { return rooms.SocketID(id) }
