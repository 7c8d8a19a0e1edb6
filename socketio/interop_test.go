package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/internal/nodetest"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// testServer is a Socket.IO server with the handlers the interop scenarios use.
type testServer struct {
	*socketio.Server
	HTTP *httptest.Server

	mu          sync.Mutex
	disconnects map[string]socketio.DisconnectReason
	changed     chan struct{}
}

type profile struct {
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

type files struct {
	File  []byte   `json:"file"`
	Parts [][]byte `json:"parts"`
	Name  string   `json:"name"`
}

func newTestServer(t *testing.T, opts ...socketio.Options) *testServer {
	t.Helper()
	var o socketio.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	ts := &testServer{
		Server:      socketio.NewServer(o),
		disconnects: map[string]socketio.DisconnectReason{},
		changed:     make(chan struct{}, 100),
	}
	ts.OnConnection(func(s *socketio.Socket) {
		s.OnDisconnect(func(reason socketio.DisconnectReason) {
			ts.mu.Lock()
			ts.disconnects[s.ID()] = reason
			ts.mu.Unlock()
			ts.changed <- struct{}{}
		})
		s.OnError(func(err error) {
			var ae *socketio.ArgumentError
			if errors.As(err, &ae) {
				_ = s.Emit("handler-error", ae.Error())
			}
		})
		s.On("echo", func(args []json.RawMessage, ack socketio.Ack) {
			out := make([]any, len(args))
			for i, a := range args {
				out[i] = a
			}
			_ = ack(out...)
		})
		s.On("typed", func(p profile, n int, ack socketio.Ack) {
			_ = ack(map[string]any{"name": p.Name, "tags": len(p.Tags), "n": n * 2})
		})
		s.On("binary", func(f files, ack socketio.Ack) { _ = ack(f) })
		s.On("send-binary", func() {
			_ = s.Emit("binary-push", map[string]any{"data": []byte{9, 8, 7}, "list": [][]byte{{1}, {2, 3}}})
		})
		s.On("ask", func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var n int
			reply, err := s.EmitWithAck(ctx, "question", 21)
			if err == nil {
				err = reply.Decode(&n)
			}
			if err != nil {
				_ = s.Emit("answer", err.Error())
				return
			}
			_ = s.Emit("answer", n)
		})
		s.On("ask-ignored", func() {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			_, err := s.EmitWithAck(ctx, "ignored")
			_ = s.Emit("ignored-result", map[string]any{"timeout": errors.Is(err, socketio.ErrAckTimeout)})
		})
		s.On("whoami", func(ack socketio.Ack) {
			h := s.Handshake()
			_ = ack(map[string]any{"id": s.ID(), "auth": h.Auth, "eio": h.Query["EIO"], "address": h.Address})
		})
		s.On("no-answer", func(socketio.Ack) {})
		s.On("bin-positions", func(a []byte, o struct {
			Inner []byte   `json:"inner"`
			List  [][]byte `json:"list"`
		}, arr [][][]byte, ack socketio.Ack) {
			_ = ack(a, o, arr)
		})
		s.On("relay", func(msg string, data []byte) { _ = s.Broadcast().Emit("relayed", msg, data) })
		s.On("bin-ask", func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			reply, err := s.EmitWithAck(ctx, "bin-question", []byte{1, 2, 3})
			var a, b []byte
			if err == nil {
				err = reply.Decode(&a, &b)
			}
			if err != nil {
				_ = s.Emit("bin-answer", err.Error())
				return
			}
			_ = s.Emit("bin-answer", []any{a, b})
		})
		s.On("disconnect-me", func() { s.Disconnect(false) })
		s.On("close-me", func() { s.Disconnect(true) })
		s.On("drop-transport", func() { s.Conn().Abort() })
	})
	nsp := func(s *socketio.Socket) {
		s.On("nsp", func(ack socketio.Ack) { _ = ack(s.Namespace().Name()) })
	}
	ts.Of("/admin").OnConnection(nsp)
	ts.OfRegexp(regexp.MustCompile(`^/team-\d+$`)).OnConnection(nsp)
	priv := ts.Of("/private")
	priv.Use(func(s *socketio.Socket) error {
		var auth struct{ Token string }
		if err := s.Auth(&auth); err != nil || auth.Token != "secret" {
			return &socketio.ConnectError{Message: "unauthorized", Data: map[string]any{"code": 401}}
		}
		return nil
	})
	priv.OnConnection(nsp)

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", ts.Server)
	ts.HTTP = httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = ts.Shutdown(ctx)
		ts.HTTP.CloseClientConnections()
		ts.HTTP.Close()
	})
	return ts
}

func (ts *testServer) waitDisconnect(t *testing.T, id string) socketio.DisconnectReason {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		ts.mu.Lock()
		r, ok := ts.disconnects[id]
		ts.mu.Unlock()
		if ok {
			return r
		}
		select {
		case <-ts.changed:
		case <-deadline:
			t.Fatalf("socket %s did not disconnect", id)
		}
	}
}

var transports = []struct{ name, list, final string }{
	{"polling only", "polling", "polling"},
	{"websocket only", "websocket", "websocket"},
	{"polling then upgrade", "polling,websocket", "websocket"},
}

