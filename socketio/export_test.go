package socketio

import "github.com/echo-socketio/echo-socketio/rooms"

// BroadcastEncodes returns how many packets the server encoded for broadcasts.
func BroadcastEncodes(s *Server) int64 { return s.broadcastEncodes.Load() }

// RoomID converts a socket ID to the adapter's type, for tests.
func RoomID(id string) rooms.SocketID { return rooms.SocketID(id) }

// Unlist takes s out of its namespace's sockets as a disconnect does, and Relist puts it
// back, both leaving its rooms in the adapter as they are.
func Unlist(s *Socket) { s.nsp.remove(s) }

// Relist puts s back in its namespace's sockets.
func Relist(s *Socket) { s.nsp.add(s) }
