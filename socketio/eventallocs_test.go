package socketio

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestEventTaskSize keeps the task of an event, one allocation per EVENT packet holding the
// event's arguments, within the 144-byte allocation class.
func TestEventTaskSize(t *testing.T) {
	if n := reflect.TypeFor[eventTask]().Size(); n > 144 {
		t.Fatalf("an eventTask takes %d bytes, more than 144", n)
	}
}

// TestEventDispatchAllocs counts the allocations of an EVENT text frame from its arrival
// (client.onMessage, as the connection's reader calls it) to the return of its handler, for
// an event with one argument: the frame is decoded into a packet on the stack, and the
// event's task holds its arguments. The handlers of the raw forms get them without further
// allocation, but for the event name; the JSON-only form makes its []json.RawMessage.
func TestEventDispatchAllocs(t *testing.T) {
	handled := make(chan int, 1)
	srv := NewServer(Options{})
	srv.OnConnection(func(s *Socket) {
		s.On("args", func(args Args) { handled <- len(args) })
		s.On("json", func(args []json.RawMessage) { handled <- len(args) })
	})
	hs := httptest.NewServer(srv)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	}()
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	ws, _, err := (&websocket.Dialer{HandshakeTimeout: 10 * time.Second}).Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := ws.ReadMessage(); err != nil { // the Engine.IO open packet
		t.Fatal(err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
		t.Fatal(err)
	}
	if _, m, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(m), "40") {
		t.Fatalf("connect: %q %v", m, err)
	}
	var cl *client
	for _, s := range srv.Of("/").Sockets() {
		cl = s.client
	}
	if cl == nil {
		t.Fatal("no socket connected")
	}
	// The frames are handed to the client as its reader would; the client writes nothing
	// else, so the reader is idle meanwhile.
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for _, c := range []struct {
		event string
		max   float64
	}{
		{"args", 2}, // the task, the event name
		{"json", 3}, // and the []json.RawMessage
	} {
		frame := []byte(`2["` + c.event + `","e-17-000000000042-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]`)
		allocs := testing.AllocsPerRun(500, func() {
			cl.onMessage(frame, false)
			timer.Reset(30 * time.Second)
			select {
			case n := <-handled:
				if n != 1 {
					t.Errorf("%s: the handler got %d arguments, want 1", c.event, n)
				}
			case <-timer.C:
				t.Fatalf("%s: the handler did not run within 30s", c.event)
			}
		})
		t.Logf("%s: %v allocations per event", c.event, allocs)
		if allocs > c.max {
			t.Errorf("%s: %v allocations per event, want at most %v", c.event, allocs, c.max)
		}
	}
}
