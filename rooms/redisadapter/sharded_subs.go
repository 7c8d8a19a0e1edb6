package redisadapter

import (
	"context"
	"errors"
	"fmt"
	"github.com/echo-socketio/echo-socketio/rooms/internal/rediscluster"
	"sync"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/redis/go-redis/v9"
)

// subscriptions are the sharded pub/sub subscriptions of a ShardedAdapter. Their connections
// are grouped by hash slot: a Redis cluster takes the sharded channels of one slot per
// SSUBSCRIBE, and go-redis subscribes again with all the channels of a connection in one
// command after a reconnection. Other clients have a single group.
//
// The channels of the namespace and of the answers stay subscribed until Close. In the
// dynamic modes, the manager goroutine follows the local rooms: the room hooks only mark a
// room as changed, and the manager compares what the rooms are now with what it has
// subscribed, so hooks that run out of order cannot leave a room without its channel.
type subscriptions struct {
	a       *ShardedAdapter
	cluster bool

	mu     sync.Mutex // held by the manager while it subscribes, and by close
	groups map[int]*subGroup
	active map[string]struct{} // the rooms' channels subscribed
	closed bool

	pendMu  sync.Mutex
	pending map[rooms.Room]struct{}
	wake    chan struct{}
}

// subGroup is one pub/sub connection and its reader goroutine.
type subGroup struct {
	ps       *redis.PubSub
	channels map[string]struct{}
	done     chan struct{} // closed when the group is closed
}

func newSubscriptions(a *ShardedAdapter) *subscriptions {
	_, cluster := a.client.(*redis.ClusterClient)
	return &subscriptions{
		a:       a,
		cluster: cluster,
		groups:  make(map[int]*subGroup),
		active:  make(map[string]struct{}),
		pending: make(map[rooms.Room]struct{}),
		wake:    make(chan struct{}, 1),
	}
}

// slotOf returns the group of channel: its hash slot in a Redis cluster, 0 otherwise.
func (s *subscriptions) slotOf(channel string) int {
	if !s.cluster {
		return 0
	}
	return hashSlot(channel)
}

// group returns the group of slot, creating it when needed; created reports whether it did.
// s.mu is held.
func (s *subscriptions) group(slot int) (g *subGroup, created bool) {
	if g := s.groups[slot]; g != nil {
		return g, false
	}
	g = &subGroup{
		ps:       s.a.client.SSubscribe(s.a.node.Ctx),
		channels: make(map[string]struct{}),
		done:     make(chan struct{}),
	}
	s.groups[slot] = g
	return g, true
}

// subscribeFixed subscribes the channels that stay until Close. SSubscribe only sends the
// command; when Redis is unreachable, the reader reconnects and subscribes again.
func (s *subscriptions) subscribeFixed(channels ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.change(channels, nil)
}

// change subscribes and unsubscribes channels, grouped by slot. s.mu is held.
func (s *subscriptions) change(sub, unsub []string) {
	if s.closed {
		return
	}
	bySlot := func(chs []string) map[int][]string {
		m := make(map[int][]string)
		for _, ch := range chs {
			slot := s.slotOf(ch)
			m[slot] = append(m[slot], ch)
		}
		return m
	}
	ctx, cancel := context.WithTimeout(s.a.node.Ctx, s.a.opts.RequestsTimeout)
	defer cancel()
	for slot, chs := range bySlot(sub) {
		g, created := s.group(slot)
		for _, ch := range chs {
			g.channels[ch] = struct{}{}
		}
		if err := g.ps.SSubscribe(ctx, chs...); err != nil && s.a.node.Ctx.Err() == nil {
			s.a.node.Report(fmt.Errorf("redisadapter: ssubscribe: %w", err))
		}
		if created {
			// The reader starts once the connection has its channels: a cluster client
			// chooses the node of a connection by the slot of its first channel.
			s.a.node.WG.Add(1)
			go s.read(g)
		}
	}
	for slot, chs := range bySlot(unsub) {
		g := s.groups[slot]
		if g == nil {
			continue
		}
		for _, ch := range chs {
			delete(g.channels, ch)
		}
		if len(g.channels) == 0 {
			// A cluster's slot without channels: its connection goes.
			delete(s.groups, slot)
			close(g.done)
			_ = g.ps.Close()
			continue
		}
		if err := g.ps.SUnsubscribe(ctx, chs...); err != nil && s.a.node.Ctx.Err() == nil {
			s.a.node.Report(fmt.Errorf("redisadapter: sunsubscribe: %w", err))
		}
	}
}

