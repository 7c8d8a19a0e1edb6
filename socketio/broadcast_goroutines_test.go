package socketio_test

import (
	"context"
	"errors"
	"fmt"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// goroutinesCreated returns how many goroutines the process has started so far.
func goroutinesCreated(t *testing.T) uint64 {
	t.Helper()
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		t.Fatalf("runtime/metrics has no %s", s[0].Name)
	}
	return s[0].Value.Uint64()
}

// waitRoom waits until room holds n sockets: the connection hooks, which join it, run after the
// client got its CONNECT answer.
func waitRoom(t testing.TB, io *socketio.Server, room string, n int, deadline time.Time) {
	t.Helper()
	for {
		got := len(io.Of("/").Adapter().Sockets(rooms.Room(room)))
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d sockets in room %q after 30s", got, n, room)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBroadcastStartsNoGoroutinePerRecipient counts the goroutines started while broadcasts of
// every kind (rooms, Except, Volatile, with acknowledgements, with connection state recovery)
// reach a room of long-polling sockets. The sessions have no poll pending, so the Engine.IO
// layer only queues the frames: every goroutine started is started by the Socket.IO layer or
// the in-memory adapter, and there must be a bounded number per broadcast, never one per
// receiver.
func TestBroadcastStartsNoGoroutinePerRecipient(t *testing.T) {
	for _, recovery := range []bool{false, true} {
		name := "recovery off"
		if recovery {
			name = "recovery on"
		}
		t.Run(name, func(t *testing.T) { testBroadcastGoroutines(t, recovery) })
	}
}

func testBroadcastGoroutines(t *testing.T, recovery bool) {
	const n = 300
	opts := socketio.Options{}
	opts.Engine.PingInterval = time.Hour // no heartbeat while counting
	opts.Engine.PingTimeout = time.Hour
	if recovery {
		opts.ConnectionStateRecovery = &socketio.Recovery{}
	}
	io := socketio.NewServer(opts)
	var joined atomic.Int64
	io.OnConnection(func(s *socketio.Socket) {
		s.Join("room")
		if joined.Add(1)%2 == 0 {
			s.Join("even")
		}
	})
	srv := startServer(t, io)
	sids := make([]string, n)
	for i := range sids {
		sids[i] = pollHandshake(t, srv.URL)
		post(t, srv.URL, sids[i], "40")
		if got := poll(t, srv.URL, sids[i]); !strings.HasPrefix(got, "40") {
			t.Fatalf("connect answer %q", got)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	waitRoom(t, io, "room", n, deadline)

	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	broadcasts := []struct {
		name string
		emit func() error
	}{
		{"to a room", func() error { return io.To("room").Emit("e", "x") }},
		{"to every socket", func() error { return io.Emit("e", "x") }},
		{"except a room", func() error { return io.To("room").Except("even").Emit("e", "x") }},
		{"volatile, two rooms", func() error { return io.To("room", "even").Volatile().Emit("e", "x") }},
		{"with acknowledgements", func() error {
			// Nobody answers during the test: the wait ends with ctx, and the acknowledgement
			// bookkeeping must not have started anything per receiver.
			_, err := io.To("room").Timeout(time.Hour).EmitWithAck(ctx, "e", "x")
			if !errors.Is(err, socketio.ErrAckTimeout) {
				return fmt.Errorf("want the acknowledgement timeout, got %v", err)
			}
			return nil
		}},
	}
	_ = io.To("room").Emit("warm-up", 1) // lazily made pools and buffers
	for _, b := range broadcasts {
		before := goroutinesCreated(t)
		if err := b.emit(); err != nil {
			t.Fatalf("%s: %v", b.name, err)
		}
		started := goroutinesCreated(t) - before
		// A handful is allowed for the runtime (a timer, the GC's workers); one per receiver
		// would be n.
		if started > n/10 {
			t.Errorf("%s: %d goroutines started for %d receivers", b.name, started, n)
		} else {
			t.Logf("%s: %d goroutines started for %d receivers", b.name, started, n)
		}
	}
	// The broadcasts were queued: the next poll of a socket carries them.
	if got := poll(t, srv.URL, sids[0]); strings.Count(got, `["e","x"`) < 3 {
		t.Errorf("poll after the broadcasts: %q", got)
	}
}

// TestBroadcastGoroutinesOverWebsocket counts the goroutines started by a broadcast to a room of
// websocket sessions, all layers together: the Engine.IO session writes a frame from the
// goroutine that queues it while the socket takes it without blocking, so a broadcast of one
// small packet to receivers that keep up starts no writer, and at most a handful of goroutines
// in all, never one per receiver.
func TestBroadcastGoroutinesOverWebsocket(t *testing.T) {
	const n = 200
	opts := socketio.Options{}
	opts.Engine.PingInterval = time.Hour
	opts.Engine.PingTimeout = time.Hour
	io := socketio.NewServer(opts)
	io.OnConnection(func(s *socketio.Socket) { s.Join("room") })
	srv := startServer(t, io)
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	var received atomic.Int64
	for range n {
		d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
		ws, _, err := d.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ws.Close() })
		_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, _, err := ws.ReadMessage(); err != nil { // the Engine.IO open packet
			t.Fatal(err)
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
			t.Fatal(err)
		}
		if _, m, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(m), "40") {
			t.Fatalf("connect: %q %v", m, err)
		}
		go func() {
			for {
				_, m, err := ws.ReadMessage()
				if err != nil {
					return
				}
				if strings.HasPrefix(string(m), `42["e"`) {
					received.Add(1)
				}
			}
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	waitRoom(t, io, "room", n, deadline)
	before := goroutinesCreated(t)
	if err := io.To("room").Emit("e", "x"); err != nil {
		t.Fatal(err)
	}
	started := goroutinesCreated(t) - before
	if limit := uint64(n / 10); started > limit {
		t.Errorf("%d goroutines started for %d websocket receivers, want at most %d", started, n, limit)
	} else {
		t.Logf("%d goroutines started for %d websocket receivers", started, n)
	}
	for received.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries after 30s", received.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}
