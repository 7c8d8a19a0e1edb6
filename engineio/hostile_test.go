package engineio_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/engineio"
)

// newTunedServer serves s the way docs/security.md tells operators to: with header timeouts
// and a header size limit on the http.Server.
func newTunedServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ReadHeaderTimeout = 300 * time.Millisecond
	srv.Config.MaxHeaderBytes = 16 << 10
	srv.Start()
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	return srv
}

// TestHostileTransportInput attacks the transport layer: slow, silent and oversized clients.
func TestHostileTransportInput(t *testing.T) {
	t.Run("nok, slowloris headers", func(t *testing.T) {
		srv := newTunedServer(t, engineio.NewServer(engineio.Options{}))
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, _ = conn.Write([]byte("GET /?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nX-Slow: "))
		go func() { // one header byte every 50 ms, never the end of the headers
			for range 100 {
				time.Sleep(50 * time.Millisecond)
				if _, err := conn.Write([]byte("x")); err != nil {
					return
				}
			}
		}()
		_ = conn.SetReadDeadline(time.Now().Add(4 * time.Second))
		_, err = io.Copy(io.Discard, conn) // an answer (408) may come first; then the end
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("the server kept a slowloris connection open")
		}
	})
	for _, tc := range []struct {
		name   string
		header string
		query  string
	}{
		{name: "nok, oversized handshake query", query: "&q=" + strings.Repeat("a", 64<<10)},
		{name: "nok, oversized handshake headers", header: strings.Repeat("b", 64<<10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es := engineio.NewServer(engineio.Options{})
			srv := newTunedServer(t, es)
			req, _ := http.NewRequest("GET", srv.URL+"/?EIO=4&transport=polling"+tc.query, nil)
			if tc.header != "" {
				req.Header.Set("X-Big", tc.header)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge || es.Count() != 0 {
				t.Fatalf("status %d, %d sessions", res.StatusCode, es.Count())
			}
		})
	}
	t.Run("nok, half-open websocket", func(t *testing.T) {
		s := newCountServer(t, engineio.Options{PingInterval: 100 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
		ws, _, err := websocket.DefaultDialer.Dial(wsURL(s, "EIO=4&transport=websocket"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close() // the client neither reads nor answers pings
		s.waitReason(t, engineio.ReasonPingTimeout)
	})
	t.Run("nok, half-open polling", func(t *testing.T) {
		s := newCountServer(t, engineio.Options{PingInterval: 100 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
		s.handshake(t) // and never polls again
		s.waitReason(t, engineio.ReasonPingTimeout)
	})
	t.Run("nok, client that never reads", func(t *testing.T) {
		s := &countServer{
			Server:  engineio.NewServer(engineio.Options{WriteTimeout: 300 * time.Millisecond, MaxQueuedPackets: 16}),
			reasons: make(chan engineio.CloseReason, 1),
		}
		big := make([]byte, 64<<10)
		s.OnConnection(func(c *engineio.Conn) {
			c.OnClose(func(r engineio.CloseReason) { s.reasons <- r })
			go func() { // the application pushes until the session is gone
				for c.Send(big, true) != engineio.ErrClosed {
					time.Sleep(time.Millisecond)
				}
			}()
		})
		s.HTTP = newHTTPServer(t, s.Server)
		ws, _, err := websocket.DefaultDialer.Dial(wsURL(s, "EIO=4&transport=websocket"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		s.waitReason(t, engineio.ReasonTransportError)
	})
	t.Run("nok, upgrade packet without a probe", func(t *testing.T) {
		s := newCountServer(t, engineio.Options{})
		sid := s.handshake(t)
		ws, _, err := websocket.DefaultDialer.Dial(wsURL(s, "EIO=4&transport=websocket&sid="+sid), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := ws.ReadMessage(); err == nil {
			t.Fatal("websocket kept after an upgrade without a probe")
		}
		if r := do(t, "POST", s.url("EIO=4&transport=polling&sid="+sid), "text/plain", "4still"); r.status != 200 {
			t.Fatalf("polling after the refused upgrade: %d", r.status)
		}
		waitFor(t, func() bool { return s.messages.Load() == 1 })
	})
	t.Run("nok, binary probe", func(t *testing.T) {
		s := newCountServer(t, engineio.Options{})
		sid := s.handshake(t)
		ws, _, err := websocket.DefaultDialer.Dial(wsURL(s, "EIO=4&transport=websocket&sid="+sid), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		_ = ws.WriteMessage(websocket.BinaryMessage, []byte("2probe"))
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := ws.ReadMessage(); err == nil {
			t.Fatal("websocket kept after a binary probe")
		}
		if s.Session(sid) == nil {
			t.Fatal("the session did not survive the refused upgrade")
		}
	})
	t.Run("nok, invalid UTF-8 text frame", func(t *testing.T) {
		s := newCountServer(t, engineio.Options{})
		ws, _, err := websocket.DefaultDialer.Dial(wsURL(s, "EIO=4&transport=websocket"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		_ = ws.WriteMessage(websocket.TextMessage, []byte("4\xff"))
		s.waitReason(t, engineio.ReasonTransportError)
	})
	t.Run("ok, invalid UTF-8 in a polling body", func(t *testing.T) {
		got := make(chan string, 1)
		es := engineio.NewServer(engineio.Options{})
		es.OnConnection(func(c *engineio.Conn) { c.OnMessage(func(d []byte, _ bool) { got <- string(d) }) })
		s := &countServer{Server: es, HTTP: newHTTPServer(t, es)}
		t.Cleanup(func() {
			ctx, cancel := contextWithTimeout(300 * time.Millisecond)
			defer cancel()
			_ = es.Shutdown(ctx)
		})
		sid := s.handshake(t)
		if r := do(t, "POST", s.url("EIO=4&transport=polling&sid="+sid), "text/plain", "4a\xffb"); r.status != 200 {
			t.Fatalf("POST: %d", r.status)
		}
		if m := <-got; m != "a\uFFFDb" {
			t.Fatalf("message %q", m)
		}
	})
}
