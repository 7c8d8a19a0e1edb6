//go:build linux

package engineio

import (
	"context"
	"net/http/httptest"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// firstReadServer serves a server whose sessions echo their messages, with the given linger,
// and returns its websocket URL and a function that returns the session opened last.
func firstReadServer(t *testing.T, linger time.Duration) (*Server, string, func() *Conn) {
	t.Helper()
	var mu sync.Mutex
	var last *Conn
	srv := NewServer(Options{})
	srv.linger = linger
	srv.OnConnection(func(c *Conn) {
		c.OnMessage(func(data []byte, binary bool) { _ = c.Send(data, binary) })
		mu.Lock()
		last = c
		mu.Unlock()
	})
	return srv, serveWebsocket(t, srv), func() *Conn {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

// serveWebsocket serves srv until the test ends and returns its websocket URL.
func serveWebsocket(t *testing.T, srv *Server) string {
	t.Helper()
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.CloseClientConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/?EIO=4&transport=websocket"
}

// dialOpen opens a websocket session and reads its open packet.
func dialOpen(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ws, _, err := (&websocket.Dialer{}).Dial(url, nil) // no handshake timeout: its context would start a goroutine
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, msg, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(msg), `0{"sid":`) {
		t.Fatalf("open packet: %q %v", msg, err)
	}
	return ws
}

func echo(t *testing.T, ws *websocket.Conn, msg string) {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, got, err := ws.ReadMessage(); err != nil || string(got) != msg {
		t.Fatalf("echo: %q %v, want %q", got, err, msg)
	}
}

func (c *Conn) watched() bool {
	wc := c.wc
	wc.poll.mu.Lock()
	defer wc.poll.mu.Unlock()
	return wc.registered
}

// The goroutine that made the handshake waits for the client's first message and reads it:
// the connection is not watched by the poller meanwhile (the poller has not even started). It
// does not linger after that message: the connection is watched once the message is read,
// however long the linger. A client that sends nothing has its connection watched once the
// linger ends. Either way the connection is read on.
func TestFirstMessagesReadByTheHandshake(t *testing.T) {
	srv, url, session := firstReadServer(t, time.Minute)
	ws := dialOpen(t, url)
	c := session()
	time.Sleep(20 * time.Millisecond)
	if c.watched() {
		t.Fatal("the connection is watched by the poller while the handshake's goroutine waits for it")
	}
	srv.poll.mu.Lock()
	running := srv.poll.running
	srv.poll.mu.Unlock()
	if running {
		t.Fatal("the poller started for a connection read by the handshake's goroutine")
	}
	echo(t, ws, "40")
	for deadline := time.Now().Add(20 * time.Second); !c.watched(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the connection is not watched by the poller once its first message is read")
		}
	}
	for _, m := range []string{"4second", "4third"} {
		echo(t, ws, m)
	}

	// With a short linger, a client that sends nothing has its connection watched once the
	// linger ends, and it is still read.
	_, url, session = firstReadServer(t, 20*time.Millisecond)
	ws = dialOpen(t, url)
	c = session()
	for deadline := time.Now().Add(20 * time.Second); !c.watched(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("an idle connection is not watched by the poller after the linger")
		}
	}
	echo(t, ws, "40")
	echo(t, ws, "4after the linger")
}

// A session closed by the server while the handshake's goroutine waits for the client's first
// messages (a minute, here) ends without waiting for the linger to end: the connection is
// closed, the client sees it, and the goroutine returns.
func TestCloseDuringTheFirstLinger(t *testing.T) {
	for _, abort := range []bool{false, true} {
		_, url, session := firstReadServer(t, time.Minute)
		ws := dialOpen(t, url)
		c := session()
		start := time.Now()
		if abort {
			c.Abort()
		} else {
			c.Close()
		}
		select {
		case <-c.Done():
		case <-time.After(20 * time.Second):
			t.Fatal("the session did not close")
		}
		_ = ws.SetReadDeadline(time.Now().Add(20 * time.Second))
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				if _, ok := err.(*websocket.CloseError); !ok {
					t.Fatalf("the client's read failed with %v, want a close frame", err)
				}
				break
			}
		}
		if c.watched() {
			t.Fatal("a connection closed during the first linger is watched by the poller")
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Fatalf("the session took %v to close", d)
		}
	}
}

func goroutinesStarted() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// The open packet of a websocket session is written by the goroutine that made the handshake:
// opening a session starts no writer goroutine, nor any other but the two net/http starts for
// a request (the connection's, and its background read, which the hijack ends).
func TestOpenPacketWrittenByTheHandshake(t *testing.T) {
	_, url, _ := firstReadServer(t, time.Minute)
	dialOpen(t, url) // whatever starts once, before counting
	const n = 20
	before := goroutinesStarted()
	for range n {
		dialOpen(t, url)
	}
	if started := goroutinesStarted() - before; started > 2*n+n/2 {
		t.Fatalf("opening %d sessions started %d goroutines", n, started)
	}
}
