package redisadapter_test

import (
	"encoding/json"
	"errors"
	"github.com/echo-socketio/echo-socketio/internal/redistest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
	"github.com/echo-socketio/echo-socketio/socketio"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// TestSocketIOThreeNodes runs three Go Socket.IO servers on one Redis with official clients
// connected to each of them:
//
//	A: a1 {r1}, a2 {r2}
//	B: b1 {r1, r2}, b2 {} (long-polling)
//	C: c1 {r1}, c2 {r2}
func TestSocketIOThreeNodes(t *testing.T) {
	const requestsTimeout = 1500 * time.Millisecond
	srv := redistest.Start(t)
	opts := redisadapter.Options{RequestsTimeout: requestsTimeout}
	a := newSioNode(t, srv, "A", opts)
	b := newSioNode(t, srv, "B", opts)
	c := newSioNode(t, srv, "C", opts)
	nodes := []*redistest.SioNode{a, b, c}
	js := redistest.StartClients(t, srv)
	js.Connect(t, "a1", a.URL, "r1")
	js.Connect(t, "a2", a.URL, "r2")
	js.Connect(t, "b1", b.URL, "r1", "r2")
	js.ConnectWith(t, map[string]any{"name": "b2", "url": b.URL, "transports": []string{"polling"}})
	js.Connect(t, "c1", c.URL, "r1")
	js.Connect(t, "c2", c.URL, "r2")
	everyone := []string{"a1", "a2", "b1", "b2", "c1", "c2"}

	t.Run("ok, a room broadcast from each node reaches its members once", func(t *testing.T) {
		for _, n := range nodes {
			m := js.Mark()
			if err := n.IO.To("r1").Emit("room", n.Name); err != nil {
				t.Fatal(err)
			}
			js.Sync(t, n, "sync", everyone...)
			redistest.ExpectOnce(t, js.Got(m, "room"), "room from "+n.Name, `["`+n.Name+`"]`, "a1", "b1", "c1")
		}
	})
	t.Run("ok, two rooms, a socket in both gets the event once", func(t *testing.T) {
		m := js.Mark()
		if err := c.IO.To("r1", "r2").Emit("rooms", 2); err != nil {
			t.Fatal(err)
		}
		js.Sync(t, c, "sync", everyone...)
		redistest.ExpectOnce(t, js.Got(m, "rooms"), "rooms", `[2]`, "a1", "a2", "b1", "c1", "c2")
	})
	t.Run("ok, except", func(t *testing.T) {
		m := js.Mark()
		if err := a.IO.To("r1").Except("r2").Emit("except", "x"); err != nil {
			t.Fatal(err)
		}
		if err := b.IO.Except("r1", js.Sid("c2")).Emit("everyoneExcept"); err != nil {
			t.Fatal(err)
		}
		js.Sync(t, a, "sync", everyone...)
		js.Sync(t, b, "sync", everyone...)
		redistest.ExpectOnce(t, js.Got(m, "except"), "except", `["x"]`, "a1", "c1")
		redistest.ExpectOnce(t, js.Got(m, "everyoneExcept"), "everyoneExcept", `[]`, "a2", "b2")
	})
	t.Run("ok, binary", func(t *testing.T) {
		m := js.Mark()
		if err := b.IO.To("r2").Emit("bin", []byte{0, 1, 2, 255}, map[string]any{"nested": []byte("hi"), "n": 1}); err != nil {
			t.Fatal(err)
		}
		js.Sync(t, b, "sync", everyone...)
		redistest.ExpectOnce(t, js.Got(m, "bin"), "bin", `[{"$bin":"000102ff"},{"n":1,"nested":{"$bin":"6869"}}]`, "a2", "b1", "c2")
	})
	t.Run("ok, a socket's broadcast leaves the sender out on every node", func(t *testing.T) {
		m := js.Mark()
		js.Call(t, "emit", map[string]any{"client": "c1", "ev": "relay", "args": []any{[]string{"r1"}, "relayed", []any{"from c1"}}})
		// a2 sends binary from a client: the Go node decodes it and broadcasts it again.
		js.Call(t, "emit", map[string]any{"client": "a2", "ev": "relayBin", "args": []any{[]string{"r2"}, redistest.Bin([]byte{0xca, 0xfe})}})
		js.Sync(t, c, "sync", everyone...)
		js.Sync(t, a, "sync", everyone...)
		redistest.ExpectOnce(t, js.Got(m, "relayed"), "relayed", `["from c1"]`, "a1", "b1")
		redistest.ExpectOnce(t, js.Got(m, "bin"), "bin", `[{"$bin":"cafe"},{"from":"A"}]`, "b1", "c2")
	})
	t.Run("ok, FetchSockets sees the sockets of every node", func(t *testing.T) {
		want := map[string][]string{}
		for _, name := range everyone {
			want[js.Sid(name)] = nil
		}
		for _, n := range nodes {
			got := n.Fetch(t)
			if !slices.Equal(redistest.SortedKeys(got), redistest.SortedKeys(want)) {
				t.Fatalf("node %s: FetchSockets found %v, want %v", n.Name, redistest.SortedKeys(got), redistest.SortedKeys(want))
			}
			for _, name := range everyone {
				s := got[js.Sid(name)]
				if string(s.Data()) != `{"name":"`+name+`"}` {
					t.Errorf("node %s: %s data %s", n.Name, name, s.Data())
				}
				if s.Handshake() == nil || s.Handshake().Address == "" || !strings.Contains(s.Handshake().URL, "EIO=4") {
					t.Errorf("node %s: %s handshake %+v", n.Name, name, s.Handshake())
				}
			}
			if rs := got[js.Sid("b1")].Rooms(); redistest.JoinSorted(rs) != redistest.JoinSorted([]string{js.Sid("b1"), "r1", "r2"}) {
				t.Errorf("node %s: b1 rooms %v", n.Name, rs)
			}
			inR1 := n.Fetch(t, "r1")
			if wantR1 := redistest.SortedStrings(js.Sid("a1"), js.Sid("b1"), js.Sid("c1")); !slices.Equal(redistest.SortedKeys(inR1), wantR1) {
				t.Errorf("node %s: FetchSockets in r1 found %v, want %v", n.Name, redistest.SortedKeys(inR1), wantR1)
			}
		}
	})
	t.Run("ok, a broadcast with acks gathers the acks of the clients of every node", func(t *testing.T) {
		for _, n := range nodes {
			replies, err := n.IO.To("r2").Timeout(5*time.Second).EmitWithAck(redistest.CtxT(t, 10*time.Second), "poll", n.Name)
			if err != nil {
				t.Fatalf("node %s: %v", n.Name, err)
			}
			if names := redistest.ReplyNames(t, replies); !slices.Equal(names, []string{"a2", "b1", "c2"}) {
				t.Errorf("node %s: acks from %v", n.Name, redistest.ReplyNames(t, replies))
			}
		}
		start := time.Now()
		replies, err := a.IO.Of("/").Timeout(5*time.Second).EmitWithAck(redistest.CtxT(t, 10*time.Second), "pollAll")
		if err != nil || len(replies) != len(everyone) {
			t.Fatalf("everyone: %d replies, %v", len(replies), err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("the acks of every client took %v: the broadcast waited for a timeout", d)
		}
	})
	t.Run("nok, a broadcast with acks counts the silent clients of other nodes", func(t *testing.T) {
		js.ConnectWith(t, map[string]any{"name": "s1", "url": c.URL, "rooms": []string{"r2"}, "silent": true})
		start := time.Now()
		replies, err := a.IO.To("r2").Timeout(time.Second).EmitWithAck(redistest.CtxT(t, 10*time.Second), "poll")
		elapsed := time.Since(start)
		var te *socketio.AckTimeoutError
		if !errors.As(err, &te) || te.Expected != 4 || te.Missing != 1 {
			t.Fatalf("EmitWithAck error %v (%+v), want 1 of 4 missing", err, te)
		}
		if names := redistest.ReplyNames(t, replies); !slices.Equal(names, []string{"a2", "b1", "c2"}) {
			t.Errorf("acks from %v", names)
		}
		if elapsed < time.Second || elapsed > 3*time.Second {
			t.Errorf("EmitWithAck returned after %v, want about 1 s", elapsed)
		}
	})
	t.Run("ok, a socket fetched from another node can be emitted to, joined and disconnected", func(t *testing.T) {
		s1 := a.Fetch(t, "r2")[js.Sid("s1")]
		if s1 == nil {
			t.Fatal("FetchSockets on A did not find s1 of C")
		}
		m := js.Mark()
		if err := s1.Emit("direct", []byte{1}); err != nil {
			t.Fatal(err)
		}
		if err := s1.Join(redistest.CtxT(t, 5*time.Second), "r4"); err != nil {
			t.Fatal(err)
		}
		js.WaitFor(t, "s1 in r4", 5*time.Second, func() bool { return len(b.Fetch(t, "r4")) == 1 })
		// Messages of one node keep their order: the event arrives before the disconnection.
		if err := a.IO.To("r4").Emit("r4"); err != nil {
			t.Fatal(err)
		}
		if err := s1.Disconnect(redistest.CtxT(t, 5*time.Second), true); err != nil {
			t.Fatal(err)
		}
		js.WaitFor(t, "s1's disconnection", 5*time.Second, func() bool { return len(js.Disconnects(m)["s1"]) > 0 })
		redistest.ExpectOnce(t, js.Got(m, "direct"), "direct", `[{"$bin":"01"}]`, "s1")
		redistest.ExpectOnce(t, js.Got(m, "r4"), "r4", `[]`, "s1")
		if d := js.Disconnects(m); !slices.Equal(d["s1"], []string{"io server disconnect"}) || len(d) != 1 {
			t.Errorf("disconnections %v", d)
		}
		js.WaitFor(t, "s1 gone from the cluster", 5*time.Second, func() bool { return len(b.Fetch(t)) == len(everyone) })
	})
	t.Run("ok, SocketsJoin and SocketsLeave reach the sockets of every node", func(t *testing.T) {
		if err := a.IO.In("r2").SocketsJoin(redistest.CtxT(t, 5*time.Second), "r3"); err != nil {
			t.Fatal(err)
		}
		inR2 := redistest.SortedStrings(js.Sid("a2"), js.Sid("b1"), js.Sid("c2"))
		js.WaitFor(t, "the sockets of r2 in r3", 5*time.Second, func() bool { return slices.Equal(redistest.SortedKeys(c.Fetch(t, "r3")), inR2) })
		m := js.Mark()
		if err := c.IO.To("r3").Emit("r3", 1); err != nil {
			t.Fatal(err)
		}
		js.Sync(t, c, "sync", everyone...)
		redistest.ExpectOnce(t, js.Got(m, "r3"), "r3", `[1]`, "a2", "b1", "c2")

		if err := b.IO.In("r1").SocketsLeave(redistest.CtxT(t, 5*time.Second), "r3"); err != nil {
			t.Fatal(err)
		}
		js.WaitFor(t, "b1 out of r3", 5*time.Second, func() bool {
			return slices.Equal(redistest.SortedKeys(a.Fetch(t, "r3")), redistest.SortedStrings(js.Sid("a2"), js.Sid("c2")))
		})
		m = js.Mark()
		if err := a.IO.To("r3").Emit("r3", 2); err != nil {
			t.Fatal(err)
		}
		js.Sync(t, a, "sync", everyone...)
		redistest.ExpectOnce(t, js.Got(m, "r3"), "r3", `[2]`, "a2", "c2")
	})
	t.Run("ok, many concurrent broadcasts from every node arrive once and in order", func(t *testing.T) {
		const perNode = 200
		m := js.Mark()
		var wg sync.WaitGroup
		for _, n := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perNode {
					if err := n.IO.To("r1").Emit("seq", n.Name, i); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		for _, n := range nodes {
			js.Sync(t, n, "sync", everyone...)
		}
		got := js.Got(m, "seq")
		for _, name := range []string{"a1", "b1", "c1"} {
			next := map[string]int{}
			for _, args := range got[name] {
				var from string
				var i int
				if err := decodeArgs(args, &from, &i); err != nil {
					t.Fatal(err)
				}
				if i != next[from] {
					t.Fatalf("client %s: event %d of %s after %d of them", name, i, from, next[from])
				}
				next[from]++
			}
			for _, n := range nodes {
				if next[n.Name] != perNode {
					t.Errorf("client %s: %d events of %s, want %d", name, next[n.Name], n.Name, perNode)
				}
			}
		}
		for _, name := range []string{"a2", "b2", "c2"} {
			if len(got[name]) != 0 {
				t.Errorf("client %s outside r1 got %d events", name, len(got[name]))
			}
		}
	})
	t.Run("nok, a server that does not answer makes FetchSockets fail at the timeout", func(t *testing.T) {
		// A fourth subscriber of the request channel counts as a server and never answers.
		rdb := srv.Client(t)
		silent := rdb.Subscribe(redistest.CtxT(t, 5*time.Second), "socket.io-request#/#")
		defer func() { _ = silent.Close() }()
		if _, err := silent.Receive(redistest.CtxT(t, 5*time.Second)); err != nil {
			t.Fatal(err)
		}
		if n, err := a.Adapter.ServerCount(redistest.CtxT(t, 5*time.Second)); err != nil || n != 4 {
			t.Fatalf("ServerCount = %d, %v; want 4", n, err)
		}
		start := time.Now()
		got, err := a.IO.FetchSockets(redistest.CtxT(t, 10*time.Second))
		elapsed := time.Since(start)
		if !errors.Is(err, redisadapter.ErrTimeout) || got != nil {
			t.Fatalf("FetchSockets = %d sockets, %v; want none and ErrTimeout", len(got), err)
		}
		if elapsed < requestsTimeout || elapsed > requestsTimeout+2*time.Second {
			t.Errorf("FetchSockets failed after %v, want about %v", elapsed, requestsTimeout)
		}
		_ = silent.Close()
		js.WaitFor(t, "three servers again", 5*time.Second, func() bool {
			n, err := a.Adapter.ServerCount(redistest.CtxT(t, 5*time.Second))
			return err == nil && n == 3
		})
		if got := a.Fetch(t); len(got) != len(everyone) {
			t.Fatalf("FetchSockets after the silent server left: %d sockets", len(got))
		}
	})
	t.Run("ok, DisconnectSockets disconnects the clients of every node", func(t *testing.T) {
		m := js.Mark()
		if err := b.IO.In("r1").DisconnectSockets(redistest.CtxT(t, 5*time.Second), false); err != nil {
			t.Fatal(err)
		}
		js.WaitFor(t, "the disconnections", 5*time.Second, func() bool { return len(js.Disconnects(m)) >= 3 })
		remaining := []string{js.Sid("a2"), js.Sid("b2"), js.Sid("c2")}
		js.WaitFor(t, "FetchSockets without the disconnected sockets", 5*time.Second, func() bool {
			return slices.Equal(redistest.SortedKeys(c.Fetch(t)), redistest.SortedStrings(remaining...))
		})
		js.Sync(t, a, "sync", "a2", "b2", "c2")
		got := js.Disconnects(m)
		for _, name := range []string{"a1", "b1", "c1"} {
			if !slices.Equal(got[name], []string{"io server disconnect"}) {
				t.Errorf("client %s: disconnections %v", name, got[name])
			}
		}
		if len(got) != 3 {
			t.Errorf("disconnections %v, want a1, b1 and c1", got)
		}
	})
	for _, n := range nodes {
		if errs := n.Errs.List(); len(errs) > 0 {
			t.Errorf("node %s reported %v", n.Name, errs)
		}
	}
}

// TestSocketIOMixedCluster runs a Node socket.io server with @socket.io/redis-adapter and two Go
// servers on one Redis, with official clients on every server:
//
//	Node: n1 {r1}, n2 {r2}
//	G1:   g1 {r1, go}
//	G2:   g2 {r1, r2}
func TestSocketIOMixedCluster(t *testing.T) { mixedCluster(t, socketio.ParserJSON) }

// TestSocketIOMixedClusterMsgpack is TestSocketIOMixedCluster with every server and client
// speaking socket.io-msgpack-parser.
func TestSocketIOMixedClusterMsgpack(t *testing.T) { mixedCluster(t, socketio.ParserMsgpack) }

func mixedCluster(t *testing.T, parser socketio.Parser) {
	srv := redistest.Start(t)
	newNode := func(name string, opts redisadapter.Options) *redistest.SioNode {
		errs := &redistest.ErrLog{}
		opts.OnError = errs.Add
		return redistest.NewSioNodeWith(t, name, errs, redisadapter.New(srv.Client(t), opts), parser)
	}
	g1 := newNode("G1", redisadapter.Options{})
	g2 := newNode("G2", redisadapter.Options{PublishOnSpecificResponseChannel: true})
	var env []string
	if parser == socketio.ParserMsgpack {
		env = append(env, "PARSER=msgpack")
	}
	js := redistest.StartClientsScript(t, srv, "cluster.mjs", env...)
	nodeURL := js.Call(t, "serve", nil).Str("url")
	js.WaitFor(t, "the Node server in the cluster", 10*time.Second, func() bool {
		n, err := g1.Adapter.ServerCount(redistest.CtxT(t, 5*time.Second))
		return err == nil && n == 3
	})
	js.Connect(t, "n1", nodeURL, "r1")
	js.Connect(t, "n2", nodeURL, "r2")
	js.Connect(t, "g1", g1.URL, "r1", "go")
	js.Connect(t, "g2", g2.URL, "r1", "r2")
	everyone := []string{"n1", "n2", "g1", "g2"}

	t.Run("ok, Go broadcasts with binary reach the Node server's clients", func(t *testing.T) {
		m := js.Mark()
		if err := g1.IO.To("r1").Emit("fromGo", "text", []byte{1, 2, 3}, map[string]any{"deep": [][]byte{{4}, {}}}); err != nil {
			t.Fatal(err)
		}
		if err := g2.IO.To("r1", "r2").Except("r2").Emit("goExcept"); err != nil {
			t.Fatal(err)
		}
		js.Sync(t, g1, "sync", everyone...)
		js.Sync(t, g2, "sync", everyone...)
		redistest.ExpectOnce(t, js.Got(m, "fromGo"), "fromGo", `["text",{"$bin":"010203"},{"deep":[{"$bin":"04"},{"$bin":""}]}]`, "n1", "g1", "g2")
		redistest.ExpectOnce(t, js.Got(m, "goExcept"), "goExcept", `[]`, "n1", "g1")
	})
	t.Run("ok, Node broadcasts with binary reach the Go servers' clients", func(t *testing.T) {
		m := js.Mark()
		js.Call(t, "nodeEmit", map[string]any{"to": []string{"r1"}, "ev": "fromNode",
			"args": []any{"hi", redistest.Bin([]byte{4, 5, 6}), map[string]any{"nested": redistest.Bin([]byte{0, 255})}}})
		js.Call(t, "nodeEmit", map[string]any{"to": []string{"r1", "r2"}, "except": []string{"r1"}, "ev": "nodeExcept"})
		js.Call(t, "nodeEmit", map[string]any{"ev": "sync"})
		js.WaitFor(t, "the Node server's sync", 10*time.Second, func() bool { return len(js.Got(m, "sync")) == len(everyone) })
		redistest.ExpectOnce(t, js.Got(m, "fromNode"), "fromNode", `["hi",{"$bin":"040506"},{"nested":{"$bin":"00ff"}}]`, "n1", "g1", "g2")
		redistest.ExpectOnce(t, js.Got(m, "nodeExcept"), "nodeExcept", `[]`, "n2")
	})
	t.Run("ok, a Go client's binary reaches the Node client through a Go node", func(t *testing.T) {
		m := js.Mark()
		js.Call(t, "emit", map[string]any{"client": "g2", "ev": "relayBin", "args": []any{[]string{"r1"}, redistest.Bin([]byte("go→node"))}})
		js.Sync(t, g2, "sync", everyone...)
		redistest.ExpectOnce(t, js.Got(m, "bin"), "bin", `[`+redistest.JSONString(redistest.Bin([]byte("go→node")))+`,{"from":"G2"}]`, "n1", "g1")
	})
	t.Run("ok, binary relayed by a Go raw handler reaches the Node client as binary", func(t *testing.T) {
		m := js.Mark()
		payload := []any{redistest.Bin([]byte{0, 1, 2, 255}), "AAEC/w==", map[string]any{"nested": redistest.Bin([]byte{9, 8})}}
		res := js.Call(t, "emit", map[string]any{"client": "g2", "ev": "relayArgs", "args": append([]any{[]string{"r1"}, "relayed"}, payload...)})
		if res["reply"] != true {
			t.Fatalf("relayArgs answered %v", res)
		}
		js.Sync(t, g2, "sync", everyone...)
		// The string that reads as base64 stays a string; the binary values stay binary.
		redistest.ExpectOnce(t, js.Got(m, "relayed"), "relayed", `[{"$bin":"000102ff"},"AAEC/w==",{"nested":{"$bin":"0908"}}]`, "n1", "g1")
	})
	t.Run("ok, binary acknowledgements of the Node and Go clients reach a Go broadcast with acks", func(t *testing.T) {
		replies, err := g2.IO.To("r1").Timeout(5*time.Second).EmitWithAck(redistest.CtxT(t, 10*time.Second), "binPoll")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range replies {
			if len(r) != 1 || !r[0].IsBinary() {
				t.Fatalf("reply %v is not one binary value", r)
			}
			got = append(got, string(r[0].Bytes()))
		}
		sort.Strings(got)
		if !slices.Equal(got, []string{"g1", "g2", "n1"}) {
			t.Fatalf("binary acks %v", got)
		}
		res := js.Call(t, "nodeAsk", map[string]any{"to": []string{"r2"}, "ev": "binPoll"})
		var answers []string
		for _, a := range res["answers"].([]any) {
			answers = append(answers, redistest.JSONString(a))
		}
		sort.Strings(answers)
		if got := strings.Join(answers, ","); got != `{"$bin":"6732"},{"$bin":"6e32"}` { // "g2", "n2"
			t.Fatalf("Node emitWithAck binary answers %s", got)
		}
	})
	t.Run("ok, fetchSockets on the Node server lists the Go servers' sockets", func(t *testing.T) {
		res := js.Call(t, "nodeFetch", nil)
		got := map[string]string{}
		for _, s := range res["sockets"].([]any) {
			m := s.(map[string]any)
			got[m["id"].(string)] = redistest.JSONString(m["data"]) + " " + redistest.JSONString(m["rooms"])
		}
		want := map[string]string{}
		for name, rs := range map[string][]string{"n1": {"r1"}, "n2": {"r2"}, "g1": {"go", "r1"}, "g2": {"r1", "r2"}} {
			want[js.Sid(name)] = `{"name":"` + name + `"} ` + redistest.JSONString(redistest.SortedStrings(append(rs, js.Sid(name))...))
		}
		if redistest.JSONString(got) != redistest.JSONString(want) {
			t.Fatalf("Node fetchSockets:\n%s\nwant\n%s", redistest.JSONString(got), redistest.JSONString(want))
		}
		res = js.Call(t, "nodeFetch", map[string]any{"in": []string{"go"}})
		if list := res["sockets"].([]any); len(list) != 1 || list[0].(map[string]any)["id"] != js.Sid("g1") {
			t.Fatalf("Node fetchSockets in go: %v", list)
		}
	})
	t.Run("ok, FetchSockets on the Go servers lists the Node server's sockets", func(t *testing.T) {
		for _, n := range []*redistest.SioNode{g1, g2} {
			got := n.Fetch(t)
			if want := redistest.SortedStrings(js.Sid("n1"), js.Sid("n2"), js.Sid("g1"), js.Sid("g2")); !slices.Equal(redistest.SortedKeys(got), want) {
				t.Fatalf("node %s: FetchSockets found %v, want %v", n.Name, redistest.SortedKeys(got), want)
			}
			s := got[js.Sid("n1")]
			if string(s.Data()) != `{"name":"n1"}` || redistest.JoinSorted(s.Rooms()) != redistest.JoinSorted([]string{js.Sid("n1"), "r1"}) ||
				s.Handshake() == nil || !strings.Contains(s.Handshake().URL, "EIO=4") {
				t.Errorf("node %s: n1 is %s %v %+v", n.Name, s.Data(), s.Rooms(), s.Handshake())
			}
			inR2 := n.Fetch(t, "r2")
			if want := redistest.SortedStrings(js.Sid("n2"), js.Sid("g2")); !slices.Equal(redistest.SortedKeys(inR2), want) {
				t.Errorf("node %s: FetchSockets in r2 found %v, want %v", n.Name, redistest.SortedKeys(inR2), want)
			}
		}
	})
	t.Run("ok, a Go broadcast with acks gathers the Node client's ack", func(t *testing.T) {
		replies, err := g2.IO.To("r1").Timeout(5*time.Second).EmitWithAck(redistest.CtxT(t, 10*time.Second), "poll")
		if err != nil {
			t.Fatal(err)
		}
		if names := redistest.ReplyNames(t, replies); !slices.Equal(names, []string{"g1", "g2", "n1"}) {
			t.Fatalf("acks from %v", names)
		}
	})
	t.Run("ok, a Node broadcast with acks gathers the Go servers' clients' acks", func(t *testing.T) {
		res := js.Call(t, "nodeAsk", map[string]any{"to": []string{"r2"}, "ev": "poll"})
		if got := redistest.JSONString(res["answers"]); got != `["g2","n2"]` {
			t.Fatalf("Node emitWithAck answers %s", got)
		}
	})
	t.Run("ok, the Redis emitter reaches the clients of the Go servers", func(t *testing.T) {
		m := js.Mark()
		js.Call(t, "emitter", map[string]any{"to": []string{"go"}, "ev": "fromEmitter", "args": []any{"x", redistest.Bin([]byte{0xff, 0})}})
		js.Call(t, "emitter", map[string]any{"to": []string{"r2"}, "ev": "emitterR2", "args": []any{map[string]any{"n": 1}}})
		js.Call(t, "emitter", map[string]any{"ev": "sync"})
		js.WaitFor(t, "the emitter's sync", 10*time.Second, func() bool { return len(js.Got(m, "sync")) == len(everyone) })
		redistest.ExpectOnce(t, js.Got(m, "fromEmitter"), "fromEmitter", `["x",{"$bin":"ff00"}]`, "g1")
		redistest.ExpectOnce(t, js.Got(m, "emitterR2"), "emitterR2", `[{"n":1}]`, "n2", "g2")
	})
	for _, n := range []*redistest.SioNode{g1, g2} {
		if errs := n.Errs.List(); len(errs) > 0 {
			t.Errorf("node %s reported %v", n.Name, errs)
		}
	}
}

// decodeArgs decodes a JSON array of arguments into dst, in order.
func decodeArgs(args string, dst ...any) error {
	raw, err := parser.SplitArgs(json.RawMessage(args), nil)
	if err != nil {
		return err
	}
	return raw.Decode(dst...)
}
