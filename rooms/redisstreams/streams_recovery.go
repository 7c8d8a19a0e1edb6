package redisstreams

import (
	"context"
	"errors"
	"fmt"
	"github.com/echo-socketio/echo-socketio/rooms/internal/rediscluster"
	"strconv"
	"strings"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
	"github.com/redis/go-redis/v9"
)

// SupportsRecovery reports whether the adapter was created with Options.Recovery.
func (a *Adapter) SupportsRecovery() bool { return a.opts.Recovery }

// PersistSession keeps the session of a socket that lost its connection in Redis, under
// SessionKeyPrefix + its private ID, for MaxDisconnectionDuration: any server of the cluster
// can restore it. It waits for Redis at most RequestsTimeout; a failure is reported to
// OnError, and the client then starts afresh when it comes back.
func (a *Adapter) PersistSession(s sockets.Session) {
	if !a.opts.Recovery {
		return
	}
	a.release(s.SID, false)
	text, err := encodeSession(&s)
	if err != nil {
		a.node.Report(fmt.Errorf("redisstreams: encode session: %w", err))
		return
	}
	ctx, cancel := context.WithTimeout(a.node.Ctx, a.opts.RequestsTimeout)
	defer cancel()
	if err := a.client.Set(ctx, a.opts.SessionKeyPrefix+s.PID, text, a.opts.MaxDisconnectionDuration).Err(); err != nil {
		a.node.Report(fmt.Errorf("redisstreams: persist session: %w", err))
	}
}

// validOffset reports whether offset has the form of a stream entry ID, <ms>-<seq>.
func validOffset(offset string) bool {
	ms, seq, ok := strings.Cut(offset, "-")
	if !ok || ms == "" || seq == "" || len(offset) > 41 {
		return false
	}
	for _, c := range ms + seq {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// nextOffset returns the smallest entry ID after offset, for an exclusive range that works
// before Redis 6.2.
func nextOffset(offset string) (string, bool) {
	ms, seq, _ := strings.Cut(offset, "-")
	n, err := strconv.ParseUint(seq, 10, 64)
	if err != nil {
		return "", false
	}
	if n == ^uint64(0) {
		m, err := strconv.ParseUint(ms, 10, 64)
		if err != nil || m == ^uint64(0) {
			return "", false
		}
		return strconv.FormatUint(m+1, 10) + "-0", true
	}
	return ms + "-" + strconv.FormatUint(n+1, 10), true
}

// RestoreSession takes back the session pid from Redis (it can be restored once) with the
// broadcasts of the namespace it missed after offset, read from the stream; the broadcasts
// that come later are held back for the socket and delivered when it joins its rooms
// (AddAll), so that it gets each once, in order. ok is false when
// the session is unknown or expired, when the stream no longer holds the entry offset
// (trimmed by MaxLen, or lost with Redis), or when the socket missed more than
// MaxMissedPackets broadcasts: the client then starts afresh.
func (a *Adapter) RestoreSession(pid, offset string) (sockets.Session, []*parser.Packet, bool) {
	if !a.opts.Recovery || !validOffset(offset) {
		return sockets.Session{}, nil, false
	}
	s, missed, err := a.restore(pid, offset)
	if err != nil {
		if !errors.Is(err, errNoSession) {
			a.node.Report(err)
		}
		return sockets.Session{}, nil, false
	}
	return s, missed, true
}

var errNoSession = errors.New("redisstreams: no session to restore")

func (a *Adapter) restore(pid, offset string) (sockets.Session, []*parser.Packet, error) {
	ctx, cancel := context.WithTimeout(a.node.Ctx, 2*a.opts.RequestsTimeout)
	defer cancel()
	key := a.opts.SessionKeyPrefix + pid
	// GET and DEL in one transaction (GETDEL needs Redis 6.2); the stream may be in another
	// slot of a Redis Cluster, so it is read apart.
	var get *redis.StringCmd
	_, err := a.client.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		get = pipe.Get(ctx, key)
		pipe.Del(ctx, key)
		return nil
	})
	if errors.Is(get.Err(), redis.Nil) {
		return sockets.Session{}, nil, errNoSession
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return sockets.Session{}, nil, fmt.Errorf("redisstreams: restore session: %w", err)
	}
	at, err := a.client.XRange(ctx, a.opts.StreamName, offset, offset).Result()
	if err != nil {
		return sockets.Session{}, nil, fmt.Errorf("redisstreams: restore session: read stream: %w", err)
	}
	if len(at) == 0 {
		return sockets.Session{}, nil, errNoSession // the entry was trimmed, or Redis lost it
	}
	s, err := decodeSession(get.Val())
	if err != nil {
		return sockets.Session{}, nil, err
	}
	from, _ := parseEntryID(offset)
	a.streamMu.Lock()
	end := a.holdLocked(s.SID, s.Rooms, from)
	a.streamMu.Unlock()
	missed, err := a.readMissed(ctx, &s, offset, end)
	if err != nil {
		a.dropHold(s.SID)
		return sockets.Session{}, nil, err
	}
	return s, missed, nil
}

// readMissed reads the broadcasts to the rooms of s from the entry after offset to the entry
// end, in batches of ReadCount. The reader handled end: later broadcasts are held back for
// the socket until it joins its rooms.
func (a *Adapter) readMissed(ctx context.Context, s *sockets.Session, offset string, end entryID) ([]*parser.Packet, error) {
	var missed []*parser.Packet
	last := end.String()
	for {
		if e, _ := parseEntryID(offset); !e.less(end) {
			return missed, nil
		}
		from, ok := nextOffset(offset)
		if !ok {
			return missed, nil
		}
		entries, err := a.client.XRangeN(ctx, a.opts.StreamName, from, last, a.opts.ReadCount).Result()
		if err != nil {
			return nil, fmt.Errorf("redisstreams: restore session: read stream: %w", err)
		}
		for _, e := range entries {
			offset = e.ID
			p, err := a.missedPacket(e, s.Rooms)
			if err != nil {
				a.node.Report(fmt.Errorf("%w (stream %s, entry %s)", err, a.opts.StreamName, e.ID))
			}
			if p == nil {
				continue
			}
			if len(missed) == a.opts.MaxMissedPackets {
				return nil, errNoSession
			}
			missed = append(missed, p)
		}
		if int64(len(entries)) < a.opts.ReadCount {
			return missed, nil
		}
	}
}

// missedPacket returns the packet of entry e, with its offset, when it is a broadcast of the
// namespace that reached a socket in socketRooms; nil otherwise.
func (a *Adapter) missedPacket(e redis.XMessage, socketRooms []rooms.Room) (*parser.Packet, error) {
	if nsp, _ := e.Values["nsp"].(string); nsp != a.node.Name {
		return nil, nil
	}
	if typ, _ := e.Values["type"].(string); typ != strconv.Itoa(rediscluster.MsgBroadcast) {
		return nil, nil
	}
	msg, err := decodeEntry(e.Values, a.opts.MaxMessageSize)
	if err != nil {
		return nil, err
	}
	p := msg.Packet
	if p == nil || !p.Type.IsEvent() {
		return nil, rediscluster.Malformed("broadcast without an event packet")
	}
	if _, err := parser.EventName(p.Data); err != nil {
		return nil, rediscluster.Malformed("broadcast event: %v", err)
	}
	sel := msg.Selection()
	if !a.takesOffset(p, &sel) || !sel.Selects(socketRooms) {
		return nil, nil
	}
	p.Namespace = a.node.Name
	return withOffset(p, e.ID), nil
}
