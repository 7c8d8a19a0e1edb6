package client_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/client"
	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/wire"
)

// frame encodes one unmasked server frame.
func frame(op byte, fin bool, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

// rawServer opens an Engine.IO session, accepts the namespace connection,
// then hands the raw connection to script.
func rawServer(t *testing.T, script func(ws *websocket.Conn, nc net.Conn)) *httptest.Server {
	var up websocket.Upgrader
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		ws.WriteMessage(websocket.TextMessage, []byte(`0{"sid":"x","pingInterval":5000,"pingTimeout":5000}`))
		if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "40" {
			t.Errorf("expected 40, got %q, %v", msg, err)
			return
		}
		ws.WriteMessage(websocket.TextMessage, []byte(`40{"sid":"s"}`))
		script(ws, ws.NetConn())
	}))
}

// TestRawFraming sends frames as a server may: cut across reads, fragmented
// with a ping between the fragments, with 16- and 64-bit lengths, several in
// one write. Every message must reach OnPacket whole and in order, and the
// ping must be answered with a pong of the same payload, with and without a
// Poller.
func TestRawFraming(t *testing.T) {
	big := strings.Repeat("z", 70_000)
	mid := strings.Repeat("y", 200)
	want := []string{`["a"]`, `["b"]`, `["` + mid + `"]`, `["` + big + `"]`, `["d"]`, `["e"]`}
	pongs := make(chan string, 1)
	srv := rawServer(t, func(ws *websocket.Conn, nc net.Conn) {
		for _, b := range frame(0x1, true, []byte(`42["a"]`)) {
			nc.Write([]byte{b}) // one byte at a time: frames cut anywhere
			time.Sleep(time.Millisecond)
		}
		var out []byte
		out = append(out, frame(0x1, false, []byte(`42["`))...)
		out = append(out, frame(0x9, true, []byte("hi"))...)
		out = append(out, frame(0x0, true, []byte(`b"]`))...)
		out = append(out, frame(0x1, true, []byte(`42["`+mid+`"]`))...)
		out = append(out, frame(0x1, true, []byte(`42["`+big+`"]`))...)
		out = append(out, frame(0x1, true, []byte(`42["d"]`))...)
		out = append(out, frame(0x1, true, []byte(`42["e"]`))...)
		nc.Write(out)
		ws.SetPongHandler(func(s string) error { pongs <- s; return nil })
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		ws.ReadMessage() // runs the pong handler, ends when the client closes
	})
	defer srv.Close()
	for _, polled := range []bool{false, true} {
		name := "ok, own goroutine"
		if polled {
			name = "ok, poller"
		}
		t.Run(name, func(t *testing.T) {
			got := make(chan string, len(want)+1)
			cfg := client.Config{URL: srv.URL, Timeout: 5 * time.Second, OnPacket: func(p wire.Packet) {
				got <- string(p.Data)
			}}
			if polled {
				p, err := client.NewPoller()
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close()
				cfg.Poller = p
			}
			c, err := client.Dial(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for i, w := range want {
				select {
				case g := <-got:
					if g != w {
						t.Fatalf("message %d: got %d bytes %.40q, want %d bytes %.40q", i, len(g), g, len(w), w)
					}
				case <-c.Done():
					t.Fatalf("connection ended before message %d: %v", i, c.Err())
				case <-time.After(5 * time.Second):
					t.Fatalf("message %d never came", i)
				}
			}
			select {
			case p := <-pongs:
				if p != "hi" {
					t.Errorf("pong %q, want %q", p, "hi")
				}
			case <-time.After(5 * time.Second):
				t.Errorf("the ping frame was not answered")
			}
		})
	}
}

// TestRawProtocolErrors checks that a frame a server must not send ends the
// connection with an error that says why.
func TestRawProtocolErrors(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
		want  string
	}{
		{"nok, masked frame", []byte{0x81, 0x82, 1, 2, 3, 4, 'a' ^ 1, 'b' ^ 2}, "masked"},
		{"nok, binary frame", frame(0x2, true, []byte{1, 2}), "binary"},
		{"nok, close frame", frame(0x8, true, []byte{0x03, 0xe9, 'b', 'y', 'e'}), "close 1001 bye"},
		{"nok, stray continuation", frame(0x0, true, []byte("x")), "continuation"},
		{"nok, reserved bits", []byte{0xc1, 0x01, 'x'}, "reserved"},
		{"nok, too large", append([]byte{0x81, 127}, binary.BigEndian.AppendUint64(nil, 1<<40)...), "exceeds"},
		{"nok, connection dropped", nil, "without a close frame"},
	}
	for _, polled := range []bool{false, true} {
		for _, tt := range tests {
			name := tt.name
			if polled {
				name += ", poller"
			}
			t.Run(name, func(t *testing.T) {
				srv := rawServer(t, func(ws *websocket.Conn, nc net.Conn) {
					if tt.frame != nil {
						nc.Write(tt.frame)
						ws.SetReadDeadline(time.Now().Add(5 * time.Second))
						ws.ReadMessage()
					}
				})
				defer srv.Close()
				cfg := client.Config{URL: srv.URL, Timeout: 5 * time.Second}
				if polled {
					p, err := client.NewPoller()
					if err != nil {
						t.Fatal(err)
					}
					defer p.Close()
					cfg.Poller = p
				}
				c, err := client.Dial(context.Background(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				select {
				case <-c.Done():
				case <-time.After(5 * time.Second):
					t.Fatal("the connection did not end")
				}
				if err := c.Err(); err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("Err() = %v, want one mentioning %q", err, tt.want)
				}
			})
		}
	}
}

// TestPollerReadsManyConnections connects many clients to one Poller and
// checks that each gets its own messages, whole and in order.
func TestPollerReadsManyConnections(t *testing.T) {
	const conns, msgs = 50, 40
	srv := rawServer(t, func(ws *websocket.Conn, nc net.Conn) {
		var out []byte
		for i := range msgs {
			out = append(out, frame(0x1, true, []byte(`42["`+strings.Repeat("m", i*37)+`"]`))...)
		}
		for len(out) > 0 { // uneven writes
			n := min(len(out), 777)
			nc.Write(out[:n])
			out = out[n:]
		}
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		ws.ReadMessage()
	})
	defer srv.Close()
	p, err := client.NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	type result struct {
		next int
		err  string
	}
	results := make([]result, conns)
	done := make(chan int, conns)
	cs := make([]*client.Conn, conns)
	for i := range conns {
		r := &results[i]
		cs[i], err = client.Dial(context.Background(), client.Config{URL: srv.URL, Timeout: 5 * time.Second, Poller: p,
			OnPacket: func(pk wire.Packet) {
				if r.err != "" {
					return
				}
				if want := `["` + strings.Repeat("m", r.next*37) + `"]`; !bytes.Equal(pk.Data, []byte(want)) {
					r.err = "message " + string(pk.Data[:min(len(pk.Data), 20)])
				}
				r.next++
				if r.next == msgs {
					done <- i
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
	}
	for range conns {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("not every connection got its messages")
		}
	}
	for i, c := range cs {
		c.Close()
		if results[i].err != "" {
			t.Errorf("connection %d: %s", i, results[i].err)
		}
	}
}

// TestPollerCloseIdle checks that Close ends a Poller whose goroutine is
// blocked in epoll_wait with nothing registered, and that a second Close
// returns too (goleak then checks that the goroutine is gone).
func TestPollerCloseIdle(t *testing.T) {
	p, err := client.NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // let the loop block
	done := make(chan struct{})
	go func() {
		p.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	p.Close() // a second Close returns too
}
