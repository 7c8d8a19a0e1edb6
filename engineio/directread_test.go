package engineio_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/engineio"
)

// The messages that reach a session while its reader waits for the next one after a message
// (on Linux, inside one raw read of the connection: see readDirect) are read whole and in
// order, whatever the frames: a burst in one write, messages larger than the read buffer
// between small ones, messages split across writes, pings between them.

// dialRaw opens a websocket session on s and returns the connection and a reader of the
// server's frames, after the open packet.
func dialRaw(t *testing.T, s *echoServer) (net.Conn, *bufio.Reader) {
	t.Helper()
	url := "ws" + strings.TrimPrefix(s.HTTP.URL, "http") + "/engine.io/?EIO=4&transport=websocket"
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, open, err := ws.ReadMessage(); err != nil || !bytes.HasPrefix(open, []byte("0{")) {
		t.Fatalf("open packet %q: %v", open, err)
	}
	nc := ws.UnderlyingConn()
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	return nc, bufio.NewReader(nc)
}

func TestWebsocketMessagesWhileWaiting(t *testing.T) {
	s := newEchoServer(t, engineio.Options{})
	nc, r := dialRaw(t, s)
	key := [4]byte{9, 8, 7, 6}
	expect := func(want string) {
		t.Helper()
		b0, p := readServerFrame(t, r)
		if b0 != 0x81 || string(p) != want {
			t.Fatalf("frame %#x %.40q, want the echo %.40q", b0, p, want)
		}
	}
	write := func(b []byte) {
		t.Helper()
		if _, err := nc.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	write(clientFrame(0x81, true, key, []byte("4first")))
	expect("4first")

	// A burst of small messages, a large one and a ping among them, in one write.
	var burst []byte
	var want []string
	for i := range 40 {
		msg := fmt.Sprintf("4burst %d", i)
		if i == 20 {
			msg = "4" + strings.Repeat("L", 1000)
			burst = append(burst, clientFrame(0x89, true, key, []byte("ping"))...)
		}
		burst = append(burst, clientFrame(0x81, true, key, []byte(msg))...)
		want = append(want, msg)
	}
	write(burst)
	for i, w := range want {
		if i == 20 {
			if b0, p := readServerFrame(t, r); b0 != 0x8A || string(p) != "ping" {
				t.Fatalf("frame %#x %q, want the pong", b0, p)
			}
		}
		expect(w)
	}

	// A message in three writes, the first ending inside the frame header; then one in two
	// writes apart by more than the wait for the next message.
	frame := clientFrame(0x81, true, key, []byte("4"+strings.Repeat("p", 200)))
	write(frame[:1])
	time.Sleep(5 * time.Millisecond)
	write(frame[1:50])
	time.Sleep(5 * time.Millisecond)
	write(frame[50:])
	expect("4" + strings.Repeat("p", 200))
	frame = clientFrame(0x81, true, key, []byte("4late"))
	write(frame[:4])
	time.Sleep(150 * time.Millisecond)
	write(frame[4:])
	expect("4late")

	// Idle for longer than the wait, then a message again.
	time.Sleep(150 * time.Millisecond)
	write(clientFrame(0x81, true, key, []byte("4again")))
	expect("4again")
}

// A session closed while its reader waits for the next message, by its own message handler
// or by another goroutine, closes its connection: the client reads the close frame, then the
// end of the stream.
func TestWebsocketCloseWhileWaiting(t *testing.T) {
	for _, by := range []string{"handler", "another goroutine", "abort"} {
		t.Run(by, func(t *testing.T) {
			s := newEchoServer(t, engineio.Options{})
			conns := make(chan *engineio.Conn, 1)
			s.OnConnection(func(c *engineio.Conn) {
				conns <- c
				c.OnMessage(func(data []byte, binary bool) {
					if string(data) == "close-me" {
						c.Close()
						return
					}
					_ = c.Send(data, binary)
				})
			})
			nc, r := dialRaw(t, s)
			var c *engineio.Conn
			select {
			case c = <-conns:
			case <-time.After(10 * time.Second):
				t.Fatal("no session")
			}
			key := [4]byte{1, 2, 3, 4}
			if _, err := nc.Write(clientFrame(0x81, true, key, []byte("4hello"))); err != nil {
				t.Fatal(err)
			}
			if b0, p := readServerFrame(t, r); b0 != 0x81 || string(p) != "4hello" {
				t.Fatalf("frame %#x %q, want the echo", b0, p)
			}
			closed := make(chan struct{})
			switch by {
			case "handler":
				if _, err := nc.Write(clientFrame(0x81, true, key, []byte("4close-me"))); err != nil {
					t.Fatal(err)
				}
				close(closed)
			case "another goroutine":
				go func() { c.Close(); close(closed) }()
			case "abort":
				go func() { c.Abort(); close(closed) }()
			}
			select {
			case <-closed:
			case <-time.After(10 * time.Second):
				t.Fatal("closing the session did not return")
			}
			if b0, _ := readServerFrame(t, r); b0 != 0x88 {
				t.Fatalf("frame %#x, want a close frame", b0)
			}
			if n, err := r.Read(make([]byte, 1)); n != 0 || err == nil {
				t.Fatalf("read %d bytes, %v after the close frame; want the end of the stream", n, err)
			}
			select {
			case <-c.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("the session is not done")
			}
		})
	}
}
