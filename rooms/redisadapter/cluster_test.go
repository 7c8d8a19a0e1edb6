package redisadapter_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
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

// syncAll broadcasts a marker from n to every node and waits until all have it, so that
// every earlier broadcast of n has been delivered everywhere.
func syncAll(t *testing.T, from *node, nodes []*node, marker string) {
	t.Helper()
	syncPeers(t, from.adapter, peers(nodes), marker)
}

func TestBroadcast(t *testing.T) {
	_, nodes := cluster(t, redisadapter.Options{})
	a, ps := nodes[0], peers(nodes)
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
			checkBroadcastDeliveries(t, ps[0], ps, p, tt.sel, tt.want)
		})
	}
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

func socketIDs(infos []sockets.Info) []rooms.SocketID {
	var out []rooms.SocketID
	for _, s := range infos {
		out = append(out, s.ID)
	}
	slices.Sort(out)
	return out
}

func TestFetchSockets(t *testing.T) {
	_, nodes := cluster(t, redisadapter.Options{})
	c := nodes[2]
	for _, tt := range fetchSocketsCases {
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
	checkRemoteSocket(t, ctxT(t, 10*time.Second), c.adapter)
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
	checkFetchSocketsTimeout(t, a.adapter)
	// With the stuck server gone, the request succeeds again.
	_ = stuck.Close()
	got, err := a.adapter.FetchSockets(ctxT(t, 10*time.Second), rooms.Selection{})
	if err != nil || !slices.Equal(socketIDs(got), ids("a1", "b1")) {
		t.Fatalf("FetchSockets = %v, %v", socketIDs(got), err)
	}
}

func TestBroadcastWithAck(t *testing.T) {
	_, nodes := cluster(t, redisadapter.Options{})
	checkBroadcastWithAck(t, peers(nodes))
}

func TestServerSideEmit(t *testing.T) {
	_, nodes := cluster(t, redisadapter.Options{})
	checkServerSideEmit(t, ctxT(t, 20*time.Second), peers(nodes))
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
	checkRemoteJoinLeaveDisconnect(t, ctxT(t, 10*time.Second), peers(nodes), nil)
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
	waitServerCount(t, a.adapter, deadline)
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
