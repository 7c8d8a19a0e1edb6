package redisadapter

import "github.com/echo-socketio/echo-socketio/rooms"

// The optional adapter capabilities both adapters have.
var (
	_ rooms.ReadyWaiter      = (*Adapter)(nil)
	_ rooms.RoomEventsSetter = (*Adapter)(nil)
	_ rooms.ReadyWaiter      = (*ShardedAdapter)(nil)
	_ rooms.RoomEventsSetter = (*ShardedAdapter)(nil)
)
