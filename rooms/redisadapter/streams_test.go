package redisadapter_test

import (
	"errors"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/internal/redistest"
	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
	"github.com/echo-socketio/echo-socketio/rooms/redisstreams"
)

// TestDeprecatedStreamsForwarders checks that the deprecated names of the streams adapter
// make a working redisstreams.Adapter.
func TestDeprecatedStreamsForwarders(t *testing.T) {
	srv := redistest.Start(t)
	ns := redistest.NewRecNS("/", "a")
	a := redisadapter.NewStreams(srv.Client(t), redisadapter.StreamsOptions{BlockTime: 500 * time.Millisecond})(ns)
	sa, ok := a.(*redisstreams.Adapter)
	if !ok {
		t.Fatalf("NewStreams made a %T, want a *redisstreams.Adapter", a)
	}
	ns.Mu.Lock()
	ns.Adapter = sa
	ns.Mu.Unlock()
	if err := sa.Ready(redistest.CtxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, err := sa.ServerCount(redistest.CtxT(t, 10*time.Second)); err != nil || n != 1 {
		t.Fatalf("ServerCount = %d, %v; want 1", n, err)
	}
	if err := sa.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sa.AddSockets(redistest.CtxT(t, time.Second), rooms.Selection{}, "x"); !errors.Is(err, redisadapter.ErrClosed) {
		t.Fatalf("AddSockets after Close = %v, want redisadapter.ErrClosed", err)
	}
	var b *redisadapter.StreamsAdapter = redisadapter.NewStreamsAdapter(srv.Client(t), redistest.NewRecNS("/", "b"), redisadapter.StreamsOptions{})
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}
