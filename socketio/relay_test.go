package socketio_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/internal/nodetest"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// newRelayServer relays what the client sends through every raw path: raw handlers, their
// acks, OnAny, packet middlewares, the reply of an EmitWithAck, a typed any parameter and a
// broadcast.
func newRelayServer(t *testing.T, opts socketio.Options) *httptest.Server {
	t.Helper()
	io := socketio.NewServer(opts)
	io.OnConnection(func(s *socketio.Socket) {
		s.OnError(func(err error) { _ = s.Emit("server-error", err.Error()) })
		s.On("raw", func(args socketio.Args) { _ = s.Emit("raw", args.Any()...) })
		s.On("raw-ack", func(args socketio.Args, ack socketio.Ack) { _ = ack(args.Any()...) })
		s.On("first", func(a socketio.Arg, ack socketio.Ack) { _ = ack(a) })
		s.On("typed-any", func(v any, ack socketio.Ack) { _ = ack(v) })
		s.On("bcast", func(args socketio.Args) { _ = io.Emit("bcast", args.Any()...) })
		s.OnAny(func(event string, args socketio.Args) {
			if event == "any" {
				_ = s.Emit("any", args.Any()...)
			}
		})
		s.Use(func(event string, args socketio.Args) error {
			if event == "mw" {
				_ = s.Emit("mw", args.Any()...)
			}
			return nil
		})
		s.On("ask", func() {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				reply, err := s.EmitWithAck(ctx, "give")
				if err != nil {
					_ = s.Emit("server-error", err.Error())
					return
				}
				_ = s.Emit("reply", reply.Any()...)
			}()
		})
	})
	return startServer(t, io)
}

func TestInteropBinaryRelay(t *testing.T) {
	// What the client sent, as the script prints it: a Buffer, a string that reads as the
	// base64 of that Buffer, and an object with binary inside.
	const sent = `[{"Buffer":[0,1,2,255]},"AAEC/w==",{"list":[{"Buffer":[]},"s"],"nested":{"Buffer":[9,8]}}]`
	want := map[string]string{
		"raw":          sent,
		"rawAck":       sent,
		"any":          sent,
		"mw":           sent,
		"reply":        sent,
		"bcast":        sent,
		"afterUpgrade": sent,
		"first":        `{"Buffer":[0,1,2,255]}`,
		"typedAny":     `{"list":[{"Buffer":[]},"s"],"nested":{"Buffer":[9,8]}}`,
	}
	type variant struct {
		name, list, final, parser string
		opts                      socketio.Options
	}
	var variants []variant
	for _, tc := range transports {
		variants = append(variants, variant{tc.name, tc.list, tc.final, "", socketio.Options{}})
	}
	// The same arguments decoded and encoded by the msgpack parser.
	variants = append(variants, variant{"msgpack, polling then upgrade", "polling,websocket", "websocket", "msgpack", socketio.Options{Parser: socketio.ParserMsgpack}})
	for _, tc := range variants {
		t.Run("ok, "+tc.name, func(t *testing.T) {
			srv := newRelayServer(t, tc.opts)
			res := nodetest.Run(t, 60*time.Second, "sio-client.mjs", "URL="+srv.URL, "SCENARIO=relay", "TRANSPORTS="+tc.list, "PARSER="+tc.parser)
			r := res.Find("relayed")
			if r == nil {
				t.Fatalf("no result:\n%s", res.Describe())
			}
			got, _ := r["got"].(map[string]any)
			for path, w := range want {
				if g := jsonOf(got[path]); g != jsonOf(mustAny(w)) {
					t.Errorf("%s: got %s, want %s", path, g, w)
				}
			}
			if r.Str("transport") != tc.final {
				t.Errorf("transport %s, want %s", r.Str("transport"), tc.final)
			}
		})
	}
}

func mustAny(s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		panic(err)
	}
	return v
}
