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
	rn     ReceiverNamespace // nsp when it takes deliveries by Receiver, else nil
	events atomic.Pointer[RoomEvents]

	// Every socket is in its own room, named by its ID, which has the socket as its only
	// member: that membership is kept in the socket's set of rooms only, so that an idle
	// socket costs one entry in sids and no room of its own in rooms. rooms[r] never holds the
	// socket whose ID is r. A socket that is in its own room only, as most are, has a nil set.
	mu    sync.RWMutex
	rooms map[Room]*memberSet      // the members of each room, but for its own socket
	sids  map[SocketID]socketEntry // the rooms and Receiver of each socket

	memberPool sync.Pool // *[]Member
	idPool     sync.Pool // *[]SocketID
	rec        *recovery // nil without connection state recovery
}

// socketEntry is what the adapter knows of a socket.
type socketEntry struct {
	rooms *smallSet[Room] // its rooms, its own room included; nil when in its own room only
	r     Receiver        // its handle (see ReceiverNamespace), or nil
}

var _ Adapter = (*Memory)(nil)

// NewMemory returns an empty in-memory adapter serving nsp.
//
// When nsp is a ReceiverNamespace, the adapter asks it for the Receiver of each socket that
// joins its first room, and delivers broadcasts to the Receivers with DeliverTo and
// DeliverToWithAck; otherwise by ID, with Deliver and DeliverWithAck.
func NewMemory(nsp Namespace) *Memory {
	rn, _ := nsp.(ReceiverNamespace)
	return &Memory{
		nsp:   nsp,
		rn:    rn,
		rooms: make(map[Room]*memberSet),
		sids:  make(map[SocketID]socketEntry),
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

// ownerLocked returns the entry of the socket whose ID is r, and whether that socket is in
// its own room r.
func (m *Memory) ownerLocked(r Room) (socketEntry, bool) {
	e, ok := m.sids[SocketID(r)]
	return e, ok && (e.rooms == nil || e.rooms.has(r))
}

// ownerInLocked reports whether the socket whose ID is r is in its own room r.
func (m *Memory) ownerInLocked(r Room) bool {
	_, in := m.ownerLocked(r)
	return in
}

// roomsLocked returns the set of rooms of socket id, nil when the adapter does not know the
// socket. The nil set of a socket that is in its own room only is made into a set first.
func (m *Memory) roomsLocked(id SocketID) *smallSet[Room] {
	e, ok := m.sids[id]
	if !ok {
		return nil
	}
	if e.rooms == nil {
		e.rooms = &smallSet[Room]{list: []Room{Room(id)}}
		m.sids[id] = e
	}
	return e.rooms
}

// emptyLocked reports whether room r has no member.
func (m *Memory) emptyLocked(r Room) bool { return m.rooms[r] == nil && !m.ownerInLocked(r) }

// appendMembersLocked appends the members of room r to out.
func (m *Memory) appendMembersLocked(r Room, out []Member) []Member {
	if e, in := m.ownerLocked(r); in {
		out = append(out, Member{ID: SocketID(r), Receiver: e.r})
	}
	if set := m.rooms[r]; set != nil {
		out = append(out, set.list...)
	}
	return out
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
	if len(rooms) == 0 {
		return
	}
	var rcv Receiver
	if m.rn != nil {
		rcv = m.rn.Receiver(id) // asked with no lock held: the namespace takes its own
	}
	var evs []roomEvent
	tracking := m.events.Load() != nil
	m.mu.Lock()
	e, known := m.sids[id]
	if !known && len(rooms) == 1 && ownRoom(id, rooms[0]) {
		// The common case: a socket that connected joins its own room, and no other.
		r := rooms[0]
		if tracking && m.emptyLocked(r) {
			evs = append(evs, roomEvent{'c', r, ""})
		}
		m.sids[id] = socketEntry{r: rcv}
		if tracking {
			evs = append(evs, roomEvent{'j', r, id})
		}
		m.mu.Unlock()
		m.fire(evs)
		return
	}
	if known && rcv != nil && e.r != rcv {
		m.setReceiverLocked(id, e, rcv)
		e.r = rcv
	}
	if !known {
		e = socketEntry{rooms: &smallSet[Room]{list: make([]Room, 0, len(rooms))}, r: rcv}
		m.sids[id] = e
	}
	mine := m.roomsLocked(id)
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
				members = &memberSet{}
				m.rooms[r] = members
			}
			members.add(Member{ID: id, Receiver: e.r})
		}
		if tracking {
			evs = append(evs, roomEvent{'j', r, id})
		}
	}
	m.mu.Unlock()
	m.fire(evs)
}

