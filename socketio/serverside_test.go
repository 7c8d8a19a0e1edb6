package socketio_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// capturingAdapter is the in-memory adapter, with the namespace side it serves kept so that a
// test can deliver what a cluster adapter delivers from another server.
type capturingAdapter struct {
	mu   sync.Mutex
	nsps map[string]rooms.Namespace
}

func (c *capturingAdapter) factory(n rooms.Namespace) rooms.Adapter {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nsps == nil {
		c.nsps = map[string]rooms.Namespace{}
	}
	c.nsps[n.Name()] = n
	return rooms.NewMemory(n)
}

func (c *capturingAdapter) nsp(t *testing.T, name string) rooms.Namespace {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.nsps[name]
	if n == nil {
		t.Fatalf("no namespace %s", name)
	}
	return n
}

func serverSideArgs(t *testing.T, vals ...any) socketio.Args {
	t.Helper()
	data, atts, err := parser.MarshalArgs(vals...)
	if err != nil {
		t.Fatal(err)
	}
	args, err := parser.SplitArgs(data, atts)
	if err != nil {
		t.Fatal(err)
	}
	return args
}

// TestServerSideEmitHandlers: every handler of a server-side event runs, in the order added,
// in each of the forms On accepts and the generic one; the first Ack call answers the sender
// (the cluster adapter forwards its first argument), later ones return ErrAlreadyAcked.
func TestServerSideEmitHandlers(t *testing.T) {
	var capt capturingAdapter
	srv := inprocServer(t, socketio.Options{Adapter: capt.factory})
	var ran []string
	var secondAck error
	srv.OnServerSideEmit("ask", func(who string, n int, ack socketio.Ack) error {
		ran = append(ran, fmt.Sprintf("typed %s %d", who, n))
		return ack("first", "dropped")
	})
	srv.Of("/").OnServerSideEmit("ask", func(args socketio.Args, ack socketio.Ack) {
		ran = append(ran, fmt.Sprintf("raw %d", len(args)))
		secondAck = ack("second")
	})
	socketio.OnServerSideEvent(srv.Of("/"), "ask", func(who string, ack socketio.Ack) error {
		ran = append(ran, "generic "+who)
		return nil
	})
	srv.OnServerSideEmit("ask", func(args socketio.Args, ack func(...any) error) { // the deprecated form
		ran = append(ran, "legacy")
	})

	var answers []socketio.Args
	capt.nsp(t, "/").ServerSideEmit("ask", serverSideArgs(t, "b", 7), func(a socketio.Args) { answers = append(answers, a) })
	if want := []string{"typed b 7", "raw 2", "generic b", "legacy"}; !slices.Equal(ran, want) {
		t.Fatalf("handlers ran %q, want %q", ran, want)
	}
	if !errors.Is(secondAck, socketio.ErrAlreadyAcked) {
		t.Fatalf("second Ack: %v", secondAck)
	}
	if len(answers) != 1 || len(answers[0]) != 2 || answers[0][0].String() != `"first"` {
		t.Fatalf("answers %v", answers)
	}

	// Without a request for answers, the Ack does nothing and every handler still runs.
	ran, secondAck = nil, errors.New("not called")
	capt.nsp(t, "/").ServerSideEmit("ask", serverSideArgs(t, "c", 1), nil)
	if len(ran) != 4 || secondAck != nil {
		t.Fatalf("without ack: ran %q, Ack %v", ran, secondAck)
	}
	// An event without handlers is dropped, unanswered.
	capt.nsp(t, "/").ServerSideEmit("other", nil, func(socketio.Args) { t.Fatal("answered an event without handlers") })
}

// TestServerSideEmitHandlerErrors: an argument that does not decode, a handler's error and its
// panic reach OnError, and the later handlers of the event still run.
func TestServerSideEmitHandlerErrors(t *testing.T) {
	var capt capturingAdapter
	srv := inprocServer(t, socketio.Options{Adapter: capt.factory})
	var mu sync.Mutex
	var reported []error
	srv.OnError(func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() })
	var last string
	socketio.OnServerSideEvent(srv.Of("/"), "ev", func(n int, _ socketio.Ack) error { return nil })
	srv.OnServerSideEmit("ev", func(string) error { return errors.New("refused") })
	srv.OnServerSideEmit("ev", func() { panic("boom") })
	srv.OnServerSideEmit("ev", func(s string) { last = s })
	capt.nsp(t, "/").ServerSideEmit("ev", serverSideArgs(t, "text"), nil)
	if last != "text" {
		t.Fatalf("the last handler got %q", last)
	}
	mu.Lock()
	defer mu.Unlock()
	var ae *socketio.ArgumentError
	var pe *socketio.PanicError
	if len(reported) != 3 || !errors.As(reported[0], &ae) || reported[1].Error() != "refused" || !errors.As(reported[2], &pe) {
		t.Fatalf("reported %v", reported)
	}
	if ae.Event != "ev" || pe.Value != "boom" {
		t.Fatalf("argument error %+v, panic %+v", ae, pe)
	}
}

func TestOnServerSideEmitRefusesBadHandlers(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	for _, fn := range []any{nil, 42, func(...string) {}, func(socketio.Ack, string) {}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("OnServerSideEmit accepted %T", fn)
				}
			}()
			srv.OnServerSideEmit("ev", fn)
		}()
	}
}

// TestServerSideReservedNames: the names a namespace reserves for itself are refused by
// ServerSideEmit, ServerSideEmitWithAck and the registration of handlers, as Node throws; a
// socket's reserved names, which mean nothing between servers, pass.
func TestServerSideReservedNames(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, ev := range []string{"connect", "connection", "new_namespace"} {
		if err := srv.ServerSideEmit(ctx, ev); !errors.Is(err, socketio.ErrReservedEvent) {
			t.Errorf("ServerSideEmit(%q): %v, want ErrReservedEvent", ev, err)
		}
		if _, err := srv.Of("/").ServerSideEmitWithAck(ctx, ev); !errors.Is(err, socketio.ErrReservedEvent) {
			t.Errorf("ServerSideEmitWithAck(%q): %v, want ErrReservedEvent", ev, err)
		}
		for name, register := range map[string]func(){
			"OnServerSideEmit":  func() { srv.OnServerSideEmit(ev, func() {}) },
			"OnServerSideEvent": func() { socketio.OnServerSideEvent(srv.Of("/"), ev, func(string, socketio.Ack) error { return nil }) },
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s accepted %q", name, ev)
					}
				}()
				register()
			}()
		}
	}
	// Without a cluster, an allowed name reaches the adapter, which has no other server.
	if err := srv.ServerSideEmit(ctx, "disconnect"); !errors.Is(err, rooms.ErrNoCluster) {
		t.Errorf(`ServerSideEmit("disconnect"): %v, want ErrNoCluster`, err)
	}
}

// bareAdapter hides the optional capabilities of the in-memory adapter.
type bareAdapter struct{ rooms.Adapter }

// TestOnRoomEventsUnsupported: with an adapter that reports no room events, OnRoomEvents does
// nothing and reports errors.ErrUnsupported to OnError.
func TestOnRoomEventsUnsupported(t *testing.T) {
	srv := inprocServer(t, socketio.Options{Adapter: func(n rooms.Namespace) rooms.Adapter { return bareAdapter{rooms.NewMemory(n)} }})
	errs := make(chan error, 1)
	srv.OnError(func(err error) { errs <- err })
	srv.Of("/").OnRoomEvents(rooms.RoomEvents{Create: func(rooms.Room) {}})
	if err := recv(t, errs); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("reported %v", err)
	}
}
