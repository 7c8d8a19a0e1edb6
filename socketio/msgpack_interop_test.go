package socketio_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/internal/nodetest"
	"github.com/echo-socketio/echo-socketio/socketio"
	"github.com/echo-socketio/echo-socketio/socketio/msgpackparser"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

var msgpackOpts = socketio.Options{Parser: socketio.ParserMsgpack}

// TestInteropMsgpack runs the scenarios of the JSON parser's interop tests with the official
// client speaking socket.io-msgpack-parser, on each transport, plus binary values of every kind
// in every position.
func TestInteropMsgpack(t *testing.T) {
	for _, tc := range transports {
		t.Run("ok, events, "+tc.name, func(t *testing.T) {
			ts := newTestServer(t, msgpackOpts)
			checkEvents(t, ts, run(t, ts, "events", tc.list, "PARSER=msgpack"), tc.final)
		})
		t.Run("ok, binaries, "+tc.name, func(t *testing.T) {
			ts := newTestServer(t, msgpackOpts)
			res := run(t, ts, "binaries", tc.list, "PARSER=msgpack")
			pos := res.All("bin_positions")
			if len(pos) != 7 {
				t.Fatalf("%d kinds, want 7:\n%s", len(pos), res.Describe())
			}
			for _, e := range pos {
				if e["ok"] != true || e["buffers"] != true {
					t.Fatalf("binary %s did not come back as it went: %v", e.Str("kind"), e)
				}
			}
			// The client answered [3,2,1] (a Buffer) and [9,9] (an ArrayBuffer, extension type
			// 0); the server sent both back as binary, which Node reads as Buffers (toJSON form).
			want := `{"answer":[{"data":[3,2,1],"type":"Buffer"},{"data":[9,9],"type":"Buffer"}],"event":"bin_server_ack"}`
			if got := jsonOf(res.Find("bin_server_ack")); got != want {
				t.Fatalf("server ack: got %s, want %s", got, want)
			}
			if got := res.Find("final").Str("transport"); got != tc.final {
				t.Fatalf("final transport %q, want %q", got, tc.final)
			}
		})
	}
	up := transports[2]
	t.Run("ok, namespaces", func(t *testing.T) {
		ts := newTestServer(t, msgpackOpts)
		res := run(t, ts, "namespaces", up.list, "PARSER=msgpack")
		for _, name := range []string{"admin", "team", "invalid", "refused", "accepted", "multiplexed"} {
			if res.Find(name) == nil {
				t.Fatalf("no %s:\n%s", name, res.Describe())
			}
		}
		if got := jsonOf(res.Find("refused")); got != `{"data":{"code":401},"event":"refused","message":"unauthorized"}` {
			t.Fatalf("refused: %s", got)
		}
	})
	t.Run("ok, rooms", func(t *testing.T) {
		srv := newRoomsServer(t, msgpackOpts)
		checkRooms(t, nodetest.Run(t, 60*time.Second, "sio-rooms.mjs", "URL="+srv.URL, "TRANSPORTS="+up.list, "PARSER=msgpack"))
	})
	t.Run("ok, recovery", func(t *testing.T) {
		srv := startServer(t, newRecoveryServer(t, &socketio.Recovery{}, socketio.ParserMsgpack))
		res := nodetest.Run(t, 40*time.Second, "sio-recovery.mjs", "URL="+srv.URL, "TRANSPORTS="+up.list, "PARSER=msgpack")
		r := res.Find("reconnected")
		if r == nil || r["recovered"] != true || r["sameId"] != true || jsonOf(r["msgs"]) != "[1,2,3,4,5,6,7]" {
			t.Fatalf("recovery:\n%s", res.Describe())
		}
	})
}

