package rooms

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
)

// Memory is the in-memory adapter of a single server, the default.
type Memory struct {
	nsp    Namespace
	events atomic.Pointer[RoomEvents]

	mu    sync.RWMutex
	rooms map[Room]*smallSet[SocketID] // the members of each room
	sids  map[SocketID]*smallSet[Room] // the rooms of each socket

	idPool sync.Pool // *[]SocketID
	rec    *recovery // nil without connection state recovery
}

var _ Adapter = (*Memory)(nil)

// NewMemory returns an empty in-memory adapter serving nsp.
func NewMemory(nsp Namespace) *Memory {
	return &Memory{
		nsp:   nsp,
		rooms: make(map[Room]*smallSet[SocketID]),
		sids:  make(map[SocketID]*smallSet[Room]),
	}
}

// MemoryFactory is the Factory of the in-memory adapter.
func MemoryFactory(nsp Namespace) Adapter { return NewMemory(nsp) }

// SetRoomEvents sets the hooks of the rooms' lives.
func (m *Memory) SetRoomEvents(ev RoomEvents) { m.events.Store(&ev) }

type roomEvent struct {
	kind byte // 'c'reate, 'j'oin, 'l'eave, 'd'elete
	room Room
	id   SocketID
}

func (m *Memory) fire(evs []roomEvent) {
	hooks := m.events.Load()
	if hooks == nil {
		return
	}
	for _, e := range evs {
		switch {
		case e.kind == 'c' && hooks.Create != nil:
			hooks.Create(e.room)
		case e.kind == 'j' && hooks.Join != nil:
			hooks.Join(e.room, e.id)
		case e.kind == 'l' && hooks.Leave != nil:
			hooks.Leave(e.room, e.id)
		case e.kind == 'd' && hooks.Delete != nil:
			hooks.Delete(e.room)
		}
	}
}

// AddAll puts socket id in rooms.
func (m *Memory) AddAll(id SocketID, rooms ...Room) {
	var evs []roomEvent
	tracking := m.events.Load() != nil
	m.mu.Lock()
	mine := m.sids[id]
	if mine == nil {
		mine = &smallSet[Room]{list: make([]Room, 0, len(rooms))}
		m.sids[id] = mine
	}
	for _, r := range rooms {
		if !mine.add(r) {
			continue
		}
		members := m.rooms[r]
		if members == nil {
			members = &smallSet[SocketID]{}
			m.rooms[r] = members
			if tracking {
				evs = append(evs, roomEvent{'c', r, ""})
			}
		}
		members.add(id)
		if tracking {
			evs = append(evs, roomEvent{'j', r, id})
		}
	}
	m.mu.Unlock()
	m.fire(evs)
}

// Del takes socket id out of room.
func (m *Memory) Del(id SocketID, room Room) {
	m.mu.Lock()
	evs := m.delLocked(id, room, nil)
	m.mu.Unlock()
	m.fire(evs)
}

func (m *Memory) delLocked(id SocketID, room Room, evs []roomEvent) []roomEvent {
	if mine := m.sids[id]; mine != nil {
		mine.del(room)
	}
	return m.leaveLocked(id, room, evs)
}

// leaveLocked takes socket id out of the members of room, leaving the socket's own list of
// rooms as it is.
func (m *Memory) leaveLocked(id SocketID, room Room, evs []roomEvent) []roomEvent {
	tracking := m.events.Load() != nil
	members, ok := m.rooms[room]
	if !ok || !members.del(id) {
		return evs
	}
	if tracking {
		evs = append(evs, roomEvent{'l', room, id})
	}
	if members.len() == 0 {
		delete(m.rooms, room)
		if tracking {
			evs = append(evs, roomEvent{'d', room, ""})
		}
	}
	return evs
}

// DelAll takes socket id out of every room.
func (m *Memory) DelAll(id SocketID) {
	var evs []roomEvent
	m.mu.Lock()
	if mine := m.sids[id]; mine != nil {
		delete(m.sids, id)
		for _, r := range mine.appendTo(nil) {
			evs = m.leaveLocked(id, r, evs)
		}
	}
	m.mu.Unlock()
	m.fire(evs)
}

