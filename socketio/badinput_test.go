package socketio_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/socketio"
)

// rawClient speaks Engine.IO over a websocket by hand, to send what official clients never do.
type rawClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialRaw(t *testing.T, srv *httptest.Server) *rawClient {
	t.Helper()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	c := &rawClient{t: t, ws: ws}
	if m := c.read(); !strings.HasPrefix(m, "0{") {
		t.Fatalf("open packet %q", m)
	}
	return c
}

func (c *rawClient) send(frames ...string) {
	for _, f := range frames {
		if err := c.ws.WriteMessage(websocket.TextMessage, []byte(f)); err != nil {
			c.t.Fatal(err)
		}
	}
}

// read returns the next text frame, answering pings.
func (c *rawClient) read() string {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, m, err := c.ws.ReadMessage()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if string(m) == "2" {
			c.send("3")
			continue
		}
		return string(m)
	}
}

// closed waits until the server closes the connection.
func (c *rawClient) closed() {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := c.ws.ReadMessage(); err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				c.t.Fatal("connection not closed by the server")
			}
			return
		}
	}
}

type recorder struct {
	mu      sync.Mutex
	reasons []socketio.DisconnectReason
	errs    []error
	events  []string
	ch      chan struct{}
}

func newRecordingServer(t *testing.T, opts socketio.Options) (*socketio.Server, *httptest.Server, *recorder) {
	t.Helper()
	rec := &recorder{ch: make(chan struct{}, 100)}
	io := socketio.NewServer(opts)
	io.OnConnection(func(s *socketio.Socket) {
		s.On("ev", func(n int) {
			rec.mu.Lock()
			rec.events = append(rec.events, "ev")
			rec.mu.Unlock()
			rec.ch <- struct{}{}
		})
		s.OnError(func(err error) {
			rec.mu.Lock()
			rec.errs = append(rec.errs, err)
			rec.mu.Unlock()
			rec.ch <- struct{}{}
		})
		s.OnDisconnect(func(r socketio.DisconnectReason) {
			rec.mu.Lock()
			rec.reasons = append(rec.reasons, r)
			rec.mu.Unlock()
			rec.ch <- struct{}{}
		})
	})
	srv := httptest.NewServer(io)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = io.Shutdown(ctx)
		srv.CloseClientConnections()
		srv.Close()
	})
	return io, srv, rec
}

func (r *recorder) waitReason(t *testing.T, want socketio.DisconnectReason) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		r.mu.Lock()
		for _, got := range r.reasons {
			if got == want {
				r.mu.Unlock()
				return
			}
		}
		r.mu.Unlock()
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("no disconnect with reason %q (got %v)", want, r.reasons)
		}
	}
}

func TestBadPackets(t *testing.T) {
	// Each case connects to "/", then sends frames the server must refuse by closing the
	// connection, with the socket disconnected for "forced close", as Node does.
	cases := []struct {
		name   string
		frames []string
	}{
		{"nok, unterminated event", []string{`442["some","data"`}},
		{"nok, connect with a string payload", []string{`40/admin,"invalid"`}},
		{"nok, event with an object payload", []string{`42{}`}},
		{"nok, event with a non-string name", []string{`42[true,"foo"]`}},
		{"nok, event with a null name", []string{`42[null,"bar"]`}},
		{"nok, reserved event name", []string{`42["disconnect","123"]`}},
		{"nok, unknown packet type", []string{`49`}},
		{"nok, binary event without attachment count", []string{`45["a"]`}},
		{"nok, attachment count not a number", []string{`45a-["a"]`}},
		{"nok, too many attachments", []string{`4511-["a"]`}},
		{"nok, second CONNECT on a namespace", []string{`40`}},
		{"nok, CONNECT_ERROR from a client", []string{`44{"message":"x"}`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, srv, rec := newRecordingServer(t, socketio.Options{})
			c := dialRaw(t, srv)
			c.send("40")
			if m := c.read(); !strings.HasPrefix(m, `40{"sid":"`) {
				t.Fatalf("CONNECT answer %q", m)
			}
			c.send(tc.frames...)
			c.closed()
			rec.waitReason(t, socketio.ReasonForcedClose)
		})
	}
}

func TestBadPacketsBeforeConnect(t *testing.T) {
	for _, frame := range []string{`42["ev",1]`, `41`, `431[1]`} {
		t.Run("nok, "+frame+" before CONNECT", func(t *testing.T) {
			_, srv, rec := newRecordingServer(t, socketio.Options{})
			c := dialRaw(t, srv)
			c.send(frame)
			c.closed()
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.events) != 0 {
				t.Fatal("an event was delivered before CONNECT")
			}
		})
	}
}

