package redisstreams

import (
	"context"
	"fmt"
	"github.com/echo-socketio/echo-socketio/rooms/internal/rediscluster"
	"sync"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
	"github.com/redis/go-redis/v9"
)

// The sessions of connected sockets (rooms.SessionKeeper): with Options.Recovery, the
// adapter keeps the session of each of its connected sockets in Redis too, so that when the
// server dies without a word (a crash, SIGKILL, a lost machine) its clients still recover on
// the other servers. The keys are written in batches shortly after a socket connects or
// changes rooms, and rewritten every MaxDisconnectionDuration/2 with a time to live of
// 1.5×MaxDisconnectionDuration, so that they outlive the server by at least
// MaxDisconnectionDuration. A socket that disconnects has its session written by
// PersistSession (a recoverable disconnection) or deleted (any other).

// keepFlushInterval is how long a change of a kept session waits before it is written.
const keepFlushInterval = 100 * time.Millisecond

// keepBatch bounds the commands of one pipeline of the keeper.
const keepBatch = 500

// keeper holds the sessions of the adapter's connected sockets.
type keeper struct {
	mu      sync.Mutex
	kept    map[rooms.SocketID]*sockets.Session
	dirty   map[rooms.SocketID]struct{}
	dropped []string // keys to delete
	wake    chan struct{}
}

var _ rooms.SessionKeeper = (*Adapter)(nil)

// KeepSession keeps the session of a socket that just connected in Redis, until the socket
// disconnects, so that its client can recover on another server even if this one dies. Its
// rooms follow the socket's; its data is the one given here.
func (a *Adapter) KeepSession(s sockets.Session) {
	if !a.opts.Recovery || s.PID == "" {
		return
	}
	k := &a.keep
	k.mu.Lock()
	k.kept[s.SID] = &s
	k.markLocked(s.SID)
	k.mu.Unlock()
}

// markLocked notes that the session of id is to be written.
func (k *keeper) markLocked(id rooms.SocketID) {
	k.dirty[id] = struct{}{}
	k.wakeLocked()
}

// wakeLocked tells the keeper that there is something to write.
func (k *keeper) wakeLocked() {
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

// touch notes a change of the rooms of socket id, when its session is kept.
func (a *Adapter) touch(id rooms.SocketID) {
	k := &a.keep
	k.mu.Lock()
	if _, ok := k.kept[id]; ok {
		k.markLocked(id)
	}
	k.mu.Unlock()
}

// release stops keeping the session of socket id. drop deletes its key: the socket left
// without a recoverable disconnection.
func (a *Adapter) release(id rooms.SocketID, drop bool) {
	k := &a.keep
	k.mu.Lock()
	if s, ok := k.kept[id]; ok {
		delete(k.kept, id)
		delete(k.dirty, id)
		if drop {
			k.dropped = append(k.dropped, a.opts.SessionKeyPrefix+s.PID)
			k.wakeLocked()
		}
	}
	k.mu.Unlock()
}

// runKeeper writes the changed sessions every keepFlushInterval and all of them every
// MaxDisconnectionDuration/2, until the adapter closes.
func (a *Adapter) runKeeper() {
	k := &a.keep
	refresh := time.NewTicker(a.opts.MaxDisconnectionDuration / 2)
	defer refresh.Stop()
	for {
		select {
		case <-a.node.Ctx.Done():
			return
		case <-refresh.C:
			k.mu.Lock()
			for id := range k.kept {
				k.dirty[id] = struct{}{}
			}
			k.mu.Unlock()
		case <-k.wake:
			if !rediscluster.Sleep(a.node.Ctx, keepFlushInterval) {
				return
			}
		}
		a.flushKept()
	}
}

// flushKept writes the changed sessions and deletes the dropped ones, in pipelines of
// keepBatch commands.
func (a *Adapter) flushKept() {
	k := &a.keep
	k.mu.Lock()
	type item struct {
		key, text string
	}
	var sets []item
	for id := range k.dirty {
		s := k.kept[id]
		if s == nil {
			continue
		}
		cur := *s
		cur.Rooms = a.node.Local.SocketRooms(id)
		text, err := encodeSession(&cur)
		if err != nil {
			a.node.Report(fmt.Errorf("redisstreams: encode session: %w", err))
			continue
		}
		sets = append(sets, item{a.opts.SessionKeyPrefix + s.PID, text})
	}
	clear(k.dirty)
	dels := k.dropped
	k.dropped = nil
	k.mu.Unlock()
	ttl := a.opts.MaxDisconnectionDuration + a.opts.MaxDisconnectionDuration/2
	for len(sets) > 0 || len(dels) > 0 {
		n := min(len(sets), keepBatch)
		m := min(len(dels), keepBatch-n)
		ctx, cancel := context.WithTimeout(a.node.Ctx, a.opts.RequestsTimeout)
		_, err := a.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, it := range sets[:n] {
				p.Set(ctx, it.key, it.text, ttl)
			}
			for _, key := range dels[:m] {
				p.Del(ctx, key)
			}
			return nil
		})
		cancel()
		if err != nil {
			a.node.Report(fmt.Errorf("redisstreams: keep sessions: %w", err))
			if a.node.Ctx.Err() != nil {
				return
			}
		}
		sets, dels = sets[n:], dels[m:]
	}
}
