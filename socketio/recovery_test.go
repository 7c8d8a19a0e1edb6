package socketio_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/internal/nodetest"
	"github.com/echo-socketio/echo-socketio/socketio"
)

func newRecoveryServer(t *testing.T, rec *socketio.Recovery, parser ...socketio.Parser) *socketio.Server {
	t.Helper()
	o := socketio.Options{ConnectionStateRecovery: rec}
	if len(parser) > 0 {
		o.Parser = parser[0]
	}
	io := socketio.NewServer(o)
	io.OnConnection(func(s *socketio.Socket) {
		s.On("join", func(room string, ack socketio.Ack) { s.Join(room); _ = ack() })
		s.On("rooms", func(ack socketio.Ack) { _ = ack(s.Rooms()) })
		s.On("bcast", func(room string, n int, ack socketio.Ack) { _ = io.To(room).Emit("msg", n); _ = ack() })
		s.On("direct", func(n int, ack socketio.Ack) { _ = s.Emit("note", fmt.Sprintf("text %d", n)); _ = ack() })
		s.On("drop-and-direct", func(ns []int) {
			s.Conn().Abort() // the transport is lost; these emits are logged for the recovery
			for _, n := range ns {
				_ = s.Emit("note", fmt.Sprintf("text %d", n))
			}
		})
		s.On("drop-and-broadcast", func(room string, ns []int) {
			s.Conn().Abort() // the transport is lost; the socket is kept for recovery
			for _, n := range ns {
				_ = io.To(room).Emit("msg", n)
			}
		})
	})
	return io
}

func TestInteropRecovery(t *testing.T) {
	for _, tc := range transports {
		t.Run("ok, recovered, "+tc.name, func(t *testing.T) {
			io := newRecoveryServer(t, &socketio.Recovery{})
			srv := startServer(t, io)
			res := nodetest.Run(t, 40*time.Second, "sio-recovery.mjs", "URL="+srv.URL, "TRANSPORTS="+tc.list)
			r := res.Find("reconnected")
			if r == nil || r["recovered"] != true || r["sameId"] != true || jsonOf(r["msgs"]) != "[1,2,3,4,5,6,7]" {
				t.Fatalf("recovery:\n%s", res.Describe())
			}
			if rooms := jsonOf(r["rooms"]); !strings.Contains(rooms, `"r"`) {
				t.Fatalf("rooms after recovery: %s", rooms)
			}
		})
		t.Run("ok, expired, "+tc.name, func(t *testing.T) {
			io := newRecoveryServer(t, &socketio.Recovery{MaxDisconnectionDuration: 200 * time.Millisecond})
			srv := startServer(t, io)
			res := nodetest.Run(t, 40*time.Second, "sio-recovery.mjs", "URL="+srv.URL, "TRANSPORTS="+tc.list, "RECONNECT_DELAY=800")
			r := res.Find("reconnected")
			// A fresh session: a new ID, no rooms but its own, nothing replayed (and so not
			// the broadcast to "r" after the reconnection either).
			if r == nil || r["recovered"] != false || r["sameId"] != false || jsonOf(r["msgs"]) != "[1]" ||
				strings.Contains(jsonOf(r["rooms"]), `"r"`) {
				t.Fatalf("expired session:\n%s", res.Describe())
			}
		})
	}
}

func TestInteropRecoveryDirectEmits(t *testing.T) {
	for _, tc := range transports {
		t.Run("ok, recovered, "+tc.name, func(t *testing.T) {
			io := newRecoveryServer(t, &socketio.Recovery{})
			srv := startServer(t, io)
			res := nodetest.Run(t, 40*time.Second, "sio-recovery.mjs", "URL="+srv.URL, "TRANSPORTS="+tc.list, "SCENARIO=direct")
			r := res.Find("reconnected")
			want := `["text 1","text 2","text 3","text 4","text 5","text 6","text 7","text 8"]`
			if r == nil || r["recovered"] != true || r["sameId"] != true || r["recoveredAgain"] != true ||
				r["sameIdAgain"] != true || jsonOf(r["notes"]) != want {
				t.Fatalf("recovery after direct emits, want notes %s:\n%s", want, res.Describe())
			}
		})
	}
}

func TestRecoveryWireFormat(t *testing.T) {
	// With recovery off the CONNECT answer and broadcasts are those of the official server
	// without recovery; with it on, the CONNECT answer carries the pid and broadcasts the
	// offset as their last argument.
	for _, on := range []bool{false, true} {
		var rec *socketio.Recovery
		if on {
			rec = &socketio.Recovery{}
		}
		io := socketio.NewServer(socketio.Options{ConnectionStateRecovery: rec})
		io.OnConnection(func(s *socketio.Socket) { s.Join("r") })
		srv := startServer(t, io)
		c := dialRaw(t, srv)
		c.send("40")
		connect := c.read()
		// The CONNECT answer leaves before the connection hook has joined the room.
		waitUntil(t, "the join", 10*time.Second, func() bool {
			s := io.Sockets()
			return len(s) == 1 && slices.Contains(s[0].Rooms(), "r")
		})
		if err := io.To("r").Emit("msg", "x"); err != nil {
			t.Fatal(err)
		}
		event := c.read()
		if !on {
			if !strings.HasPrefix(connect, `40{"sid":"`) || strings.Contains(connect, "pid") || event != `42["msg","x"]` {
				t.Fatalf("recovery off: %q %q", connect, event)
			}
			continue
		}
		if !strings.Contains(connect, `","pid":"`) || !strings.HasPrefix(event, `42["msg","x","`) {
			t.Fatalf("recovery on: %q %q", connect, event)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = io.Shutdown(ctx)
		cancel()
	}
}
