package redisadapter_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
	"github.com/redis/go-redis/v9"
)

// stnode is one server of a test cluster on the streams adapter.
type stnode struct {
	ns      *recNS
	adapter *redisadapter.StreamsAdapter
	errs    *errLog
}

func newStreamsNode(t testing.TB, srv *redisServer, name string, opts redisadapter.StreamsOptions) *stnode {
	t.Helper()
	ns := newRecNS("/", name)
	errs := &errLog{}
	if opts.OnError == nil {
		opts.OnError = errs.add
	}
	if opts.BlockTime == 0 {
		opts.BlockTime = 500 * time.Millisecond
	}
	a := redisadapter.NewStreams(srv.client(t), opts)(ns).(*redisadapter.StreamsAdapter)
	ns.mu.Lock()
	ns.adapter = a
	ns.mu.Unlock()
	t.Cleanup(func() { _ = a.Close() })
	if err := a.Ready(ctxT(t, 5*time.Second)); err != nil {
		t.Fatalf("node %s: %v", name, err)
	}
	return &stnode{ns: ns, adapter: a, errs: errs}
}

// streamsCluster starts three nodes with the sockets of shardedCluster.
func streamsCluster(t *testing.T, opts redisadapter.StreamsOptions) (*redisServer, []*stnode, []peer) {
	srv := startRedis(t)
	a := newStreamsNode(t, srv, "a", opts)
	b := newStreamsNode(t, srv, "b", opts)
	c := newStreamsNode(t, srv, "c", opts)
	a.ns.connect("a1", "room1")
	a.ns.connect("a2")
	b.ns.connect("b1", "room1")
	b.ns.connect("b2", "room1", "room2")
	c.ns.connect("c1", "room2")
	c.ns.connect("c2", "room3")
	nodes := []*stnode{a, b, c}
	ps := make([]peer, len(nodes))
	for i, n := range nodes {
		ps[i] = peer{ns: n.ns, adapter: n.adapter}
	}
	return srv, nodes, ps
}

func TestStreamsBroadcast(t *testing.T) {
	_, nodes, ps := streamsCluster(t, redisadapter.StreamsOptions{})
	a := nodes[0]
	tests := []struct {
		name string
		sel  rooms.Selection
		args []any
		want [3][]rooms.SocketID
	}{
		{"ok, everyone", rooms.Selection{}, []any{"x"}, [3][]rooms.SocketID{ids("a1", "a2"), ids("b1", "b2"), ids("c1", "c2")}},
		{"ok, one room", rooms.Selection{Rooms: []rooms.Room{"room1"}}, []any{1}, [3][]rooms.SocketID{ids("a1"), ids("b1", "b2"), nil}},
		{"ok, two rooms", rooms.Selection{Rooms: []rooms.Room{"room1", "room2"}}, nil, [3][]rooms.SocketID{ids("a1"), ids("b1", "b2"), ids("c1")}},
		{"ok, except", rooms.Selection{Rooms: []rooms.Room{"room1"}, Except: []rooms.Room{"room2"}}, nil, [3][]rooms.SocketID{ids("a1"), ids("b1"), nil}},
		{"ok, a socket's own room", rooms.Selection{Rooms: []rooms.Room{"c2"}}, nil, [3][]rooms.SocketID{nil, nil, ids("c2")}},
		{"ok, binary", rooms.Selection{Rooms: []rooms.Room{"room2"}}, []any{[]byte{0, 1, 2, 255}, map[string]any{"b": []byte("hi")}}, [3][]rooms.SocketID{nil, ids("b2"), ids("c1")}},
		{"ok, local", rooms.Selection{Flags: rooms.Flags{Local: true}}, nil, [3][]rooms.SocketID{ids("a1", "a2"), nil, nil}},
		{"ok, volatile", rooms.Selection{Rooms: []rooms.Room{"room3"}, Flags: rooms.Flags{Volatile: true, Compress: true}}, nil, [3][]rooms.SocketID{nil, nil, ids("c2")}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := event(t, "ev", tt.args...)
			if err := a.adapter.Broadcast(p, tt.sel); err != nil {
				t.Fatal(err)
			}
			syncPeers(t, a.adapter, ps, "marker"+string(rune('a'+i)))
			checkBroadcastDeliveries(t, ps[0], ps, p, tt.sel, tt.want)
		})
	}
	ctx := ctxT(t, 30*time.Second)
	t.Run("ok, FetchSockets", func(t *testing.T) {
		for _, tt := range fetchSocketsCases {
			got, err := nodes[2].adapter.FetchSockets(ctx, tt.sel)
			if err != nil || !slices.Equal(socketIDs(got), tt.want) {
				t.Fatalf("FetchSockets(%+v) = %v, %v; want %v", tt.sel, socketIDs(got), err, tt.want)
			}
		}
		checkRemoteSocket(t, ctx, nodes[2].adapter)
	})
	t.Run("ok, ServerSideEmit", func(t *testing.T) { checkServerSideEmit(t, ctx, ps) })
	t.Run("ok, BroadcastWithAck", func(t *testing.T) { checkBroadcastWithAck(t, ps) })
	t.Run("ok, AddSockets, DelSockets and DisconnectSockets", func(t *testing.T) {
		checkRemoteJoinLeaveDisconnect(t, ctx, ps, func() {})
	})
	for _, n := range nodes {
		if errs := n.errs.list(); len(errs) > 0 {
			t.Errorf("node %s reported %v", n.ns.node, errs)
		}
	}
}