func TestBinaryFrameWithoutPacket(t *testing.T) {
	_, srv, rec := newRecordingServer(t, socketio.Options{})
	c := dialRaw(t, srv)
	c.send("40")
	c.read()
	_ = c.ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
	c.closed()
	rec.waitReason(t, socketio.ReasonForcedClose)
}

func TestInvalidNamespace(t *testing.T) {
	_, srv, _ := newRecordingServer(t, socketio.Options{})
	c := dialRaw(t, srv)
	c.send("40/x,")
	if m := c.read(); m != `44/x,{"message":"Invalid namespace"}` {
		t.Fatalf("got %q", m)
	}
}

func TestWrongArgumentShape(t *testing.T) {
	_, srv, rec := newRecordingServer(t, socketio.Options{})
	c := dialRaw(t, srv)
	c.send("40")
	c.read()
	c.send(`42["ev","not a number"]`, `42["ev",7]`)
	deadline := time.After(5 * time.Second)
	for {
		rec.mu.Lock()
		done := len(rec.errs) == 1 && len(rec.events) == 1
		rec.mu.Unlock()
		if done {
			break
		}
		select {
		case <-rec.ch:
		case <-deadline:
			t.Fatalf("errors %v, events %v", rec.errs, rec.events)
		}
	}
	var ae *socketio.ArgumentError
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if !asArgumentError(rec.errs[0], &ae) || ae.Event != "ev" || ae.Index != 0 {
		t.Fatalf("error %v", rec.errs[0])
	}
}

func TestConnectTimeout(t *testing.T) {
	_, srv, _ := newRecordingServer(t, socketio.Options{ConnectTimeout: 200 * time.Millisecond})
	c := dialRaw(t, srv)
	start := time.Now()
	c.closed()
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("closed after %v", d)
	}
}

func TestReservedEventEmit(t *testing.T) {
	io, srv, _ := newRecordingServer(t, socketio.Options{})
	c := dialRaw(t, srv)
	c.send("40")
	c.read()
	for _, name := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if err := io.Emit(name); err == nil {
			t.Fatalf("emitting %q succeeded", name)
		}
	}
	if err := io.Emit("fine", 1); err != nil {
		t.Fatal(err)
	}
	if m := c.read(); m != `42["fine",1]` {
		t.Fatalf("got %q", m)
	}
}

func TestHandlerSignatures(t *testing.T) {
	io := socketio.NewServer(socketio.Options{})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = io.Shutdown(ctx)
	}()
	bad := []any{42, func(socketio.Ack, int) {}, func(...int) {}, func() int { return 0 }, func(chan int) {}}
	srv := httptest.NewServer(io)
	defer srv.Close()
	done := make(chan []string, 1)
	io.OnConnection(func(s *socketio.Socket) {
		var panics []string
		for _, fn := range bad {
			func() {
				defer func() {
					if r := recover(); r != nil {
						panics = append(panics, "panic")
					}
				}()
				s.On("x", fn)
			}()
		}
		done <- panics
	})
	c := dialRaw(t, srv)
	c.send("40")
	if got := <-done; len(got) != len(bad) {
		t.Fatalf("%d of %d bad handlers refused", len(got), len(bad))
	}
	srv.CloseClientConnections()
}

func TestClientBundleOverHTTP(t *testing.T) {
	io := socketio.NewServer(socketio.Options{})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(header ...string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", srv.URL+"/socket.io/socket.io.js", nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b := readAll(t, res)
		return res, b
	}
	res, plain := get("Accept-Encoding", "identity")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/javascript") || res.Header.Get("ETag") == "" {
		t.Fatalf("bundle: %d %v", res.StatusCode, res.Header)
	}
	if !strings.Contains(string(plain[:200]), "Socket.IO v4.8") {
		t.Fatalf("not the client bundle: %q", plain[:100])
	}
	etag := res.Header.Get("ETag")
	if res, _ := get("Accept-Encoding", "identity", "If-None-Match", etag); res.StatusCode != 304 {
		t.Fatalf("repeat with If-None-Match: %d", res.StatusCode)
	}
	for _, enc := range []string{"gzip", "br"} {
		res, body := get("Accept-Encoding", enc)
		if res.Header.Get("Content-Encoding") != enc || res.Header.Get("Vary") != "Accept-Encoding" || res.Header.Get("ETag") == etag {
			t.Fatalf("%s: %v (identity ETag %s)", enc, res.Header, etag)
		}
		if got := decode(t, enc, body); string(got) != string(plain) {
			t.Fatalf("%s: decoded bundle differs", enc)
		}
	}
	// Other paths under the endpoint still reach Engine.IO.
	r2, err := http.Get(srv.URL + "/socket.io/?EIO=4&transport=polling")
	if err != nil || r2.StatusCode != 200 {
		t.Fatalf("handshake beside the bundle: %v %v", r2, err)
	}
	r2.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_ = io.Shutdown(ctx)
	srv.CloseClientConnections()
}
