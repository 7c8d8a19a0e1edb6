package redisadapter_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// cluster starts three nodes with sockets:
//
//	a: a1 {room1}, a2 {}
//	b: b1 {room1}, b2 {room1, room2}
//	c: c1 {room2}, c2 {room3}
func cluster(t *testing.T, opts redisadapter.Options) (*redisServer, []*node) {
	srv := startRedis(t)
	a := newNode(t, srv, "a", opts)
	b := newNode(t, srv, "b", opts)
	c := newNode(t, srv, "c", opts)
	a.ns.connect("a1", "room1")
	a.ns.connect("a2")
	b.ns.connect("b1", "room1")
	b.ns.connect("b2", "room1", "room2")
	c.ns.connect("c1", "room2")
	c.ns.connect("c2", "room3")
	return srv, []*node{a, b, c}
}

// sync broadcasts a marker from n to every node and waits until all have it, so that every
// earlier broadcast of n has been delivered everywhere.
func syncAll(t *testing.T, from *node, nodes []*node, marker string) {
	t.Helper()
	if err := from.adapter.Broadcast(event(t, marker), rooms.Selection{}); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		n.ns.waitFor(t, marker, 5*time.Second, func() bool {
			return slices.ContainsFunc(n.ns.deliveries(), func(d delivery) bool { return d.Event == marker })
		})
	}
}

// without returns the deliveries other than markers.
func without(ds []delivery, marker string) []delivery {
	return slices.DeleteFunc(ds, func(d delivery) bool { return d.Event == marker })
}

func TestBroadcast(t *testing.T) {
	_, nodes := cluster(t, redisadapter.Options{})
	a, b, c := nodes[0], nodes[1], nodes[2]
	tests := []struct {
		name string
		sel  rooms.Selection
		args []any
		want [3][]rooms.SocketID // per node
	}{
		{"ok, everyone", rooms.Selection{}, []any{"x"}, [3][]rooms.SocketID{ids("a1", "a2"), ids("b1", "b2"), ids("c1", "c2")}},
		{"ok, one room", rooms.Selection{Rooms: []rooms.Room{"room1"}}, []any{1}, [3][]rooms.SocketID{ids("a1"), ids("b1", "b2"), nil}},
		{"ok, two rooms", rooms.Selection{Rooms: []rooms.Room{"room1", "room2"}}, nil, [3][]rooms.SocketID{ids("a1"), ids("b1", "b2"), ids("c1")}},
		{"ok, except", rooms.Selection{Rooms: []rooms.Room{"room1"}, Except: []rooms.Room{"room2"}}, nil, [3][]rooms.SocketID{ids("a1"), ids("b1"), nil}},
		{"ok, everyone except", rooms.Selection{Except: []rooms.Room{"room1", "c2"}}, nil, [3][]rooms.SocketID{ids("a2"), nil, ids("c1")}},
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
			marker := "marker" + string(rune('a'+i))
			syncAll(t, a, nodes, marker)
			for j, n := range nodes {
				got := without(n.ns.deliveries(), marker)
				got = slices.DeleteFunc(got, func(d delivery) bool { return len(d.Event) > 6 && d.Event[:6] == "marker" })
				if tt.want[j] == nil {
					if len(got) != 0 {
						t.Fatalf("node %s got\n%s", n.ns.node, fmtDeliveries(got))
					}
					continue
				}
				if len(got) != 1 {
					t.Fatalf("node %s: want one delivery, got %d\n%s", n.ns.node, len(got), fmtDeliveries(got))
				}
				d := got[0]
				if !slices.Equal(d.IDs, tt.want[j]) {
					t.Errorf("node %s: sockets %v, want %v", n.ns.node, d.IDs, tt.want[j])
				}
				if d.Data != string(p.Data) {
					t.Errorf("node %s: data %s, want %s", n.ns.node, d.Data, p.Data)
				}
				if len(d.Attachments) != len(p.Attachments) {
					t.Fatalf("node %s: %d attachments, want %d", n.ns.node, len(d.Attachments), len(p.Attachments))
				}
				for k := range d.Attachments {
					if !bytes.Equal(d.Attachments[k], p.Attachments[k]) {
						t.Errorf("node %s: attachment %d is %v, want %v", n.ns.node, k, d.Attachments[k], p.Attachments[k])
					}
				}
				if n != a && (d.Flags.Volatile != tt.sel.Flags.Volatile || d.Flags.Compress != tt.sel.Flags.Compress) {
					t.Errorf("node %s: flags %+v, want %+v", n.ns.node, d.Flags, tt.sel.Flags)
				}
			}
			for _, n := range nodes {
				n.ns.mu.Lock()
				n.ns.delivered = nil
				n.ns.mu.Unlock()
			}
		})
	}
	_ = b
	_ = c
}

