package redisadapter_test

import (
	"slices"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
)

// TestSocketIORedisRestart restarts Redis under two Go Socket.IO servers with official clients
// connected: a1 on A and b1 on B, both in room r.
func TestSocketIORedisRestart(t *testing.T) {
	srv := startRedis(t)
	opts := redisadapter.Options{RequestsTimeout: time.Second}
	a := newSioNode(t, srv, "A", opts)
	b := newSioNode(t, srv, "B", opts)
	js := startClients(t, srv)
	js.connect(t, "a1", a.url, "r")
	js.connect(t, "b1", b.url, "r")
	begin := js.mark()

	m := js.mark()
	if err := a.io.To("r").Emit("before"); err != nil {
		t.Fatal(err)
	}
	js.sync(t, a, "sync", "a1", "b1")
	expectOnce(t, js.got(m, "before"), "before", `[]`, "a1", "b1")

	srv.stop()
	// Without Redis, broadcasts reach the local clients and requests fail.
	m = js.mark()
	_ = a.io.To("r").Emit("during")
	js.waitFor(t, "the local delivery without Redis", 5*time.Second, func() bool { return len(js.got(m, "during")["a1"]) == 1 })
	if got, err := b.io.FetchSockets(ctxT(t, 5*time.Second)); err == nil || got != nil {
		t.Fatalf("FetchSockets without Redis = %d sockets, %v", len(got), err)
	}

	srv.start()
	restarted := time.Now()
	// Broadcasts published before a server has subscribed again are lost for it: send until
	// one arrives, in both directions.
	m = js.mark()
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		got := js.got(m, "afterA")
		gotB := js.got(m, "afterB")
		if len(got["b1"]) > 0 && len(gotB["a1"]) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("broadcasts did not flow again within 10 s of the restart: b1 got %v, a1 got %v; errors A %v, B %v",
				got["b1"], gotB["a1"], a.errs.list(), b.errs.list())
		}
		_ = a.io.To("r").Emit("afterA", i)
		_ = b.io.To("r").Emit("afterB", i)
		time.Sleep(50 * time.Millisecond)
	}
	flowing := time.Since(restarted)
	t.Logf("broadcasts flow again %v after the restart", flowing.Round(time.Millisecond))
	if flowing > 5*time.Second {
		t.Errorf("broadcasts flowed again only %v after the restart", flowing)
	}

	// Requests work again once both servers have subscribed again.
	js.waitFor(t, "two servers", 10*time.Second, func() bool {
		n, err := a.adapter.ServerCount(ctxT(t, 2*time.Second))
		return err == nil && n == 2
	})
	for _, n := range []*sioNode{a, b} {
		if got := n.fetch(t); !slices.Equal(sortedKeys(got), sortedStrings(js.sid("a1"), js.sid("b1"))) {
			t.Errorf("node %s: FetchSockets after the restart found %v", n.name, sortedKeys(got))
		}
	}
	// Each server subscribed once again: a broadcast arrives once.
	m = js.mark()
	if err := b.io.To("r").Emit("final", []byte{7}); err != nil {
		t.Fatal(err)
	}
	js.sync(t, b, "sync", "a1", "b1")
	expectOnce(t, js.got(m, "final"), "final", `[{"$bin":"07"}]`, "a1", "b1")

	if d := js.disconnects(begin); len(d) != 0 {
		t.Errorf("clients disconnected during the Redis restart: %v", d)
	}
	for _, n := range []*sioNode{a, b} {
		if len(n.errs.list()) == 0 {
			t.Errorf("node %s did not report the lost connection", n.name)
		}
	}
}
