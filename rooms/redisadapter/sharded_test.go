package redisadapter_test

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/echo-socketio/echo-socketio/internal/redistest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/redis/go-redis/v9"
)

// snode is one server of a sharded test cluster.
type snode struct {
	ns      *redistest.RecNS
	adapter *redisadapter.ShardedAdapter
	errs    *redistest.ErrLog
}

func newShardedNode(t testing.TB, srv *redistest.Server, name string, opts redisadapter.ShardedOptions) *snode {
	t.Helper()
	ns := redistest.NewRecNS("/", name)
	errs := &redistest.ErrLog{}
	if opts.OnError == nil {
		opts.OnError = errs.Add
	}
	a := redisadapter.NewSharded(srv.Client(t), opts)(ns).(*redisadapter.ShardedAdapter)
	ns.Mu.Lock()
	ns.Adapter = a
	ns.Mu.Unlock()
	t.Cleanup(func() { _ = a.Close() })
	if err := a.Ready(redistest.CtxT(t, 5*time.Second)); err != nil {
		t.Fatalf("node %s: %v", name, err)
	}
	return &snode{ns: ns, adapter: a, errs: errs}
}

// shardSubs returns the number of subscribers of a sharded channel.
func shardSubs(t testing.TB, rdb *redis.Client, channel string) int64 {
	t.Helper()
	m, err := rdb.PubSubShardNumSub(redistest.CtxT(t, 5*time.Second), channel).Result()
	if err != nil {
		t.Fatal(err)
	}
	return m[channel]
}

