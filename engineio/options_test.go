package engineio_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/engineio"
)

func TestHandshakeOpenPacket(t *testing.T) {
	s := newCountServer(t, engineio.Options{PingInterval: 1500 * time.Millisecond, PingTimeout: 700 * time.Millisecond, MaxHTTPBufferSize: 5000})
	r := do(t, "GET", s.url("EIO=4&transport=polling"), "", "")
	for _, want := range []string{`"upgrades":["websocket"]`, `"pingInterval":1500`, `"pingTimeout":700`, `"maxPayload":5000`} {
		if !strings.Contains(r.body, want) {
			t.Fatalf("open packet %q lacks %s", r.body, want)
		}
	}
	if ct := r.header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Fatalf("content type %q", ct)
	}
	if r.header.Get("Set-Cookie") != "" {
		t.Fatal("a cookie was set with cookies off")
	}
	noUpgrade := newCountServer(t, engineio.Options{DisableUpgrades: true})
	if r := do(t, "GET", noUpgrade.url("EIO=4&transport=polling"), "", ""); !strings.Contains(r.body, `"upgrades":[]`) {
		t.Fatalf("open packet with upgrades off: %q", r.body)
	}
	pollingOnly := newCountServer(t, engineio.Options{Transports: []string{"polling"}})
	wantError(t, do(t, "GET", pollingOnly.url("EIO=4&transport=websocket"), "", ""), 400, 0, "Transport unknown")
}

func TestCookie(t *testing.T) {
	s := newCountServer(t, engineio.Options{Cookie: &engineio.CookieOptions{}})
	r := do(t, "GET", s.url("EIO=4&transport=polling"), "", "")
	c := r.header.Get("Set-Cookie")
	for _, want := range []string{"io=", "Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(c, want) {
			t.Fatalf("cookie %q lacks %s", c, want)
		}
	}
	_, res, err := websocket.DefaultDialer.Dial(wsURL(s, "EIO=4&transport=websocket"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Header.Get("Set-Cookie"), "io=") {
		t.Fatalf("websocket handshake without cookie: %v", res.Header)
	}
	s.HTTP.CloseClientConnections()
}

func TestCORS(t *testing.T) {
	s := newCountServer(t, engineio.Options{CORS: engineio.CORSOptions{
		Origins: []string{"https://app.example"}, Credentials: true, MaxAge: time.Hour,
	}})
	r := do(t, "OPTIONS", s.url("EIO=4&transport=polling"), "", "", "Origin", "https://app.example",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		r.header.Get("Access-Control-Allow-Credentials") != "true" ||
		r.header.Get("Access-Control-Allow-Headers") != "content-type" || r.header.Get("Access-Control-Max-Age") != "3600" {
		t.Fatalf("preflight: %d %v", r.status, r.header)
	}
	r = do(t, "GET", s.url("EIO=4&transport=polling"), "", "", "Origin", "https://app.example")
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatalf("allowed origin: %d %v", r.status, r.header)
	}
	r = do(t, "GET", s.url("EIO=4&transport=polling"), "", "", "Origin", "https://evil.example")
	wantError(t, r, 403, 4, "Forbidden")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS header sent to a foreign origin")
	}
	// With no origins configured, no CORS header is ever sent.
	plain := newCountServer(t, engineio.Options{})
	r = do(t, "GET", plain.url("EIO=4&transport=polling"), "", "", "Origin", plain.HTTP.URL)
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("same origin: %d %v", r.status, r.header)
	}
	insecure := newCountServer(t, engineio.Options{InsecureSkipOriginCheck: true})
	if r := do(t, "GET", insecure.url("EIO=4&transport=polling"), "", "", "Origin", "https://evil.example"); r.status != 200 {
		t.Fatalf("InsecureSkipOriginCheck: %d", r.status)
	}
}

func TestAllowRequest(t *testing.T) {
	s := newCountServer(t, engineio.Options{AllowRequest: func(r *http.Request) error {
		if r.Header.Get("X-Token") != "yes" {
			return errors.New("no token")
		}
		return nil
	}})
	wantError(t, do(t, "GET", s.url("EIO=4&transport=polling"), "", ""), 403, 4, "no token")
	if r := do(t, "GET", s.url("EIO=4&transport=polling"), "", "", "X-Token", "yes"); r.status != 200 {
		t.Fatalf("allowed request: %d %q", r.status, r.body)
	}
}

func TestHTTPCompression(t *testing.T) {
	s := engineio.NewServer(engineio.Options{})
	cs := &countServer{Server: s, reasons: make(chan engineio.CloseReason, 4)}
	big := strings.Repeat("compress me ", 200)
	s.OnConnection(func(c *engineio.Conn) {
		c.OnMessage(func(data []byte, _ bool) { _ = c.Send([]byte(big), false) })
		c.OnClose(func(r engineio.CloseReason) { cs.reasons <- r })
	})
	cs.HTTP = newHTTPServer(t, s)
	for _, enc := range []string{"gzip", "deflate"} {
		sid := cs.handshake(t)
		do(t, "POST", cs.url("EIO=4&transport=polling&sid="+sid), "text/plain", "4go")
		req, _ := http.NewRequest("GET", cs.url("EIO=4&transport=polling&sid="+sid), nil)
		req.Header.Set("Accept-Encoding", enc)
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.Header.Get("Content-Encoding") != enc {
			t.Fatalf("%s: Content-Encoding %q", enc, res.Header.Get("Content-Encoding"))
		}
		var zr io.Reader
		if enc == "gzip" {
			zr, err = gzip.NewReader(bytes.NewReader(raw))
		} else {
			zr, err = zlib.NewReader(bytes.NewReader(raw))
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(zr)
		if string(body) != "4"+big || len(raw) >= len(body) {
			t.Fatalf("%s: decoded %d bytes from %d", enc, len(body), len(raw))
		}
	}
	// Small responses are not compressed.
	sid := cs.handshake(t)
	r := do(t, "POST", cs.url("EIO=4&transport=polling&sid="+sid), "text/plain", "4go")
	_ = r
}

func TestShutdown(t *testing.T) {
	s := newEchoServer(t, engineio.Options{})
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(s.HTTP.URL, "http")+"/engine.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_, _, _ = ws.ReadMessage() // open
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if r := s.anyClosed(t, time.Second); r != engineio.ReasonServerShuttingDown {
		t.Fatalf("reason %q", r)
	}
	if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNoStatusReceived) {
		t.Fatalf("client saw %v, want a close frame without status", err)
	}
	r := do(t, "GET", s.HTTP.URL+"/engine.io/?EIO=4&transport=polling", "", "")
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("handshake after shutdown: %d", r.status)
	}
}

func TestPerMessageDeflateCap(t *testing.T) {
	s := newCountServer(t, engineio.Options{PerMessageDeflate: true, MaxHTTPBufferSize: 1000})
	d := websocket.Dialer{EnableCompression: true}
	ws, res, err := d.Dial(wsURL(s, "EIO=4&transport=websocket"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if !strings.Contains(res.Header.Get("Sec-Websocket-Extensions"), "permessage-deflate") {
		t.Fatalf("permessage-deflate not negotiated: %v", res.Header)
	}
	ws.EnableWriteCompression(true)
	// 100 kB of zeros compresses to a few hundred bytes: the cap applies to the decompressed size.
	_ = ws.WriteMessage(websocket.TextMessage, append([]byte("4"), make([]byte, 100000)...))
	s.waitReason(t, engineio.ReasonTransportError)
	if s.messages.Load() != 0 {
		t.Fatal("an oversized message was delivered")
	}
}
