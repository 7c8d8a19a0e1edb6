package redisstreams_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/echo-socketio/echo-socketio/internal/redistest"
	"slices"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/rooms/redisstreams"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
	"github.com/redis/go-redis/v9"
)

// stnode is one server of a test cluster on the streams adapter.
type stnode struct {
	NS      *redistest.RecNS
	Adapter *redisstreams.Adapter
	Errs    *redistest.ErrLog
}

func newStreamsNode(t testing.TB, srv *redistest.Server, name string, opts redisstreams.Options) *stnode {
	t.Helper()
	ns := redistest.NewRecNS("/", name)
	errs := &redistest.ErrLog{}
	if opts.OnError == nil {
		opts.OnError = errs.Add
	}
	if opts.BlockTime == 0 {
		opts.BlockTime = 500 * time.Millisecond
	}
	a := redisstreams.New(srv.Client(t), opts)(ns).(*redisstreams.Adapter)
	ns.Mu.Lock()
	ns.Adapter = a
	ns.Mu.Unlock()
	t.Cleanup(func() { _ = a.Close() })
	if err := a.Ready(redistest.CtxT(t, 5*time.Second)); err != nil {
		t.Fatalf("node %s: %v", name, err)
	}
	return &stnode{NS: ns, Adapter: a, Errs: errs}
}

// streamsCluster starts three nodes with the sockets of shardedCluster.
func streamsCluster(t *testing.T, opts redisstreams.Options) (*redistest.Server, []*stnode, []redistest.Peer) {
	srv := redistest.Start(t)
	a := newStreamsNode(t, srv, "a", opts)
	b := newStreamsNode(t, srv, "b", opts)
	c := newStreamsNode(t, srv, "c", opts)
	a.NS.Connect("a1", "room1")
	a.NS.Connect("a2")
	b.NS.Connect("b1", "room1")
	b.NS.Connect("b2", "room1", "room2")
	c.NS.Connect("c1", "room2")
	c.NS.Connect("c2", "room3")
	nodes := []*stnode{a, b, c}
	ps := make([]redistest.Peer, len(nodes))
	for i, n := range nodes {
		ps[i] = redistest.Peer{NS: n.NS, Adapter: n.Adapter}
	}
	return srv, nodes, ps
}

func TestStreamsBroadcast(t *testing.T) {
	_, nodes, ps := streamsCluster(t, redisstreams.Options{})
	a := nodes[0]
	tests := []struct {
		name string
		sel  rooms.Selection
		args []any
		want [3][]rooms.SocketID
	}{
		{"ok, everyone", rooms.Selection{}, []any{"x"}, [3][]rooms.SocketID{redistest.IDs("a1", "a2"), redistest.IDs("b1", "b2"), redistest.IDs("c1", "c2")}},
		{"ok, one room", rooms.Selection{Rooms: []rooms.Room{"room1"}}, []any{1}, [3][]rooms.SocketID{redistest.IDs("a1"), redistest.IDs("b1", "b2"), nil}},
		{"ok, two rooms", rooms.Selection{Rooms: []rooms.Room{"room1", "room2"}}, nil, [3][]rooms.SocketID{redistest.IDs("a1"), redistest.IDs("b1", "b2"), redistest.IDs("c1")}},
		{"ok, except", rooms.Selection{Rooms: []rooms.Room{"room1"}, Except: []rooms.Room{"room2"}}, nil, [3][]rooms.SocketID{redistest.IDs("a1"), redistest.IDs("b1"), nil}},
		{"ok, a socket's own room", rooms.Selection{Rooms: []rooms.Room{"c2"}}, nil, [3][]rooms.SocketID{nil, nil, redistest.IDs("c2")}},
		{"ok, binary", rooms.Selection{Rooms: []rooms.Room{"room2"}}, []any{[]byte{0, 1, 2, 255}, map[string]any{"b": []byte("hi")}}, [3][]rooms.SocketID{nil, redistest.IDs("b2"), redistest.IDs("c1")}},
		{"ok, local", rooms.Selection{Flags: rooms.Flags{Local: true}}, nil, [3][]rooms.SocketID{redistest.IDs("a1", "a2"), nil, nil}},
		{"ok, volatile", rooms.Selection{Rooms: []rooms.Room{"room3"}, Flags: rooms.Flags{Volatile: true, Compress: true}}, nil, [3][]rooms.SocketID{nil, nil, redistest.IDs("c2")}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := redistest.Event(t, "ev", tt.args...)
			if err := a.Adapter.Broadcast(p, tt.sel); err != nil {
				t.Fatal(err)
			}
			redistest.SyncPeers(t, a.Adapter, ps, "marker"+string(rune('a'+i)))
			redistest.CheckBroadcastDeliveries(t, ps[0], ps, p, tt.sel, tt.want)
		})
	}
	ctx := redistest.CtxT(t, 30*time.Second)
	t.Run("ok, FetchSockets", func(t *testing.T) {
		for _, tt := range redistest.FetchSocketsCases {
			got, err := nodes[2].Adapter.FetchSockets(ctx, tt.Sel)
			if err != nil || !slices.Equal(redistest.SocketIDs(got), tt.Want) {
				t.Fatalf("FetchSockets(%+v) = %v, %v; want %v", tt.Sel, redistest.SocketIDs(got), err, tt.Want)
			}
		}
		redistest.CheckRemoteSocket(t, ctx, nodes[2].Adapter)
	})
	t.Run("ok, ServerSideEmit", func(t *testing.T) { redistest.CheckServerSideEmit(t, ctx, ps) })
	t.Run("ok, BroadcastWithAck", func(t *testing.T) { redistest.CheckBroadcastWithAck(t, ps) })
	t.Run("ok, AddSockets, DelSockets and DisconnectSockets", func(t *testing.T) {
		redistest.CheckRemoteJoinLeaveDisconnect(t, ctx, ps, func() {})
	})
	for _, n := range nodes {
		if errs := n.Errs.List(); len(errs) > 0 {
			t.Errorf("node %s reported %v", n.NS.Node, errs)
		}
	}
}