// waitShardSubs waits until channel has n subscribers.
func waitShardSubs(t testing.TB, rdb *redis.Client, channel string, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := shardSubs(t, rdb, channel)
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d subscribers, want %d", channel, got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// shardedCluster starts three nodes with sockets:
//
//	a: a1 {room1}, a2 {}
//	b: b1 {room1}, b2 {room1, room2}
//	c: c1 {room2}, c2 {room3}
//
// and waits until the rooms' channels have their subscribers in the dynamic modes.
func shardedCluster(t *testing.T, opts redisadapter.ShardedOptions) (*redistest.Server, []*snode) {
	srv := redistest.Start(t)
	a := newShardedNode(t, srv, "a", opts)
	b := newShardedNode(t, srv, "b", opts)
	c := newShardedNode(t, srv, "c", opts)
	a.ns.Connect("a1", "room1")
	a.ns.Connect("a2")
	b.ns.Connect("b1", "room1")
	b.ns.Connect("b2", "room1", "room2")
	c.ns.Connect("c1", "room2")
	c.ns.Connect("c2", "room3")
	if opts.SubscriptionMode != redisadapter.SubscriptionStatic {
		rdb := srv.Client(t)
		for room, n := range map[string]int64{"room1": 2, "room2": 2, "room3": 1, "a1": 1, "c2": 1} {
			waitShardSubs(t, rdb, "socket.io#/#"+room+"#", n)
		}
	}
	return srv, []*snode{a, b, c}
}

func syncSharded(t *testing.T, from *snode, nodes []*snode, marker string) {
	t.Helper()
	redistest.SyncPeers(t, from.adapter, shardedPeers(nodes), marker)
}

func TestShardedBroadcast(t *testing.T) {
	for _, mode := range []redisadapter.SubscriptionMode{redisadapter.SubscriptionStatic, redisadapter.SubscriptionDynamic, redisadapter.SubscriptionDynamicPrivate} {
		t.Run(string(mode), func(t *testing.T) {
			_, nodes := shardedCluster(t, redisadapter.ShardedOptions{SubscriptionMode: mode})
			a, ps := nodes[0], shardedPeers(nodes)
			tests := []struct {
				name string
				sel  rooms.Selection
				args []any
				want [3][]rooms.SocketID
			}{
				{"ok, everyone", rooms.Selection{}, []any{"x"}, [3][]rooms.SocketID{redistest.IDs("a1", "a2"), redistest.IDs("b1", "b2"), redistest.IDs("c1", "c2")}},
				{"ok, one room", rooms.Selection{Rooms: []rooms.Room{"room1"}}, []any{1}, [3][]rooms.SocketID{redistest.IDs("a1"), redistest.IDs("b1", "b2"), nil}},
				{"ok, one room of another node", rooms.Selection{Rooms: []rooms.Room{"room2"}}, []any{1}, [3][]rooms.SocketID{nil, redistest.IDs("b2"), redistest.IDs("c1")}},
				{"ok, two rooms", rooms.Selection{Rooms: []rooms.Room{"room1", "room2"}}, nil, [3][]rooms.SocketID{redistest.IDs("a1"), redistest.IDs("b1", "b2"), redistest.IDs("c1")}},
				{"ok, except", rooms.Selection{Rooms: []rooms.Room{"room1"}, Except: []rooms.Room{"room2"}}, nil, [3][]rooms.SocketID{redistest.IDs("a1"), redistest.IDs("b1"), nil}},
				{"ok, everyone except", rooms.Selection{Except: []rooms.Room{"room1", "c2"}}, nil, [3][]rooms.SocketID{redistest.IDs("a2"), nil, redistest.IDs("c1")}},
				{"ok, a socket's own room", rooms.Selection{Rooms: []rooms.Room{"c2"}}, nil, [3][]rooms.SocketID{nil, nil, redistest.IDs("c2")}},
				{"ok, binary", rooms.Selection{Rooms: []rooms.Room{"room2"}}, []any{[]byte{0, 1, 2, 255}, map[string]any{"b": []byte("hi")}}, [3][]rooms.SocketID{nil, redistest.IDs("b2"), redistest.IDs("c1")}},
				{"ok, binary to everyone", rooms.Selection{}, []any{[]byte{}}, [3][]rooms.SocketID{redistest.IDs("a1", "a2"), redistest.IDs("b1", "b2"), redistest.IDs("c1", "c2")}},
				{"ok, local", rooms.Selection{Flags: rooms.Flags{Local: true}}, nil, [3][]rooms.SocketID{redistest.IDs("a1", "a2"), nil, nil}},
				{"ok, volatile", rooms.Selection{Rooms: []rooms.Room{"room3"}, Flags: rooms.Flags{Volatile: true, Compress: true}}, nil, [3][]rooms.SocketID{nil, nil, redistest.IDs("c2")}},
				{"ok, a room nobody is in", rooms.Selection{Rooms: []rooms.Room{"nobody"}}, nil, [3][]rooms.SocketID{nil, nil, nil}},
			}
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					p := redistest.Event(t, "ev", tt.args...)
					if err := a.adapter.Broadcast(p, tt.sel); err != nil {
						t.Fatal(err)
					}
					// Messages on different channels may arrive in any order: wait for the
					// expected deliveries first, then for a marker on the namespace's channel.
					for j, n := range nodes {
						if tt.want[j] != nil {
							n.ns.WaitFor(t, "ev", 5*time.Second, func() bool {
								return slices.ContainsFunc(n.ns.Deliveries(), func(d redistest.Delivery) bool { return d.Event == "ev" })
							})
						}
					}
					marker := "marker" + string(rune('a'+i))
					syncSharded(t, a, nodes, marker)
					redistest.CheckBroadcastDeliveries(t, ps[0], ps, p, tt.sel, tt.want)
				})
			}
			for _, n := range nodes {
				if errs := n.errs.List(); len(errs) > 0 {
					t.Errorf("node %s reported %v", n.ns.Node, errs)
				}
			}
		})
	}
}

