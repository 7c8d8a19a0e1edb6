package rooms

import (
	"strconv"
	"sync"
	"time"

	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
)

// Connection state recovery: an adapter that implements SessionStore keeps the sessions of
// sockets that lost their connection and a log of the broadcasts, so that a client that comes
// back in time gets its socket ID, rooms and data back, and the broadcasts it missed.

// Session is the state of a disconnected socket kept for recovery.
//
// Deprecated: the type moved to package sockets; write sockets.Session. The alias will be
// removed in the next minor version.
type Session = sockets.Session

// SessionStore is implemented by adapters that support connection state recovery. The server
// uses it when recovery is on; an adapter without it turns recovery off.
type SessionStore interface {
	// PersistSession keeps the session of a socket that lost its connection.
	PersistSession(s sockets.Session)
	// RestoreSession takes back the session pid, if it has not expired, with the broadcasts
	// it missed after offset (their packets, in order). ok is false when the session or the
	// offset is unknown, expired or evicted: the client then starts afresh.
	RestoreSession(pid, offset string) (s sockets.Session, missed []*parser.Packet, ok bool)
}

// SessionKeeper is implemented by session stores that also keep the sessions of connected
// sockets, so that a client can recover even when its server dies without a chance to call
// PersistSession (a cluster adapter whose store outlives the server). The server calls
// KeepSession once a socket connected and is in its rooms; the store follows the socket's
// rooms from then on, and stops keeping the session when the socket leaves all its rooms
// (DelAll), unless PersistSession kept it first.
type SessionKeeper interface {
	KeepSession(s sockets.Session)
}

// RecoveryOptions bounds what an adapter keeps for connection state recovery.
type RecoveryOptions struct {
	// MaxDisconnectionDuration is how long a session and the broadcasts are kept. Default
	// 2 minutes.
	MaxDisconnectionDuration time.Duration
	// MaxSessions bounds the sessions kept; the oldest are dropped past it. Default 10,000.
	MaxSessions int
	// MaxLogBytes bounds the size of the broadcast log (JSON and binary bytes); the oldest
	// broadcasts are dropped past it. Default 32 MiB.
	MaxLogBytes int
	// MaxMissedPackets bounds the broadcasts replayed to one session; a session that missed
	// more starts afresh. Default 1,000.
	MaxMissedPackets int
}

func (o RecoveryOptions) withDefaults() RecoveryOptions {
	if o.MaxDisconnectionDuration <= 0 {
		o.MaxDisconnectionDuration = 2 * time.Minute
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = 10000
	}
	if o.MaxLogBytes <= 0 {
		o.MaxLogBytes = 32 << 20
	}
	if o.MaxMissedPackets <= 0 {
		o.MaxMissedPackets = 1000
	}
	return o
}

// RecoveryStats describes what a recovering adapter holds.
type RecoveryStats struct {
	// Sessions is the number of sessions kept.
	Sessions int
	// LogPackets is the number of broadcasts in the log.
	LogPackets int
	// LogBytes is the size of the log: JSON and binary bytes.
	LogBytes int
}

type logEntry struct {
	seq    uint64
	at     time.Time
	size   int
	rooms  []Room
	except []Room
	pkt    *parser.Packet
}

type storedSession struct {
	sockets.Session
	at time.Time
}

// recovery is the session store of a Memory adapter.
type recovery struct {
	opts RecoveryOptions
	now  func() time.Time

	mu       sync.Mutex
	sessions map[string]*storedSession
	order    []*storedSession // persist order, for expiry and eviction
	log      []logEntry       // in broadcast order
	head     uint64           // seq of log[0]
	next     uint64           // seq of the next broadcast
	bytes    int
}

// NewMemoryWithRecovery returns an in-memory adapter that supports connection state recovery
// within the bounds of opts.
func NewMemoryWithRecovery(nsp Namespace, opts RecoveryOptions) *Memory {
	m := NewMemory(nsp)
	m.rec = &recovery{opts: opts.withDefaults(), now: time.Now, sessions: map[string]*storedSession{}, next: 1, head: 1}
	return m
}

// MemoryWithRecoveryFactory returns the Factory of in-memory adapters with recovery.
func MemoryWithRecoveryFactory(opts RecoveryOptions) Factory {
	return func(nsp Namespace) Adapter { return NewMemoryWithRecovery(nsp, opts) }
}

var _ SessionStore = (*Memory)(nil)