// roomChanged tells the manager that local room r was created or deleted.
func (s *subscriptions) roomChanged(r rooms.Room) {
	s.pendMu.Lock()
	s.pending[r] = struct{}{}
	s.pendMu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// manage is the manager goroutine: it brings the rooms' subscriptions in line with the
// local rooms after each change, until Close.
func (s *subscriptions) manage() {
	defer s.a.node.WG.Done()
	for {
		select {
		case <-s.a.node.Ctx.Done():
			return
		case <-s.wake:
		}
		s.pendMu.Lock()
		changed := s.pending
		s.pending = make(map[rooms.Room]struct{})
		s.pendMu.Unlock()
		s.reconcile(changed)
	}
}

func (s *subscriptions) reconcile(changed map[rooms.Room]struct{}) {
	a := s.a
	s.mu.Lock()
	defer s.mu.Unlock()
	var sub, unsub []string
	for r := range changed {
		ch := a.roomChannel(r)
		if ch == a.channel || ch == a.responseChannel {
			continue // never give up the fixed channels for a room of the same name
		}
		want := a.listensOnRoomChannel(r) && len(a.node.Local.Sockets(r)) > 0
		_, have := s.active[ch]
		switch {
		case want && !have:
			s.active[ch] = struct{}{}
			sub = append(sub, ch)
		case !want && have:
			delete(s.active, ch)
			unsub = append(unsub, ch)
		}
	}
	s.change(sub, unsub)
}

// close closes every pub/sub connection: Redis forgets their subscriptions at once.
func (s *subscriptions) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var errs []error
	for slot, g := range s.groups {
		close(g.done)
		if err := g.ps.Close(); err != nil {
			errs = append(errs, err)
		}
		delete(s.groups, slot)
	}
	return errors.Join(errs...)
}

// read is the reader goroutine of a group: it receives the group's messages in order until
// the group closes. The pub/sub connection reconnects and subscribes again by itself after
// an error.
func (s *subscriptions) read(g *subGroup) {
	a := s.a
	defer a.node.WG.Done()
	backoff := rediscluster.BackoffMin
	for {
		msg, err := g.ps.ReceiveTimeout(a.node.Ctx, rediscluster.PingInterval)
		select {
		case <-g.done:
			return
		case <-a.node.Ctx.Done():
			return
		default:
		}
		if err != nil {
			failed, ok := a.node.ReceiveFailed(g.ps, err, &backoff)
			if !ok {
				return
			}
			if failed && s.cluster {
				s.renew(g)
			}
			continue
		}
		backoff = rediscluster.BackoffMin
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "ssubscribe" {
				a.subscribed(m.Channel)
			}
		case *redis.Message:
			a.dispatch(m)
		}
	}
}

// renew replaces the pub/sub connection of a cluster's group after an error. go-redis would
// reconnect it to a node chosen without regard to the slot of its sharded channels, which
// answers MOVED; a new connection created with the channels goes to the slot's node. Only the
// group's reader calls it.
func (s *subscriptions) renew(g *subGroup) {
	s.mu.Lock()
	select {
	case <-g.done:
		s.mu.Unlock()
		return
	default:
	}
	chs := make([]string, 0, len(g.channels))
	for ch := range g.channels {
		chs = append(chs, ch)
	}
	ctx, cancel := context.WithTimeout(s.a.node.Ctx, s.a.opts.RequestsTimeout)
	old := g.ps
	g.ps = s.a.client.SSubscribe(ctx, chs...)
	cancel()
	s.mu.Unlock()
	_ = old.Close()
}

// hashSlot returns the Redis cluster hash slot of key: CRC16 (XMODEM) of the key, or of its
// hash tag {...}, modulo 16384.
func hashSlot(key string) int {
	for i := 0; i < len(key); i++ {
		if key[i] == '{' {
			for j := i + 1; j < len(key); j++ {
				if key[j] == '}' {
					if j > i+1 {
						key = key[i+1 : j]
					}
					break
				}
			}
			break
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}