// lastOffset returns the offset a delivery of a broadcast with recovery ends with.
func lastOffset(t *testing.T, d redistest.Delivery) string {
	t.Helper()
	var args []json.RawMessage
	var off string
	if json.Unmarshal([]byte(d.Data), &args) != nil || len(args) < 2 || json.Unmarshal(args[len(args)-1], &off) != nil || !offsetRE.MatchString(off) {
		t.Fatalf("delivery %s has no offset", d.Data)
	}
	return off
}

func TestStreamsRecoveryBounds(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	opts := redisstreams.Options{Recovery: true, MaxLen: 50, ReadCount: 7, MaxMissedPackets: 20, MaxDisconnectionDuration: time.Minute}
	a := newStreamsNode(t, srv, "a", opts)
	b := newStreamsNode(t, srv, "b", opts)
	a.NS.Connect("a1", "room1")
	b.NS.Connect("b1", "room1", "bsync")
	// caughtUp waits until b's reader has read every entry added so far.
	n := 0
	caughtUp := func(t *testing.T) {
		t.Helper()
		n++
		marker := fmt.Sprintf("bsync%d", n)
		if err := a.Adapter.Broadcast(redistest.Event(t, marker), rooms.Selection{Rooms: []rooms.Room{"bsync"}}); err != nil {
			t.Fatal(err)
		}
		b.NS.WaitFor(t, marker, 5*time.Second, func() bool {
			return slices.ContainsFunc(b.NS.Deliveries(), func(d redistest.Delivery) bool { return d.Event == marker })
		})
	}
	// offsetNow returns the offset of a broadcast to room1 from b, as a1 got it.
	offsetNow := func(t *testing.T, marker string) string {
		t.Helper()
		if err := b.Adapter.Broadcast(redistest.Event(t, marker), rooms.Selection{Rooms: []rooms.Room{"room1"}}); err != nil {
			t.Fatal(err)
		}
		var d redistest.Delivery
		a.NS.WaitFor(t, marker, 5*time.Second, func() bool {
			i := slices.IndexFunc(a.NS.Deliveries(), func(d redistest.Delivery) bool { return d.Event == marker })
			if i >= 0 {
				d = a.NS.Deliveries()[i]
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
			if err := from.Adapter.Broadcast(redistest.Event(t, "missed", i, []byte{byte(i)}), rooms.Selection{Rooms: []rooms.Room{"room1"}}); err != nil {
				t.Fatal(err)
			}
			if err := from.Adapter.Broadcast(redistest.Event(t, "other", i), rooms.Selection{Rooms: []rooms.Room{"room2"}}); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("ok, a session restores on another node with the broadcasts it missed, once", func(t *testing.T) {
		off := offsetNow(t, "before1")
		a.Adapter.PersistSession(session("p1"))
		missed(t, 9)
		if err := a.Adapter.Broadcast(redistest.Event(t, "volatile"), rooms.Selection{Rooms: []rooms.Room{"room1"}, Flags: rooms.Flags{Volatile: true}}); err != nil {
			t.Fatal(err)
		}
		caughtUp(t)
		s, pkts, ok := b.Adapter.RestoreSession("p1", off)
		if !ok {
			t.Fatalf("RestoreSession failed; errors %v", b.Errs.List())
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
			if err := json.Unmarshal(p.Data, &args); err != nil || len(args) != 4 || string(args[1]) != redistest.JSONString(i) {
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
		if _, _, ok := a.Adapter.RestoreSession("p1", off); ok {
			t.Error("a session restored twice")
		}
		// The broadcasts after the restoration are held for the socket until it joins its
		// rooms on b, then delivered to it alone, in order; later ones reach it directly.
		b.NS.ResetDeliveries()
		for i := range 3 {
			if err := []*stnode{a, b}[i%2].Adapter.Broadcast(redistest.Event(t, "late", i), rooms.Selection{Rooms: []rooms.Room{"room1"}}); err != nil {
				t.Fatal(err)
			}
		}
		caughtUp(t)
		b.Adapter.AddAll("a1", "a1", "room1")
		var toA1 []string
		for _, d := range b.NS.Deliveries() {
			if slices.Equal(d.IDs, redistest.IDs("a1")) {
				toA1 = append(toA1, d.Data[:len(`["late",0`)])
			}
		}
		if want := []string{`["late",0`, `["late",1`, `["late",2`}; !slices.Equal(toA1, want) {
			t.Fatalf("held broadcasts delivered to a1: %v, want %v", toA1, want)
		}
		if err := a.Adapter.Broadcast(redistest.Event(t, "direct"), rooms.Selection{Rooms: []rooms.Room{"room1"}}); err != nil {
			t.Fatal(err)
		}
		b.NS.WaitFor(t, "direct", 5*time.Second, func() bool {
			return slices.ContainsFunc(b.NS.Deliveries(), func(d redistest.Delivery) bool { return d.Event == "direct" && slices.Contains(d.IDs, "a1") })
		})
		b.Adapter.DelAll("a1")
	})
	t.Run("ok, a session that missed too many broadcasts starts afresh", func(t *testing.T) {
		off := offsetNow(t, "before2")
		a.Adapter.PersistSession(session("p2"))
		missed(t, 21)
		caughtUp(t)
		if _, _, ok := b.Adapter.RestoreSession("p2", off); ok {
			t.Fatal("restored past MaxMissedPackets")
		}
	})
	t.Run("ok, the stream is trimmed to MaxLen, and a trimmed offset does not restore", func(t *testing.T) {
		off := offsetNow(t, "before3")
		a.Adapter.PersistSession(session("p3"))
		for i := range 300 {
			if err := b.Adapter.Broadcast(redistest.Event(t, "filler", i), rooms.Selection{Rooms: []rooms.Room{"room9"}}); err != nil {
				t.Fatal(err)
			}
		}
		// MAXLEN ~ trims whole nodes of the stream (100 entries by default).
		if n := rdb.XLen(redistest.CtxT(t, 5*time.Second), redisstreams.DefaultStreamName).Val(); n > 50+100 {
			t.Errorf("the stream holds %d entries, MaxLen 50", n)
		}
		if _, _, ok := b.Adapter.RestoreSession("p3", off); ok {
			t.Fatal("restored from a trimmed offset")
		}
	})
	t.Run("ok, unknown sessions and bad offsets do not restore", func(t *testing.T) {
		off := offsetNow(t, "before4")
		for _, o := range []string{"", "1", "x-1", "1-x", "-1", "1-", "99999999999999999999999-1", "9999999999999-0"} {
			a.Adapter.PersistSession(session("p4"))
			if _, _, ok := b.Adapter.RestoreSession("p4", o); ok {
				t.Errorf("restored from offset %q", o)
			}
		}
		if _, _, ok := b.Adapter.RestoreSession("nobody", off); ok {
			t.Error("restored an unknown session")
		}
		if err := rdb.Set(redistest.CtxT(t, 5*time.Second), redisstreams.DefaultSessionKeyPrefix+"junk", "!!", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		if _, _, ok := b.Adapter.RestoreSession("junk", off); ok {
			t.Error("restored a malformed session")
		}
	})
	t.Run("ok, sessions expire after MaxDisconnectionDuration", func(t *testing.T) {
		short := newStreamsNode(t, srv, "short", redisstreams.Options{Recovery: true, MaxDisconnectionDuration: 200 * time.Millisecond})
		off := offsetNow(t, "before5")
		short.Adapter.PersistSession(session("p5"))
		ttl := rdb.PTTL(redistest.CtxT(t, 5*time.Second), redisstreams.DefaultSessionKeyPrefix+"p5").Val()
		if ttl <= 0 || ttl > 200*time.Millisecond {
			t.Fatalf("session TTL %v", ttl)
		}
		time.Sleep(400 * time.Millisecond)
		if _, _, ok := b.Adapter.RestoreSession("p5", off); ok {
			t.Fatal("restored an expired session")
		}
	})
	t.Run("ok, without Recovery nothing is kept and broadcasts carry no offset", func(t *testing.T) {
		plain := newStreamsNode(t, srv, "plain", redisstreams.Options{})
		plain.NS.Connect("p1", "room1")
		if plain.Adapter.SupportsRecovery() {
			t.Fatal("SupportsRecovery without Recovery")
		}
		plain.Adapter.PersistSession(session("p6"))
		if n := rdb.Exists(redistest.CtxT(t, 5*time.Second), redisstreams.DefaultSessionKeyPrefix+"p6").Val(); n != 0 {
			t.Fatal("a session was kept without Recovery")
		}
		if err := b.Adapter.Broadcast(redistest.Event(t, "noOffset", 1), rooms.Selection{Rooms: []rooms.Room{"room1"}}); err != nil {
			t.Fatal(err)
		}
		plain.NS.WaitFor(t, "noOffset", 5*time.Second, func() bool {
			return slices.ContainsFunc(plain.NS.Deliveries(), func(d redistest.Delivery) bool { return d.Event == "noOffset" })
		})
		if d := plain.NS.Deliveries()[0]; d.Data != `["noOffset",1]` {
			t.Fatalf("delivered %s", d.Data)
		}
	})
}

// TestStreamsRedisRestart: the readers read on from their last entry, and the new stream's
// entries come after it.
func TestStreamsRedisRestart(t *testing.T) {
	srv, nodes, ps := streamsCluster(t, redisstreams.Options{RequestsTimeout: time.Second})
	redistest.CheckRedisRestart(t, srv, ps, nodes[0].Errs, nodes[2].Errs)
}

func TestStreamsMalformedEntriesIgnored(t *testing.T) {
	srv, nodes, ps := streamsCluster(t, redisstreams.Options{})
	a, b := nodes[0], nodes[1]
	rdb := srv.Client(t)
	ctx := redistest.CtxT(t, 10*time.Second)
	junk := [][]any{
		{"nsp", "/"}, {"nsp", "/", "type", "x"}, {"nsp", "/", "type", "3"}, {"nsp", "/", "type", "3", "data", "{"},
		{"nsp", "/", "type", "3", "data", "!!!"}, {"nsp", "/", "type", "3", "data", "hA=="},
		{"nsp", "/", "type", "3", "data", `{"packet":{"type":2,"data":"x"}}`}, {"nsp", "/", "type", "4", "data", `{"opts":{"rooms":[{}]},"rooms":["x"]}`},
		{"nsp", "/", "type", "99"}, {"nsp", "/other", "type", "3"}, {"x", "y"},
	}
	for _, j := range junk {
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: redisstreams.DefaultStreamName, Values: j}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for _, j := range []string{"", "{", "\x84", "\xc1", "[1,2]"} {
		if err := rdb.Publish(ctx, "socket.IO#/#", j).Err(); err != nil {
			t.Fatal(err)
		}
	}
	redistest.SyncPeers(t, a.Adapter, ps, "after-junk")
	if len(b.Errs.List()) == 0 {
		t.Fatal("no malformed entry was reported")
	}
	got, err := b.Adapter.FetchSockets(ctx, rooms.Selection{})
	if err != nil || len(got) != 6 {
		t.Fatalf("FetchSockets after junk: %v, %v", redistest.SocketIDs(got), err)
	}
}

func TestStreamsClose(t *testing.T) {
	srv := redistest.Start(t)
	a := newStreamsNode(t, srv, "a", redisstreams.Options{BlockTime: time.Minute})
	a.NS.Connect("a1", "r")
	start := time.Now()
	if err := a.Adapter.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("Close waited %v for a blocking read", d)
	}
	if err := a.Adapter.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Adapter.AddSockets(redistest.CtxT(t, time.Second), rooms.Selection{}, "x"); !errors.Is(err, redisstreams.ErrClosed) {
		t.Fatalf("AddSockets after Close: %v", err)
	}
	if err := a.Adapter.Ready(redistest.CtxT(t, time.Second)); !errors.Is(err, redisstreams.ErrClosed) {
		t.Fatalf("Ready after Close: %v", err)
	}
}

// TestStreamsKeepSessions checks the sessions of connected sockets: written once a socket is
// kept, following its rooms, with an expiry beyond MaxDisconnectionDuration; replaced by
// PersistSession; deleted when the socket leaves without it; never written without Recovery.
func TestStreamsKeepSessions(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	const d = 10 * time.Second
	n := newStreamsNode(t, srv, "a", redisstreams.Options{Recovery: true, MaxDisconnectionDuration: d})
	key := func(pid string) string { return redisstreams.DefaultSessionKeyPrefix + pid }
	waitSession := func(what, pid string, cond func(s sockets.Session, ttl time.Duration, ok bool) bool) {
		t.Helper()
		n.NS.WaitFor(t, what, 10*time.Second, func() bool {
			ctx := redistest.CtxT(t, 5*time.Second)
			ttl := rdb.PTTL(ctx, key(pid)).Val()
			s, ok := sessionOf(t, rdb, pid)
			return cond(s, ttl, ok)
		})
	}
	n.Adapter.AddAll("s1", "s1", "r1")
	n.Adapter.KeepSession(sockets.Session{SID: "s1", PID: "p1", Rooms: []rooms.Room{"s1", "r1"}, Data: map[string]any{"k": "v"}})
	waitSession("the kept session", "p1", func(s sockets.Session, ttl time.Duration, ok bool) bool {
		return ok && s.SID == "s1" && redistest.JoinSorted(roomStrings(s.Rooms)) == "r1,s1" && ttl > d && s.Data["k"] == "v"
	})
	n.Adapter.AddAll("s1", "r2")
	n.Adapter.Del("s1", "r1")
	waitSession("the session with the new rooms", "p1", func(s sockets.Session, _ time.Duration, ok bool) bool {
		return ok && redistest.JoinSorted(roomStrings(s.Rooms)) == "r2,s1"
	})
	// A recoverable disconnection: PersistSession writes the final session, DelAll keeps it.
	n.Adapter.PersistSession(sockets.Session{SID: "s1", PID: "p1", Rooms: []rooms.Room{"s1", "r2"}, Data: map[string]any{"k": "w"}})
	n.Adapter.DelAll("s1")
	waitSession("the persisted session", "p1", func(s sockets.Session, ttl time.Duration, ok bool) bool {
		return ok && s.Data["k"] == "w" && ttl > 0 && ttl <= d
	})
	// A socket that leaves for good takes its session with it.
	n.Adapter.AddAll("s2", "s2")
	n.Adapter.KeepSession(sockets.Session{SID: "s2", PID: "p2", Rooms: []rooms.Room{"s2"}})
	waitSession("the kept session of s2", "p2", func(_ sockets.Session, _ time.Duration, ok bool) bool { return ok })
	n.Adapter.DelAll("s2")
	waitSession("no session of s2", "p2", func(_ sockets.Session, _ time.Duration, ok bool) bool { return !ok })
	if errs := n.Errs.List(); len(errs) > 0 {
		t.Errorf("reported %v", errs)
	}

	// Without Recovery nothing is kept.
	off := newStreamsNode(t, srv, "b", redisstreams.Options{})
	off.Adapter.AddAll("s3", "s3")
	off.Adapter.KeepSession(sockets.Session{SID: "s3", PID: "p3", Rooms: []rooms.Room{"s3"}})
	time.Sleep(300 * time.Millisecond)
	if n, err := rdb.Exists(redistest.CtxT(t, 5*time.Second), key("p3")).Result(); err != nil || n != 0 {
		t.Errorf("without Recovery: the session of s3 exists (%d, %v)", n, err)
	}
}

// sessionOf reads the session pid from Redis without taking it.
func sessionOf(t *testing.T, rdb *redis.Client, pid string) (sockets.Session, bool) {
	t.Helper()
	ctx := redistest.CtxT(t, 5*time.Second)
	v, err := rdb.Get(ctx, redisstreams.DefaultSessionKeyPrefix+pid).Result()
	if err != nil {
		return sockets.Session{}, false
	}
	s, err := redisstreams.DecodeSession(v)
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