// setReceiverLocked gives socket id, whose entry is e, the Receiver rcv, in its entry and in
// the rooms it is in.
func (m *Memory) setReceiverLocked(id SocketID, e socketEntry, rcv Receiver) {
	e.r = rcv
	m.sids[id] = e
	if e.rooms == nil {
		return
	}
	for _, r := range e.rooms.list {
		m.rooms[r].setReceiver(id, rcv)
	}
	for r := range e.rooms.m {
		m.rooms[r].setReceiver(id, rcv)
	}
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
	if e, ok := m.sids[id]; ok {
		delete(m.sids, id)
		list := []Room{Room(id)}
		if e.rooms != nil {
			list = e.rooms.appendTo(nil)
		}
		for _, r := range list {
			evs = m.leaveLocked(id, r, evs)
		}
	}
	m.mu.Unlock()
	m.fire(evs)
}

// roomRef is a room as a selection looks it up once: the socket whose ID names it, whether
// that socket is in it, and its other members.
type roomRef struct {
	owner   SocketID
	ownerIn bool
	members *memberSet // nil when it has none but its owner
}

// refLocked looks room r up.
func (m *Memory) refLocked(r Room) roomRef {
	return roomRef{owner: SocketID(r), ownerIn: m.ownerInLocked(r), members: m.rooms[r]}
}

// has reports whether socket id is in the room.
func (ref *roomRef) has(id SocketID) bool {
	if id == ref.owner {
		return ref.ownerIn
	}
	return ref.members != nil && ref.members.has(id)
}

// maxRefs is how many rooms a selection looks up without allocating.
const maxRefs = 4

// selectLocked appends the sockets sel names to ids.
func (m *Memory) selectLocked(sel *Selection, ids []Member) []Member {
	if len(sel.Rooms) == 1 && len(sel.Except) == 0 {
		return m.appendMembersLocked(sel.Rooms[0], ids) // the common case: one room, nothing to filter
	}
	// Every room of the selection is looked up once, not once per member.
	var buf [2 * maxRefs]roomRef
	refs := buf[:0]
	for _, r := range sel.Except {
		refs = append(refs, m.refLocked(r))
	}
	except := refs[:len(sel.Except):len(sel.Except)]
	excluded := func(id SocketID) bool {
		for i := range except {
			if except[i].has(id) {
				return true
			}
		}
		return false
	}
	if len(sel.Rooms) == 0 {
		for id, e := range m.sids {
			if !excluded(id) {
				ids = append(ids, Member{ID: id, Receiver: e.r})
			}
		}
		return ids
	}
	for _, r := range sel.Rooms {
		refs = append(refs, m.refLocked(r))
	}
	to := refs[len(except):]
	for i, r := range sel.Rooms {
		if slices.Contains(sel.Rooms[:i], r) { // the same room twice
			continue
		}
		if i == 0 && len(except) == 0 {
			ids = m.appendMembersLocked(r, ids) // the first room has nothing to filter
			continue
		}
		start := len(ids)
		ids = m.appendMembersLocked(r, ids)
		kept := ids[:start]
	members:
		for _, mb := range ids[start:] {
			for j := range i {
				if to[j].has(mb.ID) {
					continue members // already selected through an earlier room
				}
			}
			if !excluded(mb.ID) {
				kept = append(kept, mb)
			}
		}
		clear(ids[len(kept):])
		ids = kept
	}
	return ids
}

// poolCap is the largest capacity of a slice the adapter's pools keep.
const poolCap = 1 << 16

// selected returns the selected local sockets in a pooled slice; give it back with release.
func (m *Memory) selected(sel *Selection) *[]Member {
	p, _ := m.memberPool.Get().(*[]Member)
	if p == nil {
		p = new([]Member)
	}
	m.mu.RLock()
	*p = m.selectLocked(sel, (*p)[:0])
	m.mu.RUnlock()
	return p
}

