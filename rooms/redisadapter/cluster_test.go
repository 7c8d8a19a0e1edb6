package redisadapter_test

import (
	"errors"
	"github.com/echo-socketio/echo-socketio/internal/redistest"
	"slices"
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
func cluster(t *testing.T, opts redisadapter.Options) (*redistest.Server, []*node) {
	srv := redistest.Start(t)
	a := newNode(t, srv, "a", opts)
	b := newNode(t, srv, "b", opts)
	c := newNode(t, srv, "c", opts)
	a.ns.Connect("a1", "room1")
	a.ns.Connect("a2")
	b.ns.Connect("b1", "room1")
	b.ns.Connect("b2", "room1", "room2")
	c.ns.Connect("c1", "room2")
	c.ns.Connect("c2", "room3")
	return srv, []*node{a, b, c}
}

// syncAll broadcasts a marker from n to every node and waits until all have it, so that
// every earlier broadcast of n has been delivered everywhere.
func syncAll(t *testing.T, from *node, nodes []*node, marker string) {
	t.Helper()
	redistest.SyncPeers(t, from.adapter, peers(nodes), marker)
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
		{"ok, everyone", rooms.Selection{}, []any{"x"}, [3][]rooms.SocketID{redistest.IDs("a1", "a2"), redistest.IDs("b1", "b2"), redistest.IDs("c1", "c2")}},
		{"ok, one room", rooms.Selection{Rooms: []rooms.Room{"room1"}}, []any{1}, [3][]rooms.SocketID{redistest.IDs("a1"), redistest.IDs("b1", "b2"), nil}},
		{"ok, two rooms", rooms.Selection{Rooms: []rooms.Room{"room1", "room2"}}, nil, [3][]rooms.SocketID{redistest.IDs("a1"), redistest.IDs("b1", "b2"), redistest.IDs("c1")}},
		{"ok, except", rooms.Selection{Rooms: []rooms.Room{"room1"}, Except: []rooms.Room{"room2"}}, nil, [3][]rooms.SocketID{redistest.IDs("a1"), redistest.IDs("b1"), nil}},
		{"ok, everyone except", rooms.Selection{Except: []rooms.Room{"room1", "c2"}}, nil, [3][]rooms.SocketID{redistest.IDs("a2"), nil, redistest.IDs("c1")}},
		{"ok, a socket's own room", rooms.Selection{Rooms: []rooms.Room{"c2"}}, nil, [3][]rooms.SocketID{nil, nil, redistest.IDs("c2")}},
		{"ok, binary", rooms.Selection{Rooms: []rooms.Room{"room2"}}, []any{[]byte{0, 1, 2, 255}, map[string]any{"b": []byte("hi")}}, [3][]rooms.SocketID{nil, redistest.IDs("b2"), redistest.IDs("c1")}},
		{"ok, local", rooms.Selection{Flags: rooms.Flags{Local: true}}, nil, [3][]rooms.SocketID{redistest.IDs("a1", "a2"), nil, nil}},
		{"ok, volatile", rooms.Selection{Rooms: []rooms.Room{"room3"}, Flags: rooms.Flags{Volatile: true, Compress: true}}, nil, [3][]rooms.SocketID{nil, nil, redistest.IDs("c2")}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := redistest.Event(t, "ev", tt.args...)
			if err := a.adapter.Broadcast(p, tt.sel); err != nil {
				t.Fatal(err)
			}
			marker := "marker" + string(rune('a'+i))
			syncAll(t, a, nodes, marker)
			redistest.CheckBroadcastDeliveries(t, ps[0], ps, p, tt.sel, tt.want)
		})
	}
}