func TestBroadcastOtherNamespaceIgnored(t *testing.T) {
	srv := startRedis(t)
	a := newNodeNS(t, srv, "/", "a", redisadapter.Options{})
	admin := newNodeNS(t, srv, "/admin", "b", redisadapter.Options{})
	root := newNodeNS(t, srv, "/", "c", redisadapter.Options{})
	admin.ns.connect("x1")
	root.ns.connect("y1")
	if err := a.adapter.Broadcast(event(t, "hello"), rooms.Selection{}); err != nil {
		t.Fatal(err)
	}
	root.ns.waitFor(t, "hello", 5*time.Second, func() bool { return len(root.ns.deliveries()) == 1 })
	time.Sleep(100 * time.Millisecond)
	if got := admin.ns.deliveries(); len(got) != 0 {
		t.Fatalf("/admin got a broadcast of /:\n%s", fmtDeliveries(got))
	}
}

func TestServerCount(t *testing.T) {
	_, nodes := cluster(t, redisadapter.Options{})
	for _, n := range nodes {
		got, err := n.adapter.ServerCount(ctxT(t, 5*time.Second))
		if err != nil || got != 3 {
			t.Fatalf("ServerCount = %d, %v; want 3", got, err)
		}
	}
}

func socketIDs(infos []rooms.SocketInfo) []rooms.SocketID {
	var out []rooms.SocketID
	for _, s := range infos {
		out = append(out, s.ID)
	}
	slices.Sort(out)
	return out
}

func TestFetchSockets(t *testing.T) {
	_, nodes := cluster(t, redisadapter.Options{})
	a, c := nodes[0], nodes[2]
	tests := []struct {
		name string
		sel  rooms.Selection
		want []rooms.SocketID
	}{
		{"ok, all", rooms.Selection{}, ids("a1", "a2", "b1", "b2", "c1", "c2")},
		{"ok, room", rooms.Selection{Rooms: []rooms.Room{"room1"}}, ids("a1", "b1", "b2")},
		{"ok, except", rooms.Selection{Rooms: []rooms.Room{"room1", "room2"}, Except: []rooms.Room{"b2"}}, ids("a1", "b1", "c1")},
		{"ok, local", rooms.Selection{Flags: rooms.Flags{Local: true}}, ids("c1", "c2")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.adapter.FetchSockets(ctxT(t, 10*time.Second), tt.sel)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(socketIDs(got), tt.want) {
				t.Fatalf("got %v, want %v", socketIDs(got), tt.want)
			}
		})
	}
	// A remote socket's description crosses intact.
	got, err := c.adapter.FetchSockets(ctxT(t, 10*time.Second), rooms.Selection{Rooms: []rooms.Room{"b2"}})
	if err != nil || len(got) != 1 {
		t.Fatalf("got %v, %v", got, err)
	}
	s := got[0]
	sort.Slice(s.Rooms, func(i, j int) bool { return s.Rooms[i] < s.Rooms[j] })
	if !slices.Equal(s.Rooms, []rooms.Room{"b2", "room1", "room2"}) || string(s.Data) != `{"node":"b"}` ||
		s.Handshake == nil || s.Handshake.Headers["x-node"][0] != "b" || s.Handshake.Issued != 1700000000000 ||
		string(s.Handshake.Auth) != `{"token":"t"}` || s.Handshake.Query["EIO"][0] != "4" {
		j, _ := json.Marshal(s)
		t.Fatalf("remote socket: %s", j)
	}
	_ = a
}