// lastOffset returns the offset a delivery of a broadcast with recovery ends with.
func lastOffset(t *testing.T, d delivery) string {
	t.Helper()
	var args []json.RawMessage
	var off string
	if json.Unmarshal([]byte(d.Data), &args) != nil || len(args) < 2 || json.Unmarshal(args[len(args)-1], &off) != nil || !offsetRE.MatchString(off) {
		t.Fatalf("delivery %s has no offset", d.Data)
	}
	return off
}

func TestStreamsRecoveryBounds(t *testing.T) {
	srv := startRedis(t)
	rdb := srv.client(t)
	opts := redisadapter.StreamsOptions{Recovery: true, MaxLen: 50, ReadCount: 7, MaxMissedPackets: 20, MaxDisconnectionDuration: time.Minute}
	a := newStreamsNode(t, srv, "a", opts)
	b := newStreamsNode(t, srv, "b", opts)
	a.ns.connect("a1", "room1")
	b.ns.connect("b1", "room1", "bsync")
	// caughtUp waits until b's reader has read every entry added so far.
	n := 0
	caughtUp := func(t *testing.T) {
		t.Helper()
		n++
		marker := fmt.Sprintf("bsync%d", n)
		if err := a.adapter.Broadcast(event(t, marker), rooms.Selection{Rooms: []rooms.Room{"bsync"}}); err != nil {
			t.Fatal(err)
		}
		b.ns.waitFor(t, marker, 5*time.Second, func() bool {
			return slices.ContainsFunc(b.ns.deliveries(), func(d delivery) bool { return d.Event == marker })
		})
	}
	// offsetNow returns the offset of a broadcast to room1 from b, as a1 got it.
	offsetNow := func(t *testing.T, marker string) string {
		t.Helper()
		if err := b.adapter.Broadcast(event(t, marker), rooms.Selection{Rooms: []rooms.Room{"room1"}}); err != nil {
			t.Fatal(err)
		}
		var d delivery
		a.ns.waitFor(t, marker, 5*time.Second, func() bool {
			i := slices.IndexFunc(a.ns.deliveries(), func(d delivery) bool { return d.Event == marker })
			if i >= 0 {
				d = a.ns.deliveries()[i]
			}
			return i >= 0
		})
		return lastOffset(t, d)
	}
	session := func(pid string) sockets.Session {
		return sockets.Session{SID: "a1", PID: pid, Rooms: []rooms.Room{"a1", "room1"}, Data: map[string]any{"name": "a1", "n": 1.0}}
	}
	// missed broadcasts n events to room1 and others to room2 (which a1 is not in), from b
	// and from a, alternately.
	missed := func(t *testing.T, n int) {
		t.Helper()
		for i := range n {
			from := []*stnode{a, b}[i%2]
			if err := from.adapter.Broadcast(event(t, "missed", i, []byte{byte(i)}), rooms.Selection{Rooms: []rooms.Room{"room1"}}); err != nil {
				t.Fatal(err)
			}
			if err := from.adapter.Broadcast(event(t, "other", i), rooms.Selection{Rooms: []rooms.Room{"room2"}}); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("ok, a session restores on another node with the broadcasts it missed, once", func(t *testing.T) {
		off := offsetNow(t, "before1")
		a.adapter.PersistSession(session("p1"))
		missed(t, 9)
		if err := a.adapter.Broadcast(event(t, "volatile"), rooms.Selection{Rooms: []rooms.Room{"room1"}, Flags: rooms.Flags{Volatile: true}}); err != nil {
			t.Fatal(err)
		}
		caughtUp(t)
		s, pkts, ok := b.adapter.RestoreSession("p1", off)
		if !ok {
			t.Fatalf("RestoreSession failed; errors %v", b.errs.list())
		}
		if s.SID != "a1" || !slices.Equal(s.Rooms, []rooms.Room{"a1", "room1"}) || s.Data["name"] != "a1" || s.Data["n"] != 1.0 {
			t.Errorf("session %+v", s)
		}
		if len(pkts) != 9 {
			t.Fatalf("%d missed packets, want 9", len(pkts))
		}
		prev := off
		for i, p := range pkts {
			var args []json.RawMessage
			if err := json.Unmarshal(p.Data, &args); err != nil || len(args) != 4 || string(args[1]) != jsonString(i) {
				t.Fatalf("missed packet %d: %s", i, p.Data)
			}
			if p.Type != parser.BinaryEvent || len(p.Attachments) != 1 || p.Attachments[0][0] != byte(i) {
				t.Errorf("missed packet %d: type %v, attachments %v", i, p.Type, p.Attachments)
			}
			var o string
			_ = json.Unmarshal(args[3], &o)
			if o <= prev && len(o) == len(prev) {
				t.Errorf("missed packet %d: offset %s after %s", i, o, prev)
			}
			prev = o
		}
		if _, _, ok := a.adapter.RestoreSession("p1", off); ok {
			t.Error("a session restored twice")
		}
		// The broadcasts after the restoration are held for the socket until it joins its
		// rooms on b, then delivered to it alone, in order; later ones reach it directly.
		b.ns.mu.Lock()
		b.ns.delivered = nil
		b.ns.mu.Unlock()
		for i := range 3 {
			if err := []*stnode{a, b}[i%2].adapter.Broadcast(event(t, "late", i), rooms.Selection{Rooms: []rooms.Room{"room1"}}); err != nil {
				t.Fatal(err)
			}
		}
		caughtUp(t)
		b.adapter.AddAll("a1", "a1", "room1")
		var toA1 []string
		for _, d := range b.ns.deliveries() {
			if slices.Equal(d.IDs, ids("a1")) {
				toA1 = append(toA1, d.Data[:len(`["late",0`)])
			}
		}
		if want := []string{`["late",0`, `["late",1`, `["late",2`}; !slices.Equal(toA1, want) {
			t.Fatalf("held broadcasts delivered to a1: %v, want %v", toA1, want)
		}
		if err := a.adapter.Broadcast(event(t, "direct"), rooms.Selection{Rooms: []rooms.Room{"room1"}}); err != nil {
			t.Fatal(err)
		}
		b.ns.waitFor(t, "direct", 5*time.Second, func() bool {
			return slices.ContainsFunc(b.ns.deliveries(), func(d delivery) bool { return d.Event == "direct" && slices.Contains(d.IDs, "a1") })
		})
		b.adapter.DelAll("a1")
	})
	t.Run("ok, a session that missed too many broadcasts starts afresh", func(t *testing.T) {
		off := offsetNow(t, "before2")
		a.adapter.PersistSession(session("p2"))
		missed(t, 21)
		caughtUp(t)
		if _, _, ok := b.adapter.RestoreSession("p2", off); ok {
			t.Fatal("restored past MaxMissedPackets")
		}
	})
	t.Run("ok, the stream is trimmed to MaxLen, and a trimmed offset does not restore", func(t *testing.T) {
		off := offsetNow(t, "before3")
		a.adapter.PersistSession(session("p3"))
		for i := range 300 {
			if err := b.adapter.Broadcast(event(t, "filler", i), rooms.Selection{Rooms: []rooms.Room{"room9"}}); err != nil {
				t.Fatal(err)
			}
		}
		// MAXLEN ~ trims whole nodes of the stream (100 entries by default).
		if n := rdb.XLen(ctxT(t, 5*time.Second), redisadapter.DefaultStreamName).Val(); n > 50+100 {
			t.Errorf("the stream holds %d entries, MaxLen 50", n)
		}
		if _, _, ok := b.adapter.RestoreSession("p3", off); ok {
			t.Fatal("restored from a trimmed offset")
		}
	})
	t.Run("ok, unknown sessions and bad offsets do not restore", func(t *testing.T) {
		off := offsetNow(t, "before4")
		for _, o := range []string{"", "1", "x-1", "1-x", "-1", "1-", "99999999999999999999999-1", "9999999999999-0"} {
			a.adapter.PersistSession(session("p4"))
			if _, _, ok := b.adapter.RestoreSession("p4", o); ok {
				t.Errorf("restored from offset %q", o)
			}
		}
		if _, _, ok := b.adapter.RestoreSession("nobody", off); ok {
			t.Error("restored an unknown session")
		}
		if err := rdb.Set(ctxT(t, 5*time.Second), redisadapter.DefaultSessionKeyPrefix+"junk", "!!", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		if _, _, ok := b.adapter.RestoreSession("junk", off); ok {
			t.Error("restored a malformed session")
		}
	})
	t.Run("ok, sessions expire after MaxDisconnectionDuration", func(t *testing.T) {
		short := newStreamsNode(t, srv, "short", redisadapter.StreamsOptions{Recovery: true, MaxDisconnectionDuration: 200 * time.Millisecond})
		off := offsetNow(t, "before5")
		short.adapter.PersistSession(session("p5"))
		ttl := rdb.PTTL(ctxT(t, 5*time.Second), redisadapter.DefaultSessionKeyPrefix+"p5").Val()
		if ttl <= 0 || ttl > 200*time.Millisecond {
			t.Fatalf("session TTL %v", ttl)
		}
		time.Sleep(400 * time.Millisecond)
		if _, _, ok := b.adapter.RestoreSession("p5", off); ok {
			t.Fatal("restored an expired session")
		}
	})
	t.Run("ok, without Recovery nothing is kept and broadcasts carry no offset", func(t *testing.T) {
		plain := newStreamsNode(t, srv, "plain", redisadapter.StreamsOptions{})
		plain.ns.connect("p1", "room1")
		if plain.adapter.SupportsRecovery() {
			t.Fatal("SupportsRecovery without Recovery")
		}
		plain.adapter.PersistSession(session("p6"))
		if n := rdb.Exists(ctxT(t, 5*time.Second), redisadapter.DefaultSessionKeyPrefix+"p6").Val(); n != 0 {
			t.Fatal("a session was kept without Recovery")
		}
		if err := b.adapter.Broadcast(event(t, "noOffset", 1), rooms.Selection{Rooms: []rooms.Room{"room1"}}); err != nil {
			t.Fatal(err)
		}
		plain.ns.waitFor(t, "noOffset", 5*time.Second, func() bool {
			return slices.ContainsFunc(plain.ns.deliveries(), func(d delivery) bool { return d.Event == "noOffset" })
		})
		if d := plain.ns.deliveries()[0]; d.Data != `["noOffset",1]` {
			t.Fatalf("delivered %s", d.Data)
		}
	})
}

// TestStreamsRedisRestart: the readers read on from their last entry, and the new stream's
// entries come after it.
func TestStreamsRedisRestart(t *testing.T) {
	srv, nodes, ps := streamsCluster(t, redisadapter.StreamsOptions{RequestsTimeout: time.Second})
	checkRedisRestart(t, srv, ps, nodes[0].errs, nodes[2].errs)
}

func TestStreamsMalformedEntriesIgnored(t *testing.T) {
	srv, nodes, ps := streamsCluster(t, redisadapter.StreamsOptions{})
	a, b := nodes[0], nodes[1]
	rdb := srv.client(t)
	ctx := ctxT(t, 10*time.Second)
	junk := [][]any{
		{"nsp", "/"}, {"nsp", "/", "type", "x"}, {"nsp", "/", "type", "3"}, {"nsp", "/", "type", "3", "data", "{"},
		{"nsp", "/", "type", "3", "data", "!!!"}, {"nsp", "/", "type", "3", "data", "hA=="},
		{"nsp", "/", "type", "3", "data", `{"packet":{"type":2,"data":"x"}}`}, {"nsp", "/", "type", "4", "data", `{"opts":{"rooms":[{}]},"rooms":["x"]}`},
		{"nsp", "/", "type", "99"}, {"nsp", "/other", "type", "3"}, {"x", "y"},
	}
	for _, j := range junk {
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: redisadapter.DefaultStreamName, Values: j}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for _, j := range []string{"", "{", "\x84", "\xc1", "[1,2]"} {
		if err := rdb.Publish(ctx, "socket.io#/#", j).Err(); err != nil {
			t.Fatal(err)
		}
	}
	syncPeers(t, a.adapter, ps, "after-junk")
	if len(b.errs.list()) == 0 {
		t.Fatal("no malformed entry was reported")
	}
	got, err := b.adapter.FetchSockets(ctx, rooms.Selection{})
	if err != nil || len(got) != 6 {
		t.Fatalf("FetchSockets after junk: %v, %v", socketIDs(got), err)
	}
}

func TestStreamsClose(t *testing.T) {
	srv := startRedis(t)
	a := newStreamsNode(t, srv, "a", redisadapter.StreamsOptions{BlockTime: time.Minute})
	a.ns.connect("a1", "r")
	start := time.Now()
	if err := a.adapter.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("Close waited %v for a blocking read", d)
	}
	if err := a.adapter.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.adapter.AddSockets(ctxT(t, time.Second), rooms.Selection{}, "x"); !errors.Is(err, redisadapter.ErrClosed) {
		t.Fatalf("AddSockets after Close: %v", err)
	}
	if err := a.adapter.Ready(ctxT(t, time.Second)); !errors.Is(err, redisadapter.ErrClosed) {
		t.Fatalf("Ready after Close: %v", err)
	}
}

// TestStreamsKeepSessions checks the sessions of connected sockets: written once a socket is
// kept, following its rooms, with an expiry beyond MaxDisconnectionDuration; replaced by
// PersistSession; deleted when the socket leaves without it; never written without Recovery.
func TestStreamsKeepSessions(t *testing.T) {
	srv := startRedis(t)
	rdb := srv.client(t)
	const d = 10 * time.Second
	n := newStreamsNode(t, srv, "a", redisadapter.StreamsOptions{Recovery: true, MaxDisconnectionDuration: d})
	key := func(pid string) string { return redisadapter.DefaultSessionKeyPrefix + pid }
	waitSession := func(what, pid string, cond func(s sockets.Session, ttl time.Duration, ok bool) bool) {
		t.Helper()
		n.ns.waitFor(t, what, 10*time.Second, func() bool {
			ctx := ctxT(t, 5*time.Second)
			ttl := rdb.PTTL(ctx, key(pid)).Val()
			s, ok := sessionOf(t, rdb, pid)
			return cond(s, ttl, ok)
		})
	}
	n.adapter.AddAll("s1", "s1", "r1")
	n.adapter.KeepSession(sockets.Session{SID: "s1", PID: "p1", Rooms: []rooms.Room{"s1", "r1"}, Data: map[string]any{"k": "v"}})
	waitSession("the kept session", "p1", func(s sockets.Session, ttl time.Duration, ok bool) bool {
		return ok && s.SID == "s1" && joinSorted(roomStrings(s.Rooms)) == "r1,s1" && ttl > d && s.Data["k"] == "v"
	})
	n.adapter.AddAll("s1", "r2")
	n.adapter.Del("s1", "r1")
	waitSession("the session with the new rooms", "p1", func(s sockets.Session, _ time.Duration, ok bool) bool {
		return ok && joinSorted(roomStrings(s.Rooms)) == "r2,s1"
	})
	// A recoverable disconnection: PersistSession writes the final session, DelAll keeps it.
	n.adapter.PersistSession(sockets.Session{SID: "s1", PID: "p1", Rooms: []rooms.Room{"s1", "r2"}, Data: map[string]any{"k": "w"}})
	n.adapter.DelAll("s1")
	waitSession("the persisted session", "p1", func(s sockets.Session, ttl time.Duration, ok bool) bool {
		return ok && s.Data["k"] == "w" && ttl > 0 && ttl <= d
	})
	// A socket that leaves for good takes its session with it.
	n.adapter.AddAll("s2", "s2")
	n.adapter.KeepSession(sockets.Session{SID: "s2", PID: "p2", Rooms: []rooms.Room{"s2"}})
	waitSession("the kept session of s2", "p2", func(_ sockets.Session, _ time.Duration, ok bool) bool { return ok })
	n.adapter.DelAll("s2")
	waitSession("no session of s2", "p2", func(_ sockets.Session, _ time.Duration, ok bool) bool { return !ok })
	if errs := n.errs.list(); len(errs) > 0 {
		t.Errorf("reported %v", errs)
	}

	// Without Recovery nothing is kept.
	off := newStreamsNode(t, srv, "b", redisadapter.StreamsOptions{})
	off.adapter.AddAll("s3", "s3")
	off.adapter.KeepSession(sockets.Session{SID: "s3", PID: "p3", Rooms: []rooms.Room{"s3"}})
	time.Sleep(300 * time.Millisecond)
	if n, err := rdb.Exists(ctxT(t, 5*time.Second), key("p3")).Result(); err != nil || n != 0 {
		t.Errorf("without Recovery: the session of s3 exists (%d, %v)", n, err)
	}
}

// sessionOf reads the session pid from Redis without taking it.
func sessionOf(t *testing.T, rdb *redis.Client, pid string) (sockets.Session, bool) {
	t.Helper()
	ctx := ctxT(t, 5*time.Second)
	v, err := rdb.Get(ctx, redisadapter.DefaultSessionKeyPrefix+pid).Result()
	if err != nil {
		return sockets.Session{}, false
	}
	s, err := redisadapter.DecodeSession(v)
	if err != nil {
		t.Fatalf("session %s: %v", pid, err)
	}
	return s, true
}

func roomStrings(rs []rooms.Room) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}
