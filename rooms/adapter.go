// Package rooms is the adapter of a Socket.IO namespace: it knows which socket is in which
// room, and delivers broadcasts to the sockets a selection names.
//
// The adapter works with socket IDs and room names, never with socket objects, so that a
// cluster adapter (Redis, say) can implement the same interface and reach sockets on other
// servers. The namespace it serves is the Namespace interface; package socketio implements
// it. Memory is the default, single-server adapter. A namespace that is a ReceiverNamespace,
// as package socketio's are, also gives Memory an opaque handle (a Receiver) per local socket,
// which Memory hands back with the members of a broadcast so that the namespace reaches them
// without a lookup by ID.
package rooms

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
)

// SocketID is the ID of a socket: random, unique, and the name of the socket's own room. It
// is the type of package sockets, which package socketio shares.
type SocketID = sockets.ID

// Room is the name of a room. It is the type of package sockets, which package socketio
// shares.
type Room = sockets.Room

// Flags modify a broadcast.
type Flags struct {
	// Volatile packets may be dropped when a receiver cannot take them now.
	Volatile bool
	// Compress asks for compression when the transport supports it.
	Compress bool
	// Local limits the broadcast to this server in a cluster.
	Local bool
	// Timeout bounds the wait for acknowledgements of a broadcast with acks, and of the
	// answers of other servers in a cluster.
	Timeout time.Duration
}

// Selection names sockets: those in any of Rooms (every socket of the namespace when Rooms is
// empty), less those in any of Except. A socket is selected once however many of the rooms
// it is in.
type Selection struct {
	// Rooms are the rooms whose sockets are selected; empty selects every socket.
	Rooms []Room
	// Except are the rooms whose sockets are left out.
	Except []Room
	// Flags modify the broadcast.
	Flags Flags
}

// Selects reports whether a socket that is in socketRooms is selected: in one of Rooms (or
// Rooms is empty) and in none of Except.
func (s *Selection) Selects(socketRooms []Room) bool {
	in := len(s.Rooms) == 0
	for _, r := range socketRooms {
		if slices.Contains(s.Except, r) {
			return false
		}
		if !in && slices.Contains(s.Rooms, r) {
			in = true
		}
	}
	return in
}

// Handshake is the handshake of a socket.
//
// Deprecated: the type moved to package sockets, which adapters and package socketio share;
// write sockets.Handshake, or socketio.Handshake in an application. The alias will be removed
// in the next minor version.
type Handshake = sockets.Handshake

// SocketInfo describes a socket for FetchSockets.
//
// Deprecated: the type moved to package sockets; write sockets.Info. The alias will be removed
// in the next minor version.
type SocketInfo = sockets.Info

// AckFunc receives one acknowledgement of a broadcast with acks: the socket that answered
// and the arguments of its answer, binary values kept.
type AckFunc func(id SocketID, args parser.Args)

// Namespace is the local side of an adapter: the namespace whose sockets the adapter serves.
// Its methods are called without adapter locks held, and may call back into the adapter.
type Namespace interface {
	// Name returns the namespace's name, such as "/" or "/admin".
	Name() string
	// Deliver sends p to the local sockets ids, encoding it once for all of them. It must
	// not block on a slow socket, and must not keep ids after it returns.
	Deliver(p *parser.Packet, ids []SocketID, flags Flags)
	// DeliverWithAck sends p (whose ID is set) to the local sockets ids and runs ack for each
	// answer until flags.Timeout. It returns how many sockets it was sent to.
	DeliverWithAck(p *parser.Packet, ids []SocketID, flags Flags, ack AckFunc) int
	// SocketInfo describes a local socket; ok is false when there is none with that ID.
	SocketInfo(id SocketID) (info sockets.Info, ok bool)
	// Disconnect disconnects the local socket id from the namespace, and closes its whole
	// connection when closeConn is true.
	Disconnect(id SocketID, closeConn bool)
	// ServerSideEmit delivers an event sent by another server of the cluster to the
	// namespace's server-side listeners. ack, when not nil, answers the sender.
	ServerSideEmit(event string, args parser.Args, ack func(args parser.Args))
}

// Receiver is the handle a namespace registers with an adapter for one of its local sockets
// (see ReceiverNamespace). The adapter keeps it with the socket's memberships and gives it
// back with the members a broadcast selects, so that the namespace reaches each receiver
// without looking its ID up. Its dynamic type must be comparable: a pointer, typically.
type Receiver interface {
	// ReceiverID returns the ID of the socket.
	ReceiverID() SocketID
}