// TestMsgpackWire checks the frames of the msgpack parser on a raw websocket: one binary
// message per packet, binary values inline, and a text message is a protocol error.
func TestMsgpackWire(t *testing.T) {
	io := socketio.NewServer(msgpackOpts)
	got := make(chan []byte, 1)
	io.OnConnection(func(s *socketio.Socket) {
		s.On("up", func(b []byte, ack socketio.Ack) { got <- b; _ = ack(b, "ok") })
	})
	srv := startServer(t, io)
	c := dialRaw(t, srv)
	connect, _ := msgpackparser.Encode(&parser.Packet{Type: parser.Connect})
	c.sendBinary(connect)
	var d msgpackparser.Decoder
	p, err := d.Decode(c.readBinary())
	if err != nil || p.Type != parser.Connect || !strings.HasPrefix(string(p.Data), `{"sid":"`) {
		t.Fatalf("CONNECT answer %+v, %v", p, err)
	}
	ev, _ := msgpackparser.Encode(&parser.Packet{Type: parser.BinaryEvent, ID: 4, HasID: true,
		Data: []byte(`["up",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{7, 8}}})
	c.sendBinary(ev)
	select {
	case b := <-got:
		if !bytes.Equal(b, []byte{7, 8}) {
			t.Fatalf("handler got %v", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not run")
	}
	// The ack, as notepack.io writes it: {type:3, data:[<bin 7 8>, "ok"], id:4, nsp:"/"}.
	want := []byte("\x84\xa4type\x03\xa4data\x92\xc4\x02\x07\x08\xa2ok\xa2id\x04\xa3nsp\xa1/")
	if ack := c.readBinary(); !bytes.Equal(ack, want) {
		t.Fatalf("ack frame %q, want %q", ack, want)
	}
	c.send(`42["up"]`) // text under the msgpack parser
	c.closed()
}

// TestMsgpackBundle checks that the server serves the msgpack client bundle.
func TestMsgpackBundle(t *testing.T) {
	srv := startServer(t, socketio.NewServer(msgpackOpts))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/socket.io/socket.io.msgpack.min.js", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || len(body) < 10000 {
		t.Fatalf("status %d, %d bytes", resp.StatusCode, len(body))
	}
}

func (c *rawClient) sendBinary(b []byte) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
		c.t.Fatal(err)
	}
}

// readBinary returns the next binary frame, answering pings.
func (c *rawClient) readBinary() []byte {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		mt, m, err := c.ws.ReadMessage()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if mt == websocket.TextMessage && string(m) == "2" {
			c.send("3")
			continue
		}
		if mt != websocket.BinaryMessage {
			c.t.Fatalf("text frame %q, want a binary one", m)
		}
		return m
	}
}

// TestMsgpackBroadcastEncodedOnce checks that a broadcast under the msgpack parser is encoded
// once for all its receivers, which all get the same MessagePack message.
func TestMsgpackBroadcastEncodedOnce(t *testing.T) {
	io := socketio.NewServer(msgpackOpts)
	joined := make(chan struct{}, 3)
	io.OnConnection(func(s *socketio.Socket) { s.Join("room"); joined <- struct{}{} })
	srv := startServer(t, io)
	connect, _ := msgpackparser.Encode(&parser.Packet{Type: parser.Connect})
	var clients []*rawClient
	for range 3 {
		c := dialRaw(t, srv)
		c.sendBinary(connect)
		c.readBinary() // the CONNECT answer
		clients = append(clients, c)
	}
	for range 3 {
		select {
		case <-joined:
		case <-time.After(10 * time.Second):
			t.Fatal("the connection hooks did not run")
		}
	}
	before := socketio.BroadcastEncodes(io)
	if err := io.To("room").Emit("news", 1.5, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	want := []byte("\x83\xa4type\x02\xa4data\x93\xa4news\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00\xc4\x03\x01\x02\x03\xa3nsp\xa1/")
	for i, c := range clients {
		if got := c.readBinary(); !bytes.Equal(got, want) {
			t.Fatalf("client %d got %q, want %q", i, got, want)
		}
	}
	if n := socketio.BroadcastEncodes(io) - before; n != 1 {
		t.Fatalf("%d encodes for one broadcast", n)
	}
}