func TestBroadcastOtherNamespaceIgnored(t *testing.T) {
	srv := redistest.Start(t)
	a := newNodeNS(t, srv, "/", "a", redisadapter.Options{})
	admin := newNodeNS(t, srv, "/admin", "b", redisadapter.Options{})
	root := newNodeNS(t, srv, "/", "c", redisadapter.Options{})
	admin.ns.Connect("x1")
	root.ns.Connect("y1")
	if err := a.adapter.Broadcast(redistest.Event(t, "hello"), rooms.Selection{}); err != nil {
		t.Fatal(err)
	}
	root.ns.WaitFor(t, "hello", 5*time.Second, func() bool { return len(root.ns.Deliveries()) == 1 })
	time.Sleep(100 * time.Millisecond)
	if got := admin.ns.Deliveries(); len(got) != 0 {
		t.Fatalf("/admin got a broadcast of /:\n%s", redistest.FmtDeliveries(got))
	}
}

func TestServerCount(t *testing.T) {
	_, nodes := cluster(t, redisadapter.Options{})
	for _, n := range nodes {
		got, err := n.adapter.ServerCount(redistest.CtxT(t, 5*time.Second))
		if err != nil || got != 3 {
			t.Fatalf("ServerCount = %d, %v; want 3", got, err)
		}
	}
}

func TestFetchSockets(t *testing.T) {
	_, nodes := cluster(t, redisadapter.Options{})
	c := nodes[2]
	for _, tt := range redistest.FetchSocketsCases {
		t.Run(tt.Name, func(t *testing.T) {
			got, err := c.adapter.FetchSockets(redistest.CtxT(t, 10*time.Second), tt.Sel)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(redistest.SocketIDs(got), tt.Want) {
				t.Fatalf("got %v, want %v", redistest.SocketIDs(got), tt.Want)
			}
		})
	}
	// A remote socket's description crosses intact.
	redistest.CheckRemoteSocket(t, redistest.CtxT(t, 10*time.Second), c.adapter)
}