// Member is a local socket a broadcast selected: its ID, and the Receiver its namespace
// registered for it, or nil when there is none.
type Member struct {
	// ID is the socket's ID.
	ID SocketID
	// Receiver is the socket's handle, or nil.
	Receiver Receiver
}

// ReceiverNamespace is a Namespace that registers a Receiver for each of its local sockets and
// takes deliveries by Receiver; package socketio's namespaces are. The in-memory adapter (and
// the Redis adapters, which keep their local rooms in one) asks for a socket's Receiver when
// the socket joins its first room, and delivers to the selected members with DeliverTo and
// DeliverToWithAck instead of Deliver and DeliverWithAck. Other adapters keep using the
// methods of Namespace.
type ReceiverNamespace interface {
	Namespace
	// Receiver returns the Receiver of the local socket id, or nil when the namespace has no
	// such socket. The adapter calls it with none of its locks held.
	Receiver(id SocketID) Receiver
	// DeliverTo is Deliver to members: a member without a Receiver is looked up by its ID.
	// It must not keep members after it returns.
	DeliverTo(p *parser.Packet, members []Member, flags Flags)
	// DeliverToWithAck is DeliverWithAck to members. It returns how many sockets p was sent
	// to.
	DeliverToWithAck(p *parser.Packet, members []Member, flags Flags, ack AckFunc) int
}

// Adapter keeps the rooms of one namespace and broadcasts to them. Implementations are safe for
// concurrent use.
type Adapter interface {
	// AddAll puts socket id in rooms.
	AddAll(id SocketID, rooms ...Room)
	// Del takes socket id out of room.
	Del(id SocketID, room Room)
	// DelAll takes socket id out of every room, as when it disconnects.
	DelAll(id SocketID)
	// Broadcast sends p to the selected sockets.
	Broadcast(p *parser.Packet, sel Selection) error
	// BroadcastWithAck sends p to the selected sockets, tells count how many sockets it was
	// sent to (on every server), and runs ack for each answer until sel.Flags.Timeout.
	BroadcastWithAck(p *parser.Packet, sel Selection, count func(n int), ack AckFunc) error
	// Sockets returns the IDs of the local sockets in any of rooms (all when rooms is empty).
	Sockets(rooms ...Room) []SocketID
	// SocketRooms returns the rooms of the local socket id, or nil when it has none.
	SocketRooms(id SocketID) []Room
	// FetchSockets describes the selected sockets, on every server unless sel.Flags.Local.
	FetchSockets(ctx context.Context, sel Selection) ([]sockets.Info, error)
	// AddSockets makes the selected sockets join rooms.
	AddSockets(ctx context.Context, sel Selection, rooms ...Room) error
	// DelSockets makes the selected sockets leave rooms.
	DelSockets(ctx context.Context, sel Selection, rooms ...Room) error
	// DisconnectSockets disconnects the selected sockets; closeConn closes their whole
	// connections.
	DisconnectSockets(ctx context.Context, sel Selection, closeConn bool) error
	// ServerSideEmit sends an event to the other servers of the cluster. With ack, it returns
	// their answers, gathered until ctx ends. Adapters keep the binary values of args and
	// answers where their wire format allows.
	ServerSideEmit(ctx context.Context, event string, args parser.Args, withAck bool) ([]parser.Args, error)
	// ServerCount returns the number of servers in the cluster, this one included.
	ServerCount(ctx context.Context) (int, error)
	// Close releases the adapter's resources.
	Close() error
}

// Factory creates the adapter of a namespace. socketio.Options takes one.
type Factory func(nsp Namespace) Adapter

// ErrNoCluster is returned by ServerSideEmit on an adapter that serves a single server: there
// is no other server to send to.
var ErrNoCluster = errors.New("rooms: no other server (single-server adapter)")

// RoomEvents are the hooks of a room's life, like the official adapter's create-room,
// join-room, leave-room and delete-room events. Each may be nil. They run synchronously
// with no adapter lock held, so they may call the adapter.
type RoomEvents struct {
	// Create runs when a room gets its first member.
	Create func(room Room)
	// Join runs when socket id joined room (after Create for a new room).
	Join func(room Room, id SocketID)
	// Leave runs when socket id left room (before Delete for a room left empty).
	Leave func(room Room, id SocketID)
	// Delete runs when a room lost its last member.
	Delete func(room Room)
}
