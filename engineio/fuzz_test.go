package engineio_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/engineio"
)

// FuzzPollingBody posts arbitrary bodies to a polling session of a real server: every body is
// answered with 200, 400 or 413, and nothing panics or hangs. A session the body closed is
// replaced by a new one.
func FuzzPollingBody(f *testing.F) {
	for _, seed := range []string{
		"4hello", "4a\x1e4b", "bAQID", "b!!", "2", "3", "1", "5", "6", "", "\x1e", "4\x1e\x1e4",
		"9", "4\xff\xfe", "b", strings.Repeat("4x\x1e", 100) + "4x", "3probe", "0", "40",
	} {
		f.Add(seed)
	}
	srv := engineio.NewServer(engineio.Options{MaxHTTPBufferSize: 1 << 16, MaxPayloadPackets: 1000})
	srv.OnConnection(func(c *engineio.Conn) {
		c.OnMessage(func(data []byte, binary bool) { _ = c.Send(data, binary) })
	})
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	sid := ""
	f.Fuzz(func(t *testing.T, body string) {
		if sid == "" || srv.Session(sid) == nil {
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest("GET", "/engine.io/?EIO=4&transport=polling", nil))
			const prefix = `0{"sid":"`
			b := rec.Body.String()
			if !strings.HasPrefix(b, prefix) {
				t.Fatalf("handshake %q", b)
			}
			sid = b[len(prefix) : len(prefix)+20]
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/engine.io/?EIO=4&transport=polling&sid="+sid, strings.NewReader(body))
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		srv.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		if c := srv.Session(sid); c != nil && c.Transport() != "polling" {
			t.Fatalf("transport %s", c.Transport())
		}
	})
}

// FuzzWebsocketFrames writes arbitrary bytes, after the handshake, on a websocket of a real
// server, which reads the client's frames itself: nothing panics or hangs, and the session
// ends once the client has gone.
func FuzzWebsocketFrames(f *testing.F) {
	mask := func(b0 byte, payload string) string { // a masked frame, mask key zero
		if len(payload) < 126 {
			return string([]byte{b0, 0x80 | byte(len(payload)), 0, 0, 0, 0}) + payload
		}
		return string([]byte{b0, 0x80 | 126, byte(len(payload) >> 8), byte(len(payload)), 0, 0, 0, 0}) + payload
	}
	for _, seed := range []string{
		mask(0x81, "4hello"), mask(0x82, "\x01\x02"), mask(0x01, "4he") + mask(0x89, "p") + mask(0x80, "llo"),
		mask(0x88, "\x03\xe8bye"), mask(0x88, "\x03"), mask(0x8A, ""), mask(0x81, "4"+strings.Repeat("x", 300)),
		"\x81\x05" + "4abcd", "\xc1\x80\x00\x00\x00\x00", "\x81\xff\x7f\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00",
		"\x81\xfe\xff", mask(0x83, "4x"), mask(0x80, "4x"), mask(0x81, "4\xff\xfe"), "",
	} {
		f.Add(seed)
	}
	srv := engineio.NewServer(engineio.Options{MaxHTTPBufferSize: 1 << 12})
	srv.OnConnection(func(c *engineio.Conn) {
		c.OnMessage(func(data []byte, binary bool) { _ = c.Send(data, binary) })
	})
	hs := httptest.NewServer(srv)
	f.Cleanup(func() {
		hs.CloseClientConnections()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	})
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/?EIO=4&transport=websocket"
	f.Fuzz(func(t *testing.T, in string) {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, open, err := ws.ReadMessage()
		const prefix = `0{"sid":"`
		if err != nil || !strings.HasPrefix(string(open), prefix) {
			t.Fatalf("open packet %q: %v", open, err)
		}
		sid := string(open[len(prefix) : len(prefix)+20])
		nc := ws.UnderlyingConn()
		_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = nc.Write([]byte(in))
		_ = nc.Close()
		for deadline := time.Now().Add(10 * time.Second); srv.Session(sid) != nil; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("session still open 10 s after the client left, input %q", in)
			}
		}
	})
}
