package socketio

import (
	"errors"
	"log/slog"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/rooms"
)

// Observer receives the events of a server, for metrics and monitoring tools such as the
// admin and metrics packages. Every field is optional. The functions run synchronously, on
// the goroutine where the event happened and with no lock of the server held: they must be
// quick, and may emit (an emit only queues). The events of the Engine.IO sessions under the
// server are observed with Engine().Observe.
type Observer struct {
	// SocketConnected runs when socket s connected to its namespace, before the connection
	// hooks.
	SocketConnected func(s *Socket)
	// SocketDisconnected runs once when socket s left its namespace, after it left its rooms
	// and before the disconnect hooks.
	SocketDisconnected func(s *Socket, reason DisconnectReason)
	// RoomJoined runs when the local socket id joined room of namespace nsp.
	RoomJoined func(nsp, room, id string)
	// RoomLeft runs when the local socket id left room of namespace nsp.
	RoomLeft func(nsp, room, id string)
	// DataChanged runs after Set stored key in socket s; s.Data returns the socket's data.
	DataChanged func(s *Socket, key string)
	// EventReceived runs for every event a client sent to socket s, before the packet
	// middlewares.
	EventReceived func(s *Socket, event string, args Args)
	// EventSent runs for every event emitted to one socket with its Emit methods.
	EventSent func(s *Socket, event string, args []any)
	// BroadcastDelivered runs once per broadcast packet delivered to the local sockets of
	// namespace nsp, with the number of sockets it was queued for.
	BroadcastDelivered func(nsp string, sockets int)
	// SlowConsumer runs when a packet for session conn in namespace nsp did not fit in its send
	// queue: a volatile packet was dropped, any other closed the session.
	SlowConsumer func(conn EngineConn, nsp string, volatile bool)
	// AckReceived runs for every acknowledgement a client sent for an emit with an ack.
	AckReceived func(nsp string)
	// AckTimedOut runs when acknowledgements of an emit did not arrive in time, with how many
	// were missing.
	AckTimedOut func(nsp string, missing int)
	// AdapterRequest runs after a request to namespace nsp's adapter that may reach other
	// servers (op is "broadcast", "broadcastWithAck", "fetchSockets", "addSockets",
	// "delSockets", "disconnectSockets" or "serverSideEmit"), with its duration and error.
	AdapterRequest func(nsp, op string, d time.Duration, err error)
}

// Observe adds an observer of the server. Observers cost nothing until one is added. Add them
// before the server handles requests; every observer added gets every event.
func (s *Server) Observe(o Observer) {
	s.obsMu.Lock()
	var all []Observer
	if cur := s.observers.Load(); cur != nil {
		all = append(all, *cur...)
	}
	all = append(all, o)
	s.observers.Store(&all)
	s.obsMu.Unlock()
	if o.RoomJoined != nil || o.RoomLeft != nil {
		for _, n := range s.Namespaces() {
			n.installRoomEvents()
		}
	}
}

// observed returns the observers, or nil when there are none.
func (s *Server) observed() []Observer {
	if p := s.observers.Load(); p != nil {
		return *p
	}
	return nil
}

// watchesRooms reports whether an observer wants the events of rooms.
func (s *Server) watchesRooms() bool {
	for _, o := range s.observed() {
		if o.RoomJoined != nil || o.RoomLeft != nil {
			return true
		}
	}
	return false
}

// installRoomEvents gives the adapter the room hooks of the application (OnRoomEvents) and
// of the observers, when there are any.
func (n *Namespace) installRoomEvents() {
	a, ok := n.adapter.(rooms.RoomEventsSetter)
	if !ok {
		return
	}
	user := n.roomEvents.Load()
	if !n.server.watchesRooms() {
		if user != nil {
			a.SetRoomEvents(*user)
		}
		return
	}
	ev := rooms.RoomEvents{
		Create: func(r rooms.Room) {
			if u := n.roomEvents.Load(); u != nil && u.Create != nil {
				u.Create(r)
			}
		},
		Join: func(r rooms.Room, id rooms.SocketID) {
			if u := n.roomEvents.Load(); u != nil && u.Join != nil {
				u.Join(r, id)
			}
			for _, o := range n.server.observed() {
				if o.RoomJoined != nil {
					o.RoomJoined(n.name, string(r), string(id))
				}
			}
		},
		Leave: func(r rooms.Room, id rooms.SocketID) {
			if u := n.roomEvents.Load(); u != nil && u.Leave != nil {
				u.Leave(r, id)
			}
			for _, o := range n.server.observed() {
				if o.RoomLeft != nil {
					o.RoomLeft(n.name, string(r), string(id))
				}
			}
		},
		Delete: func(r rooms.Room) {
			if u := n.roomEvents.Load(); u != nil && u.Delete != nil {
				u.Delete(r)
			}
		},
	}
	a.SetRoomEvents(ev)
}

// dataChanged reports that Set stored key in socket sock.
func (s *Server) dataChanged(sock *Socket, key string) {
	for _, o := range s.observed() {
		if o.DataChanged != nil {
			o.DataChanged(sock, key)
		}
	}
}

// slowConsumer reports a packet for conn that did not fit in its send queue.
func (s *Server) slowConsumer(conn *engineio.Conn, nsp string, volatile bool) {
	if volatile {
		s.logger.Debug("volatile packet dropped", slog.String("sid", conn.ID()), slog.String("namespace", nsp))
	} else {
		s.logger.Warn("slow consumer disconnected", slog.String("sid", conn.ID()), slog.String("namespace", nsp))
	}
	for _, o := range s.observed() {
		if o.SlowConsumer != nil {
			o.SlowConsumer(conn, nsp, volatile)
		}
	}
}

// adapterDone reports the end of an adapter request that started at start (zero when no
// observer was there to time it).
func (n *Namespace) adapterDone(op string, start time.Time, err error) {
	if err != nil {
		n.server.logger.Error("adapter error", slog.String("namespace", n.name), slog.String("op", op), slog.Any("error", err))
	}
	obs := n.server.observed()
	if obs == nil {
		return
	}
	var d time.Duration
	if !start.IsZero() {
		d = time.Since(start)
	}
	for _, o := range obs {
		if o.AdapterRequest != nil {
			o.AdapterRequest(n.name, op, d, err)
		}
	}
}

// adapterStart returns the start time of an adapter request, when an observer times it.
func (n *Namespace) adapterStart() time.Time {
	if n.server.observers.Load() == nil {
		return time.Time{}
	}
	return time.Now()
}

func (s *Server) ackTimedOut(nsp string, missing int) {
	for _, o := range s.observed() {
		if o.AckTimedOut != nil {
			o.AckTimedOut(nsp, missing)
		}
	}
}

// ignoreNoCluster hides rooms.ErrNoCluster, which is no failure of the adapter.
func ignoreNoCluster(err error) error {
	if errors.Is(err, rooms.ErrNoCluster) {
		return nil
	}
	return err
}
