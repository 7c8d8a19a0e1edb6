package socketio_test

import (
	"strings"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// TestBroadcastReachesListedSocketsOnly: the in-memory adapter hands the namespace each
// member's Socket, not its ID, and the namespace still delivers only to the sockets it lists:
// one that left the namespace while the adapter had it in a room gets no broadcast, and gets
// them again once it is back.
func TestBroadcastReachesListedSocketsOnly(t *testing.T) {
	opts := socketio.Options{}
	opts.Engine.PingInterval = 200 * time.Millisecond // an idle poll returns with a ping
	opts.Engine.PingTimeout = time.Minute
	io := socketio.NewServer(opts)
	joined := make(chan *socketio.Socket, 2)
	io.OnConnection(func(s *socketio.Socket) {
		s.Join("room")
		joined <- s
	})
	srv := startServer(t, io)
	sids := make([]string, 2)
	socks := make([]*socketio.Socket, 2)
	for i := range sids {
		sids[i] = pollHandshake(t, srv.URL)
		post(t, srv.URL, sids[i], "40")
		if got := poll(t, srv.URL, sids[i]); !strings.HasPrefix(got, "40") {
			t.Fatalf("connect answer %q", got)
		}
		select {
		case socks[i] = <-joined:
		case <-time.After(30 * time.Second):
			t.Fatal("no connection after 30s")
		}
	}
	waitRoom(t, io, "room", 2, time.Now().Add(30*time.Second))

	// receive polls sid until it gets an event or a ping, and reports whether it got event.
	receive := func(sid, event string) bool {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			got := poll(t, srv.URL, sid)
			if strings.Contains(got, `42["`+event+`"`) {
				return true
			}
			if strings.Contains(got, "2") && !strings.Contains(got, "42") {
				post(t, srv.URL, sid, "3") // the pong
				return false
			}
		}
		t.Fatalf("no packet for %s after 30s", sid)
		return false
	}

	socketio.Unlist(socks[0])
	if n := len(io.Of("/").Adapter().Sockets(rooms.Room("room"))); n != 2 {
		t.Fatalf("the adapter has %d sockets in the room, want both", n)
	}
	if err := io.To("room").Emit("first"); err != nil {
		t.Fatal(err)
	}
	if !receive(sids[1], "first") {
		t.Fatal("the listed socket missed the broadcast")
	}
	if receive(sids[0], "first") {
		t.Fatal("a socket that left the namespace got the broadcast")
	}

	socketio.Relist(socks[0])
	if err := io.To("room").Emit("second"); err != nil {
		t.Fatal(err)
	}
	for i, sid := range sids {
		if !receive(sid, "second") {
			t.Fatalf("socket %d missed the broadcast", i)
		}
	}
}
