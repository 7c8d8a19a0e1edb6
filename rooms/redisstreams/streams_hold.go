package redisstreams

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// A restored socket gets the broadcasts it missed from RestoreSession, which reads the stream
// up to the entry the adapter's reader has handled; the broadcasts after that entry reach the
// socket once it is in its rooms again. Between the two, the adapter holds back, for the
// socket, the broadcasts that select its rooms, and delivers them when the socket joins
// (AddAll): every broadcast then reaches the recovered socket once, in the order of the
// stream, whichever server sent it.

// holdTTL is how long the broadcasts held for a restored socket wait for it to join its rooms;
// a socket that never joins (its connection failed meanwhile) is forgotten after it.
const holdTTL = time.Minute

// held is what the adapter holds back for a restored socket.
type held struct {
	rooms []rooms.Room
	after entryID // the entries after this one are held; RestoreSession read the others
	since time.Time
	pkts  []*parser.Packet
	over  bool // more than MaxMissedPackets came: the rest were dropped
}

// entryID is a stream entry ID, <ms>-<seq>.
type entryID struct{ ms, seq uint64 }

func parseEntryID(s string) (entryID, bool) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return entryID{}, false
	}
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	return entryID{ms, seq}, err1 == nil && err2 == nil
}

func (e entryID) less(o entryID) bool { return e.ms < o.ms || (e.ms == o.ms && e.seq < o.seq) }

// holdLocked starts holding back the broadcasts for the restored socket sid in socketRooms after
// the later of offset (the client's) and the reader's position, which it returns: the end of
// what RestoreSession reads. a.streamMu is held.
func (a *Adapter) holdLocked(sid rooms.SocketID, socketRooms []rooms.Room, offset entryID) entryID {
	after := a.readPos
	if after.less(offset) {
		after = offset
	}
	a.holdsMu.Lock()
	defer a.holdsMu.Unlock()
	if a.holds == nil {
		a.holds = map[rooms.SocketID]*held{}
	}
	a.holds[sid] = &held{rooms: socketRooms, after: after, since: time.Now()}
	return a.readPos
}

func (e entryID) String() string {
	return strconv.FormatUint(e.ms, 10) + "-" + strconv.FormatUint(e.seq, 10)
}

// dropHold stops holding for sid. It does not wait for streamMu, so that a socket can leave
// while a broadcast is delivered.
func (a *Adapter) dropHold(sid rooms.SocketID) {
	a.holdsMu.Lock()
	delete(a.holds, sid)
	a.holdsMu.Unlock()
}

// holdLockedFor keeps p, the broadcast to sel of stream entry id, for the restored sockets
// that it selects. a.streamMu is held.
func (a *Adapter) holdLockedFor(p *parser.Packet, sel *rooms.Selection, id string) {
	a.holdsMu.Lock()
	defer a.holdsMu.Unlock()
	if len(a.holds) == 0 || !a.takesOffset(p, sel) {
		return
	}
	e, ok := parseEntryID(id)
	if !ok {
		return
	}
	now := time.Now()
	var q *parser.Packet
	for sid, h := range a.holds {
		if now.Sub(h.since) > holdTTL {
			delete(a.holds, sid)
			continue
		}
		if !h.after.less(e) || !sel.Selects(h.rooms) {
			continue
		}
		if len(h.pkts) == a.opts.MaxMissedPackets {
			h.over = true
			continue
		}
		if q == nil {
			q = withOffset(p, id)
		}
		h.pkts = append(h.pkts, q)
	}
}

// AddAll puts the local socket id in rooms. A socket restored by RestoreSession gets the
// broadcasts held back for it first.
func (a *Adapter) AddAll(id rooms.SocketID, r ...rooms.Room) {
	a.streamMu.Lock()
	defer a.streamMu.Unlock()
	a.holdsMu.Lock()
	h := a.holds[id]
	delete(a.holds, id)
	a.holdsMu.Unlock()
	a.node.Local.AddAll(id, r...)
	a.touch(id)
	if h == nil {
		return
	}
	if h.over {
		a.node.Report(fmt.Errorf("redisstreams: socket %s missed more than %d broadcasts while it recovered; the rest were dropped", id, a.opts.MaxMissedPackets))
	}
	ids := []rooms.SocketID{id}
	for _, p := range h.pkts {
		a.node.Namespace.Deliver(p, ids, rooms.Flags{})
	}
}

// DelAll takes the local socket id out of every room. The session kept for it
// (KeepSession) is deleted, unless PersistSession kept it for recovery.
func (a *Adapter) DelAll(id rooms.SocketID) {
	a.release(id, true)
	a.dropHold(id)
	a.node.Local.DelAll(id)
}
