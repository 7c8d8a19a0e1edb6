package engineio_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/engineio"
)

type v3Client struct {
	t    *testing.T
	base string
	sid  string
}

func (c *v3Client) do(method, query string, body []byte, contentType string) (string, []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, c.base+"/engine.io/?EIO=3&transport=polling"+query, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("%s %s: %d %s", method, query, resp.StatusCode, b)
	}
	return resp.Header.Get("Content-Type"), b
}

// handshakeV3 opens a v3 polling session and returns the open packet's fields.
func handshakeV3(t *testing.T, s *echoServer, query string) (*v3Client, map[string]any) {
	t.Helper()
	c := &v3Client{t: t, base: s.HTTP.URL}
	_, body := c.do(http.MethodGet, query, nil, "")
	prefix, rest, ok := strings.Cut(string(body), ":")
	if !ok || !strings.HasPrefix(rest, "0{") || prefix != jsonString(len(rest)) {
		t.Fatalf("v3 handshake payload %q", body)
	}
	var open map[string]any
	if err := json.Unmarshal([]byte(rest[1:]), &open); err != nil {
		t.Fatal(err)
	}
	c.sid = open["sid"].(string)
	return c, open
}

func jsonString(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestV3PollingWire checks the polling transport of protocol v3 against the framings of the
// official server's v3 parser: text payloads with "b4" binary for clients that asked for
// base64, binary payloads for the others, and client pings answered with pongs.
func TestV3PollingWire(t *testing.T) {
	s := newEchoServer(t, engineio.Options{AllowEIO3: true})

	t.Run("ok, base64 client", func(t *testing.T) {
		c, open := handshakeV3(t, s, "&b64=1")
		if open["pingInterval"] != 25000.0 || open["pingTimeout"] != 20000.0 || jsonString(open["upgrades"]) != `["websocket"]` {
			t.Fatalf("open packet %v", open)
		}
		q := "&sid=" + c.sid
		c.do(http.MethodPost, q, []byte("6:4hello6:b4AQI=1:2"), "text/plain;charset=UTF-8")
		ct, body := c.do(http.MethodGet, q, nil, "")
		if ct != "text/plain; charset=UTF-8" || string(body) != "6:4hello6:b4AQI=1:3" {
			t.Fatalf("poll: %q %q", ct, body)
		}
		c.do(http.MethodPost, q, []byte("5:4é€🎉"), "text/plain;charset=UTF-8")
		if _, body = c.do(http.MethodGet, q, nil, ""); string(body) != "5:4é€🎉" {
			t.Fatalf("poll: %q", body)
		}
		c.do(http.MethodPost, q, []byte("1:1"), "text/plain;charset=UTF-8") // close
	})
	t.Run("ok, binary client", func(t *testing.T) {
		c, _ := handshakeV3(t, s, "")
		q := "&sid=" + c.sid
		// A text packet "4hi" and a binary packet 01 02, in the binary framing.
		c.do(http.MethodPost, q, []byte{0, 3, 0xff, '4', 'h', 'i', 1, 3, 0xff, 4, 1, 2}, "application/octet-stream")
		ct, body := c.do(http.MethodGet, q, nil, "")
		want := []byte{0, 3, 0xff, '4', 'h', 'i', 1, 3, 0xff, 4, 1, 2}
		if ct != "application/octet-stream" || !bytes.Equal(body, want) {
			t.Fatalf("poll: %q %v, want %v", ct, body, want)
		}
		c.do(http.MethodPost, q, []byte{0, 1, 0xff, '1'}, "application/octet-stream") // close
		if r, _ := s.waitClosed(t, c.sid, 10*time.Second); r != engineio.ReasonTransportClose {
			t.Fatalf("closed with %q", r)
		}
	})
	t.Run("nok, bad v3 payloads close the session", func(t *testing.T) {
		c, _ := handshakeV3(t, s, "&b64=1")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/engine.io/?EIO=3&transport=polling&sid="+c.sid, strings.NewReader("4hello"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK { // answered "ok" as by Node, the session closed
			t.Fatalf("v4 framing on a v3 session: %d", resp.StatusCode)
		}
		if r, _ := s.waitClosed(t, c.sid, 10*time.Second); r != engineio.ReasonParseError {
			t.Fatalf("closed with %q", r)
		}
	})
}

// TestV3WebsocketWire checks the websocket transport of protocol v3: binary frames start
// with the type byte 4, and client pings are answered.
func TestV3WebsocketWire(t *testing.T) {
	s := newEchoServer(t, engineio.Options{AllowEIO3: true})
	url := "ws" + strings.TrimPrefix(s.HTTP.URL, "http") + "/engine.io/?EIO=3&transport=websocket"
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	read := func() (int, []byte) {
		t.Helper()
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		mt, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		return mt, b
	}
	if _, b := read(); !strings.HasPrefix(string(b), `0{"sid":`) {
		t.Fatalf("open %q", b)
	}
	_ = ws.WriteMessage(websocket.BinaryMessage, []byte{4, 9, 8})
	if mt, b := read(); mt != websocket.BinaryMessage || !bytes.Equal(b, []byte{4, 9, 8}) {
		t.Fatalf("binary echo %d %v", mt, b)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("2"))
	if _, b := read(); string(b) != "3" {
		t.Fatalf("pong %q", b)
	}
	_ = ws.WriteMessage(websocket.BinaryMessage, []byte{2, 1}) // a binary frame of another type
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := ws.ReadMessage(); err == nil {
		t.Fatal("the session survived a binary frame of type ping")
	}
}

// TestV3Heartbeat checks that the server does not ping v3 clients and closes a session whose
// client stops pinging after PingInterval + PingTimeout.
func TestV3Heartbeat(t *testing.T) {
	s := newEchoServer(t, engineio.Options{AllowEIO3: true, PingInterval: 200 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	url := "ws" + strings.TrimPrefix(s.HTTP.URL, "http") + "/engine.io/?EIO=3&transport=websocket"
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var open struct{ SID string }
	_ = json.Unmarshal(b[1:], &open)
	for {
		_, m, err := ws.ReadMessage()
		if err != nil {
			break // closed by the server
		}
		if string(m) == "2" {
			t.Fatal("the server pinged a v3 client")
		}
	}
	if r, _ := s.waitClosed(t, open.SID, 10*time.Second); r != engineio.ReasonPingTimeout {
		t.Fatalf("closed with %q, want ping timeout", r)
	}
}

func TestEIO3NeedsOption(t *testing.T) {
	s := newEchoServer(t, engineio.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.HTTP.URL+"/engine.io/?EIO=3&transport=polling", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || string(b) != `{"code":5,"message":"Unsupported protocol version"}` {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}
