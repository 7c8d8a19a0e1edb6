package admin

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"
)

// sessionStore keeps the session IDs of the UI's logins, bounded in number and time.
type sessionStore struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	expires map[string]time.Time
}

func newSessionStore(ttl time.Duration, max int) *sessionStore {
	return &sessionStore{ttl: ttl, max: max, expires: map[string]time.Time{}}
}

// create returns a new session ID, valid for the store's duration.
func (st *sessionStore) create() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	id := hex.EncodeToString(b[:])
	now := time.Now()
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.expires) >= st.max {
		var oldest string
		for k, exp := range st.expires {
			if exp.Before(now) {
				delete(st.expires, k)
			} else if oldest == "" || exp.Before(st.expires[oldest]) {
				oldest = k
			}
		}
		if len(st.expires) >= st.max {
			delete(st.expires, oldest)
		}
	}
	st.expires[id] = now.Add(st.ttl)
	return id
}

// valid reports whether id is a session that has not expired.
func (st *sessionStore) valid(id string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	exp, ok := st.expires[id]
	if ok && time.Now().After(exp) {
		delete(st.expires, id)
		return false
	}
	return ok
}

// aggregated is one of the UI's aggregated events: a count of one type of event in one second.
type aggregated struct {
	Timestamp int64  `json:"timestamp"`
	Type      string `json:"type"`
	SubType   string `json:"subType,omitempty"`
	Count     int64  `json:"count"`
}

type eventKey struct {
	second       int64
	typ, subType string
}

// eventBuffer counts the events reported with server_stats. Messages and bytes, counted for
// every message, are atomic counters stamped with the second they are taken in; connections
// and disconnections are counted per second.
type eventBuffer struct {
	// The counts of each direction share a cache line, and only that: the sessions' readers
	// and writers, which count every message, do not update the same line.
	packetsIn, bytesIn   atomic.Int64
	_                    [48]byte
	packetsOut, bytesOut atomic.Int64
	_                    [48]byte

	mu     sync.Mutex
	counts map[eventKey]int64
}

func newEventBuffer() *eventBuffer { return &eventBuffer{counts: map[eventKey]int64{}} }

func (b *eventBuffer) received(size int) {
	b.packetsIn.Add(1)
	b.bytesIn.Add(int64(size))
}

func (b *eventBuffer) sent(size int) {
	b.packetsOut.Add(1)
	b.bytesOut.Add(int64(size))
}

func (b *eventBuffer) push(typ, subType string, n int64) {
	k := eventKey{time.Now().Unix() * 1000, typ, subType}
	b.mu.Lock()
	b.counts[k] += n
	b.mu.Unlock()
}

// takeAll returns the events counted since the last call and forgets them.
func (b *eventBuffer) takeAll(now time.Time) []aggregated {
	sec := now.Unix() * 1000
	out := []aggregated{}
	for _, c := range []struct {
		typ string
		v   *atomic.Int64
	}{{"packetsIn", &b.packetsIn}, {"packetsOut", &b.packetsOut}, {"bytesIn", &b.bytesIn}, {"bytesOut", &b.bytesOut}} {
		if n := c.v.Swap(0); n > 0 {
			out = append(out, aggregated{Timestamp: sec, Type: c.typ, Count: n})
		}
	}
	b.mu.Lock()
	for k, n := range b.counts {
		out = append(out, aggregated{Timestamp: k.second, Type: k.typ, SubType: k.subType, Count: n})
	}
	clear(b.counts)
	b.mu.Unlock()
	return out
}