func (m *Memory) release(p *[]Member) {
	clear(*p)
	if cap(*p) <= poolCap {
		m.memberPool.Put(p)
	}
}

// ids returns the IDs of members in a pooled slice; give it back with releaseIDs.
func (m *Memory) ids(members []Member) *[]SocketID {
	p, _ := m.idPool.Get().(*[]SocketID)
	if p == nil {
		p = new([]SocketID)
	}
	for _, mb := range members {
		*p = append(*p, mb.ID)
	}
	return p
}

func (m *Memory) releaseIDs(p *[]SocketID) {
	clear(*p)
	*p = (*p)[:0]
	if cap(*p) <= poolCap {
		m.idPool.Put(p)
	}
}

// Broadcast sends p to the selected sockets.
func (m *Memory) Broadcast(p *parser.Packet, sel Selection) error {
	if m.rec != nil {
		p = m.rec.record(p, &sel)
	}
	members := m.selected(&sel)
	switch {
	case len(*members) == 0:
	case m.rn != nil:
		m.rn.DeliverTo(p, *members, sel.Flags)
	default:
		ids := m.ids(*members)
		m.nsp.Deliver(p, *ids, sel.Flags)
		m.releaseIDs(ids)
	}
	m.release(members)
	return nil
}

// BroadcastWithAck sends p to the selected sockets and gathers their acknowledgements.
func (m *Memory) BroadcastWithAck(p *parser.Packet, sel Selection, count func(n int), ack AckFunc) error {
	members := m.selected(&sel)
	n := 0
	switch {
	case len(*members) == 0:
	case m.rn != nil:
		n = m.rn.DeliverToWithAck(p, *members, sel.Flags, ack)
	default:
		ids := m.ids(*members)
		n = m.nsp.DeliverWithAck(p, *ids, sel.Flags, ack)
		m.releaseIDs(ids)
	}
	m.release(members)
	count(n)
	return nil
}

// Sockets returns the IDs of the sockets in any of rooms, or of every socket when rooms is empty.
func (m *Memory) Sockets(rooms ...Room) []SocketID {
	members := m.selected(&Selection{Rooms: rooms})
	defer m.release(members)
	if len(*members) == 0 {
		return nil
	}
	out := make([]SocketID, len(*members))
	for i, mb := range *members {
		out[i] = mb.ID
	}
	return out
}

// SocketRooms returns the rooms of socket id.
func (m *Memory) SocketRooms(id SocketID) []Room {
	m.mu.RLock()
	defer m.mu.RUnlock()
	e, ok := m.sids[id]
	if !ok {
		return nil
	}
	if e.rooms == nil {
		return []Room{Room(id)}
	}
	if e.rooms.len() == 0 {
		return nil
	}
	return e.rooms.appendTo(make([]Room, 0, e.rooms.len()))
}

// FetchSockets describes the selected sockets.
func (m *Memory) FetchSockets(_ context.Context, sel Selection) ([]sockets.Info, error) {
	members := m.selected(&sel)
	defer m.release(members)
	out := make([]sockets.Info, 0, len(*members))
	for _, mb := range *members {
		if info, ok := m.nsp.SocketInfo(mb.ID); ok {
			out = append(out, info)
		}
	}
	return out, nil
}

// AddSockets makes the selected sockets join rooms.
func (m *Memory) AddSockets(_ context.Context, sel Selection, rooms ...Room) error {
	members := m.selected(&sel)
	defer m.release(members)
	for _, mb := range *members {
		m.AddAll(mb.ID, rooms...)
	}
	return nil
}

// DelSockets makes the selected sockets leave rooms.
func (m *Memory) DelSockets(_ context.Context, sel Selection, rooms ...Room) error {
	members := m.selected(&sel)
	defer m.release(members)
	for _, mb := range *members {
		for _, r := range rooms {
			m.Del(mb.ID, r)
		}
	}
	return nil
}

// DisconnectSockets disconnects the selected sockets.
func (m *Memory) DisconnectSockets(_ context.Context, sel Selection, closeConn bool) error {
	members := m.selected(&sel)
	list := make([]SocketID, len(*members))
	for i, mb := range *members {
		list[i] = mb.ID
	}
	m.release(members)
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
	m.rooms = make(map[Room]*memberSet)
	m.sids = make(map[SocketID]socketEntry)
	return nil
}