// record logs a broadcast for recovery and returns the packet to deliver: p with its offset
// appended as the last argument, as the official server does. Events with an ack id and
// volatile broadcasts are not logged.
func (r *recovery) record(p *parser.Packet, sel *Selection) *parser.Packet {
	if !p.Type.IsEvent() || p.HasID || sel.Flags.Volatile || len(p.Data) < 2 || p.Data[len(p.Data)-1] != ']' {
		return p
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	seq := r.next
	r.next++
	offset := strconv.FormatUint(seq, 36)
	q := *p
	data := make([]byte, 0, len(p.Data)+len(offset)+3)
	data = append(data, p.Data[:len(p.Data)-1]...)
	data = append(data, ',', '"')
	data = append(data, offset...)
	data = append(data, '"', ']')
	q.Data = data
	size := len(data)
	for _, a := range q.Attachments {
		size += len(a)
	}
	r.log = append(r.log, logEntry{seq: seq, at: r.now(), size: size, rooms: cloneRooms(sel.Rooms), except: cloneRooms(sel.Except), pkt: &q})
	r.bytes += size
	r.trimLocked()
	return &q
}

func cloneRooms(rs []Room) []Room {
	if len(rs) == 0 {
		return nil
	}
	return append([]Room(nil), rs...)
}

// trimLocked drops expired broadcasts and sessions, and the oldest broadcasts and sessions over
// the budget.
func (r *recovery) trimLocked() {
	threshold := r.now().Add(-r.opts.MaxDisconnectionDuration)
	drop := 0
	for drop < len(r.log) && (r.log[drop].at.Before(threshold) || r.bytes > r.opts.MaxLogBytes) {
		r.bytes -= r.log[drop].size
		r.log[drop] = logEntry{}
		drop++
	}
	if drop > 0 {
		r.log = r.log[drop:]
		r.head += uint64(drop)
		if cap(r.log) > 64 && len(r.log) < cap(r.log)/4 {
			r.log = append([]logEntry(nil), r.log...) // give back the dropped part
		}
	}
	gone := 0
	for gone < len(r.order) {
		s := r.order[gone]
		live := r.sessions[s.PID] == s
		if live && !s.at.Before(threshold) && len(r.sessions) <= r.opts.MaxSessions {
			break
		}
		if live {
			delete(r.sessions, s.PID)
		}
		r.order[gone] = nil
		gone++
	}
	if len(r.order)-gone > 2*r.opts.MaxSessions {
		// Restored and replaced sessions leave stale entries: drop them all.
		live := make([]*storedSession, 0, len(r.sessions))
		for _, s := range r.order[gone:] {
			if r.sessions[s.PID] == s {
				live = append(live, s)
			}
		}
		clear(r.order)
		r.order, gone = live, 0
	}
	if gone > 0 {
		r.order = r.order[gone:]
		if cap(r.order) > 64 && len(r.order) < cap(r.order)/4 {
			r.order = append([]*storedSession(nil), r.order...)
		}
	}
}

func (r *recovery) persist(s sockets.Session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := &storedSession{Session: s, at: r.now()}
	r.sessions[s.PID] = st
	r.order = append(r.order, st)
	r.trimLocked()
}

func (r *recovery) restore(pid, offset string) (sockets.Session, []*parser.Packet, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.trimLocked()
	st := r.sessions[pid]
	if st == nil {
		return sockets.Session{}, nil, false
	}
	delete(r.sessions, pid) // a session is restored once
	seq, err := strconv.ParseUint(offset, 36, 64)
	if err != nil || seq < r.head || seq >= r.next {
		return sockets.Session{}, nil, false // unknown, or too old: the log no longer holds it
	}
	var missed []*parser.Packet
	for _, e := range r.log[seq-r.head+1:] {
		if (&Selection{Rooms: e.rooms, Except: e.except}).Selects(st.Rooms) {
			if len(missed) == r.opts.MaxMissedPackets {
				return sockets.Session{}, nil, false
			}
			missed = append(missed, e.pkt)
		}
	}
	return st.Session, missed, true
}

// PersistSession keeps a session for recovery. It does nothing on an adapter created without
// recovery.
func (m *Memory) PersistSession(s sockets.Session) {
	if m.rec != nil {
		m.rec.persist(s)
	}
}

// RestoreSession takes back a session and the broadcasts it missed. See SessionStore.
func (m *Memory) RestoreSession(pid, offset string) (sockets.Session, []*parser.Packet, bool) {
	if m.rec == nil {
		return sockets.Session{}, nil, false
	}
	return m.rec.restore(pid, offset)
}

// SupportsRecovery reports whether the adapter was created with recovery.
func (m *Memory) SupportsRecovery() bool { return m.rec != nil }

// RecoveryStats reports what the adapter holds for recovery.
func (m *Memory) RecoveryStats() RecoveryStats {
	if m.rec == nil {
		return RecoveryStats{}
	}
	m.rec.mu.Lock()
	defer m.rec.mu.Unlock()
	m.rec.trimLocked()
	return RecoveryStats{Sessions: len(m.rec.sessions), LogPackets: len(m.rec.log), LogBytes: m.rec.bytes}
}
