package socketio_test

import (
	"context"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/socketio"
)

func TestShutdownReason(t *testing.T) {
	for _, transport := range []string{"websocket", "polling"} {
		t.Run("ok, "+transport, func(t *testing.T) {
			io, srv, rec := newRecordingServer(t, socketio.Options{})
			if transport == "websocket" {
				c := dialRaw(t, srv)
				c.send("40")
				c.read()
			} else {
				sid := pollHandshake(t, srv.URL)
				post(t, srv.URL, sid, "40")
				poll(t, srv.URL, sid)
				go func() { // the client's next poll, which gets the close packet
					defer func() { _ = recover() }()
					_ = pollNoFail(srv.URL, sid)
				}()
			}
			waitUntil(t, "the socket", 5*time.Second, func() bool { return len(io.Sockets()) == 1 })
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := io.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			rec.waitReason(t, socketio.ReasonServerShuttingDown)
		})
	}
}
