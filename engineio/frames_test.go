package engineio_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/engineio"
)

// TestWebsocketFrameSizes sends messages whose frames sit on either side of the websocket
// length encodings (7 bits, 16 bits, 64 bits) and of the server's read buffers, text and
// binary, to v4 and v3 sessions, with and without compression, and checks that each comes back
// intact twice: once sent with Send and once with SendPrepared.
func TestWebsocketFrameSizes(t *testing.T) {
	const limit = 100_000
	srv := engineio.NewServer(engineio.Options{MaxHTTPBufferSize: limit, AllowEIO3: true, PerMessageDeflate: true})
	srv.OnConnection(func(c *engineio.Conn) {
		c.OnMessage(func(data []byte, binary bool) {
			_ = c.Send(data, binary)
			_ = c.SendPrepared(engineio.NewPrepared(data, binary))
		})
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.CloseClientConnections()
		ctx, cancel := contextWithTimeout(5 * time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	})
	sizes := []int{0, 1, 123, 124, 125, 126, 127, 4094, 4095, 4096, 4097, 8193, 65533, 65534, 65535, 65536, limit - 1}
	for _, eio := range []string{"4", "3"} {
		for _, compress := range []bool{false, true} {
			name := "ok, EIO=" + eio
			if compress {
				name += ", permessage-deflate"
			}
			t.Run(name, func(t *testing.T) {
				d := websocket.Dialer{EnableCompression: compress, HandshakeTimeout: 10 * time.Second}
				url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/?EIO=" + eio + "&transport=websocket"
				ws, _, err := d.Dial(url, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer ws.Close()
				_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
				if _, open, err := ws.ReadMessage(); err != nil || !bytes.HasPrefix(open, []byte("0{")) {
					t.Fatalf("open packet %q: %v", open, err)
				}
				for _, n := range sizes {
					data := bytes.Repeat([]byte("abcdefghij"), n/10+1)[:n]
					text := append([]byte("4"), data...)
					bin := data
					if eio == "3" {
						bin = append([]byte{4}, data...)
					}
					for _, m := range []struct {
						mt      int
						payload []byte
					}{{websocket.TextMessage, text}, {websocket.BinaryMessage, bin}} {
						if len(m.payload) == 0 || len(m.payload) > limit {
							continue // an empty v4 binary message is valid but not sent here
						}
						if err := ws.WriteMessage(m.mt, m.payload); err != nil {
							t.Fatal(err)
						}
						for i := range 2 {
							mt, got, err := ws.ReadMessage()
							if err != nil {
								t.Fatalf("size %d, type %d, reply %d: %v", n, m.mt, i, err)
							}
							if mt != m.mt || !bytes.Equal(got, m.payload) {
								t.Fatalf("size %d, type %d, reply %d: got type %d, %d bytes, want %d", n, m.mt, i, mt, len(got), len(m.payload))
							}
						}
					}
				}
			})
		}
	}
}

// TestWebsocketMessageLimit checks the limit on a message's size above the size of the
// buffers messages are read into: a message of MaxHTTPBufferSize bytes is delivered, one byte
// more closes the session with status 1009.
func TestWebsocketMessageLimit(t *testing.T) {
	const limit = 10_000
	s := newCountServer(t, engineio.Options{MaxHTTPBufferSize: limit})
	for _, tc := range []struct {
		name string
		size int
		ok   bool
	}{{"ok, at the limit", limit, true}, {"nok, over the limit", limit + 1, false}} {
		t.Run(tc.name, func(t *testing.T) {
			ws, _, err := websocket.DefaultDialer.Dial(wsURL(s, "EIO=4&transport=websocket"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
			if _, m, err := ws.ReadMessage(); err != nil || !bytes.HasPrefix(m, []byte("0{")) {
				t.Fatalf("open packet %q, %v", m, err)
			}
			msg := "4" + strings.Repeat("x", tc.size-1)
			if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
				t.Fatal(err)
			}
			if tc.ok {
				waitFor(t, func() bool { return s.messages.Load() == 1 })
				return
			}
			_, m, err := ws.ReadMessage()
			if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
				t.Fatalf("after a message over the limit: %q, %v; want close 1009", m, err)
			}
		})
	}
}

// TestWebsocketFrameInParts sends a frame in two parts, far enough apart that the wait for
// the next message of the session's reader (which bounds its wait with a read deadline) ends
// in between: the message is delivered whole and the session goes on.
func TestWebsocketFrameInParts(t *testing.T) {
	s := newEchoServer(t, engineio.Options{})
	url := "ws" + strings.TrimPrefix(s.HTTP.URL, "http") + "/engine.io/?EIO=4&transport=websocket"
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, open, err := ws.ReadMessage(); err != nil || !bytes.HasPrefix(open, []byte("0{")) {
		t.Fatalf("open packet %q: %v", open, err)
	}
	echo := func(frame []byte, split int, pause time.Duration) {
		t.Helper()
		nc := ws.UnderlyingConn()
		if _, err := nc.Write(frame[:split]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(pause)
		if _, err := nc.Write(frame[split:]); err != nil {
			t.Fatal(err)
		}
		_, got, err := ws.ReadMessage()
		if want := frame[len(frame)-len(got):]; err != nil || len(got) == 0 || !bytes.Equal(got, want) {
			t.Fatalf("echo %q, %v", got, err)
		}
	}
	for i := range 3 {
		// The first message sets the reader waiting for the next; the second arrives in
		// parts across the end of that wait; the third checks the session is still read.
		frame := wsFrame([]byte("4message "+strings.Repeat("x", 200*i)), true)
		echo(frame, len(frame)/2, time.Duration(i%2)*300*time.Millisecond)
	}
}

// clientFrame returns a client frame: first byte b0 (FIN, reserved bits, opcode), the payload
// masked with key when masked.
func clientFrame(b0 byte, masked bool, key [4]byte, payload []byte) []byte {
	f := []byte{b0}
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
		f = append(f, key[:]...)
		for i, c := range payload {
			f = append(f, c^key[i%4])
		}
		return f
	}
	return append(f, payload...)
}

// readServerFrame reads one frame the server sent: its first byte and its payload.
func readServerFrame(t *testing.T, r *bufio.Reader) (byte, []byte) {
	t.Helper()
	h := make([]byte, 2)
	if _, err := io.ReadFull(r, h); err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	n := int(h[1] & 0x7f)
	if n == 126 {
		b := make([]byte, 2)
		if _, err := io.ReadFull(r, b); err != nil {
			t.Fatal(err)
		}
		n = int(binary.BigEndian.Uint16(b))
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	return h[0], p
}

// TestWebsocketClientFrames checks how the frames of a client are read: fragmented messages
// with control frames between the fragments, masking keys, pings, close frames, and the frames
// that break the protocol, which close the connection with status 1002.
func TestWebsocketClientFrames(t *testing.T) {
	const (
		text, binFrame, cont, closeOp, ping, pong = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA
		fin                                       = 0x80
	)
	key := [4]byte{0x11, 0x22, 0x33, 0x44}
	closeStatus := func(p []byte) int {
		if len(p) < 2 {
			return 1005
		}
		return int(binary.BigEndian.Uint16(p))
	}
	type frame struct {
		b0      byte
		masked  bool
		payload string
	}
	type reply struct {
		b0      byte
		payload string // for a close frame: ignored, status is checked
		status  int
	}
	for _, tc := range []struct {
		name   string
		frames []frame
		want   []reply
		reason engineio.CloseReason // "" when the session stays open
	}{
		{"ok, fragmented message with a ping between the fragments",
			[]frame{{text, true, "4hel"}, {cont, true, "lo"}, {fin | ping, true, "p"}, {fin | pong, true, ""}, {fin | cont, true, " world"}},
			[]reply{{b0: fin | pong, payload: "p"}, {b0: fin | text, payload: "4hello world"}}, ""},
		{"ok, binary message in three fragments",
			[]frame{{binFrame, true, "\x00\x01"}, {cont, true, ""}, {fin | cont, true, "\x02\x03\x04\x05\x06\x07\x08\x09\x0a"}},
			[]reply{{b0: fin | binFrame, payload: "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a"}}, ""},
		{"ok, close frame", []frame{{fin | closeOp, true, "\x03\xe8bye"}},
			[]reply{{b0: fin | closeOp, status: 1000}}, engineio.ReasonTransportClose},
		{"nok, unmasked frame", []frame{{fin | text, false, "4x"}},
			[]reply{{b0: fin | closeOp, status: 1002}}, engineio.ReasonTransportClose},
		{"nok, reserved bit", []frame{{fin | 0x40 | text, true, "4x"}},
			[]reply{{b0: fin | closeOp, status: 1002}}, engineio.ReasonTransportClose},
		{"nok, unknown opcode", []frame{{fin | 0x3, true, "4x"}},
			[]reply{{b0: fin | closeOp, status: 1002}}, engineio.ReasonTransportClose},
		{"nok, continuation without a message", []frame{{fin | cont, true, "4x"}},
			[]reply{{b0: fin | closeOp, status: 1002}}, engineio.ReasonTransportClose},
		{"nok, message inside a message", []frame{{text, true, "4x"}, {fin | text, true, "4y"}},
			[]reply{{b0: fin | closeOp, status: 1002}}, engineio.ReasonTransportClose},
		{"nok, fragmented ping", []frame{{ping, true, "p"}},
			[]reply{{b0: fin | closeOp, status: 1002}}, engineio.ReasonTransportClose},
		{"nok, ping over 125 bytes", []frame{{fin | ping, true, strings.Repeat("p", 126)}},
			[]reply{{b0: fin | closeOp, status: 1002}}, engineio.ReasonTransportClose},
		{"nok, close status 1005", []frame{{fin | closeOp, true, "\x03\xed"}},
			[]reply{{b0: fin | closeOp, status: 1002}}, engineio.ReasonTransportClose},
		{"nok, fragments over the limit", []frame{{text, true, "4" + strings.Repeat("x", 59)}, {fin | cont, true, strings.Repeat("x", 60)}},
			[]reply{{b0: fin | closeOp, status: 1009}}, engineio.ReasonTransportError},
	} {
		for _, warm := range []bool{false, true} {
			name := tc.name
			if warm {
				// After a message, the frames reach the reader while it waits for the next
				// one inside a raw read (readDirect), not in a read of its own.
				name += ", after a message"
			}
			t.Run(name, func(t *testing.T) {
				s := newEchoServer(t, engineio.Options{MaxHTTPBufferSize: 100})
				url := "ws" + strings.TrimPrefix(s.HTTP.URL, "http") + "/engine.io/?EIO=4&transport=websocket"
				ws, _, err := websocket.DefaultDialer.Dial(url, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer ws.Close()
				_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, open, err := ws.ReadMessage(); err != nil || !bytes.HasPrefix(open, []byte("0{")) {
					t.Fatalf("open packet %q: %v", open, err)
				}
				nc := ws.UnderlyingConn()
				_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(nc)
				if warm {
					if _, err := nc.Write(clientFrame(fin|text, true, key, []byte("4warm"))); err != nil {
						t.Fatal(err)
					}
					if b0, p := readServerFrame(t, r); b0 != fin|text || string(p) != "4warm" {
						t.Fatalf("echo %#x %q", b0, p)
					}
				}
				var out []byte
				for _, f := range tc.frames {
					out = append(out, clientFrame(f.b0, f.masked, key, []byte(f.payload))...)
				}
				if _, err := nc.Write(out); err != nil {
					t.Fatal(err)
				}
				for _, w := range tc.want {
					b0, p := readServerFrame(t, r)
					if b0 != w.b0 {
						t.Fatalf("frame %#x %q, want %#x", b0, p, w.b0)
					}
					if w.b0&0x0f == closeOp {
						if got := closeStatus(p); got != w.status {
							t.Fatalf("close status %d (%q), want %d", got, p, w.status)
						}
					} else if string(p) != w.payload {
						t.Fatalf("payload %q, want %q", p, w.payload)
					}
				}
				if tc.reason != "" {
					if got := s.anyClosed(t, 5*time.Second); got != tc.reason {
						t.Fatalf("close reason %q, want %q", got, tc.reason)
					}
				}
			})
		}
	}
}
