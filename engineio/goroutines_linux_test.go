//go:build linux

package engineio_test

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/engineio"
)

// dialMany opens n websocket sessions on s and reads their open packets.
func dialMany(t *testing.T, url string, d *websocket.Dialer, n int) []*websocket.Conn {
	t.Helper()
	conns := make([]*websocket.Conn, 0, n)
	t.Cleanup(func() {
		for _, ws := range conns {
			_ = ws.Close()
		}
	})
	for range n {
		ws, _, err := d.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, ws)
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, msg, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(msg), "0{") {
			t.Fatalf("open packet: %q %v", msg, err)
		}
	}
	return conns
}

// settleGoroutines waits until at most max goroutines run, and returns how many ran last.
func settleGoroutines(max int) int {
	deadline := time.Now().Add(20 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= max || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stableGoroutines returns the number of goroutines once it stops changing.
func stableGoroutines() int {
	last, same := runtime.NumGoroutine(), 0
	for deadline := time.Now().Add(5 * time.Second); same < 5 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		if n := runtime.NumGoroutine(); n == last {
			same++
		} else {
			last, same = n, 0
		}
	}
	return last
}

func echoRoundTrip(t *testing.T, conns []*websocket.Conn) {
	t.Helper()
	for i, ws := range conns {
		want := fmt.Sprintf("4hello %d", i)
		if err := ws.WriteMessage(websocket.TextMessage, []byte(want)); err != nil {
			t.Fatal(err)
		}
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != want {
			t.Fatalf("echo: %q %v, want %q", msg, err, want)
		}
	}
}

// An idle websocket session owns no goroutine: the server's poller watches it.
func TestIdleWebsocketOwnsNoGoroutine(t *testing.T) {
	s := newEchoServer(t, engineio.Options{})
	url := "ws" + strings.TrimPrefix(s.HTTP.URL, "http") + "/engine.io/?EIO=4&transport=websocket"
	dialMany(t, url, websocket.DefaultDialer, 1) // the poller's goroutine runs from now on
	base := stableGoroutines()
	const n = 60
	conns := dialMany(t, url, websocket.DefaultDialer, n)
	if got := settleGoroutines(base + 3); got > base+3 {
		t.Fatalf("%d idle sessions: %d goroutines, %d before", n, got, base)
	}
	echoRoundTrip(t, conns) // still read and written after being idle
	if got := settleGoroutines(base + 3); got > base+3 {
		t.Fatalf("%d sessions idle again: %d goroutines, %d before", n, got, base)
	}
}

// Over TLS the connection has no file descriptor of its own: one goroutine reads each
// session, as outside Linux, and the session works the same.
func TestWebsocketOverTLSReadByGoroutine(t *testing.T) {
	srv := engineio.NewServer(engineio.Options{})
	srv.OnConnection(func(c *engineio.Conn) {
		c.OnMessage(func(data []byte, binary bool) { _ = c.Send(data, binary) })
	})
	hs := httptest.NewTLSServer(srv)
	t.Cleanup(func() {
		hs.CloseClientConnections()
		ctx, cancel := contextWithTimeout(5 * time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	})
	d := &websocket.Dialer{TLSClientConfig: hs.Client().Transport.(*http.Transport).TLSClientConfig.Clone()}
	d.TLSClientConfig.MinVersion = tls.VersionTLS12
	url := "wss" + strings.TrimPrefix(hs.URL, "https") + "/?EIO=4&transport=websocket"
	base := stableGoroutines()
	const n = 10
	conns := dialMany(t, url, d, n)
	if got := stableGoroutines(); got < base+n {
		t.Fatalf("%d sessions over TLS: %d goroutines, %d before; want one reader each", n, got, base)
	}
	echoRoundTrip(t, conns)
}

func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// A burst of sends to many sessions starts no goroutine per recipient: a writer goroutine
// starts only for a socket that cannot take its packets at once.
func TestBurstOfSendsStartsNoGoroutinePerRecipient(t *testing.T) {
	var mu sync.Mutex
	var sessions []*engineio.Conn
	srv := engineio.NewServer(engineio.Options{})
	srv.OnConnection(func(c *engineio.Conn) {
		mu.Lock()
		sessions = append(sessions, c)
		mu.Unlock()
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.CloseClientConnections()
		ctx, cancel := contextWithTimeout(5 * time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	})
	const n = 100
	conns := dialMany(t, "ws"+strings.TrimPrefix(hs.URL, "http")+"/?EIO=4&transport=websocket", websocket.DefaultDialer, n)
	mu.Lock()
	targets := append([]*engineio.Conn(nil), sessions...)
	mu.Unlock()
	if len(targets) != n {
		t.Fatalf("%d sessions, want %d", len(targets), n)
	}
	msgs := []*engineio.Prepared{
		engineio.NewPrepared([]byte("first"), false),
		engineio.NewPrepared([]byte{1, 2, 3}, true),
		engineio.NewPrepared([]byte("third"), false),
	}
	before := goroutinesCreated()
	for _, m := range msgs {
		for _, c := range targets {
			if err := c.SendPrepared(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range targets {
		c.Flush()
	}
	started := goroutinesCreated() - before
	if started >= n/4 {
		t.Fatalf("sending 3 messages to %d sessions started %d goroutines", n, started)
	}
	for _, ws := range conns {
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		for i, want := range []string{"4first", "\x01\x02\x03", "4third"} {
			_, msg, err := ws.ReadMessage()
			if err != nil || string(msg) != want {
				t.Fatalf("message %d: %q %v, want %q", i, msg, err, want)
			}
		}
	}
}

// sessionServer serves opts on a test server, stopped with the test, and returns its
// websocket URL and a function that returns the session opened last.
func sessionServer(t *testing.T, opts engineio.Options) (string, func() *engineio.Conn) {
	t.Helper()
	var mu sync.Mutex
	var last *engineio.Conn
	srv := engineio.NewServer(opts)
	srv.OnConnection(func(c *engineio.Conn) {
		mu.Lock()
		last = c
		mu.Unlock()
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.CloseClientConnections()
		ctx, cancel := contextWithTimeout(5 * time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/?EIO=4&transport=websocket", func() *engineio.Conn {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

// A write deadline set for an earlier write (the open packet's) does not fail the writes
// made long after it.
func TestWriteLongAfterTheWriteTimeout(t *testing.T) {
	url, session := sessionServer(t, engineio.Options{WriteTimeout: 100 * time.Millisecond})
	ws := dialMany(t, url, websocket.DefaultDialer, 1)[0]
	time.Sleep(300 * time.Millisecond)
	c := session()
	for i := range 3 {
		if err := c.Send([]byte(fmt.Sprint(i)), false); err != nil {
			t.Fatal(err)
		}
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != fmt.Sprintf("4%d", i) {
			t.Fatalf("message %d: %q %v", i, msg, err)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// Aborting a session whose socket is blocked (its client stopped reading) does not wait for
// the blocked write, which can last WriteTimeout: the close frame queues behind it.
func TestAbortDoesNotWaitForABlockedWrite(t *testing.T) {
	url, session := sessionServer(t, engineio.Options{WriteTimeout: 2 * time.Minute, MaxQueuedPackets: 10})
	dialMany(t, url, websocket.DefaultDialer, 1)
	c := session()
	big := make([]byte, 64<<10)
	full := false
	for range 100000 {
		if err := c.Send(big, true); err == engineio.ErrQueueFull {
			full = true
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if !full {
		t.Fatal("the queue of a client that does not read never filled")
	}
	done := make(chan struct{})
	go func() {
		c.Abort()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Abort waited for the blocked write")
	}
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not close")
	}
}