func TestFetchSocketsTimeout(t *testing.T) {
	srv := redistest.Start(t)
	opts := redisadapter.Options{RequestsTimeout: 300 * time.Millisecond}
	a := newNode(t, srv, "a", opts)
	b := newNode(t, srv, "b", opts)
	a.ns.Connect("a1")
	b.ns.Connect("b1")
	// A server that listens to the requests and never answers.
	stuck := srv.Client(t).Subscribe(redistest.CtxT(t, 5*time.Second), "socket.io-request#/#")
	t.Cleanup(func() { _ = stuck.Close() })
	if _, err := stuck.Receive(redistest.CtxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	checkFetchSocketsTimeout(t, a.adapter)
	// With the stuck server gone, the request succeeds again.
	_ = stuck.Close()
	got, err := a.adapter.FetchSockets(redistest.CtxT(t, 10*time.Second), rooms.Selection{})
	if err != nil || !slices.Equal(redistest.SocketIDs(got), redistest.IDs("a1", "b1")) {
		t.Fatalf("FetchSockets = %v, %v", redistest.SocketIDs(got), err)
	}
}

func TestBroadcastWithAck(t *testing.T) {
	_, nodes := cluster(t, redisadapter.Options{})
	redistest.CheckBroadcastWithAck(t, peers(nodes))
}

func TestServerSideEmit(t *testing.T) {
	_, nodes := cluster(t, redisadapter.Options{})
	redistest.CheckServerSideEmit(t, redistest.CtxT(t, 20*time.Second), peers(nodes))
}

func TestServerSideEmitTimeout(t *testing.T) {
	srv := redistest.Start(t)
	opts := redisadapter.Options{RequestsTimeout: 300 * time.Millisecond}
	a := newNode(t, srv, "a", opts)
	newNode(t, srv, "b", opts)
	stuck := srv.Client(t).Subscribe(redistest.CtxT(t, 5*time.Second), "socket.io-request#/#")
	t.Cleanup(func() { _ = stuck.Close() })
	if _, err := stuck.Receive(redistest.CtxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	res, err := a.adapter.ServerSideEmit(redistest.CtxT(t, 5*time.Second), "ping", nil, true)
	if !errors.Is(err, redisadapter.ErrTimeout) || len(res) != 1 {
		t.Fatalf("ServerSideEmit = %v, %v; want one answer and ErrTimeout", res, err)
	}
}

func TestRemoteJoinLeaveDisconnect(t *testing.T) {
	_, nodes := cluster(t, redisadapter.Options{})
	redistest.CheckRemoteJoinLeaveDisconnect(t, redistest.CtxT(t, 10*time.Second), peers(nodes), nil)
}

func TestMalformedMessagesIgnored(t *testing.T) {
	srv, nodes := cluster(t, redisadapter.Options{})
	a, b := nodes[0], nodes[1]
	rdb := srv.Client(t)
	ctx := redistest.CtxT(t, 10*time.Second)
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
	if len(b.errs.List()) == 0 {
		t.Fatal("no malformed message was reported")
	}
	got, err := b.adapter.FetchSockets(ctx, rooms.Selection{})
	if err != nil || len(got) != 6 {
		t.Fatalf("FetchSockets after junk: %v, %v", redistest.SocketIDs(got), err)
	}
}

func TestRedisRestart(t *testing.T) {
	srv, nodes := cluster(t, redisadapter.Options{RequestsTimeout: time.Second})
	a, c := nodes[0], nodes[2]
	syncAll(t, a, nodes, "before")
	srv.Restart()
	start := time.Now()
	// Broadcasts published before the others have subscribed again are lost: keep sending
	// until one arrives.
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; ; i++ {
		_ = a.adapter.Broadcast(redistest.Event(t, "after", i), rooms.Selection{Rooms: []rooms.Room{"c1"}})
		if slices.ContainsFunc(c.ns.Deliveries(), func(d redistest.Delivery) bool { return d.Event == "after" }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no broadcast got through after the restart; errors: %v", a.errs.List())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("broadcasts flow again %v after the restart", time.Since(start).Round(time.Millisecond))
	// Requests work again once every server has subscribed again.
	redistest.WaitServerCount(t, a.adapter, deadline)
	got, err := a.adapter.FetchSockets(redistest.CtxT(t, 5*time.Second), rooms.Selection{})
	if err != nil || len(got) != 6 {
		t.Fatalf("FetchSockets after restart: %v, %v", redistest.SocketIDs(got), err)
	}
	if len(a.errs.List()) == 0 {
		t.Error("the lost connection was not reported")
	}
}

func TestRedisDownNoPanic(t *testing.T) {
	srv, nodes := cluster(t, redisadapter.Options{RequestsTimeout: 200 * time.Millisecond})
	a := nodes[0]
	srv.Stop()
	// Local delivery goes on; requests fail with an error.
	if err := a.adapter.Broadcast(redistest.Event(t, "x"), rooms.Selection{}); err != nil {
		t.Logf("broadcast: %v", err)
	}
	if ds := a.ns.Deliveries(); len(ds) != 1 || len(ds[0].IDs) != 2 {
		t.Fatalf("local delivery: %s", redistest.FmtDeliveries(ds))
	}
	if _, err := a.adapter.FetchSockets(redistest.CtxT(t, 5*time.Second), rooms.Selection{}); err == nil {
		t.Fatal("FetchSockets succeeded without Redis")
	}
	if _, err := a.adapter.ServerCount(redistest.CtxT(t, 5*time.Second)); err == nil {
		t.Fatal("ServerCount succeeded without Redis")
	}
}

func TestCloseEndsRequests(t *testing.T) {
	srv := redistest.Start(t)
	a := newNode(t, srv, "a", redisadapter.Options{})
	if err := a.adapter.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.adapter.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.adapter.AddSockets(redistest.CtxT(t, time.Second), rooms.Selection{}, "x"); !errors.Is(err, redisadapter.ErrClosed) {
		t.Fatalf("AddSockets after Close: %v", err)
	}
}
