package redisadapter_test

import (
	"context"
	"errors"
	"github.com/echo-socketio/echo-socketio/internal/redistest"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
	"github.com/echo-socketio/echo-socketio/socketio"
	"github.com/echo-socketio/echo-socketio/socketio/socketiotest"
)

// TestServerFacadeCluster runs two Go servers on one Redis with in-process clients: Server.Ready
// waits for the Redis subscriptions, and the Server's main-namespace calls (SocketsJoin,
// SocketsLeave, EmitWithAck, ServerSideEmit, DisconnectSockets) reach the other server, whose
// server-side handlers all run, the first Ack answering.
func TestServerFacadeCluster(t *testing.T) {
	srv := redistest.Start(t)
	ctx := redistest.CtxT(t, 20*time.Second)
	got := make(chan string, 4)
	newServer := func() *socketio.Server {
		s := socketio.NewServer(socketio.Options{Adapter: redisadapter.New(srv.Client(t), redisadapter.Options{RequestsTimeout: 2 * time.Second})})
		s.OnServerSideEmit("hello", func(from string) { got <- from })
		// Two handlers of one event: both run, in order; the first Ack answers.
		s.OnServerSideEmit("ask", func(args socketio.Args, ack socketio.Ack) error { return ack("first:"+args[0].String(), "dropped") })
		socketio.OnServerSideEvent(s.Of("/"), "ask", func(q string, ack socketio.Ack) error {
			if err := ack("second"); !errors.Is(err, socketio.ErrAlreadyAcked) {
				t.Errorf("the second Ack returned %v", err)
			}
			got <- "second handler " + q
			return nil
		})
		t.Cleanup(func() {
			c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = s.Shutdown(c)
		})
		if err := s.Ready(ctx); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := newServer(), newServer()
	if _, ok := a.Of("/").Adapter().(rooms.ReadyWaiter); !ok {
		t.Fatal("the Redis adapter is no rooms.ReadyWaiter")
	}
	cb, err := socketiotest.Connect(ctx, b, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()

	if err := a.SocketsJoin(ctx, "team"); err != nil {
		t.Fatal(err)
	}
	fetched, err := a.In("team").FetchSockets(ctx)
	if err != nil || len(fetched) != 1 || fetched[0].ID() != cb.ID() {
		t.Fatalf("after SocketsJoin: %v %v", fetched, err)
	}
	if err := a.SocketsLeave(ctx, "team"); err != nil {
		t.Fatal(err)
	}
	if fetched, err := a.In("team").FetchSockets(ctx); err != nil || len(fetched) != 0 {
		t.Fatalf("after SocketsLeave: %v %v", fetched, err)
	}

	done := make(chan error, 1)
	go func() {
		r, err := a.Timeout(5*time.Second).EmitWithAck(ctx, "poll")
		if err == nil && (len(r) != 1 || r[0][0].String() != `"yes"`) {
			err = errors.New("wrong replies")
		}
		done <- err
	}()
	e, err := cb.Expect(ctx, "poll")
	if err != nil {
		t.Fatal(err)
	}
	_ = e.Ack("yes")
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	if err := a.ServerSideEmit(ctx, "hello", "a"); err != nil {
		t.Fatal(err)
	}
	select {
	case from := <-got:
		if from != "a" {
			t.Fatalf("server-side emit from %q", from)
		}
	case <-ctx.Done():
		t.Fatal("no server-side emit")
	}

	answers, err := a.ServerSideEmitWithAck(ctx, "ask", "q")
	if err != nil || len(answers) != 1 || len(answers[0]) != 1 || answers[0][0].String() != `"first:\"q\""` {
		t.Fatalf("server-side answers %v, %v", answers, err)
	}
	select {
	case s := <-got:
		if s != "second handler q" {
			t.Fatalf("got %q", s)
		}
	case <-ctx.Done():
		t.Fatal("the second server-side handler did not run")
	}

	if err := a.DisconnectSockets(ctx, false); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cb.Done():
	case <-ctx.Done():
		t.Fatal("DisconnectSockets did not reach the other server")
	}
	if r := cb.DisconnectReason(); r != "io server disconnect" {
		t.Fatalf("reason %q", r)
	}
}
