package redisadapter_test

import (
	"bytes"
	"encoding/json"
	"github.com/echo-socketio/echo-socketio/internal/redistest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/internal/nodetest"
	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

func TestNodeEmitter(t *testing.T) {
	srv := redistest.Start(t)
	g := newNode(t, srv, "g", redisadapter.Options{})
	admin := newNodeNS(t, srv, "/admin", "g-admin", redisadapter.Options{})
	g.ns.Connect("g1", "room1")
	g.ns.Connect("g2", "room2")
	admin.ns.Connect("ga1")

	start := time.Now()
	res := nodetest.RunFile(t, 30*time.Second, redistest.NodeScript(t, "emitter.mjs"), "REDIS_URL=redis://"+srv.Addr)
	if res.Find("published") == nil {
		t.Fatalf("emitter: %s", res.Describe())
	}
	g.ns.WaitFor(t, "last", 5*time.Second, func() bool {
		return slices.ContainsFunc(g.ns.Deliveries(), func(d redistest.Delivery) bool { return d.Event == "last" })
	})
	t.Logf("emitter script took %v", time.Since(start).Round(time.Millisecond))
	byEvent := map[string]redistest.Delivery{}
	for _, d := range g.ns.Deliveries() {
		if _, dup := byEvent[d.Event]; dup {
			t.Fatalf("%s delivered twice", d.Event)
		}
		byEvent[d.Event] = d
	}
	check := func(ev, data string, want []rooms.SocketID) redistest.Delivery {
		t.Helper()
		d, ok := byEvent[ev]
		if !ok {
			t.Fatalf("%s not delivered; got\n%s", ev, redistest.FmtDeliveries(g.ns.Deliveries()))
		}
		if d.Data != data || !slices.Equal(d.IDs, want) {
			t.Fatalf("%s: %s to %v, want %s to %v", ev, d.Data, d.IDs, data, want)
		}
		return d
	}
	check("hello", `["hello","world",{"n":1}]`, redistest.IDs("g1"))
	bin := check("bin", `["bin",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]`, redistest.IDs("g1"))
	if len(bin.Attachments) != 2 || !bytes.Equal(bin.Attachments[0], []byte{1, 2, 3}) || string(bin.Attachments[1]) != "hi" {
		t.Fatalf("bin attachments %v", bin.Attachments)
	}
	check("notroom1", `["notroom1",42]`, redistest.IDs("g2"))
	if d := check("tworooms", `["tworooms"]`, redistest.IDs("g1", "g2")); !d.Flags.Volatile {
		t.Error("volatile flag lost")
	}
	check("last", `["last"]`, redistest.IDs("g1", "g2"))
	admin.ns.WaitFor(t, "admin", 5*time.Second, func() bool { return len(admin.ns.Deliveries()) == 1 })
	if d := admin.ns.Deliveries()[0]; d.Data != `["admin",true]` {
		t.Fatalf("admin: %s", d.Data)
	}
	g.ns.WaitFor(t, "join", 5*time.Second, func() bool { return slices.Equal(g.adapter.Sockets("joined"), []rooms.SocketID{"g1"}) })
	g.ns.WaitFor(t, "server-side emit", 5*time.Second, func() bool { return len(g.ns.SSECalls()) == 1 })
	if c := g.ns.SSECalls()[0]; c.Event != "fromEmitter" || len(c.Args) != 2 || c.Args[1].String() != "2" {
		t.Fatalf("server-side emit %+v", c)
	}
}

func TestNodeServerCluster(t *testing.T) {
	srv := redistest.Start(t)
	g := newNode(t, srv, "g", redisadapter.Options{})
	g2 := newNode(t, srv, "g2", redisadapter.Options{PublishOnSpecificResponseChannel: true})
	g.ns.Connect("g1", "room1", "goroom")
	g2.ns.Connect("h1", "goroom")

	start := time.Now()
	np := redistest.StartNodeScript(t, "server.mjs", "REDIS_URL=redis://"+srv.Addr)
	ready := np.Next(t, "ready", 30*time.Second)
	nodeSID := rooms.SocketID(ready.Str("sid"))
	t.Logf("node server ready after %v", time.Since(start).Round(time.Millisecond))
	ctx := redistest.CtxT(t, 30*time.Second)
	if n, err := g.adapter.ServerCount(ctx); err != nil || n != 3 {
		t.Fatalf("ServerCount = %d, %v", n, err)
	}
	if c := np.Do(t, "count"); c["count"] != float64(3) {
		t.Fatalf("node serverCount: %v", c)
	}

	t.Run("ok, Go fetchSockets sees the Node server's socket", func(t *testing.T) {
		for _, a := range []*redisadapter.Adapter{g.adapter, g2.adapter} {
			got, err := a.FetchSockets(ctx, rooms.Selection{Rooms: []rooms.Room{"room1"}})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(redistest.SocketIDs(got), redistest.IDs("g1", string(nodeSID))) {
				t.Fatalf("got %v", redistest.SocketIDs(got))
			}
			for _, s := range got {
				if s.ID == nodeSID && (string(s.Data) != `{"from":"node"}` || s.Handshake == nil ||
					!strings.Contains(s.Handshake.URL, "who=node-client") || len(s.Handshake.Headers.Values("host")) != 1 ||
					!slices.Contains(s.Rooms, "room1")) {
					j, _ := json.Marshal(s)
					t.Fatalf("node socket %s", j)
				}
			}
		}
	})
	t.Run("ok, Node fetchSockets sees the Go servers' sockets", func(t *testing.T) {
		res := np.Do(t, "fetch")
		var got []string
		for _, s := range res["sockets"].([]any) {
			m := s.(map[string]any)
			got = append(got, m["id"].(string))
			if m["id"] == "g1" && (!slices.Contains(redistest.ToStrings(m["rooms"]), "goroom") || m["headers"].(map[string]any)["x-node"] != "g") {
				t.Fatalf("g1 as Node sees it: %v", m)
			}
		}
		slices.Sort(got)
		want := []string{"g1", "h1", string(nodeSID)}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("node fetchSockets: %v, want %v", got, want)
		}
	})
	t.Run("ok, a Go broadcast with binary reaches the Node client", func(t *testing.T) {
		if err := g.adapter.Broadcast(redistest.Event(t, "goEvent", "text", []byte{1, 2, 3}), rooms.Selection{Rooms: []rooms.Room{"room1"}}); err != nil {
			t.Fatal(err)
		}
		e := np.Next(t, "client-got", 5*time.Second)
		j, _ := json.Marshal(e)
		if e.Str("name") != "goEvent" || !strings.Contains(string(j), `"args":["text",{"buffer":"010203"}]`) {
			t.Fatalf("node client got %s", j)
		}
	})
	t.Run("ok, a Node broadcast with binary reaches the Go sockets", func(t *testing.T) {
		np.Do(t, "emit")
		for _, n := range []*node{g, g2} {
			n.ns.WaitFor(t, "fromNode", 5*time.Second, func() bool {
				return slices.ContainsFunc(n.ns.Deliveries(), func(d redistest.Delivery) bool { return d.Event == "fromNode" })
			})
		}
		for _, d := range g.ns.Deliveries() {
			if d.Event == "fromNode" && (!slices.Equal(d.IDs, redistest.IDs("g1")) || len(d.Attachments) != 1 || !bytes.Equal(d.Attachments[0], []byte{4, 5, 6}) ||
				d.Data != `["fromNode","hi",{"_placeholder":true,"num":0}]`) {
				t.Fatalf("g got %s", redistest.FmtDeliveries([]redistest.Delivery{d}))
			}
		}
		e := np.Next(t, "client-got", 5*time.Second)
		if e.Str("name") != "notGoroom" {
			t.Fatalf("node client got %v", e)
		}
	})
	t.Run("ok, Go server-side emit reaches Node, with and without ack", func(t *testing.T) {
		if _, err := g.adapter.ServerSideEmit(ctx, "goSSE", append(redistest.RawArgs(t, `"a"`, `{"b":2}`), parser.BinaryArg([]byte{1, 2})), false); err != nil {
			t.Fatal(err)
		}
		// The binary argument travels in MessagePack, which the Node adapter reads as a Buffer.
		if e := np.Next(t, "sse", 5*time.Second); e.Str("name") != "goSSE" || redistest.JSONString(e["args"]) != `["a",{"b":2},{"buffer":"0102"}]` {
			t.Fatalf("node got %v", e)
		}
		res, err := g.adapter.ServerSideEmit(ctx, "goAsk", redistest.RawArgs(t, `1`), true)
		if err != nil {
			t.Fatal(err)
		}
		var answers []string
		for _, r := range res {
			answers = append(answers, r[0].String())
		}
		slices.Sort(answers)
		if !slices.Equal(answers, []string{`"node answer"`, `"pong from g2"`}) {
			t.Fatalf("answers %v", answers)
		}
	})
	t.Run("ok, Node server-side emit reaches Go, with and without ack", func(t *testing.T) {
		res := np.Do(t, "sse")
		if got := redistest.ToStrings(res["answers"]); !slices.Equal(redistest.Sorted(got), []string{"pong from g", "pong from g2"}) {
			t.Fatalf("node answers %v", res)
		}
		calls := g.ns.SSECalls()
		if len(calls) < 2 || calls[0].Event != "nodeSSE" || calls[0].Args[1].String() != `{"y":1}` || calls[1].Event != "nodeAsk" || !calls[1].Ack {
			t.Fatalf("g got %+v", calls)
		}
	})
	t.Run("ok, Go broadcast with acks gathers the Node client's ack", func(t *testing.T) {
		var mu sync.Mutex
		var acks []string
		counted := make(chan int, 1)
		p := redistest.Event(t, "question", "?")
		p.ID, p.HasID = 1, true
		err := g.adapter.BroadcastWithAck(p, rooms.Selection{Rooms: []rooms.Room{"room1", "goroom"}, Flags: rooms.Flags{Timeout: 3 * time.Second}},
			func(n int) { counted <- n },
			func(_ rooms.SocketID, args parser.Args) {
				mu.Lock()
				acks = append(acks, args[0].String())
				mu.Unlock()
			})
		if err != nil {
			t.Fatal(err)
		}
		if n := <-counted; n != 3 {
			t.Fatalf("count %d, want 3", n)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			got := redistest.Sorted(slices.Clone(acks))
			mu.Unlock()
			if slices.Equal(got, []string{`"ack g1"`, `"ack h1"`, `"node client answer"`}) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("acks %v", got)
			}
			time.Sleep(20 * time.Millisecond)
		}
		np.Next(t, "client-got", 5*time.Second)
	})
	t.Run("ok, Node broadcast with acks gathers the Go sockets' acks", func(t *testing.T) {
		res := np.Do(t, "bwa")
		if got := redistest.ToStrings(res["answers"]); !slices.Equal(got, []string{"ack g1", "node client answer"}) {
			t.Fatalf("node answers %v", res)
		}
	})
	t.Run("ok, Node socketsJoin reaches the Go sockets", func(t *testing.T) {
		np.Do(t, "join")
		g.ns.WaitFor(t, "join", 5*time.Second, func() bool { return slices.Equal(g.adapter.Sockets("nodejoined"), []rooms.SocketID{"g1"}) })
		g2.ns.WaitFor(t, "join", 5*time.Second, func() bool { return slices.Equal(g2.adapter.Sockets("nodejoined"), []rooms.SocketID{"h1"}) })
	})
}