// selectLocked appends the IDs of the sockets sel names to ids.
func (m *Memory) selectLocked(sel *Selection, ids []SocketID) []SocketID {
	excluded := func(id SocketID) bool {
		for _, r := range sel.Except {
			if set := m.rooms[r]; set != nil && set.has(id) {
				return true
			}
		}
		return false
	}
	if len(sel.Rooms) == 0 {
		for id := range m.sids {
			if !excluded(id) {
				ids = append(ids, id)
			}
		}
		return ids
	}
	for i, r := range sel.Rooms {
		set := m.rooms[r]
		if set == nil || slices.Contains(sel.Rooms[:i], r) { // no such room, or the same room twice
			continue
		}
		if i == 0 && len(sel.Except) == 0 {
			ids = set.appendTo(ids) // the common case: one room, nothing to filter
			continue
		}
		start := len(ids)
		ids = set.appendTo(ids)
		kept := ids[:start]
	members:
		for _, id := range ids[start:] {
			for _, earlier := range sel.Rooms[:i] {
				if e := m.rooms[earlier]; e != nil && e.has(id) {
					continue members // already selected through an earlier room
				}
			}
			if !excluded(id) {
				kept = append(kept, id)
			}
		}
		clear(ids[len(kept):])
		ids = kept
	}
	return ids
}

// selected returns the selected local sockets in a pooled slice; give it back with release.
func (m *Memory) selected(sel *Selection) *[]SocketID {
	p, _ := m.idPool.Get().(*[]SocketID)
	if p == nil {
		p = new([]SocketID)
	}
	m.mu.RLock()
	*p = m.selectLocked(sel, (*p)[:0])
	m.mu.RUnlock()
	return p
}

func (m *Memory) release(p *[]SocketID) {
	clear(*p)
	if cap(*p) <= 1<<16 {
		m.idPool.Put(p)
	}
}

// Broadcast sends p to the selected sockets.
func (m *Memory) Broadcast(p *parser.Packet, sel Selection) error {
	if m.rec != nil {
		p = m.rec.record(p, &sel)
	}
	ids := m.selected(&sel)
	if len(*ids) > 0 {
		m.nsp.Deliver(p, *ids, sel.Flags)
	}
	m.release(ids)
	return nil
}

// BroadcastWithAck sends p to the selected sockets and gathers their acknowledgements.
func (m *Memory) BroadcastWithAck(p *parser.Packet, sel Selection, count func(n int), ack AckFunc) error {
	ids := m.selected(&sel)
	n := 0
	if len(*ids) > 0 {
		n = m.nsp.DeliverWithAck(p, *ids, sel.Flags, ack)
	}
	m.release(ids)
	count(n)
	return nil
}

// Sockets returns the IDs of the sockets in any of rooms, or of every socket when rooms is empty.
func (m *Memory) Sockets(rooms ...Room) []SocketID {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.selectLocked(&Selection{Rooms: rooms}, nil)
}

// SocketRooms returns the rooms of socket id.
func (m *Memory) SocketRooms(id SocketID) []Room {
	m.mu.RLock()
	defer m.mu.RUnlock()
	mine := m.sids[id]
	if mine == nil || mine.len() == 0 {
		return nil
	}
	return mine.appendTo(make([]Room, 0, mine.len()))
}

// FetchSockets describes the selected sockets.
func (m *Memory) FetchSockets(_ context.Context, sel Selection) ([]sockets.Info, error) {
	ids := m.selected(&sel)
	defer m.release(ids)
	out := make([]sockets.Info, 0, len(*ids))
	for _, id := range *ids {
		if info, ok := m.nsp.SocketInfo(id); ok {
			out = append(out, info)
		}
	}
	return out, nil
}

// AddSockets makes the selected sockets join rooms.
func (m *Memory) AddSockets(_ context.Context, sel Selection, rooms ...Room) error {
	ids := m.selected(&sel)
	defer m.release(ids)
	for _, id := range *ids {
		m.AddAll(id, rooms...)
	}
	return nil
}

// DelSockets makes the selected sockets leave rooms.
func (m *Memory) DelSockets(_ context.Context, sel Selection, rooms ...Room) error {
	ids := m.selected(&sel)
	defer m.release(ids)
	for _, id := range *ids {
		for _, r := range rooms {
			m.Del(id, r)
		}
	}
	return nil
}

// DisconnectSockets disconnects the selected sockets.
func (m *Memory) DisconnectSockets(_ context.Context, sel Selection, closeConn bool) error {
	ids := m.selected(&sel)
	list := append([]SocketID(nil), *ids...)
	m.release(ids)
	for _, id := range list {
		m.nsp.Disconnect(id, closeConn)
	}
	return nil
}

// ServerSideEmit has no other server to send to: it returns ErrNoCluster.
func (m *Memory) ServerSideEmit(context.Context, string, parser.Args, bool) ([]parser.Args, error) {
	return nil, ErrNoCluster
}

// ServerCount returns 1.
func (m *Memory) ServerCount(context.Context) (int, error) { return 1, nil }

// Close forgets every room.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rooms = make(map[Room]*smallSet[SocketID])
	m.sids = make(map[SocketID]*smallSet[Room])
	return nil
}
