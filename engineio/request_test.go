package engineio_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/engineio"
)

type requestCtxKey struct{}

// seenRequest is what a middleware saw of a handshake request, to compare with the request a
// session rebuilds.
type seenRequest struct {
	method, requestURI, remoteAddr, host, proto string
	header                                      http.Header
	tls                                         bool
}

// requestServer serves an Engine.IO server behind a middleware that puts a value in the
// request's context and records what it saw of each handshake request.
func requestServer(t *testing.T, tlsOn bool) (base string, client *http.Client, seen chan seenRequest, conns chan *engineio.Conn) {
	t.Helper()
	srv := engineio.NewServer(engineio.Options{})
	conns = make(chan *engineio.Conn, 4)
	srv.OnConnection(func(c *engineio.Conn) { conns <- c })
	seen = make(chan seenRequest, 4)
	mw := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sid") == "" {
			seen <- seenRequest{method: r.Method, requestURI: r.RequestURI, remoteAddr: r.RemoteAddr,
				host: r.Host, proto: r.Proto, header: r.Header.Clone(), tls: r.TLS != nil}
		}
		srv.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestCtxKey{}, "from the middleware")))
	})
	var hs *httptest.Server
	if tlsOn {
		hs = httptest.NewTLSServer(mw)
	} else {
		hs = httptest.NewServer(mw)
	}
	t.Cleanup(func() {
		hs.CloseClientConnections()
		ctx, cancel := contextWithTimeout(5 * time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	})
	return hs.URL, hs.Client(), seen, conns
}

func receive[T any](t *testing.T, ch chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("timed out")
		var zero T
		return zero
	}
}

// checkRequest compares the request a session rebuilds, and its accessors, with the handshake
// request the middleware saw.
func checkRequest(t *testing.T, c *engineio.Conn, want seenRequest) {
	t.Helper()
	r := c.Request()
	if r.Method != want.method || r.RequestURI != want.requestURI || r.RemoteAddr != want.remoteAddr ||
		r.Host != want.host || r.Proto != want.proto {
		t.Errorf("request %s %s %s from %s to %s, want %s %s %s from %s to %s", r.Method, r.RequestURI, r.Proto,
			r.RemoteAddr, r.Host, want.method, want.requestURI, want.proto, want.remoteAddr, want.host)
	}
	if !reflect.DeepEqual(r.Header, want.header) {
		t.Errorf("headers %v, want %v", r.Header, want.header)
	}
	if got := r.Header.Values("X-Multi"); !reflect.DeepEqual(got, []string{"one", "two"}) {
		t.Errorf("X-Multi %q, want one and two", got)
	}
	if got := r.URL.Query(); got.Get("EIO") != "4" || got.Get("custom") != "a b" || got.Get("sid") != "" {
		t.Errorf("query %v", got)
	}
	if r.URL.Path != "/engine.io/" || r.URL.RequestURI() != want.requestURI {
		t.Errorf("URL %v, want the path /engine.io/ and %s", r.URL, want.requestURI)
	}
	if v, _ := r.Context().Value(requestCtxKey{}).(string); v != "from the middleware" {
		t.Errorf("context value %q", v)
	}
	if r.Context().Err() != nil {
		t.Errorf("context done: %v", r.Context().Err())
	}
	if body, err := io.ReadAll(r.Body); err != nil || len(body) != 0 {
		t.Errorf("body %q, %v", body, err)
	}
	if (r.TLS != nil) != want.tls || (c.TLS() != nil) != want.tls {
		t.Errorf("TLS %v and %v, want %v", r.TLS != nil, c.TLS() != nil, want.tls)
	}

	// Each call builds a new request.
	r.Header.Set("X-Custom", "changed")
	r.URL.Path = "/changed"
	if again := c.Request(); again.Header.Get("X-Custom") != "hello" || again.URL.Path != "/engine.io/" {
		t.Errorf("a change to one rebuilt request reached the next: %v %v", again.Header, again.URL)
	}

	// The accessors read the same record.
	if c.Header("x-custom") != "hello" || c.Header("X-Custom") != "hello" || c.Header("X-Absent") != "" {
		t.Errorf("Header: %q %q %q", c.Header("x-custom"), c.Header("X-Custom"), c.Header("X-Absent"))
	}
	if got := c.HeaderValues("x-multi"); !reflect.DeepEqual(got, []string{"one", "two"}) {
		t.Errorf("HeaderValues %q", got)
	}
	if c.HeaderValues("X-Absent") != nil {
		t.Errorf("HeaderValues of an absent header: %q", c.HeaderValues("X-Absent"))
	}
	if !reflect.DeepEqual(c.Headers(), want.header) {
		t.Errorf("Headers %v, want %v", c.Headers(), want.header)
	}
	if c.RemoteAddr() != want.remoteAddr {
		t.Errorf("RemoteAddr %q, want %q", c.RemoteAddr(), want.remoteAddr)
	}
	if q := c.Query(); q.Get("custom") != "a b" || q.Get("EIO") != "4" {
		t.Errorf("Query %v", q)
	}
	if c.RequestURI() != want.requestURI {
		t.Errorf("RequestURI %q, want %q", c.RequestURI(), want.requestURI)
	}
	if v, _ := c.Context().Value(requestCtxKey{}).(string); v != "from the middleware" || c.Context().Err() != nil {
		t.Errorf("Context: %q, %v", v, c.Context().Err())
	}
}

