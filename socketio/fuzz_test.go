package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// FuzzInbox posts arbitrary Engine.IO payloads to a connected Socket.IO session of a real
// server with packet middlewares, OnAny listeners, typed and raw handlers and a small inbox:
// the packets go through the decoder, the inbox and the application's code. Nothing may
// panic (a handler's panic would reach OnError as a *PanicError, which fails the target) and
// every POST is answered.
func FuzzInbox(f *testing.F) {
	for _, seed := range []string{
		`42["ev",1]`, `42["raw",{"a":[1,2]}]`, `421["echo","x"]`, `42["boom"]`, `43123[]`,
		`451-["ev",{"_placeholder":true,"num":0}]` + "\x1ebAQID", `41`, `40`, `40/dyn-1,`,
		`42/dyn-1,["ev"]`, `42["ev","x"]` + "\x1e" + `42["ev",2]`, `4`, `42[`, `4599-["x"]`,
		`42["echo",` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `]`,
	} {
		f.Add(seed)
	}
	io := socketio.NewServer(socketio.Options{
		MaxInboxPackets: 4, InboxTimeout: 50 * time.Millisecond,
		Engine: socketioEngineOptions(), CleanupEmptyChildNamespaces: true, MaxChildNamespaces: 8,
	})
	panics := make(chan error, 1)
	io.OnError(func(err error) {
		var pe *socketio.PanicError
		if errors.As(err, &pe) {
			select {
			case panics <- err:
			default:
			}
		}
	})
	setup := func(s *socketio.Socket) {
		s.Use(func(event string, _ socketio.Args) error {
			if event == "refuse" {
				return errors.New("refused")
			}
			return nil
		})
		s.OnAny(func(string, socketio.Args) {})
		s.On("ev", func(n int, v struct{ A []int }) {})
		s.On("raw", func(socketio.Args) {})
		s.On("echo", func(args socketio.Args, ack socketio.Ack) { _ = ack(len(args)) })
		s.On("join", func(room string) { s.Join(room) })
	}
	io.OnConnection(setup)
	io.OfFunc(func(name string, _ json.RawMessage) bool { return strings.HasPrefix(name, "/dyn-") }).OnConnection(setup)
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = io.Shutdown(ctx)
	})
	sid := ""
	f.Fuzz(func(t *testing.T, body string) {
		if sid == "" || io.Engine().Session(sid) == nil {
			rec := httptest.NewRecorder()
			io.ServeHTTP(rec, httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=polling", nil))
			const prefix = `0{"sid":"`
			b := rec.Body.String()
			if !strings.HasPrefix(b, prefix) {
				t.Fatalf("handshake %q", b)
			}
			sid = b[len(prefix) : len(prefix)+20]
			fuzzPost(t, io, sid, "40")
		}
		fuzzPost(t, io, sid, body)
		select {
		case err := <-panics:
			t.Fatal(err)
		default:
		}
	})
}

func socketioEngineOptions() engineio.Options {
	return engineio.Options{MaxHTTPBufferSize: 1 << 16, MaxPayloadPackets: 1000, MaxQueuedPackets: 64}
}

func fuzzPost(t *testing.T, h http.Handler, sid, body string) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/socket.io/?EIO=4&transport=polling&sid="+sid, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	h.ServeHTTP(rec, req)
	switch rec.Code {
	case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
	default:
		t.Fatalf("status %d for %q", rec.Code, body)
	}
}
