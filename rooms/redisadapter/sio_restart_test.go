package redisadapter_test

import (
	"github.com/echo-socketio/echo-socketio/internal/redistest"
	"slices"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
)

// TestSocketIORedisRestart restarts Redis under two Go Socket.IO servers with official clients
// connected: a1 on A and b1 on B, both in room r.
func TestSocketIORedisRestart(t *testing.T) {
	srv := redistest.Start(t)
	opts := redisadapter.Options{RequestsTimeout: time.Second}
	a := newSioNode(t, srv, "A", opts)
	b := newSioNode(t, srv, "B", opts)
	js := redistest.StartClients(t, srv)
	js.Connect(t, "a1", a.URL, "r")
	js.Connect(t, "b1", b.URL, "r")
	begin := js.Mark()

	m := js.Mark()
	if err := a.IO.To("r").Emit("before"); err != nil {
		t.Fatal(err)
	}
	js.Sync(t, a, "sync", "a1", "b1")
	redistest.ExpectOnce(t, js.Got(m, "before"), "before", `[]`, "a1", "b1")

	srv.Stop()
	// Without Redis, broadcasts reach the local clients and requests fail.
	m = js.Mark()
	_ = a.IO.To("r").Emit("during")
	js.WaitFor(t, "the local delivery without Redis", 5*time.Second, func() bool { return len(js.Got(m, "during")["a1"]) == 1 })
	if got, err := b.IO.FetchSockets(redistest.CtxT(t, 5*time.Second)); err == nil || got != nil {
		t.Fatalf("FetchSockets without Redis = %d sockets, %v", len(got), err)
	}

	srv.Resume()
	restarted := time.Now()
	// Broadcasts published before a server has subscribed again are lost for it: send until
	// one arrives, in both directions.
	m = js.Mark()
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		got := js.Got(m, "afterA")
		gotB := js.Got(m, "afterB")
		if len(got["b1"]) > 0 && len(gotB["a1"]) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("broadcasts did not flow again within 10 s of the restart: b1 got %v, a1 got %v; errors A %v, B %v",
				got["b1"], gotB["a1"], a.Errs.List(), b.Errs.List())
		}
		_ = a.IO.To("r").Emit("afterA", i)
		_ = b.IO.To("r").Emit("afterB", i)
		time.Sleep(50 * time.Millisecond)
	}
	flowing := time.Since(restarted)
	t.Logf("broadcasts flow again %v after the restart", flowing.Round(time.Millisecond))
	if flowing > 5*time.Second {
		t.Errorf("broadcasts flowed again only %v after the restart", flowing)
	}

	// Requests work again once both servers have subscribed again.
	js.WaitFor(t, "two servers", 10*time.Second, func() bool {
		n, err := a.Adapter.ServerCount(redistest.CtxT(t, 2*time.Second))
		return err == nil && n == 2
	})
	for _, n := range []*redistest.SioNode{a, b} {
		if got := n.Fetch(t); !slices.Equal(redistest.SortedKeys(got), redistest.SortedStrings(js.Sid("a1"), js.Sid("b1"))) {
			t.Errorf("node %s: FetchSockets after the restart found %v", n.Name, redistest.SortedKeys(got))
		}
	}
	// Each server subscribed once again: a broadcast arrives once.
	m = js.Mark()
	if err := b.IO.To("r").Emit("final", []byte{7}); err != nil {
		t.Fatal(err)
	}
	js.Sync(t, b, "sync", "a1", "b1")
	redistest.ExpectOnce(t, js.Got(m, "final"), "final", `[{"$bin":"07"}]`, "a1", "b1")

	if d := js.Disconnects(begin); len(d) != 0 {
		t.Errorf("clients disconnected during the Redis restart: %v", d)
	}
	for _, n := range []*redistest.SioNode{a, b} {
		if len(n.Errs.List()) == 0 {
			t.Errorf("node %s did not report the lost connection", n.Name)
		}
	}
}