func TestFetchSocketsTimeout(t *testing.T) {
	srv := startRedis(t)
	opts := redisadapter.Options{RequestsTimeout: 300 * time.Millisecond}
	a := newNode(t, srv, "a", opts)
	b := newNode(t, srv, "b", opts)
	a.ns.connect("a1")
	b.ns.connect("b1")
	// A server that listens to the requests and never answers.
	stuck := srv.client(t).Subscribe(ctxT(t, 5*time.Second), "socket.io-request#/#")
	t.Cleanup(func() { _ = stuck.Close() })
	if _, err := stuck.Receive(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, err := a.adapter.FetchSockets(ctxT(t, 10*time.Second), rooms.Selection{})
	took := time.Since(start)
	if !errors.Is(err, redisadapter.ErrTimeout) || got != nil {
		t.Fatalf("FetchSockets = %v, %v; want nil and ErrTimeout", got, err)
	}
	if took < 300*time.Millisecond || took > 2*time.Second {
		t.Fatalf("failed after %v, want about 300ms", took)
	}
	t.Logf("error: %v", err)
	// With the stuck server gone, the request succeeds again.
	_ = stuck.Close()
	got, err = a.adapter.FetchSockets(ctxT(t, 10*time.Second), rooms.Selection{})
	if err != nil || !slices.Equal(socketIDs(got), ids("a1", "b1")) {
		t.Fatalf("FetchSockets = %v, %v", socketIDs(got), err)
	}
}

func TestBroadcastWithAck(t *testing.T) {
	_, nodes := cluster(t, redisadapter.Options{})
	b := nodes[1]
	var mu sync.Mutex
	var acks []string
	counted := make(chan int, 1)
	p := event(t, "question", "q?")
	p.ID, p.HasID = 7, true
	err := b.adapter.BroadcastWithAck(p, rooms.Selection{Except: []rooms.Room{"c2"}, Flags: rooms.Flags{Timeout: time.Second}},
		func(n int) { counted <- n },
		func(id rooms.SocketID, args []json.RawMessage) {
			var s string
			if len(args) != 1 || json.Unmarshal(args[0], &s) != nil {
				t.Errorf("ack %q with %s", id, args)
			}
			mu.Lock()
			acks = append(acks, s)
			mu.Unlock()
		})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-counted:
		if n != 5 {
			t.Fatalf("count = %d, want 5", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("count not called")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(acks)
		mu.Unlock()
		if n == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("acks: %v", acks)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	slices.Sort(acks)
	got := slices.Clone(acks)
	mu.Unlock()
	want := []string{"ack a1", "ack a2", "ack b1", "ack b2", "ack c1"}
	if !slices.Equal(got, want) {
		t.Fatalf("acks %v, want %v", got, want)
	}
	// Remote nodes numbered the packet themselves.
	for _, n := range []*node{nodes[0], nodes[2]} {
		ds := n.ns.deliveries()
		if len(ds) != 1 || !ds[0].HasID {
			t.Fatalf("node %s: %s", n.ns.node, fmtDeliveries(ds))
		}
	}
}

func TestServerSideEmit(t *testing.T) {
	_, nodes := cluster(t, redisadapter.Options{})
	a, b, c := nodes[0], nodes[1], nodes[2]
	res, err := a.adapter.ServerSideEmit(ctxT(t, 5*time.Second), "ping", []json.RawMessage{json.RawMessage(`{"n":1}`), json.RawMessage(`"two"`)}, false)
	if err != nil || res != nil {
		t.Fatalf("ServerSideEmit = %v, %v", res, err)
	}
	for _, n := range []*node{b, c} {
		n.ns.waitFor(t, "ping", 5*time.Second, func() bool { return len(n.ns.sseCalls()) == 1 })
		call := n.ns.sseCalls()[0]
		if call.Event != "ping" || len(call.Args) != 2 || string(call.Args[0]) != `{"n":1}` || call.Ack {
			t.Fatalf("node %s got %+v", n.ns.node, call)
		}
	}
	res, err = a.adapter.ServerSideEmit(ctxT(t, 5*time.Second), "ping2", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res {
		var s string
		if len(r) != 1 || json.Unmarshal(r[0], &s) != nil {
			t.Fatalf("answer %s", r)
		}
		got = append(got, s)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"pong from b", "pong from c"}) {
		t.Fatalf("answers %v", got)
	}
	if calls := a.ns.sseCalls(); len(calls) != 0 {
		t.Fatalf("the sender got its own event: %+v", calls)
	}
}

func TestServerSideEmitTimeout(t *testing.T) {
	srv := startRedis(t)
	opts := redisadapter.Options{RequestsTimeout: 300 * time.Millisecond}
	a := newNode(t, srv, "a", opts)
	newNode(t, srv, "b", opts)
	stuck := srv.client(t).Subscribe(ctxT(t, 5*time.Second), "socket.io-request#/#")
	t.Cleanup(func() { _ = stuck.Close() })
	if _, err := stuck.Receive(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	res, err := a.adapter.ServerSideEmit(ctxT(t, 5*time.Second), "ping", nil, true)
	if !errors.Is(err, redisadapter.ErrTimeout) || len(res) != 1 {
		t.Fatalf("ServerSideEmit = %v, %v; want one answer and ErrTimeout", res, err)
	}
}

func TestRemoteJoinLeaveDisconnect(t *testing.T) {
	_, nodes := cluster(t, redisadapter.Options{})
	a, b, c := nodes[0], nodes[1], nodes[2]
	ctx := ctxT(t, 10*time.Second)
	if err := a.adapter.AddSockets(ctx, rooms.Selection{Rooms: []rooms.Room{"room2"}}, "joined"); err != nil {
		t.Fatal(err)
	}
	c.ns.waitFor(t, "join", 5*time.Second, func() bool { return len(c.adapter.Sockets("joined")) == 1 })
	b.ns.waitFor(t, "join", 5*time.Second, func() bool { return len(b.adapter.Sockets("joined")) == 1 })
	got, err := a.adapter.FetchSockets(ctx, rooms.Selection{Rooms: []rooms.Room{"joined"}})
	if err != nil || !slices.Equal(socketIDs(got), ids("b2", "c1")) {
		t.Fatalf("after join: %v, %v", socketIDs(got), err)
	}
	if err := a.adapter.DelSockets(ctx, rooms.Selection{Rooms: []rooms.Room{"c1"}}, "joined"); err != nil {
		t.Fatal(err)
	}
	c.ns.waitFor(t, "leave", 5*time.Second, func() bool { return len(c.adapter.Sockets("joined")) == 0 })
	if err := a.adapter.DisconnectSockets(ctx, rooms.Selection{Rooms: []rooms.Room{"room1"}}, true); err != nil {
		t.Fatal(err)
	}
	b.ns.waitFor(t, "disconnect", 5*time.Second, func() bool { return len(b.ns.disconnects()) == 2 })
	if d := a.ns.disconnects(); !slices.Equal(d, []rooms.SocketID{"a1"}) {
		t.Fatalf("local disconnects %v", d)
	}
	got, err = c.adapter.FetchSockets(ctx, rooms.Selection{})
	if err != nil || !slices.Equal(socketIDs(got), ids("a2", "c1", "c2")) {
		t.Fatalf("after disconnect: %v, %v", socketIDs(got), err)
	}
}

func TestMalformedMessagesIgnored(t *testing.T) {
	srv, nodes := cluster(t, redisadapter.Options{})
	a, b := nodes[0], nodes[1]
	rdb := srv.client(t)
	ctx := ctxT(t, 10*time.Second)
	junk := []string{"", "{", "{}", `{"type":5}`, `{"type":7,"requestId":"x"}`, "\x93", "\x93\xa1x\x80\x80",
		"\x93\xa1x\x82\xa4type\x02\xa4data\xdd\xff\xff\xff\xff\x80", "\xc6\xff\xff\xff\xff", "\xdf\xff\xff\xff\xff",
		`{"type":6,"data":"notarray"}`, `{"type":6,"data":[]}`, `{"requestId":"x","sockets":[{}]}`, "\xc1"}
	for _, ch := range []string{"socket.io#/#", "socket.io#/#room1#", "socket.io-request#/#", "socket.io-response#/#"} {
		for _, j := range junk {
			if err := rdb.Publish(ctx, ch, j).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	syncAll(t, a, nodes, "after-junk")
	if len(b.errs.list()) == 0 {
		t.Fatal("no malformed message was reported")
	}
	got, err := b.adapter.FetchSockets(ctx, rooms.Selection{})
	if err != nil || len(got) != 6 {
		t.Fatalf("FetchSockets after junk: %v, %v", socketIDs(got), err)
	}
}

func TestRedisRestart(t *testing.T) {
	srv, nodes := cluster(t, redisadapter.Options{RequestsTimeout: time.Second})
	a, c := nodes[0], nodes[2]
	syncAll(t, a, nodes, "before")
	srv.restart()
	start := time.Now()
	// Broadcasts published before the others have subscribed again are lost: keep sending
	// until one arrives.
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; ; i++ {
		_ = a.adapter.Broadcast(event(t, "after", i), rooms.Selection{Rooms: []rooms.Room{"c1"}})
		if slices.ContainsFunc(c.ns.deliveries(), func(d delivery) bool { return d.Event == "after" }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no broadcast got through after the restart; errors: %v", a.errs.list())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("broadcasts flow again %v after the restart", time.Since(start).Round(time.Millisecond))
	// Requests work again once every server has subscribed again.
	for {
		n, err := a.adapter.ServerCount(ctxT(t, 2*time.Second))
		if err == nil && n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ServerCount = %d, %v", n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	got, err := a.adapter.FetchSockets(ctxT(t, 5*time.Second), rooms.Selection{})
	if err != nil || len(got) != 6 {
		t.Fatalf("FetchSockets after restart: %v, %v", socketIDs(got), err)
	}
	if len(a.errs.list()) == 0 {
		t.Error("the lost connection was not reported")
	}
}

func TestRedisDownNoPanic(t *testing.T) {
	srv, nodes := cluster(t, redisadapter.Options{RequestsTimeout: 200 * time.Millisecond})
	a := nodes[0]
	srv.stop()
	// Local delivery goes on; requests fail with an error.
	if err := a.adapter.Broadcast(event(t, "x"), rooms.Selection{}); err != nil {
		t.Logf("broadcast: %v", err)
	}
	if ds := a.ns.deliveries(); len(ds) != 1 || len(ds[0].IDs) != 2 {
		t.Fatalf("local delivery: %s", fmtDeliveries(ds))
	}
	if _, err := a.adapter.FetchSockets(ctxT(t, 5*time.Second), rooms.Selection{}); err == nil {
		t.Fatal("FetchSockets succeeded without Redis")
	}
	if _, err := a.adapter.ServerCount(ctxT(t, 5*time.Second)); err == nil {
		t.Fatal("ServerCount succeeded without Redis")
	}
}

func TestCloseEndsRequests(t *testing.T) {
	srv := startRedis(t)
	a := newNode(t, srv, "a", redisadapter.Options{})
	if err := a.adapter.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.adapter.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.adapter.AddSockets(ctxT(t, time.Second), rooms.Selection{}, "x"); !errors.Is(err, redisadapter.ErrClosed) {
		t.Fatalf("AddSockets after Close: %v", err)
	}
}
