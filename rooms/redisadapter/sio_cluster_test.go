package redisadapter_test

import (
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// TestSocketIOThreeNodes runs three Go Socket.IO servers on one Redis with official clients
// connected to each of them:
//
//	A: a1 {r1}, a2 {r2}
//	B: b1 {r1, r2}, b2 {}
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
	js.connect(t, "b2", b.url)
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
		if elapsed < requestsTimeout || elapsed > requestsTimeout+time.Second {
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
