package socketiotest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/socketio"
	"github.com/echo-socketio/echo-socketio/socketio/socketiotest"
)

func TestClientReceiveAfterClose(t *testing.T) {
	srv := socketio.NewServer(socketio.Options{})
	defer srv.Shutdown(context.Background())
	srv.OnConnection(func(s *socketio.Socket) { _ = s.Emit("hi"); s.Disconnect(false) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := socketiotest.Connect(ctx, srv, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The event sent before the disconnection is received, then ErrClosed.
	if _, err := c.Expect(ctx, "hi"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Receive(ctx); !errors.Is(err, socketiotest.ErrClosed) {
		t.Fatalf("got %v", err)
	}
}

func TestClientUnexpectedEvent(t *testing.T) {
	srv := socketio.NewServer(socketio.Options{})
	defer srv.Shutdown(context.Background())
	srv.OnConnection(func(s *socketio.Socket) { _ = s.Emit("a") })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := socketiotest.Connect(ctx, srv, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if e, err := c.Expect(ctx, "b"); !errors.Is(err, socketiotest.ErrUnexpectedEvent) || e.Name != "a" {
		t.Fatalf("got %v %v", e, err)
	}
}

func TestClientReceiveTimeout(t *testing.T) {
	srv := socketio.NewServer(socketio.Options{})
	defer srv.Shutdown(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := socketiotest.Connect(ctx, srv, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if _, err := c.Receive(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

func TestClientWrongPath(t *testing.T) {
	srv := socketio.NewServer(socketio.Options{Path: "/rt/"})
	defer srv.Shutdown(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := socketiotest.Connect(ctx, srv, "/", nil)
	if err != nil {
		t.Fatalf("a server mounted at another path: %v", err)
	}
	c.Close()
}