func run(t *testing.T, ts *testServer, scenario, transports string, env ...string) *nodetest.Result {
	t.Helper()
	env = append([]string{"URL=" + ts.HTTP.URL, "SCENARIO=" + scenario, "TRANSPORTS=" + transports}, env...)
	return nodetest.Run(t, 60*time.Second, "sio-client.mjs", env...)
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestInteropEvents(t *testing.T) {
	for _, tc := range transports {
		t.Run("ok, "+tc.name, func(t *testing.T) {
			ts := newTestServer(t)
			checkEvents(t, ts, run(t, ts, "events", tc.list), tc.final)
		})
	}
}

// checkEvents checks what the events scenario printed.
func checkEvents(t *testing.T, ts *testServer, res *nodetest.Result, final string) {
	t.Helper()
	echoes := res.All("echo")
	if len(echoes) != 11 {
		t.Fatalf("%d echoes, want 11:\n%s", len(echoes), res.Describe())
	}
	for i, e := range echoes {
		if e["ok"] != true {
			t.Fatalf("echo %d came back different: %v", i, e)
		}
	}
	checks := map[string]string{
		"typed":              `{"event":"typed","reply":{"n":14,"name":"ada","tags":2}}`,
		"binary":             `{"event":"binary","file":{"bin":[1,2,3]},"name":"f","parts":[{"bin":[4]},{"bin":[250,251]}]}`,
		"binary_push":        `{"data":{"bin":[9,8,7]},"event":"binary_push","list":[{"bin":[1]},{"bin":[2,3]}]}`,
		"server_ack":         `{"answer":42,"event":"server_ack"}`,
		"server_ack_timeout": `{"event":"server_ack_timeout","result":{"timeout":true}}`,
		"client_ack_timeout": `{"event":"client_ack_timeout","timedOut":true}`,
	}
	for name, want := range checks {
		e := res.Find(name)
		if e == nil || jsonOf(e) != jsonOf(mustMap(want)) {
			t.Fatalf("%s: got %s, want %s\n%s", name, jsonOf(e), want, res.Describe())
		}
	}
	if he := res.Find("handler_error"); he == nil || he.Str("message") == "" {
		t.Fatalf("no handler error for a wrong shape:\n%s", res.Describe())
	}
	who := res.Find("whoami")
	id := who.Str("id")
	w, _ := who["who"].(map[string]any)
	if w["id"] != id || jsonOf(w["auth"]) != "{}" || w["address"] != "127.0.0.1" {
		t.Fatalf("whoami: %v", who)
	}
	if got := res.Find("final").Str("transport"); got != final {
		t.Fatalf("final transport %q, want %q", got, final)
	}
	if r := ts.waitDisconnect(t, id); r != socketio.ReasonClientNamespaceDisconnect {
		t.Fatalf("server saw %q, want %q", r, socketio.ReasonClientNamespaceDisconnect)
	}
}

func mustMap(s string) map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		panic(err)
	}
	return m
}

func TestInteropNamespaces(t *testing.T) {
	for _, tc := range transports {
		t.Run("ok, "+tc.name, func(t *testing.T) {
			ts := newTestServer(t)
			res := run(t, ts, "namespaces", tc.list)
			want := map[string]string{
				"admin":       `{"event":"admin","nsp":"/admin"}`,
				"team":        `{"event":"team","nsp":"/team-42"}`,
				"invalid":     `{"event":"invalid","message":"Invalid namespace"}`,
				"refused":     `{"event":"refused","message":"unauthorized","data":{"code":401}}`,
				"multiplexed": `{"event":"multiplexed","same":true,"nsp":"/admin"}`,
			}
			for name, w := range want {
				if e := res.Find(name); e == nil || jsonOf(e) != jsonOf(mustMap(w)) {
					t.Fatalf("%s: got %s, want %s\n%s", name, jsonOf(e), w, res.Describe())
				}
			}
			if res.Find("accepted") == nil {
				t.Fatalf("the right token was refused:\n%s", res.Describe())
			}
		})
	}
}

func TestInteropDisconnects(t *testing.T) {
	for _, tc := range transports {
		t.Run("ok, "+tc.name, func(t *testing.T) {
			ts := newTestServer(t)
			res := run(t, ts, "disconnects", tc.list)
			want := map[string]string{
				"server_disconnect": `{"event":"server_disconnect","reason":"io server disconnect"}`,
				"server_close":      `{"event":"server_close","reason":"io server disconnect"}`,
				"after_reconnect":   `{"event":"after_reconnect","back":"after reconnect"}`,
			}
			for name, w := range want {
				if e := res.Find(name); e == nil || jsonOf(e) != jsonOf(mustMap(w)) {
					t.Fatalf("%s: got %s, want %s\n%s", name, jsonOf(e), w, res.Describe())
				}
			}
			rc := res.Find("reconnected")
			if rc == nil || rc["newId"] != true || (rc.Str("reason") != "transport close" && rc.Str("reason") != "transport error") {
				t.Fatalf("reconnection: %v", rc)
			}
			if r := ts.waitDisconnect(t, res.Find("client_id").Str("id")); r != socketio.ReasonClientNamespaceDisconnect {
				t.Fatalf("client disconnect seen as %q", r)
			}
		})
	}
}