// TestShardedChannels checks on which channel each message goes, as the Node adapter
// publishes, with a plain subscriber of the channels.
func TestShardedChannels(t *testing.T) {
	const longRoom = "room-name-of-20-char" // looks like a socket ID
	tests := []struct {
		mode redisadapter.SubscriptionMode
		room string
		want string
	}{
		{redisadapter.SubscriptionStatic, "room1", "socket.io#/#"},
		{redisadapter.SubscriptionDynamic, "room1", "socket.io#/#room1#"},
		{redisadapter.SubscriptionDynamic, longRoom, "socket.io#/#"},
		{redisadapter.SubscriptionDynamicPrivate, longRoom, "socket.io#/#" + longRoom + "#"},
	}
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	for _, tt := range tests {
		t.Run(string(tt.mode)+" "+tt.room, func(t *testing.T) {
			a := newShardedNode(t, srv, "a", redisadapter.ShardedOptions{SubscriptionMode: tt.mode, Key: "k" + string(tt.mode)})
			want := strings.Replace(tt.want, "socket.io", "k"+string(tt.mode), 1)
			main := "k" + string(tt.mode) + "#/#"
			ps := rdb.SSubscribe(redistest.CtxT(t, 5*time.Second), main, want)
			defer func() { _ = ps.Close() }()
			for range 2 {
				if _, err := ps.Receive(redistest.CtxT(t, 5*time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			if err := a.adapter.Broadcast(redistest.Event(t, "ev", 1), rooms.Selection{Rooms: []rooms.Room{rooms.Room(tt.room)}}); err != nil {
				t.Fatal(err)
			}
			// A broadcast with acknowledgements goes to the namespace's channel always.
			p := redistest.Event(t, "ask")
			p.ID, p.HasID = 1, true
			done := make(chan int, 1)
			if err := a.adapter.BroadcastWithAck(p, rooms.Selection{Rooms: []rooms.Room{rooms.Room(tt.room)}, Flags: rooms.Flags{Timeout: 100 * time.Millisecond}},
				func(n int) { done <- n }, func(rooms.SocketID, parser.Args) {}); err != nil {
				t.Fatal(err)
			}
			for i, wantCh := range []string{want, main} {
				m, err := ps.ReceiveMessage(redistest.CtxT(t, 5*time.Second))
				if err != nil {
					t.Fatal(err)
				}
				var msg struct {
					UID  string `json:"uid"`
					Nsp  string `json:"nsp"`
					Type int    `json:"type"`
					Data struct {
						Packet struct {
							Type int             `json:"type"`
							Data json.RawMessage `json:"data"`
							Nsp  string          `json:"nsp"`
						} `json:"packet"`
						Opts struct {
							Rooms  []string        `json:"rooms"`
							Except []string        `json:"except"`
							Flags  json.RawMessage `json:"flags"`
						} `json:"opts"`
						RequestID *string `json:"requestId"`
					} `json:"data"`
				}
				if err := json.Unmarshal([]byte(m.Payload), &msg); err != nil {
					t.Fatalf("message %d: %v: %q", i, err, m.Payload)
				}
				if m.Channel != wantCh || msg.UID != a.adapter.UID() || msg.Nsp != "/" || msg.Type != 3 ||
					msg.Data.Packet.Type != 2 || msg.Data.Packet.Nsp != "/" || !slices.Equal(msg.Data.Opts.Rooms, []string{tt.room}) ||
					msg.Data.Opts.Except == nil || (i == 1) != (msg.Data.RequestID != nil) {
					t.Fatalf("message %d on %s: %s", i, m.Channel, m.Payload)
				}
			}
			select {
			case n := <-done:
				if n != 0 {
					t.Fatalf("count %d", n)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no count")
			}
		})
	}
}

// TestShardedDynamicSubscriptions follows the channels of the rooms as sockets join and
// leave them.
func TestShardedDynamicSubscriptions(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	dyn := newShardedNode(t, srv, "dyn", redisadapter.ShardedOptions{})
	priv := newShardedNode(t, srv, "priv", redisadapter.ShardedOptions{SubscriptionMode: redisadapter.SubscriptionDynamicPrivate, Key: "p"})
	static := newShardedNode(t, srv, "static", redisadapter.ShardedOptions{SubscriptionMode: redisadapter.SubscriptionStatic, Key: "s"})
	const sid = "ABCDEFGHIJKLMNOPQRST" // a socket ID as the Node and Go servers make them
	for _, n := range []*snode{dyn, priv, static} {
		n.ns.Connect(sid, "r1")
		n.ns.Connect("short", "r1")
	}
	waitShardSubs(t, rdb, "socket.io#/#r1#", 1)
	waitShardSubs(t, rdb, "socket.io#/#short#", 1) // not the length of a socket ID
	waitShardSubs(t, rdb, "p#/#r1#", 1)
	waitShardSubs(t, rdb, "p#/#"+sid+"#", 1)
	if n := shardSubs(t, rdb, "socket.io#/#"+sid+"#"); n != 0 {
		t.Errorf("dynamic: the private room has %d subscribers", n)
	}
	if n := shardSubs(t, rdb, "s#/#r1#"); n != 0 {
		t.Errorf("static: a room has %d subscribers", n)
	}
	// Many joins and leaves end with the channels of the rooms that remain.
	for i := range 50 {
		dyn.adapter.AddAll("short", "r2")
		dyn.adapter.Del("short", "r2")
		if i%2 == 0 {
			dyn.adapter.Del("short", "r1")
		} else {
			dyn.adapter.AddAll("short", "r1")
		}
	}
	dyn.adapter.DelAll(sid)
	waitShardSubs(t, rdb, "socket.io#/#r1#", 1) // short is in r1 after an odd last round
	waitShardSubs(t, rdb, "socket.io#/#r2#", 0)
	dyn.adapter.DelAll("short")
	priv.adapter.DelAll(sid)
	waitShardSubs(t, rdb, "socket.io#/#r1#", 0)
	waitShardSubs(t, rdb, "socket.io#/#short#", 0)
	waitShardSubs(t, rdb, "p#/#"+sid+"#", 0)
	waitShardSubs(t, rdb, "p#/#r1#", 1)
	// A room named as the server's ID leaves its response channel alone.
	dyn.adapter.AddAll("x", rooms.Room(dyn.adapter.UID()))
	dyn.adapter.DelAll("x")
	time.Sleep(50 * time.Millisecond)
	waitShardSubs(t, rdb, "socket.io#/#"+dyn.adapter.UID()+"#", 1)
	// The user's room hooks still run.
	var mu sync.Mutex
	var evs []string
	dyn.adapter.SetRoomEvents(rooms.RoomEvents{
		Create: func(r rooms.Room) { mu.Lock(); evs = append(evs, "create "+string(r)); mu.Unlock() },
		Join:   func(r rooms.Room, id rooms.SocketID) { mu.Lock(); evs = append(evs, "join "+string(r)); mu.Unlock() },
		Delete: func(r rooms.Room) { mu.Lock(); evs = append(evs, "delete "+string(r)); mu.Unlock() },
	})
	dyn.adapter.AddAll("y", "r5")
	waitShardSubs(t, rdb, "socket.io#/#r5#", 1)
	dyn.adapter.DelAll("y")
	waitShardSubs(t, rdb, "socket.io#/#r5#", 0)
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(evs, ","); got != "create r5,join r5,delete r5" {
		t.Errorf("hooks ran %s", got)
	}
}

func TestShardedRequests(t *testing.T) {
	srv, nodes := shardedCluster(t, redisadapter.ShardedOptions{})
	a, c := nodes[0], nodes[2]
	ctx := redistest.CtxT(t, 20*time.Second)

	t.Run("ok, ServerCount", func(t *testing.T) {
		for _, n := range nodes {
			if got, err := n.adapter.ServerCount(ctx); err != nil || got != 3 {
				t.Fatalf("ServerCount = %d, %v; want 3", got, err)
			}
		}
	})
	t.Run("ok, FetchSockets", func(t *testing.T) {
		for _, tt := range redistest.FetchSocketsCases {
			got, err := c.adapter.FetchSockets(ctx, tt.Sel)
			if err != nil || !slices.Equal(redistest.SocketIDs(got), tt.Want) {
				t.Fatalf("FetchSockets(%+v) = %v, %v; want %v", tt.Sel, redistest.SocketIDs(got), err, tt.Want)
			}
		}
		redistest.CheckRemoteSocket(t, ctx, c.adapter)
	})
	t.Run("ok, ServerSideEmit", func(t *testing.T) {
		redistest.CheckServerSideEmit(t, ctx, shardedPeers(nodes))
	})
	t.Run("ok, BroadcastWithAck", func(t *testing.T) {
		redistest.CheckBroadcastWithAck(t, shardedPeers(nodes))
	})
	t.Run("ok, AddSockets, DelSockets and DisconnectSockets", func(t *testing.T) {
		redistest.CheckRemoteJoinLeaveDisconnect(t, ctx, shardedPeers(nodes), func() {
			// A remote join subscribes the room's channel on the node: broadcasts reach it.
			waitShardSubs(t, srv.Client(t), "socket.io#/#joined#", 2)
			if err := a.adapter.Broadcast(redistest.Event(t, "toJoined"), rooms.Selection{Rooms: []rooms.Room{"joined"}}); err != nil {
				t.Fatal(err)
			}
			c.ns.WaitFor(t, "toJoined", 5*time.Second, func() bool {
				return slices.ContainsFunc(c.ns.Deliveries(), func(d redistest.Delivery) bool { return d.Event == "toJoined" })
			})
		})
	})
	t.Run("ok, a node that closes stops counting at once", func(t *testing.T) {
		if err := c.adapter.Close(); err != nil {
			t.Fatal(err)
		}
		n, err := a.adapter.ServerCount(ctx)
		if err != nil || n != 2 {
			t.Fatalf("ServerCount after Close = %d, %v; want 2", n, err)
		}
		start := time.Now()
		got, err := a.adapter.FetchSockets(ctx, rooms.Selection{})
		if err != nil || !slices.Equal(redistest.SocketIDs(got), redistest.IDs("a2")) || time.Since(start) > time.Second {
			t.Fatalf("FetchSockets after Close = %v, %v in %v", redistest.SocketIDs(got), err, time.Since(start))
		}
		if _, err := c.adapter.FetchSockets(ctx, rooms.Selection{}); !errors.Is(err, redisadapter.ErrClosed) && err != nil {
			t.Logf("FetchSockets on the closed adapter: %v", err)
		}
	})
	for _, n := range nodes {
		if errs := n.errs.List(); len(errs) > 0 {
			t.Errorf("node %s reported %v", n.ns.Node, errs)
		}
	}
}

func TestShardedTimeouts(t *testing.T) {
	srv := redistest.Start(t)
	opts := redisadapter.ShardedOptions{RequestsTimeout: 300 * time.Millisecond}
	a := newShardedNode(t, srv, "a", opts)
	b := newShardedNode(t, srv, "b", opts)
	a.ns.Connect("a1")
	b.ns.Connect("b1")
	// A server that listens and never answers.
	stuck := srv.Client(t).SSubscribe(redistest.CtxT(t, 5*time.Second), "socket.io#/#")
	t.Cleanup(func() { _ = stuck.Close() })
	if _, err := stuck.Receive(redistest.CtxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	checkFetchSocketsTimeout(t, a.adapter)
	res, err := a.adapter.ServerSideEmit(redistest.CtxT(t, 5*time.Second), "ping", nil, true)
	if !errors.Is(err, redisadapter.ErrTimeout) || len(res) != 1 {
		t.Fatalf("ServerSideEmit = %v, %v; want one answer and ErrTimeout", res, err)
	}
	_ = stuck.Close()
	waitShardSubs(t, srv.Client(t), "socket.io#/#", 2)
	got, err := a.adapter.FetchSockets(redistest.CtxT(t, 10*time.Second), rooms.Selection{})
	if err != nil || !slices.Equal(redistest.SocketIDs(got), redistest.IDs("a1", "b1")) {
		t.Fatalf("FetchSockets = %v, %v", redistest.SocketIDs(got), err)
	}
}

func TestShardedMalformedMessagesIgnored(t *testing.T) {
	srv, nodes := shardedCluster(t, redisadapter.ShardedOptions{})
	a, b := nodes[0], nodes[1]
	rdb := srv.Client(t)
	ctx := redistest.CtxT(t, 10*time.Second)
	junk := []string{"", "{", "{}", `{"type":3}`, `{"type":3,"nsp":"/","data":{"packet":{}}}`,
		`{"type":3,"nsp":"/","data":{"packet":{"type":2,"data":"x"}}}`, `{"type":3,"nsp":"/","data":{"packet":{"type":9,"data":["x"]}}}`,
		`{"type":7,"nsp":"/","data":{}}`, `{"type":9,"nsp":"/","data":{"packet":"x"}}`, `{"type":9,"nsp":"/","data":{"packet":[]}}`,
		`{"type":4,"nsp":"/","data":{"opts":{"rooms":[{}]},"rooms":["x"]}}`, `{"type":8,"nsp":"/","data":{"requestId":"x","sockets":[{}]}}`,
		`{"type":1,"nsp":"/","uid":"z"}`, `{"type":2,"nsp":"/","uid":"z"}`, `{"type":13,"nsp":"/","uid":"z"}`, `{"type":99,"nsp":"/"}`,
		"\x84", "\x81\xa4data\xdd\xff\xff\xff\xff", "\x82\xa4type\x03\xa4data\x81\xa6packet\x81\xa4data\xc6\xff\xff\xff\xff",
		"\xc6\xff\xff\xff\xff", "\xdf\xff\xff\xff\xff", "\xc1", "[1,2]"}
	for _, ch := range []string{"socket.io#/#", "socket.io#/#room1#", "socket.io#/#" + b.adapter.UID() + "#"} {
		for _, j := range junk {
			if err := rdb.SPublish(ctx, ch, j).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	syncSharded(t, a, nodes, "after-junk")
	if len(b.errs.List()) == 0 {
		t.Fatal("no malformed message was reported")
	}
	got, err := b.adapter.FetchSockets(ctx, rooms.Selection{})
	if err != nil || len(got) != 6 {
		t.Fatalf("FetchSockets after junk: %v, %v", redistest.SocketIDs(got), err)
	}
	if n, err := b.adapter.ServerCount(ctx); err != nil || n != 3 {
		t.Fatalf("ServerCount after junk: %d, %v", n, err)
	}
}

func TestShardedRedisRestart(t *testing.T) {
	srv, nodes := shardedCluster(t, redisadapter.ShardedOptions{RequestsTimeout: time.Second})
	redistest.CheckRedisRestart(t, srv, shardedPeers(nodes), nodes[0].errs, nodes[2].errs)
}

func TestShardedCloseAndOptions(t *testing.T) {
	srv := redistest.Start(t)
	a := newShardedNode(t, srv, "a", redisadapter.ShardedOptions{})
	a.ns.Connect("a1", "r")
	if err := a.adapter.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.adapter.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.adapter.AddSockets(redistest.CtxT(t, time.Second), rooms.Selection{}, "x"); !errors.Is(err, redisadapter.ErrClosed) {
		t.Fatalf("AddSockets after Close: %v", err)
	}
	if err := a.adapter.Ready(context.Background()); !errors.Is(err, redisadapter.ErrClosed) {
		t.Fatalf("Ready after Close: %v", err)
	}
	waitShardSubs(t, srv.Client(t), "socket.io#/#", 0)
	defer func() {
		if recover() == nil {
			t.Fatal("an unknown subscription mode did not panic")
		}
	}()
	redisadapter.NewSharded(srv.Client(t), redisadapter.ShardedOptions{SubscriptionMode: "sometimes"})
}
