package socketio_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/internal/nodetest"
	"github.com/echo-socketio/echo-socketio/socketio"
)

func newRoomsServer(t *testing.T, opts ...socketio.Options) *httptest.Server {
	t.Helper()
	var o socketio.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	io := socketio.NewServer(o)
	io.OnConnection(func(s *socketio.Socket) {
		s.On("join", func(rooms []string, ack socketio.Ack) { s.Join(rooms...); _ = ack(true) })
		s.On("bcast", func(to, except []string, msg string, ack socketio.Ack) {
			_ = ack(io.To(to...).Except(except...).Emit("msg", msg) == nil)
		})
		s.On("bcast-from", func(to []string, msg string, ack socketio.Ack) {
			_ = ack(s.To(to...).Emit("msg", msg) == nil)
		})
		s.On("bcast-volatile", func(msg string, ack socketio.Ack) {
			_ = ack(io.Of("/").Volatile().Emit("msg", msg) == nil)
		})
		s.On("ask-all", func(room string, ack socketio.Ack) {
			// Long enough for three polling clients to answer on a loaded machine; D never does.
			replies, err := io.To(room).Timeout(2*time.Second).EmitWithAck(context.Background(), "poll")
			var names []string
			for _, r := range replies {
				var n string
				_ = r.Decode(&n)
				names = append(names, n)
			}
			sort.Strings(names)
			var te *socketio.AckTimeoutError
			missing := -1
			if errors.As(err, &te) {
				missing = te.Missing
			}
			_ = ack(map[string]any{"answers": names, "timeout": errors.Is(err, socketio.ErrAckTimeout), "missing": missing})
		})
		s.On("fetch", func(room string, ack socketio.Ack) {
			socks, err := io.In(room).FetchSockets(context.Background())
			if err != nil {
				_ = ack(err.Error())
				return
			}
			list := map[string][]string{}
			for _, r := range socks {
				rs := r.Rooms()
				sort.Strings(rs)
				list[r.ID()] = rs
			}
			_ = ack(list)
		})
		s.On("sockets-join", func(room, newRoom string, ack socketio.Ack) {
			_ = ack(io.In(room).SocketsJoin(context.Background(), newRoom) == nil)
		})
		s.On("sockets-leave", func(room, old string, ack socketio.Ack) {
			_ = ack(io.In(room).SocketsLeave(context.Background(), old) == nil)
		})
		s.On("disconnect-sockets", func(room string, ack socketio.Ack) {
			_ = ack(true)
			_ = io.In(room).DisconnectSockets(context.Background(), false)
		})
	})
	srv := httptest.NewServer(io)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = io.Shutdown(ctx)
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv
}

func TestInteropRooms(t *testing.T) {
	for _, tc := range transports {
		t.Run("ok, "+tc.name, func(t *testing.T) {
			srv := newRoomsServer(t)
			checkRooms(t, nodetest.Run(t, 60*time.Second, "sio-rooms.mjs", "URL="+srv.URL, "TRANSPORTS="+tc.list))
		})
	}
}

// checkRooms checks what sio-rooms.mjs printed.
func checkRooms(t *testing.T, res *nodetest.Result) {
	t.Helper()
	ids := res.Find("ids")["ids"].(map[string]any)
	idOf := func(n string) string { return ids[n].(string) }
	got := func(step string) map[string]any {
		e := res.Find(step)
		if e == nil {
			t.Fatalf("no step %s:\n%s", step, res.Describe())
		}
		return e["got"].(map[string]any)
	}
	want := map[string]map[string]string{
		"room":        {"A": `["m1"]`, "B": `["m1"]`, "C": `[]`, "D": `[]`},
		"rooms":       {"A": `["m2"]`, "B": `["m2"]`, "C": `["m2"]`, "D": `[]`},
		"except":      {"A": `["m3"]`, "B": `[]`, "C": `[]`, "D": `[]`},
		"from_socket": {"A": `[]`, "B": `["m4"]`, "C": `[]`, "D": `[]`},
		"volatile":    {"A": `["m5"]`, "B": `["m5"]`, "C": `["m5"]`, "D": `["m5"]`},
		"after_join":  {"A": `[]`, "B": `["m6"]`, "C": `["m6"]`, "D": `[]`},
		"after_leave": {"A": `[]`, "B": `[]`, "C": `[]`, "D": `[]`},
		"disconnect_sockets": {"A": `[]`, "B": `["disconnect:io server disconnect"]`,
			"C": `["disconnect:io server disconnect"]`, "D": `[]`},
	}
	for step, clients := range want {
		g := got(step)
		for n, w := range clients {
			if jsonOf(g[n]) != w {
				t.Errorf("%s: client %s got %s, want %s", step, n, jsonOf(g[n]), w)
			}
		}
	}
	ack := res.Find("ack_all")["reply"]
	if jsonOf(ack) != `{"answers":["A","B","C"],"missing":1,"timeout":true}` {
		t.Errorf("ack_all: %s", jsonOf(ack))
	}
	fetched := res.Find("fetch")["reply"].(map[string]any)
	wantFetch := map[string]string{
		idOf("B"): jsonOf(sorted("all", "r1", "r2", idOf("B"))),
		idOf("C"): jsonOf(sorted("all", "r2", idOf("C"))),
	}
	if len(fetched) != 2 || jsonOf(fetched[idOf("B")]) != wantFetch[idOf("B")] || jsonOf(fetched[idOf("C")]) != wantFetch[idOf("C")] {
		t.Errorf("fetch: %s, want %v", jsonOf(fetched), wantFetch)
	}
	if t.Failed() {
		t.Log(res.Describe())
	}
}

func sorted(s ...string) []string { sort.Strings(s); return s }
