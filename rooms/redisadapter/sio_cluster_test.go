package redisadapter_test

import (
	"encoding/json"
	"errors"
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
	srv := startRedis(t)
	opts := redisadapter.Options{RequestsTimeout: requestsTimeout}
	a := newSioNode(t, srv, "A", opts)
	b := newSioNode(t, srv, "B", opts)
	c := newSioNode(t, srv, "C", opts)
	nodes := []*sioNode{a, b, c}
	js := startClients(t, srv)
	js.connect(t, "a1", a.url, "r1")
	js.connect(t, "a2", a.url, "r2")
	js.connect(t, "b1", b.url, "r1", "r2")
	js.connectWith(t, map[string]any{"name": "b2", "url": b.url, "transports": []string{"polling"}})
	js.connect(t, "c1", c.url, "r1")
	js.connect(t, "c2", c.url, "r2")
	everyone := []string{"a1", "a2", "b1", "b2", "c1", "c2"}

	t.Run("ok, a room broadcast from each node reaches its members once", func(t *testing.T) {
		for _, n := range nodes {
			m := js.mark()
			if err := n.io.To("r1").Emit("room", n.name); err != nil {
				t.Fatal(err)
			}
			js.sync(t, n, "sync", everyone...)
			expectOnce(t, js.got(m, "room"), "room from "+n.name, `["`+n.name+`"]`, "a1", "b1", "c1")
		}
	})
	t.Run("ok, two rooms, a socket in both gets the event once", func(t *testing.T) {
		m := js.mark()
		if err := c.io.To("r1", "r2").Emit("rooms", 2); err != nil {
			t.Fatal(err)
		}
		js.sync(t, c, "sync", everyone...)
		expectOnce(t, js.got(m, "rooms"), "rooms", `[2]`, "a1", "a2", "b1", "c1", "c2")
	})
	t.Run("ok, except", func(t *testing.T) {
		m := js.mark()
		if err := a.io.To("r1").Except("r2").Emit("except", "x"); err != nil {
			t.Fatal(err)
		}
		if err := b.io.Except("r1", js.sid("c2")).Emit("everyoneExcept"); err != nil {
			t.Fatal(err)
		}
		js.sync(t, a, "sync", everyone...)
		js.sync(t, b, "sync", everyone...)
		expectOnce(t, js.got(m, "except"), "except", `["x"]`, "a1", "c1")
		expectOnce(t, js.got(m, "everyoneExcept"), "everyoneExcept", `[]`, "a2", "b2")
	})
	t.Run("ok, binary", func(t *testing.T) {
		m := js.mark()
		if err := b.io.To("r2").Emit("bin", []byte{0, 1, 2, 255}, map[string]any{"nested": []byte("hi"), "n": 1}); err != nil {
			t.Fatal(err)
		}
		js.sync(t, b, "sync", everyone...)
		expectOnce(t, js.got(m, "bin"), "bin", `[{"$bin":"000102ff"},{"n":1,"nested":{"$bin":"6869"}}]`, "a2", "b1", "c2")
	})
	t.Run("ok, a socket's broadcast leaves the sender out on every node", func(t *testing.T) {
		m := js.mark()
		js.call(t, "emit", map[string]any{"client": "c1", "ev": "relay", "args": []any{[]string{"r1"}, "relayed", []any{"from c1"}}})
		// a2 sends binary from a client: the Go node decodes it and broadcasts it again.
		js.call(t, "emit", map[string]any{"client": "a2", "ev": "relayBin", "args": []any{[]string{"r2"}, bin([]byte{0xca, 0xfe})}})
		js.sync(t, c, "sync", everyone...)
		js.sync(t, a, "sync", everyone...)
		expectOnce(t, js.got(m, "relayed"), "relayed", `["from c1"]`, "a1", "b1")
		expectOnce(t, js.got(m, "bin"), "bin", `[{"$bin":"cafe"},{"from":"A"}]`, "b1", "c2")
	})
	t.Run("ok, FetchSockets sees the sockets of every node", func(t *testing.T) {
		want := map[string][]string{}
		for _, name := range everyone {
			want[js.sid(name)] = nil
		}
		for _, n := range nodes {
			got := n.fetch(t)
			if !slices.Equal(sortedKeys(got), sortedKeys(want)) {
				t.Fatalf("node %s: FetchSockets found %v, want %v", n.name, sortedKeys(got), sortedKeys(want))
			}
			for _, name := range everyone {
				s := got[js.sid(name)]
				if string(s.Data()) != `{"name":"`+name+`"}` {
					t.Errorf("node %s: %s data %s", n.name, name, s.Data())
				}
				if s.Handshake() == nil || s.Handshake().Address == "" || !strings.Contains(s.Handshake().URL, "EIO=4") {
					t.Errorf("node %s: %s handshake %+v", n.name, name, s.Handshake())
				}
			}
			if rs := got[js.sid("b1")].Rooms(); joinSorted(rs) != joinSorted([]string{js.sid("b1"), "r1", "r2"}) {
				t.Errorf("node %s: b1 rooms %v", n.name, rs)
			}
			inR1 := n.fetch(t, "r1")
			if wantR1 := sortedStrings(js.sid("a1"), js.sid("b1"), js.sid("c1")); !slices.Equal(sortedKeys(inR1), wantR1) {
				t.Errorf("node %s: FetchSockets in r1 found %v, want %v", n.name, sortedKeys(inR1), wantR1)
			}
		}
	})
	t.Run("ok, a broadcast with acks gathers the acks of the clients of every node", func(t *testing.T) {
		for _, n := range nodes {
			replies, err := n.io.To("r2").Timeout(5*time.Second).EmitWithAck(ctxT(t, 10*time.Second), "poll", n.name)
			if err != nil {
				t.Fatalf("node %s: %v", n.name, err)
			}
			if names := replyNames(t, replies); !slices.Equal(names, []string{"a2", "b1", "c2"}) {
				t.Errorf("node %s: acks from %v", n.name, replyNames(t, replies))
			}
		}
		start := time.Now()
		replies, err := a.io.Of("/").Timeout(5*time.Second).EmitWithAck(ctxT(t, 10*time.Second), "pollAll")
		if err != nil || len(replies) != len(everyone) {
			t.Fatalf("everyone: %d replies, %v", len(replies), err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("the acks of every client took %v: the broadcast waited for a timeout", d)
		}
	})
	t.Run("nok, a broadcast with acks counts the silent clients of other nodes", func(t *testing.T) {
		js.connectWith(t, map[string]any{"name": "s1", "url": c.url, "rooms": []string{"r2"}, "silent": true})
		start := time.Now()
		replies, err := a.io.To("r2").Timeout(time.Second).EmitWithAck(ctxT(t, 10*time.Second), "poll")
		elapsed := time.Since(start)
		var te *socketio.AckTimeoutError
		if !errors.As(err, &te) || te.Expected != 4 || te.Missing != 1 {
			t.Fatalf("EmitWithAck error %v (%+v), want 1 of 4 missing", err, te)
		}
		if names := replyNames(t, replies); !slices.Equal(names, []string{"a2", "b1", "c2"}) {
			t.Errorf("acks from %v", names)
		}
		if elapsed < time.Second || elapsed > 3*time.Second {
			t.Errorf("EmitWithAck returned after %v, want about 1 s", elapsed)
		}
	})
	t.Run("ok, a socket fetched from another node can be emitted to, joined and disconnected", func(t *testing.T) {
		s1 := a.fetch(t, "r2")[js.sid("s1")]
		if s1 == nil {
			t.Fatal("FetchSockets on A did not find s1 of C")
		}
		m := js.mark()
		if err := s1.Emit("direct", []byte{1}); err != nil {
			t.Fatal(err)
		}
		if err := s1.Join(ctxT(t, 5*time.Second), "r4"); err != nil {
			t.Fatal(err)
		}
		js.waitFor(t, "s1 in r4", 5*time.Second, func() bool { return len(b.fetch(t, "r4")) == 1 })
		// Messages of one node keep their order: the event arrives before the disconnection.
		if err := a.io.To("r4").Emit("r4"); err != nil {
			t.Fatal(err)
		}
		if err := s1.Disconnect(ctxT(t, 5*time.Second), true); err != nil {
			t.Fatal(err)
		}
		js.waitFor(t, "s1's disconnection", 5*time.Second, func() bool { return len(js.disconnects(m)["s1"]) > 0 })
		expectOnce(t, js.got(m, "direct"), "direct", `[{"$bin":"01"}]`, "s1")
		expectOnce(t, js.got(m, "r4"), "r4", `[]`, "s1")
		if d := js.disconnects(m); !slices.Equal(d["s1"], []string{"io server disconnect"}) || len(d) != 1 {
			t.Errorf("disconnections %v", d)
		}
		js.waitFor(t, "s1 gone from the cluster", 5*time.Second, func() bool { return len(b.fetch(t)) == len(everyone) })
	})
	t.Run("ok, SocketsJoin and SocketsLeave reach the sockets of every node", func(t *testing.T) {
		if err := a.io.In("r2").SocketsJoin(ctxT(t, 5*time.Second), "r3"); err != nil {
			t.Fatal(err)
		}
		inR2 := sortedStrings(js.sid("a2"), js.sid("b1"), js.sid("c2"))
		js.waitFor(t, "the sockets of r2 in r3", 5*time.Second, func() bool { return slices.Equal(sortedKeys(c.fetch(t, "r3")), inR2) })
		m := js.mark()
		if err := c.io.To("r3").Emit("r3", 1); err != nil {
			t.Fatal(err)
		}
		js.sync(t, c, "sync", everyone...)
		expectOnce(t, js.got(m, "r3"), "r3", `[1]`, "a2", "b1", "c2")

		if err := b.io.In("r1").SocketsLeave(ctxT(t, 5*time.Second), "r3"); err != nil {
			t.Fatal(err)
		}
		js.waitFor(t, "b1 out of r3", 5*time.Second, func() bool {
			return slices.Equal(sortedKeys(a.fetch(t, "r3")), sortedStrings(js.sid("a2"), js.sid("c2")))
		})
		m = js.mark()
		if err := a.io.To("r3").Emit("r3", 2); err != nil {
			t.Fatal(err)
		}
		js.sync(t, a, "sync", everyone...)
		expectOnce(t, js.got(m, "r3"), "r3", `[2]`, "a2", "c2")
	})
	t.Run("ok, many concurrent broadcasts from every node arrive once and in order", func(t *testing.T) {
		const perNode = 200
		m := js.mark()
		var wg sync.WaitGroup
		for _, n := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perNode {
					if err := n.io.To("r1").Emit("seq", n.name, i); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		for _, n := range nodes {
			js.sync(t, n, "sync", everyone...)
		}
		got := js.got(m, "seq")
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
				if next[n.name] != perNode {
					t.Errorf("client %s: %d events of %s, want %d", name, next[n.name], n.name, perNode)
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
		rdb := srv.client(t)
		silent := rdb.Subscribe(ctxT(t, 5*time.Second), "socket.io-request#/#")
		defer func() { _ = silent.Close() }()
		if _, err := silent.Receive(ctxT(t, 5*time.Second)); err != nil {
			t.Fatal(err)
		}
		if n, err := a.adapter.ServerCount(ctxT(t, 5*time.Second)); err != nil || n != 4 {
			t.Fatalf("ServerCount = %d, %v; want 4", n, err)
		}
		start := time.Now()
		got, err := a.io.FetchSockets(ctxT(t, 10*time.Second))
		elapsed := time.Since(start)
		if !errors.Is(err, redisadapter.ErrTimeout) || got != nil {
			t.Fatalf("FetchSockets = %d sockets, %v; want none and ErrTimeout", len(got), err)
		}
		if elapsed < requestsTimeout || elapsed > requestsTimeout+2*time.Second {
			t.Errorf("FetchSockets failed after %v, want about %v", elapsed, requestsTimeout)
		}
		_ = silent.Close()
		js.waitFor(t, "three servers again", 5*time.Second, func() bool {
			n, err := a.adapter.ServerCount(ctxT(t, 5*time.Second))
			return err == nil && n == 3
		})
		if got := a.fetch(t); len(got) != len(everyone) {
			t.Fatalf("FetchSockets after the silent server left: %d sockets", len(got))
		}
	})
	t.Run("ok, DisconnectSockets disconnects the clients of every node", func(t *testing.T) {
		m := js.mark()
		if err := b.io.In("r1").DisconnectSockets(ctxT(t, 5*time.Second), false); err != nil {
			t.Fatal(err)
		}
		js.waitFor(t, "the disconnections", 5*time.Second, func() bool { return len(js.disconnects(m)) >= 3 })
		remaining := []string{js.sid("a2"), js.sid("b2"), js.sid("c2")}
		js.waitFor(t, "FetchSockets without the disconnected sockets", 5*time.Second, func() bool {
			return slices.Equal(sortedKeys(c.fetch(t)), sortedStrings(remaining...))
		})
		js.sync(t, a, "sync", "a2", "b2", "c2")
		got := js.disconnects(m)
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
		if errs := n.errs.list(); len(errs) > 0 {
			t.Errorf("node %s reported %v", n.name, errs)
		}
	}
}

// replyNames decodes the first argument of each reply as a string, sorted.
func replyNames(t *testing.T, replies []socketio.Reply) []string {
	t.Helper()
	var names []string
	for _, r := range replies {
		var name string
		if err := r.Decode(&name); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names
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
	srv := startRedis(t)
	newNode := func(name string, opts redisadapter.Options) *sioNode {
		errs := &errLog{}
		opts.OnError = errs.add
		return newSioNodeWith(t, name, errs, redisadapter.New(srv.client(t), opts), parser)
	}
	g1 := newNode("G1", redisadapter.Options{})
	g2 := newNode("G2", redisadapter.Options{PublishOnSpecificResponseChannel: true})
	var env []string
	if parser == socketio.ParserMsgpack {
		env = append(env, "PARSER=msgpack")
	}
	js := startClientsScript(t, srv, "cluster.mjs", env...)
	nodeURL := js.call(t, "serve", nil).Str("url")
	js.waitFor(t, "the Node server in the cluster", 10*time.Second, func() bool {
		n, err := g1.adapter.ServerCount(ctxT(t, 5*time.Second))
		return err == nil && n == 3
	})
	js.connect(t, "n1", nodeURL, "r1")
	js.connect(t, "n2", nodeURL, "r2")
	js.connect(t, "g1", g1.url, "r1", "go")
	js.connect(t, "g2", g2.url, "r1", "r2")
	everyone := []string{"n1", "n2", "g1", "g2"}

	t.Run("ok, Go broadcasts with binary reach the Node server's clients", func(t *testing.T) {
		m := js.mark()
		if err := g1.io.To("r1").Emit("fromGo", "text", []byte{1, 2, 3}, map[string]any{"deep": [][]byte{{4}, {}}}); err != nil {
			t.Fatal(err)
		}
		if err := g2.io.To("r1", "r2").Except("r2").Emit("goExcept"); err != nil {
			t.Fatal(err)
		}
		js.sync(t, g1, "sync", everyone...)
		js.sync(t, g2, "sync", everyone...)
		expectOnce(t, js.got(m, "fromGo"), "fromGo", `["text",{"$bin":"010203"},{"deep":[{"$bin":"04"},{"$bin":""}]}]`, "n1", "g1", "g2")
		expectOnce(t, js.got(m, "goExcept"), "goExcept", `[]`, "n1", "g1")
	})
	t.Run("ok, Node broadcasts with binary reach the Go servers' clients", func(t *testing.T) {
		m := js.mark()
		js.call(t, "nodeEmit", map[string]any{"to": []string{"r1"}, "ev": "fromNode",
			"args": []any{"hi", bin([]byte{4, 5, 6}), map[string]any{"nested": bin([]byte{0, 255})}}})
		js.call(t, "nodeEmit", map[string]any{"to": []string{"r1", "r2"}, "except": []string{"r1"}, "ev": "nodeExcept"})
		js.call(t, "nodeEmit", map[string]any{"ev": "sync"})
		js.waitFor(t, "the Node server's sync", 10*time.Second, func() bool { return len(js.got(m, "sync")) == len(everyone) })
		expectOnce(t, js.got(m, "fromNode"), "fromNode", `["hi",{"$bin":"040506"},{"nested":{"$bin":"00ff"}}]`, "n1", "g1", "g2")
		expectOnce(t, js.got(m, "nodeExcept"), "nodeExcept", `[]`, "n2")
	})
	t.Run("ok, a Go client's binary reaches the Node client through a Go node", func(t *testing.T) {
		m := js.mark()
		js.call(t, "emit", map[string]any{"client": "g2", "ev": "relayBin", "args": []any{[]string{"r1"}, bin([]byte("go→node"))}})
		js.sync(t, g2, "sync", everyone...)
		expectOnce(t, js.got(m, "bin"), "bin", `[`+jsonString(bin([]byte("go→node")))+`,{"from":"G2"}]`, "n1", "g1")
	})
	t.Run("ok, binary relayed by a Go raw handler reaches the Node client as binary", func(t *testing.T) {
		m := js.mark()
		payload := []any{bin([]byte{0, 1, 2, 255}), "AAEC/w==", map[string]any{"nested": bin([]byte{9, 8})}}
		res := js.call(t, "emit", map[string]any{"client": "g2", "ev": "relayArgs", "args": append([]any{[]string{"r1"}, "relayed"}, payload...)})
		if res["reply"] != true {
			t.Fatalf("relayArgs answered %v", res)
		}
		js.sync(t, g2, "sync", everyone...)
		// The string that reads as base64 stays a string; the binary values stay binary.
		expectOnce(t, js.got(m, "relayed"), "relayed", `[{"$bin":"000102ff"},"AAEC/w==",{"nested":{"$bin":"0908"}}]`, "n1", "g1")
	})
	t.Run("ok, binary acknowledgements of the Node and Go clients reach a Go broadcast with acks", func(t *testing.T) {
		replies, err := g2.io.To("r1").Timeout(5*time.Second).EmitWithAck(ctxT(t, 10*time.Second), "binPoll")
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
		res := js.call(t, "nodeAsk", map[string]any{"to": []string{"r2"}, "ev": "binPoll"})
		var answers []string
		for _, a := range res["answers"].([]any) {
			answers = append(answers, jsonString(a))
		}
		sort.Strings(answers)
		if got := strings.Join(answers, ","); got != `{"$bin":"6732"},{"$bin":"6e32"}` { // "g2", "n2"
			t.Fatalf("Node emitWithAck binary answers %s", got)
		}
	})
	t.Run("ok, fetchSockets on the Node server lists the Go servers' sockets", func(t *testing.T) {
		res := js.call(t, "nodeFetch", nil)
		got := map[string]string{}
		for _, s := range res["sockets"].([]any) {
			m := s.(map[string]any)
			got[m["id"].(string)] = jsonString(m["data"]) + " " + jsonString(m["rooms"])
		}
		want := map[string]string{}
		for name, rs := range map[string][]string{"n1": {"r1"}, "n2": {"r2"}, "g1": {"go", "r1"}, "g2": {"r1", "r2"}} {
			want[js.sid(name)] = `{"name":"` + name + `"} ` + jsonString(sortedStrings(append(rs, js.sid(name))...))
		}
		if jsonString(got) != jsonString(want) {
			t.Fatalf("Node fetchSockets:\n%s\nwant\n%s", jsonString(got), jsonString(want))
		}
		res = js.call(t, "nodeFetch", map[string]any{"in": []string{"go"}})
		if list := res["sockets"].([]any); len(list) != 1 || list[0].(map[string]any)["id"] != js.sid("g1") {
			t.Fatalf("Node fetchSockets in go: %v", list)
		}
	})
	t.Run("ok, FetchSockets on the Go servers lists the Node server's sockets", func(t *testing.T) {
		for _, n := range []*sioNode{g1, g2} {
			got := n.fetch(t)
			if want := sortedStrings(js.sid("n1"), js.sid("n2"), js.sid("g1"), js.sid("g2")); !slices.Equal(sortedKeys(got), want) {
				t.Fatalf("node %s: FetchSockets found %v, want %v", n.name, sortedKeys(got), want)
			}
			s := got[js.sid("n1")]
			if string(s.Data()) != `{"name":"n1"}` || joinSorted(s.Rooms()) != joinSorted([]string{js.sid("n1"), "r1"}) ||
				s.Handshake() == nil || !strings.Contains(s.Handshake().URL, "EIO=4") {
				t.Errorf("node %s: n1 is %s %v %+v", n.name, s.Data(), s.Rooms(), s.Handshake())
			}
			inR2 := n.fetch(t, "r2")
			if want := sortedStrings(js.sid("n2"), js.sid("g2")); !slices.Equal(sortedKeys(inR2), want) {
				t.Errorf("node %s: FetchSockets in r2 found %v, want %v", n.name, sortedKeys(inR2), want)
			}
		}
	})
	t.Run("ok, a Go broadcast with acks gathers the Node client's ack", func(t *testing.T) {
		replies, err := g2.io.To("r1").Timeout(5*time.Second).EmitWithAck(ctxT(t, 10*time.Second), "poll")
		if err != nil {
			t.Fatal(err)
		}
		if names := replyNames(t, replies); !slices.Equal(names, []string{"g1", "g2", "n1"}) {
			t.Fatalf("acks from %v", names)
		}
	})
	t.Run("ok, a Node broadcast with acks gathers the Go servers' clients' acks", func(t *testing.T) {
		res := js.call(t, "nodeAsk", map[string]any{"to": []string{"r2"}, "ev": "poll"})
		if got := jsonString(res["answers"]); got != `["g2","n2"]` {
			t.Fatalf("Node emitWithAck answers %s", got)
		}
	})
	t.Run("ok, the Redis emitter reaches the clients of the Go servers", func(t *testing.T) {
		m := js.mark()
		js.call(t, "emitter", map[string]any{"to": []string{"go"}, "ev": "fromEmitter", "args": []any{"x", bin([]byte{0xff, 0})}})
		js.call(t, "emitter", map[string]any{"to": []string{"r2"}, "ev": "emitterR2", "args": []any{map[string]any{"n": 1}}})
		js.call(t, "emitter", map[string]any{"ev": "sync"})
		js.waitFor(t, "the emitter's sync", 10*time.Second, func() bool { return len(js.got(m, "sync")) == len(everyone) })
		expectOnce(t, js.got(m, "fromEmitter"), "fromEmitter", `["x",{"$bin":"ff00"}]`, "g1")
		expectOnce(t, js.got(m, "emitterR2"), "emitterR2", `[{"n":1}]`, "n2", "g2")
	})
	for _, n := range []*sioNode{g1, g2} {
		if errs := n.errs.list(); len(errs) > 0 {
			t.Errorf("node %s reported %v", n.name, errs)
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
