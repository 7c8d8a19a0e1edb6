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

	// Every socket is in its own room, named by its ID, which has the socket as its only
	// member: that membership is kept in the socket's set of rooms only, so that an idle
	// socket costs one entry in sids and no room of its own in rooms. rooms[r] never holds the
	// socket whose ID is r. A socket that is in its own room only, as most are, has a nil set.
	mu    sync.RWMutex
	rooms map[Room]*smallSet[SocketID] // the members of each room, but for its own socket
	sids  map[SocketID]*smallSet[Room] // the rooms of each socket, its own room included

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

// ownRoom reports whether r is the own room of socket id.
func ownRoom(id SocketID, r Room) bool { return string(id) == string(r) }

// ownerInLocked reports whether the socket whose ID is r is in its own room r.
func (m *Memory) ownerInLocked(r Room) bool {
	mine, ok := m.sids[SocketID(r)]
	return ok && (mine == nil || mine.has(r))
}

// roomsLocked returns the set of rooms of socket id, nil when the adapter does not know the
// socket. The nil set of a socket that is in its own room only is made into a set first.
func (m *Memory) roomsLocked(id SocketID) *smallSet[Room] {
	mine, ok := m.sids[id]
	if ok && mine == nil {
		mine = &smallSet[Room]{list: []Room{Room(id)}}
		m.sids[id] = mine
	}
	return mine
}

// inRoomLocked reports whether socket id is in room r.
func (m *Memory) inRoomLocked(id SocketID, r Room) bool {
	if ownRoom(id, r) {
		return m.ownerInLocked(r)
	}
	set := m.rooms[r]
	return set != nil && set.has(id)
}

// emptyLocked reports whether room r has no member.
func (m *Memory) emptyLocked(r Room) bool { return m.rooms[r] == nil && !m.ownerInLocked(r) }

// appendMembersLocked appends the members of room r to ids.
func (m *Memory) appendMembersLocked(r Room, ids []SocketID) []SocketID {
	if m.ownerInLocked(r) {
		ids = append(ids, SocketID(r))
	}
	if set := m.rooms[r]; set != nil {
		ids = set.appendTo(ids)
	}
	return ids
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
	if _, known := m.sids[id]; !known && len(rooms) == 1 && ownRoom(id, rooms[0]) {
		// The common case: a socket that connected joins its own room, and no other.
		r := rooms[0]
		if tracking && m.emptyLocked(r) {
			evs = append(evs, roomEvent{'c', r, ""})
		}
		m.sids[id] = nil
		if tracking {
			evs = append(evs, roomEvent{'j', r, id})
		}
		m.mu.Unlock()
		m.fire(evs)
		return
	}
	mine := m.roomsLocked(id)
	if mine == nil {
		mine = &smallSet[Room]{list: make([]Room, 0, len(rooms))}
		m.sids[id] = mine
	}
	for _, r := range rooms {
		if tracking && !mine.has(r) && m.emptyLocked(r) {
			evs = append(evs, roomEvent{'c', r, ""})
		}
		if !mine.add(r) {
			continue
		}
		if !ownRoom(id, r) {
			members := m.rooms[r]
			if members == nil {
				members = &smallSet[SocketID]{}
				m.rooms[r] = members
			}
			members.add(id)
		}
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
	if mine := m.roomsLocked(id); mine == nil || !mine.del(room) {
		return evs // not a member
	}
	return m.leaveLocked(id, room, evs)
}

// leaveLocked takes socket id, a member of room, out of the members of room; the caller took
// room out of the socket's own list of rooms before.
func (m *Memory) leaveLocked(id SocketID, room Room, evs []roomEvent) []roomEvent {
	if !ownRoom(id, room) {
		members, ok := m.rooms[room]
		if !ok || !members.del(id) {
			return evs
		}
		if members.len() == 0 {
			delete(m.rooms, room)
		}
	}
	if m.events.Load() != nil {
		evs = append(evs, roomEvent{'l', room, id})
		if m.emptyLocked(room) {
			evs = append(evs, roomEvent{'d', room, ""})
		}
	}
	return evs
}

// DelAll takes socket id out of every room.
func (m *Memory) DelAll(id SocketID) {
	var evs []roomEvent
	m.mu.Lock()
	if mine, ok := m.sids[id]; ok {
		delete(m.sids, id)
		list := []Room{Room(id)}
		if mine != nil {
			list = mine.appendTo(nil)
		}
		for _, r := range list {
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
			if m.inRoomLocked(id, r) {
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
		if slices.Contains(sel.Rooms[:i], r) { // the same room twice
			continue
		}
		if i == 0 && len(sel.Except) == 0 {
			ids = m.appendMembersLocked(r, ids) // the common case: one room, nothing to filter
			continue
		}
		start := len(ids)
		ids = m.appendMembersLocked(r, ids)
		kept := ids[:start]
	members:
		for _, id := range ids[start:] {
			for _, earlier := range sel.Rooms[:i] {
				if m.inRoomLocked(id, earlier) {
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
	mine, ok := m.sids[id]
	if ok && mine == nil {
		return []Room{Room(id)}
	}
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