func requestHeader() http.Header {
	h := http.Header{}
	h.Set("X-Custom", "hello")
	h.Add("X-Multi", "one")
	h.Add("X-Multi", "two")
	h.Set("Cookie", "a=1; b=2")
	return h
}

// The request a session rebuilds carries what the handshake request had: headers, query,
// remote address and the values of its context, over both transports.
func TestRequestRebuiltFromTheHandshake(t *testing.T) {
	const query = "EIO=4&custom=a+b&transport="
	t.Run("ok, websocket", func(t *testing.T) {
		base, _, seen, conns := requestServer(t, false)
		ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/engine.io/?"+query+"websocket", requestHeader())
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		want := receive(t, seen)
		c := receive(t, conns)
		if want.remoteAddr != ws.LocalAddr().String() {
			t.Fatalf("the middleware saw %s, the client is %s", want.remoteAddr, ws.LocalAddr())
		}
		checkRequest(t, c, want)
	})
	for _, tlsOn := range []bool{false, true} {
		name := "ok, polling"
		if tlsOn {
			name += " over TLS"
		}
		t.Run(name, func(t *testing.T) {
			base, client, seen, conns := requestServer(t, tlsOn)
			req, err := http.NewRequest(http.MethodGet, base+"/engine.io/?"+query+"polling", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header = requestHeader()
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			_ = res.Body.Close()
			if res.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), `0{"sid"`) {
				t.Fatalf("handshake: %d %q", res.StatusCode, body)
			}
			want := receive(t, seen)
			c := receive(t, conns)
			defer c.Abort()          // a polling session waits for a poll to close gracefully
			checkRequest(t, c, want) // after the handshake's response: its context was canceled
		})
	}
}

// Requests that did not come from a server (a program's own, made with http.NewRequest) and
// URLs rewritten by a middleware are kept as the handler saw them.
func TestRequestRebuiltFromAProgramsRequest(t *testing.T) {
	srv := engineio.NewServer(engineio.Options{})
	var mu sync.Mutex
	var conn *engineio.Conn
	srv.OnConnection(func(c *engineio.Conn) { mu.Lock(); conn = c; mu.Unlock() })
	t.Cleanup(func() {
		ctx, cancel := contextWithTimeout(5 * time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	r := httptest.NewRequest(http.MethodGet, "http://example.com/engine.io/?EIO=4&transport=polling&x=%2F", nil)
	r.RequestURI = "" // as http.NewRequest leaves it
	r.Header["not-canonical"] = []string{"v"}
	r.Header["X-Empty"] = []string{}
	srv.ServeHTTP(httptest.NewRecorder(), r)
	mu.Lock()
	c := conn
	mu.Unlock()
	if c == nil {
		t.Fatal("no session")
	}
	defer c.Abort()
	got := c.Request()
	if got.URL.String() != r.URL.String() || got.Host != r.Host || got.RequestURI != "" {
		t.Errorf("URL %s host %s URI %q, want %s host %s", got.URL, got.Host, got.RequestURI, r.URL, r.Host)
	}
	if !reflect.DeepEqual(got.Header, r.Header) {
		t.Errorf("headers %#v, want %#v", got.Header, r.Header)
	}
	if c.Header("not-canonical") != "v" || c.Query().Get("x") != "/" || c.RequestURI() != "/engine.io/?EIO=4&transport=polling&x=%2F" {
		t.Errorf("accessors: %q %v %q", c.Header("not-canonical"), c.Query(), c.RequestURI())
	}
}
