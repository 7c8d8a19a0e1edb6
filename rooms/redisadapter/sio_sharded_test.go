package redisadapter_test

import (
	"context"
	"github.com/echo-socketio/echo-socketio/internal/redistest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/internal/nodetest"
	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// sseLog records the server-side events a Go server receives.
type sseLog struct {
	mu  sync.Mutex
	got []string
}

func (l *sseLog) add(s string) { l.mu.Lock(); l.got = append(l.got, s); l.mu.Unlock() }

func (l *sseLog) list() []string { l.mu.Lock(); defer l.mu.Unlock(); return slices.Clone(l.got) }

// TestSocketIOShardedMixedCluster runs two Node socket.io servers with createShardedAdapter
// (subscription mode "dynamic", the default on both sides) and two Go servers with the
// sharded adapter on one Redis, with official clients on every server:
//
//	N1: n1a {r1}, n1b {r2}
//	N2: n2a {r2}
//	G1: g1 {r1, go}
//	G2: g2 {r1, r2}
func TestSocketIOShardedMixedCluster(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	opts := redisadapter.ShardedOptions{RequestsTimeout: 2 * time.Second}
	g1 := newShardedSioNode(t, srv, "G1", opts)
	g2 := newShardedSioNode(t, srv, "G2", opts)
	sse := map[string]*sseLog{"G1": {}, "G2": {}}
	for _, n := range []*redistest.SioNode{g1, g2} {
		log := sse[n.Name]
		n.IO.Of("/").OnServerSideEmit("nodeSSE", func(args parser.Args, _ func(...any) error) {
			log.add("nodeSSE " + redistest.JSONString(args))
		})
		n.IO.Of("/").OnServerSideEmit("nodeAsk", func(args parser.Args, ack func(...any) error) {
			log.add("nodeAsk " + redistest.JSONString(args))
			_ = ack(n.Name+" answer", "ignored")
		})
		n.IO.Of("/").OnServerSideEmit("goSSE", func(args parser.Args, _ func(...any) error) {
			log.add("goSSE " + redistest.JSONString(args))
		})
		n.IO.Of("/").OnServerSideEmit("binSSE", func(args parser.Args, _ func(...any) error) {
			log.add("binSSE " + redistest.PlainArgs(args))
		})
		n.IO.Of("/").OnServerSideEmit("binAsk", func(args parser.Args, ack func(...any) error) {
			_ = ack(args.Any()...) // the arguments as they came, binary kept
		})
		n.IO.Of("/").OnServerSideEmit("goAsk", func(args parser.Args, ack func(...any) error) {
			_ = ack(n.Name + " answer")
		})
	}
	js := redistest.StartClientsScript(t, srv, "sharded.mjs")
	n1URL := js.Call(t, "serve", map[string]any{"server": "n1"}).Str("url")
	n2URL := js.Call(t, "serve", map[string]any{"server": "n2"}).Str("url")
	js.WaitFor(t, "four servers", 10*time.Second, func() bool {
		n, err := g1.Adapter.ServerCount(redistest.CtxT(t, 5*time.Second))
		return err == nil && n == 4
	})
	js.Connect(t, "n1a", n1URL, "r1")
	js.Connect(t, "n1b", n1URL, "r2")
	js.Connect(t, "n2a", n2URL, "r2")
	js.Connect(t, "g1", g1.URL, "r1", "go")
	js.Connect(t, "g2", g2.URL, "r1", "r2")
	everyone := []string{"n1a", "n1b", "n2a", "g1", "g2"}
	// The servers listen on the channels of their public rooms.
	waitShardSubs(t, rdb, "socket.io#/#r1#", 3)
	waitShardSubs(t, rdb, "socket.io#/#r2#", 3)
	waitShardSubs(t, rdb, "socket.io#/#go#", 1)
	waitShardSubs(t, rdb, "socket.io#/#"+js.Sid("g1")+"#", 0)

	t.Run("ok, server count", func(t *testing.T) {
		if got := js.Call(t, "nodeCount", map[string]any{"server": "n1"})["count"]; got != 4.0 {
			t.Fatalf("Node serverCount = %v, want 4", got)
		}
		if n, err := g2.Adapter.ServerCount(redistest.CtxT(t, 5*time.Second)); err != nil || n != 4 {
			t.Fatalf("Go ServerCount = %d, %v; want 4", n, err)
		}
	})
	t.Run("ok, Go broadcasts with binary reach the Node servers' clients", func(t *testing.T) {
		m := js.Mark()
		if err := g1.IO.To("r1").Emit("fromGo", "text", []byte{1, 2, 3}, map[string]any{"deep": [][]byte{{4}, {}}}); err != nil {
			t.Fatal(err)
		}
		if err := g2.IO.To("r1", "r2").Except("r2").Emit("goExcept"); err != nil {
			t.Fatal(err)
		}
		if err := g2.IO.To("r2").Except(js.Sid("n2a")).Emit("goR2", map[string]any{"b": []byte{0xff}}); err != nil {
			t.Fatal(err)
		}
		if err := g1.IO.To(js.Sid("n2a")).Emit("direct", []byte{9}); err != nil { // a Node socket's own room
			t.Fatal(err)
		}
		if err := g1.IO.Except("r1").Emit("notR1"); err != nil {
			t.Fatal(err)
		}
		js.WaitGot(t, m, "fromGo", "n1a", "g1", "g2")
		js.WaitGot(t, m, "goExcept", "n1a", "g1")
		js.WaitGot(t, m, "goR2", "n1b", "g2")
		js.WaitGot(t, m, "direct", "n2a")
		js.WaitGot(t, m, "notR1", "n1b", "n2a")
		js.Sync(t, g1, "sync", everyone...)
		js.Sync(t, g2, "sync", everyone...)
		redistest.ExpectOnce(t, js.Got(m, "fromGo"), "fromGo", `["text",{"$bin":"010203"},{"deep":[{"$bin":"04"},{"$bin":""}]}]`, "n1a", "g1", "g2")
		redistest.ExpectOnce(t, js.Got(m, "goExcept"), "goExcept", `[]`, "n1a", "g1")
		redistest.ExpectOnce(t, js.Got(m, "goR2"), "goR2", `[{"b":{"$bin":"ff"}}]`, "n1b", "g2")
		redistest.ExpectOnce(t, js.Got(m, "direct"), "direct", `[{"$bin":"09"}]`, "n2a")
		redistest.ExpectOnce(t, js.Got(m, "notR1"), "notR1", `[]`, "n1b", "n2a")
	})
	t.Run("ok, Node broadcasts with binary reach the Go servers' clients", func(t *testing.T) {
		m := js.Mark()
		js.Call(t, "nodeEmit", map[string]any{"server": "n1", "to": []string{"r1"}, "ev": "fromNode",
			"args": []any{"hi", redistest.Bin([]byte{4, 5, 6}), map[string]any{"nested": redistest.Bin([]byte{0, 255})}}})
		js.Call(t, "nodeEmit", map[string]any{"server": "n2", "to": []string{"r1", "r2"}, "except": []string{"r1"}, "ev": "nodeExcept"})
		js.Call(t, "nodeEmit", map[string]any{"server": "n2", "to": []string{"go"}, "ev": "toGo", "args": []any{1}})
		js.Call(t, "nodeEmit", map[string]any{"server": "n1", "to": []string{js.Sid("g2")}, "ev": "direct", "args": []any{redistest.Bin([]byte{7})}})
		js.Call(t, "nodeEmit", map[string]any{"server": "n1", "except": []string{"r2"}, "ev": "notR2"})
		js.WaitGot(t, m, "fromNode", "n1a", "g1", "g2")
		js.WaitGot(t, m, "nodeExcept", "n1b", "n2a")
		js.WaitGot(t, m, "toGo", "g1")
		js.WaitGot(t, m, "direct", "g2")
		js.WaitGot(t, m, "notR2", "n1a", "g1")
		js.Call(t, "nodeEmit", map[string]any{"server": "n1", "ev": "sync"})
		js.Call(t, "nodeEmit", map[string]any{"server": "n2", "ev": "sync2"})
		js.WaitGot(t, m, "sync", everyone...)
		js.WaitGot(t, m, "sync2", everyone...)
		redistest.ExpectOnce(t, js.Got(m, "fromNode"), "fromNode", `["hi",{"$bin":"040506"},{"nested":{"$bin":"00ff"}}]`, "n1a", "g1", "g2")
		redistest.ExpectOnce(t, js.Got(m, "nodeExcept"), "nodeExcept", `[]`, "n1b", "n2a")
		redistest.ExpectOnce(t, js.Got(m, "toGo"), "toGo", `[1]`, "g1")
		redistest.ExpectOnce(t, js.Got(m, "direct"), "direct", `[{"$bin":"07"}]`, "g2")
		redistest.ExpectOnce(t, js.Got(m, "notR2"), "notR2", `[]`, "n1a", "g1")
	})
	t.Run("ok, a Go client's binary reaches the Node clients through a Go node", func(t *testing.T) {
		m := js.Mark()
		js.Call(t, "emit", map[string]any{"client": "g2", "ev": "relayBin", "args": []any{[]string{"r2"}, redistest.Bin([]byte("go→node"))}})
		js.WaitGot(t, m, "bin", "n1b", "n2a")
		js.Sync(t, g2, "sync", everyone...)
		redistest.ExpectOnce(t, js.Got(m, "bin"), "bin", `[`+redistest.JSONString(redistest.Bin([]byte("go→node")))+`,{"from":"G2"}]`, "n1b", "n2a")
	})
	t.Run("ok, fetchSockets on a Node server lists the Go servers' sockets", func(t *testing.T) {
		res := js.Call(t, "nodeFetch", map[string]any{"server": "n2"})
		got := map[string]string{}
		for _, s := range res["sockets"].([]any) {
			m := s.(map[string]any)
			got[m["id"].(string)] = redistest.JSONString(m["data"]) + " " + redistest.JSONString(m["rooms"])
		}
		want := map[string]string{}
		for name, rs := range map[string][]string{"n1a": {"r1"}, "n1b": {"r2"}, "n2a": {"r2"}, "g1": {"go", "r1"}, "g2": {"r1", "r2"}} {
			want[js.Sid(name)] = `{"name":"` + name + `"} ` + redistest.JSONString(redistest.SortedStrings(append(rs, js.Sid(name))...))
		}
		if redistest.JSONString(got) != redistest.JSONString(want) {
			t.Fatalf("Node fetchSockets:\n%s\nwant\n%s", redistest.JSONString(got), redistest.JSONString(want))
		}
		res = js.Call(t, "nodeFetch", map[string]any{"server": "n1", "in": []string{"go"}})
		if list := res["sockets"].([]any); len(list) != 1 || list[0].(map[string]any)["id"] != js.Sid("g1") {
			t.Fatalf("Node fetchSockets in go: %v", list)
		}
	})
	t.Run("ok, FetchSockets on the Go servers lists the Node servers' sockets", func(t *testing.T) {
		for _, n := range []*redistest.SioNode{g1, g2} {
			got := n.Fetch(t)
			if want := redistest.SortedStrings(js.Sid("n1a"), js.Sid("n1b"), js.Sid("n2a"), js.Sid("g1"), js.Sid("g2")); !slices.Equal(redistest.SortedKeys(got), want) {
				t.Fatalf("node %s: FetchSockets found %v, want %v", n.Name, redistest.SortedKeys(got), want)
			}
			s := got[js.Sid("n2a")]
			if string(s.Data()) != `{"name":"n2a"}` || redistest.JoinSorted(s.Rooms()) != redistest.JoinSorted([]string{js.Sid("n2a"), "r2"}) ||
				s.Handshake() == nil || !strings.Contains(s.Handshake().URL, "EIO=4") {
				t.Errorf("node %s: n2a is %s %v %+v", n.Name, s.Data(), s.Rooms(), s.Handshake())
			}
			if inR2 := n.Fetch(t, "r2"); !slices.Equal(redistest.SortedKeys(inR2), redistest.SortedStrings(js.Sid("n1b"), js.Sid("n2a"), js.Sid("g2"))) {
				t.Errorf("node %s: FetchSockets in r2 found %v", n.Name, redistest.SortedKeys(inR2))
			}
		}
	})
	t.Run("ok, broadcasts with acks gather the acks of the clients of every server", func(t *testing.T) {
		replies, err := g2.IO.To("r2").Timeout(5*time.Second).EmitWithAck(redistest.CtxT(t, 10*time.Second), "poll")
		if err != nil {
			t.Fatal(err)
		}
		if names := redistest.ReplyNames(t, replies); !slices.Equal(names, []string{"g2", "n1b", "n2a"}) {
			t.Fatalf("Go emitWithAck: acks from %v", names)
		}
		res := js.Call(t, "nodeAsk", map[string]any{"server": "n1", "to": []string{"r1"}, "ev": "poll"})
		if got := redistest.JSONString(res["answers"]); got != `["g1","g2","n1a"]` {
			t.Fatalf("Node emitWithAck answers %s", got)
		}
	})
	t.Run("ok, server-side emits both ways", func(t *testing.T) {
		m := js.Mark()
		if err := g1.IO.Of("/").ServerSideEmit(redistest.CtxT(t, 5*time.Second), "goSSE", "x", map[string]any{"y": 1}); err != nil {
			t.Fatal(err)
		}
		js.WaitFor(t, "goSSE on the Node servers", 10*time.Second, func() bool {
			return len(js.Find(func(e nodetest.Event) bool { return e["event"] == "sse" && e["name"] == "goSSE" })) == 2
		})
		for _, e := range js.Find(func(e nodetest.Event) bool { return e["event"] == "sse" && e["name"] == "goSSE" }) {
			if redistest.JSONString(e["args"]) != `["x",{"y":1}]` {
				t.Errorf("Node server %v got goSSE %s", e["server"], redistest.JSONString(e["args"]))
			}
		}
		js.WaitFor(t, "goSSE on G2", 5*time.Second, func() bool { return len(sse["G2"].list()) == 1 })
		if got := sse["G2"].list()[0]; got != `goSSE ["x",{"y":1}]` {
			t.Errorf("G2 got %s", got)
		}
		replies, err := g1.IO.Of("/").ServerSideEmitWithAck(redistest.CtxT(t, 10*time.Second), "goAsk", 1)
		if err != nil {
			t.Fatal(err)
		}
		if names := redistest.ReplyNames(t, replies); !slices.Equal(names, []string{"G2 answer", "n1 answer", "n2 answer"}) {
			t.Fatalf("Go serverSideEmitWithAck answers %v", names)
		}
		js.Call(t, "nodeSSE", map[string]any{"server": "n2", "ev": "nodeSSE", "args": []any{"a", 2}})
		res := js.Call(t, "nodeSSEAsk", map[string]any{"server": "n2", "ev": "nodeAsk", "args": []any{3}})
		if got := redistest.JSONString(res["answers"]); got != `["G1 answer","G2 answer","n1 answer"]` {
			t.Fatalf("Node serverSideEmitWithAck answers %s", got)
		}
		for _, name := range []string{"G1", "G2"} {
			js.WaitFor(t, "nodeSSE on "+name, 5*time.Second, func() bool { return len(sse[name].list()) >= 2 })
			got := strings.Join(sse[name].list(), "|")
			if !strings.Contains(got, `nodeSSE ["a",2]`) || !strings.Contains(got, `nodeAsk [3]`) {
				t.Errorf("%s got %s", name, got)
			}
		}
		_ = m
	})
	t.Run("ok, server-side emits and their answers keep binary values both ways", func(t *testing.T) {
		isBin := func(e nodetest.Event) bool { return e["event"] == "sse" && e["name"] == "binSSE" }
		if err := g1.IO.Of("/").ServerSideEmit(redistest.CtxT(t, 5*time.Second), "binSSE", "x", []byte{1, 2}, map[string]any{"n": []byte{3}}); err != nil {
			t.Fatal(err)
		}
		const fromGo = `["x",{"$bin":"0102"},{"n":{"$bin":"03"}}]`
		js.WaitFor(t, "binSSE on the Node servers", 10*time.Second, func() bool { return len(js.Find(isBin)) == 2 })
		for _, e := range js.Find(isBin) {
			if redistest.JSONString(e["args"]) != fromGo {
				t.Errorf("Node server %v got binSSE %s", e["server"], redistest.JSONString(e["args"]))
			}
		}
		// G2 already holds the server-side emits of the subtest before: wait for this one.
		js.WaitFor(t, "binSSE on G2", 10*time.Second, func() bool {
			return strings.Contains(strings.Join(sse["G2"].list(), "|"), "binSSE "+fromGo)
		})
		js.Call(t, "nodeSSE", map[string]any{"server": "n2", "ev": "binSSE", "args": []any{"y", redistest.Bin([]byte{4})}})
		for _, name := range []string{"G1", "G2"} {
			js.WaitFor(t, "binSSE from Node on "+name, 5*time.Second, func() bool {
				return strings.Contains(strings.Join(sse[name].list(), "|"), `binSSE ["y",{"$bin":"04"}]`)
			})
		}
		replies, err := g1.IO.Of("/").ServerSideEmitWithAck(redistest.CtxT(t, 10*time.Second), "binAsk", []byte{5, 6})
		if err != nil {
			t.Fatal(err)
		}
		if len(replies) != 3 {
			t.Fatalf("%d answers, want 3", len(replies))
		}
		for _, r := range replies {
			if len(r) != 1 || !r[0].IsBinary() || string(r[0].Bytes()) != "\x05\x06" {
				t.Fatalf("answer %v is not the binary value sent", r)
			}
		}
		res := js.Call(t, "nodeSSEAsk", map[string]any{"server": "n2", "ev": "binAsk", "args": []any{redistest.Bin([]byte{7})}})
		if got := redistest.JSONString(res["answers"]); got != `[{"$bin":"07"},{"$bin":"07"},{"$bin":"07"}]` {
			t.Fatalf("Node serverSideEmitWithAck binary answers %s", got)
		}
	})
	t.Run("ok, socketsJoin of a Node server reaches a Go server's socket", func(t *testing.T) {
		js.Call(t, "nodeJoin", map[string]any{"server": "n1", "in": []string{"go"}, "room": "joined"})
		waitShardSubs(t, rdb, "socket.io#/#joined#", 1) // G1 listens on the new room's channel
		m := js.Mark()
		js.Call(t, "nodeEmit", map[string]any{"server": "n2", "to": []string{"joined"}, "ev": "toJoined"})
		js.WaitGot(t, m, "toJoined", "g1")
		if err := g2.IO.To("joined").Emit("toJoined"); err != nil {
			t.Fatal(err)
		}
		js.WaitFor(t, "two toJoined", 10*time.Second, func() bool { return len(js.Got(m, "toJoined")["g1"]) == 2 })
	})
	t.Run("ok, servers that leave stop counting", func(t *testing.T) {
		// A Node server closes: its adapter unsubscribes.
		js.Call(t, "nodeClose", map[string]any{"server": "n2"})
		js.WaitFor(t, "three servers", 5*time.Second, func() bool {
			n, err := g1.Adapter.ServerCount(redistest.CtxT(t, 5*time.Second))
			return err == nil && n == 3
		})
		start := time.Now()
		got := g1.Fetch(t)
		if want := redistest.SortedStrings(js.Sid("n1a"), js.Sid("n1b"), js.Sid("g1"), js.Sid("g2")); !slices.Equal(redistest.SortedKeys(got), want) {
			t.Fatalf("FetchSockets after n2 closed found %v, want %v", redistest.SortedKeys(got), want)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("FetchSockets after n2 closed took %v", d)
		}
		// A Go server shuts down: the Node server counts one less.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := g2.IO.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		js.WaitFor(t, "n1 counting two servers", 5*time.Second, func() bool {
			return js.Call(t, "nodeCount", map[string]any{"server": "n1"})["count"] == 2.0
		})
		res := js.Call(t, "nodeFetch", map[string]any{"server": "n1"})
		if list := res["sockets"].([]any); len(list) != 3 {
			t.Fatalf("Node fetchSockets after G2 left: %v", list)
		}
		// A Node server loses its subscriber connection, as when it crashes.
		js.Call(t, "nodeDrop", map[string]any{"server": "n1"})
		js.WaitFor(t, "one server", 5*time.Second, func() bool {
			n, err := g1.Adapter.ServerCount(redistest.CtxT(t, 5*time.Second))
			return err == nil && n == 1
		})
		if got := g1.Fetch(t); len(got) != 1 {
			t.Fatalf("FetchSockets alone found %v", redistest.SortedKeys(got))
		}
	})
	for _, n := range []*redistest.SioNode{g1, g2} {
		if errs := n.Errs.List(); len(errs) > 0 {
			t.Errorf("node %s reported %v", n.Name, errs)
		}
	}
}
