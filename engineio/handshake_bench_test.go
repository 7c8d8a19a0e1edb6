package engineio_test

import (
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio"
)

// BenchmarkWebsocketHandshake opens websocket sessions, each answering its client's first
// message, as siobench's conns scenario does, and closes them. The client is a raw TCP
// connection with a fixed handshake request, so that the figures (allocations per operation
// above all) are mostly the server's.
func BenchmarkWebsocketHandshake(b *testing.B) {
	srv := engineio.NewServer(engineio.Options{})
	srv.OnConnection(func(c *engineio.Conn) {
		c.OnMessage(func(data []byte, binary bool) { _ = c.Send(data, binary) })
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer hs.CloseClientConnections()
	req := []byte("GET /?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n" +
		"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	// "40", a masked text frame (mask 0, so the payload is as sent).
	msg := []byte{0x81, 0x82, 0, 0, 0, 0, '4', '0'}
	buf := make([]byte, 4096)
	readUntil := func(nc net.Conn, want string) {
		var got []byte
		for !strings.Contains(string(got), want) {
			n, err := nc.Read(buf)
			if err != nil {
				b.Fatalf("read %q: %v", got, err)
			}
			got = append(got, buf[:n]...)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		nc, err := net.Dial("tcp", hs.Listener.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := nc.Write(req); err != nil {
			b.Fatal(err)
		}
		readUntil(nc, `"maxPayload"`)
		if _, err := nc.Write(msg); err != nil {
			b.Fatal(err)
		}
		readUntil(nc, "40")
		_ = nc.Close()
	}
	b.StopTimer()
	for deadline := time.Now().Add(10 * time.Second); srv.Count() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}
