package socketio

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestEventTaskSize keeps the task of an event, one allocation per EVENT packet holding the
// event's arguments, within the 128-byte allocation class.
func TestEventTaskSize(t *testing.T) {
	if n := reflect.TypeFor[eventTask]().Size(); n > 128 {
		t.Fatalf("an eventTask takes %d bytes, more than 128", n)
	}
}

// connectedClient starts a server whose sockets register's handlers, connects one websocket
// client to the main namespace, and returns the server's client of that connection. The
// caller hands it Socket.IO packets as its reader would (client.onMessage): the websocket
// client writes nothing else, so the reader stays idle meanwhile.
func connectedClient(t *testing.T, register func(*Socket)) *client {
	t.Helper()
	srv := NewServer(Options{})
	srv.OnConnection(register)
	ws := dialOpen(t, srv)
	if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
		t.Fatal(err)
	}
	if _, m, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(m), "40") {
		t.Fatalf("connect: %q %v", m, err)
	}
	for _, s := range srv.Of("/").Sockets() {
		return s.client
	}
	t.Fatal("no socket connected")
	return nil
}

// dialOpen serves srv until the test ends, opens a websocket connection to it and reads the
// Engine.IO open packet; the connection's read deadline is 30 seconds away.
func dialOpen(t *testing.T, srv *Server) *websocket.Conn {
	t.Helper()
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	})
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	ws, _, err := (&websocket.Dialer{HandshakeTimeout: 10 * time.Second}).Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, _, err := ws.ReadMessage(); err != nil { // the Engine.IO open packet
		t.Fatal(err)
	}
	return ws
}

// TestEventDispatchAllocs counts the allocations of an EVENT packet from its arrival
// (client.onMessage, as the connection's reader calls it) to the return of its handler, for
// an event with one argument: the frame is decoded into a packet on the stack, and the
// event's task, the one allocation, holds its arguments, the JSON-only handler's
// []json.RawMessage included; the event name is the handler's.
func TestEventDispatchAllocs(t *testing.T) {
	handled := make(chan int, 1)
	cl := connectedClient(t, func(s *Socket) {
		s.On("args", func(args Args) { handled <- len(args) })
		s.On("json", func(args []json.RawMessage) { handled <- len(args) })
	})
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for _, event := range []string{"args", "json"} {
		frame := []byte(`2["` + event + `","e-17-000000000042-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]`)
		allocs := leastAllocs(5, 200, func() {
			cl.onMessage(frame, false)
			timer.Reset(30 * time.Second)
			select {
			case n := <-handled:
				if n != 1 {
					t.Errorf("%s: the handler got %d arguments, want 1", event, n)
				}
			case <-timer.C:
				t.Fatalf("%s: the handler did not run within 30s", event)
			}
		})
		t.Logf("%s: %v allocations per event", event, allocs)
		if allocs > 1 {
			t.Errorf("%s: %v allocations per event, want at most 1", event, allocs)
		}
	}
}

// TestEventArgsKept checks that the arguments handed to handlers stay theirs: a handler that
// keeps them (the Args, the []json.RawMessage, and the slices they hold) sees them unchanged
// after later events, and an append to the []json.RawMessage does not write into storage
// of the event's.
func TestEventArgsKept(t *testing.T) {
	type kept struct {
		args Args
		raw  []json.RawMessage
	}
	got := make(chan kept, 1)
	var pendingArgs Args
	cl := connectedClient(t, func(s *Socket) {
		s.Use(func(_ string, args Args) error { pendingArgs = args; return nil })
		s.On("json", func(raw []json.RawMessage) {
			raw = append(raw, json.RawMessage(`"appended"`))
			got <- kept{pendingArgs, raw}
		})
	})
	var all []kept
	for i := range 20 {
		cl.onMessage(fmt.Appendf(nil, `2["json","payload %d"]`, i), false)
		select {
		case k := <-got:
			all = append(all, k)
		case <-time.After(30 * time.Second):
			t.Fatalf("event %d not handled within 30s", i)
		}
	}
	for i, k := range all {
		want := fmt.Sprintf(`"payload %d"`, i)
		if len(k.args) != 1 || k.args[0].String() != want || len(k.raw) != 2 ||
			string(k.raw[0]) != want || string(k.raw[1]) != `"appended"` {
			t.Errorf("event %d: kept %v and %q, want %s", i, k.args, k.raw, want)
		}
	}
}

// TestEventDuringConnect sends events, one with an acknowledgement, while the CONNECT of their
// namespace is still handled (a middleware waits): they run, in order, once the socket is
// connected, and the acknowledgement comes back.
func TestEventDuringConnect(t *testing.T) {
	release := make(chan struct{})
	got := make(chan string, 2)
	srv := NewServer(Options{})
	srv.Use(func(*Socket) error { <-release; return nil })
	srv.OnConnection(func(s *Socket) {
		s.On("early", func(args []json.RawMessage, ack Ack) {
			got <- string(args[0])
			_ = ack("ok")
		})
	})
	ws := dialOpen(t, srv)
	for _, m := range []string{"40", `42["early","a"]`, `427["early","b"]`} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond) // lets the events reach the server while the middleware waits
	select {
	case a := <-got:
		t.Fatalf("event %s handled before its socket connected", a)
	default:
	}
	close(release)
	var msgs []string
	for len(msgs) < 2 {
		_, m, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("after %q: %v", msgs, err)
		}
		msgs = append(msgs, string(m))
	}
	if !strings.HasPrefix(msgs[0], "40") || msgs[1] != `437["ok"]` {
		t.Fatalf("got %q, want the CONNECT answer then 437[\"ok\"]", msgs)
	}
	for _, want := range []string{`"a"`, `"b"`} {
		if a := <-got; a != want {
			t.Fatalf("handled %s, want %s", a, want)
		}
	}
}

// leastAllocs is the least of tries testing.AllocsPerRun figures of f: the goroutines of other
// tests and of the connection, and a collection that empties a pool, can only add
// allocations to one of them.
func leastAllocs(tries, runs int, f func()) float64 {
	least := math.Inf(1)
	for range tries {
		least = min(least, testing.AllocsPerRun(runs, f))
	}
	return least
}
