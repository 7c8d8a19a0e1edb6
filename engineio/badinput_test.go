package engineio_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/engineio"
)

// countServer counts the messages it receives and records close reasons.
type countServer struct {
	*engineio.Server
	HTTP     *httptest.Server
	messages atomic.Int64
	reasons  chan engineio.CloseReason
}

func newCountServer(t *testing.T, opts engineio.Options) *countServer {
	t.Helper()
	s := &countServer{Server: engineio.NewServer(opts), reasons: make(chan engineio.CloseReason, 16)}
	s.OnConnection(func(c *engineio.Conn) {
		c.OnMessage(func([]byte, bool) { s.messages.Add(1) })
		c.OnClose(func(r engineio.CloseReason) { s.reasons <- r })
	})
	s.HTTP = httptest.NewServer(s.Server)
	t.Cleanup(func() {
		s.HTTP.CloseClientConnections()
		// Polling sessions without a pending poll wait for one to take the close packet:
		// give them a moment, then close them at once.
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_ = s.Shutdown(ctx)
		s.HTTP.Close()
	})
	return s
}

func (s *countServer) waitReason(t *testing.T, want engineio.CloseReason) {
	t.Helper()
	select {
	case r := <-s.reasons:
		if r != want {
			t.Fatalf("close reason %q, want %q", r, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("session not closed (want %q)", want)
	}
}

func (s *countServer) url(query string) string { return s.HTTP.URL + "/?" + query }

type response struct {
	status int
	body   string
	header http.Header
}

func do(t *testing.T, method, url, contentType, body string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, string(b), res.Header}
}

// handshake opens a polling session and returns its ID.
func (s *countServer) handshake(t *testing.T) string {
	t.Helper()
	r := do(t, "GET", s.url("EIO=4&transport=polling"), "", "")
	if r.status != 200 || !strings.HasPrefix(r.body, "0{") {
		t.Fatalf("handshake: %d %q", r.status, r.body)
	}
	var open struct{ SID string }
	if err := json.Unmarshal([]byte(r.body[1:]), &open); err != nil {
		t.Fatal(err)
	}
	return open.SID
}

func wantError(t *testing.T, r response, status, code int, msg string) {
	t.Helper()
	want := `{"code":` + itoa(code) + `,"message":"` + msg + `"}`
	if r.status != status || r.body != want {
		t.Fatalf("got %d %s, want %d %s", r.status, r.body, status, want)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
}

// wantEmpty checks an error answer without a body, as the official server gives to requests
// that break the polling rules.
func wantEmpty(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status || r.body != "" {
		t.Fatalf("got %d %q, want %d and no body", r.status, r.body, status)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestBadRequests(t *testing.T) {
	s := newCountServer(t, engineio.Options{})
	cases := []struct {
		name, method, query string
		status, code        int
		msg                 string
	}{
		{"nok, missing EIO", "GET", "transport=polling", 400, 5, "Unsupported protocol version"},
		{"nok, EIO=3", "GET", "EIO=3&transport=polling", 400, 5, "Unsupported protocol version"},
		{"nok, EIO=abc", "GET", "EIO=abc&transport=polling", 400, 5, "Unsupported protocol version"},
		{"nok, no transport", "GET", "EIO=4", 400, 0, "Transport unknown"},
		{"nok, unknown transport", "GET", "EIO=4&transport=flashsocket", 400, 0, "Transport unknown"},
		{"nok, transport __proto__", "GET", "EIO=4&transport=__proto__", 400, 0, "Transport unknown"},
		{"nok, unknown sid", "GET", "EIO=4&transport=polling&sid=nope", 400, 1, "Session ID unknown"},
		{"nok, sid __proto__", "GET", "EIO=4&transport=polling&sid=__proto__", 400, 1, "Session ID unknown"},
		{"nok, POST without sid", "POST", "EIO=4&transport=polling", 400, 2, "Bad handshake method"},
		{"nok, websocket without upgrade", "GET", "EIO=4&transport=websocket", 400, 3, "Bad request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, do(t, tc.method, s.url(tc.query), "", ""), tc.status, tc.code, tc.msg)
		})
	}
	if n := s.Count(); n != 0 {
		t.Fatalf("%d sessions opened by bad requests", n)
	}
}

func TestBadPollingInput(t *testing.T) {
	t.Run("nok, body over the limit", func(t *testing.T) {
		s := newCountServer(t, engineio.Options{MaxHTTPBufferSize: 100})
		sid := s.handshake(t)
		r := do(t, "POST", s.url("EIO=4&transport=polling&sid="+sid), "text/plain", "4"+strings.Repeat("x", 100))
		if r.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", r.status)
		}
		r = do(t, "POST", s.url("EIO=4&transport=polling&sid="+sid), "text/plain", "4"+strings.Repeat("x", 99))
		if r.status != 200 || r.body != "ok" || s.messages.Load() != 1 {
			t.Fatalf("a body at the limit: %d %q, %d messages", r.status, r.body, s.messages.Load())
		}
	})
	t.Run("nok, octet-stream on EIO=4", func(t *testing.T) {
		s := newCountServer(t, engineio.Options{})
		sid := s.handshake(t)
		r := do(t, "POST", s.url("EIO=4&transport=polling&sid="+sid), "application/octet-stream", "4hello")
		wantEmpty(t, r, 400)
		s.waitReason(t, engineio.ReasonTransportError)
		if s.messages.Load() != 0 {
			t.Fatal("a message was delivered")
		}
	})
	t.Run("nok, packet abc", func(t *testing.T) {
		s := newCountServer(t, engineio.Options{})
		sid := s.handshake(t)
		r := do(t, "POST", s.url("EIO=4&transport=polling&sid="+sid), "text/plain", "4ok\x1eabc")
		// Answered "ok" as the official server does, but the session is closed.
		if r.status != 200 || r.body != "ok" {
			t.Fatalf("got %d %q, want 200 ok", r.status, r.body)
		}
		s.waitReason(t, engineio.ReasonParseError)
		if s.messages.Load() != 0 {
			t.Fatal("part of a bad payload was delivered")
		}
		wantError(t, do(t, "GET", s.url("EIO=4&transport=polling&sid="+sid), "", ""), 400, 1, "Session ID unknown")
	})
	t.Run("ok, 100k packets in one payload", func(t *testing.T) {
		s := newCountServer(t, engineio.Options{})
		sid := s.handshake(t)
		body := strings.Repeat("4x\x1e", 99999) + "4x"
		r := do(t, "POST", s.url("EIO=4&transport=polling&sid="+sid), "text/plain", body)
		if r.status != 200 || s.messages.Load() != 100000 {
			t.Fatalf("%d %q, %d messages", r.status, r.body, s.messages.Load())
		}
	})
	t.Run("nok, over MaxPayloadPackets", func(t *testing.T) {
		s := newCountServer(t, engineio.Options{MaxPayloadPackets: 1000})
		sid := s.handshake(t)
		body := strings.Repeat("4x\x1e", 99999) + "4x"
		wantError(t, do(t, "POST", s.url("EIO=4&transport=polling&sid="+sid), "text/plain", body), 400, 3, "Bad request")
		s.waitReason(t, engineio.ReasonTransportError)
	})
	t.Run("nok, two concurrent GETs", func(t *testing.T) {
		s := newCountServer(t, engineio.Options{})
		sid := s.handshake(t)
		first := make(chan response, 1)
		go func() { first <- do(t, "GET", s.url("EIO=4&transport=polling&sid="+sid), "", "") }()
		waitFor(t, func() bool { return pollPending(s.Server, sid) })
		wantEmpty(t, do(t, "GET", s.url("EIO=4&transport=polling&sid="+sid), "", ""), 400)
		s.waitReason(t, engineio.ReasonTransportError)
		if r := <-first; r.status != 200 || r.body != "1" {
			t.Fatalf("the first poll got %d %q, want the close packet", r.status, r.body)
		}
	})
	t.Run("nok, two concurrent POSTs", func(t *testing.T) {
		s := newCountServer(t, engineio.Options{})
		sid := s.handshake(t)
		pr, pw := io.Pipe()
		req, _ := http.NewRequest("POST", s.url("EIO=4&transport=polling&sid="+sid), pr)
		req.ContentLength = 100
		first := make(chan error, 1)
		go func() {
			res, err := http.DefaultClient.Do(req)
			if err == nil {
				res.Body.Close()
			}
			first <- err
		}()
		_, _ = pw.Write([]byte("4abc"))
		time.Sleep(100 * time.Millisecond) // let the first POST reach the session
		wantEmpty(t, do(t, "POST", s.url("EIO=4&transport=polling&sid="+sid), "text/plain", "4x"), 400)
		s.waitReason(t, engineio.ReasonTransportError)
		pw.CloseWithError(io.ErrUnexpectedEOF)
		<-first
	})
	t.Run("nok, aborted poll", func(t *testing.T) {
		s := newCountServer(t, engineio.Options{})
		sid := s.handshake(t)
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", s.url("EIO=4&transport=polling&sid="+sid), nil)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
		}()
		waitFor(t, func() bool { return pollPending(s.Server, sid) })
		cancel()
		<-done
		s.waitReason(t, engineio.ReasonTransportError)
	})
}

// pollPending reports whether the session exists, after giving a poll sent just before a
// moment to reach it (a second poll cannot be used to look: it would close the session).
func pollPending(s *engineio.Server, sid string) bool {
	if s.Session(sid) == nil {
		return false
	}
	time.Sleep(50 * time.Millisecond)
	return true
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func wsURL(s *countServer, query string) string {
	return "ws" + strings.TrimPrefix(s.HTTP.URL, "http") + "/?" + query
}

func TestBadWebsocketInput(t *testing.T) {
	t.Run("nok, frame over the limit", func(t *testing.T) {
		s := newCountServer(t, engineio.Options{MaxHTTPBufferSize: 100})
		ws, _, err := websocket.DefaultDialer.Dial(wsURL(s, "EIO=4&transport=websocket"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		if _, m, err := ws.ReadMessage(); err != nil || !strings.Contains(string(m), `"upgrades":[]`) {
			t.Fatalf("open packet %q, %v", m, err)
		}
		_ = ws.WriteMessage(websocket.TextMessage, []byte("4"+strings.Repeat("x", 100)))
		s.waitReason(t, engineio.ReasonTransportError)
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
					t.Logf("closed with %v", err)
				}
				break
			}
		}
	})
	t.Run("nok, bad packet", func(t *testing.T) {
		s := newCountServer(t, engineio.Options{})
		ws, _, err := websocket.DefaultDialer.Dial(wsURL(s, "EIO=4&transport=websocket"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		_ = ws.WriteMessage(websocket.TextMessage, []byte("abc"))
		s.waitReason(t, engineio.ReasonParseError)
	})
	t.Run("nok, upgrade from a foreign origin", func(t *testing.T) {
		s := newCountServer(t, engineio.Options{})
		_, res, err := websocket.DefaultDialer.Dial(wsURL(s, "EIO=4&transport=websocket"),
			http.Header{"Origin": {"https://evil.example"}})
		// Refused as the official server refuses a websocket handshake: 400, the message as
		// text.
		if err == nil || res == nil || res.StatusCode != 400 {
			t.Fatalf("dial from a foreign origin: %v %v", res, err)
		}
		b, _ := io.ReadAll(res.Body)
		if string(b) != "Forbidden" || res.Header.Get("Content-Type") != "text/html" {
			t.Fatalf("body %q, Content-Type %q", b, res.Header.Get("Content-Type"))
		}
		// The same origin is accepted.
		ws, _, err := websocket.DefaultDialer.Dial(wsURL(s, "EIO=4&transport=websocket"),
			http.Header{"Origin": {s.HTTP.URL}})
		if err != nil {
			t.Fatalf("same origin refused: %v", err)
		}
		ws.Close()
		s.waitReason(t, engineio.ReasonTransportClose)
	})
	t.Run("nok, upgrade left half-done", func(t *testing.T) {
		s := newCountServer(t, engineio.Options{UpgradeTimeout: 200 * time.Millisecond})
		sid := s.handshake(t)
		ws, _, err := websocket.DefaultDialer.Dial(wsURL(s, "EIO=4&transport=websocket&sid="+sid), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
		if _, m, err := ws.ReadMessage(); err != nil || string(m) != "3probe" {
			t.Fatalf("probe answer %q, %v", m, err)
		}
		// No "5": the server gives up on the upgrade and closes the websocket.
		_ = ws.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, _, err := ws.ReadMessage(); err == nil {
			t.Fatal("websocket still open after the upgrade timeout")
		}
		// The session goes on over polling.
		r := do(t, "POST", s.url("EIO=4&transport=polling&sid="+sid), "text/plain", "4after")
		if r.status != 200 || s.messages.Load() != 1 {
			t.Fatalf("polling after an abandoned upgrade: %d %q", r.status, r.body)
		}
	})
	t.Run("nok, second websocket and polling after the upgrade", func(t *testing.T) {
		s := newCountServer(t, engineio.Options{})
		sid := s.handshake(t)
		ws := upgrade(t, s, sid)
		defer ws.Close()
		// The second websocket's handshake completes, and the server closes it at once with a
		// close frame without a status code, as the official server does.
		second, _, err := websocket.DefaultDialer.Dial(wsURL(s, "EIO=4&transport=websocket&sid="+sid), nil)
		if err != nil {
			t.Fatalf("second websocket: %v", err)
		}
		_ = second.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _, err = second.ReadMessage()
		if !websocket.IsCloseError(err, websocket.CloseNoStatusReceived) {
			t.Fatalf("second websocket read %v, want a close without status", err)
		}
		second.Close()
		wantError(t, do(t, "GET", s.url("EIO=4&transport=polling&sid="+sid), "", ""), 400, 3, "Bad request")
		// The upgraded session still works.
		_ = ws.WriteMessage(websocket.TextMessage, []byte("4hi"))
		waitFor(t, func() bool { return s.messages.Load() == 1 })
	})
}

// upgrade completes an upgrade of the polling session sid to a websocket, checking that the
// pending poll is released with a noop.
func upgrade(t *testing.T, s *countServer, sid string) *websocket.Conn {
	t.Helper()
	poll := make(chan response, 1)
	go func() { poll <- do(t, "GET", s.url("EIO=4&transport=polling&sid="+sid), "", "") }()
	time.Sleep(50 * time.Millisecond)
	ws, _, err := websocket.DefaultDialer.Dial(wsURL(s, "EIO=4&transport=websocket&sid="+sid), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
	if _, m, err := ws.ReadMessage(); err != nil || string(m) != "3probe" {
		t.Fatalf("probe answer %q, %v", m, err)
	}
	select {
	case r := <-poll:
		if r.body != "6" {
			t.Fatalf("pending poll released with %q, want noop", r.body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("pending poll not released")
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
	waitFor(t, func() bool { c := s.Session(sid); return c != nil && c.Transport() == "websocket" })
	return ws
}
