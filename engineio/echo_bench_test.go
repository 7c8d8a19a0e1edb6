package engineio_test

import (
	"bytes"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/engineio"
)

// BenchmarkEchoMessage measures the read and write path of a websocket session: one op is one
// message read by the server and one message it sends back (its OnMessage handler calls Send),
// in a closed loop over one connection. The client writes and reads raw frames, so the
// allocations reported are the server's.
func BenchmarkEchoMessage(b *testing.B) {
	for _, tc := range []struct {
		name string
		size int
	}{{"64B", 64}, {"1KiB", 1000}} {
		b.Run(tc.name, func(b *testing.B) { benchmarkEcho(b, tc.size) })
	}
}

func benchmarkEcho(b *testing.B, size int) {
	srv := engineio.NewServer(engineio.Options{})
	srv.OnConnection(func(c *engineio.Conn) {
		c.OnMessage(func(data []byte, binary bool) { _ = c.Send(data, binary) })
	})
	hs := httptest.NewServer(srv)
	defer func() {
		hs.CloseClientConnections()
		ctx, cancel := contextWithTimeout(5 * time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	}()
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/?EIO=4&transport=websocket"
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	if _, open, err := ws.ReadMessage(); err != nil || !bytes.HasPrefix(open, []byte("0{")) {
		b.Fatalf("open packet %q: %v", open, err)
	}
	nc := ws.UnderlyingConn()
	_ = nc.SetDeadline(time.Now().Add(time.Minute))

	// A message packet ("4" and the payload) in a masked text frame whose mask key is zero,
	// and the unmasked frame the server answers with.
	msg := append([]byte("4"), bytes.Repeat([]byte("x"), size-1)...)
	out := wsFrame(msg, false)
	in := wsFrame(msg, true)
	reply := make([]byte, len(out))
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := nc.Write(in); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(nc, reply); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if !bytes.Equal(reply, out) {
		b.Fatalf("reply %q, want %q", reply, out)
	}
}

// wsFrame returns a final text frame carrying payload, masked with a zero key when masked.
func wsFrame(payload []byte, masked bool) []byte {
	f := []byte{0x81}
	m := byte(0)
	if masked {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		f = append(f, m|byte(n))
	default:
		f = append(f, m|126, byte(n>>8), byte(n))
	}
	if masked {
		f = append(f, 0, 0, 0, 0)
	}
	return append(f, payload...)
}
